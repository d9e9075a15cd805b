//! `pooltrace`: the command line. A thin layer over the library crates in
//! `crates/`: parse flags, load config, call the right runtime, print.

mod cli;

use std::process::ExitCode;

// The engine allocates many small strings; mimalloc halves the cost of that
// against glibc malloc (benches/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::main()
}
