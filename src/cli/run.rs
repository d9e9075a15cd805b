//! `pooltrace run`: on files (`--manifests/--results/--receipts`), or on
//! Kafka (`--brokers`) until stopped.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use pooltrace_kafka::runtime::{self, RunOptions};
use pooltrace_kafka::KafkaConfig;
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
    /// Kafka mode: bootstrap brokers (HOST:PORT,...); runs until SIGINT or
    /// SIGTERM, then checkpoints and stops. Overrides `[kafka] brokers`.
    #[arg(long, value_name = "HOST:PORT", conflicts_with_all = ["manifests", "results", "receipts"])]
    brokers: Option<String>,
    /// Output directory. Files: created; a previous pooltrace output there is
    /// replaced. Kafka: Parquet files are added (default `pooltrace-out`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Allowed lateness of the watermark, minutes (overrides the config).
    #[arg(long, value_name = "MIN")]
    allowed_lateness_min: Option<i64>,
    #[command(flatten)]
    config: ConfigArgs,
}

pub fn run(args: RunArgs) -> Result<(), Box<dyn std::error::Error>> {
    crate::allocator::small_pages_for_run();
    let mut cfg = Config::load(args.config.config.as_deref(), std::env::vars())?;
    if let Some(l) = args.allowed_lateness_min {
        cfg.engine.allowed_lateness_min = l;
    }
    if let Some(brokers) = args.brokers {
        return run_kafka(cfg, brokers, args.out, args.config.config);
    }
    if args.manifests.is_none() && args.results.is_none() && args.receipts.is_none() {
        return Err(
            "nothing to read: give --manifests, --results and/or --receipts, or --brokers".into(),
        );
    }
    let out = args.out.ok_or("--out DIR is required when reading files")?;
    let inputs = Inputs {
        manifests: args.manifests,
        results: args.results,
        receipts: args.receipts,
    };
    let report = run_files(&cfg, &inputs, &out)?;
    eprintln!("{report}");
    Ok(())
}

fn run_kafka(
    cfg: Config,
    brokers: String,
    out: Option<PathBuf>,
    file: Option<PathBuf>,
) -> Result<(), Box<dyn std::error::Error>> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let mut kafka = KafkaConfig::load(file.as_deref(), std::env::vars())?;
    kafka.brokers = brokers;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let opts = RunOptions {
        kafka,
        pipeline: cfg,
        out: out.unwrap_or_else(|| PathBuf::from("pooltrace-out")),
    };
    let report = runtime::run(opts, stop)?;
    let mut processed = 0;
    let mut alerts = 0;
    let mut rejected = 0;
    for s in report.summaries.values() {
        processed += s.records_processed;
        alerts += s.alert_records;
        rejected += s.records_rejected;
    }
    eprintln!(
        "pooltrace: stopped after {} Kafka records, {} checkpoints; partitions held at the end: {:?} ({} input records processed, {} rejected, {} alert records in their lifetime)",
        report.records_in,
        report.checkpoints,
        report.summaries.keys().collect::<Vec<_>>(),
        processed,
        rejected,
        alerts
    );
    Ok(())
}
