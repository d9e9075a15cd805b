//! Command-line parsing and dispatch.

mod alerts;
mod demo;
mod design;
mod produce;
mod run;
mod simulate;
mod topics;

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
    /// Simulate a city's screening and trace it end to end in one process
    /// (closed retest loop), with a summary against the ground truth.
    Demo(demo::DemoArgs),
    /// Write a synthetic city's screening rounds as NDJSON, with the ground truth.
    Simulate(simulate::SimulateArgs),
    /// Run the pipeline on NDJSON files (or `-` for stdin).
    Run(run::RunArgs),
    /// Non-adaptive pooling designs: show one, or evaluate a decoder on it.
    #[command(subcommand)]
    Design(design::DesignCommand),
    /// Compare Dorfman pool sizes and the built-in designs at a prevalence.
    Plan(design::PlanArgs),
    /// Create the Kafka topics (inputs, alerts, dead letters, internal).
    Topics(topics::TopicsArgs),
    /// Publish NDJSON input files to the Kafka input topics, in event-time order.
    Produce(produce::ProduceArgs),
    /// Show the alerts on the Kafka alert topic, one line per alert state.
    Alerts(alerts::AlertsArgs),
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
        Command::Demo(args) => demo::demo(args),
        Command::Simulate(args) => simulate::simulate(args),
        Command::Run(args) => run::run(args),
        Command::Design(cmd) => design::design(cmd),
        Command::Plan(args) => design::plan(args),
        Command::Topics(args) => topics::topics(args),
        Command::Produce(args) => produce::produce(args),
        Command::Alerts(args) => alerts::alerts(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pooltrace: error: {e}");
            ExitCode::FAILURE
        }
    }
}
