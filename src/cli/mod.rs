//! Command-line parsing and dispatch.

mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Pooled RT-PCR testing: manifests + lab results -> deconvolution -> transfer alerts + Parquet.
#[derive(Parser)]
#[command(name = "pooltrace", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the pipeline on NDJSON files (or `-` for stdin).
    Run(run::RunArgs),
}

/// Flags shared by commands that load the configuration.
#[derive(clap::Args, Clone, Debug)]
pub struct ConfigArgs {
    /// TOML configuration file (see README: Configuration).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pooltrace: error: {e}");
            ExitCode::FAILURE
        }
    }
}
