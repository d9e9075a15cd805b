//! `pooltrace`: the command line. A thin layer over the library crates in
//! `crates/`: parse flags, load config, call the right runtime, print.

mod allocator;
mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    allocator::configure();
    cli::main()
}
