//! `pooltrace run`.

use std::path::PathBuf;

use pooltrace_pipeline::{run_files, Config, Inputs};

use super::ConfigArgs;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Tube manifests, NDJSON (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    manifests: Option<PathBuf>,
    /// Lab results, NDJSON (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    results: Option<PathBuf>,
    /// Lab receipts, NDJSON (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    receipts: Option<PathBuf>,
    /// Output directory (created; a previous pooltrace output there is replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Allowed lateness of the watermark, minutes (overrides the config).
    #[arg(long, value_name = "MIN")]
    allowed_lateness_min: Option<i64>,
    #[command(flatten)]
    config: ConfigArgs,
}

pub fn run(args: RunArgs) -> Result<(), Box<dyn std::error::Error>> {
    if args.manifests.is_none() && args.results.is_none() && args.receipts.is_none() {
        return Err("nothing to read: give --manifests, --results and/or --receipts".into());
    }
    let mut cfg = Config::load(args.config.config.as_deref(), std::env::vars())?;
    if let Some(l) = args.allowed_lateness_min {
        cfg.engine.allowed_lateness_min = l;
    }
    let inputs = Inputs {
        manifests: args.manifests,
        results: args.results,
        receipts: args.receipts,
    };
    let report = run_files(&cfg, &inputs, &args.out)?;
    eprintln!("{report}");
    Ok(())
}
