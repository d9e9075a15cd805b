//! `pooltrace produce`: publish NDJSON input files to the Kafka input topics.

use std::path::PathBuf;

use pooltrace_kafka::produce::{produce as produce_files, ProduceInputs, ProduceOptions};

use super::topics::KafkaArgs;

#[derive(clap::Args)]
pub struct ProduceArgs {
    /// Tube manifests, NDJSON (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    manifests: Option<PathBuf>,
    /// Lab results, NDJSON (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    results: Option<PathBuf>,
    /// Lab receipts, NDJSON (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    receipts: Option<PathBuf>,
    /// Send at most N records per second [default: as fast as the broker takes them].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    rate: Option<u64>,
    /// Lines longer than this many bytes are rejected unread (as `run`'s
    /// `[input] max_record_bytes`).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    max_record_bytes: usize,
    #[command(flatten)]
    kafka: KafkaArgs,
}

pub fn produce(args: ProduceArgs) -> Result<(), Box<dyn std::error::Error>> {
    if args.manifests.is_none() && args.results.is_none() && args.receipts.is_none() {
        return Err("nothing to send: give --manifests, --results and/or --receipts".into());
    }
    let cfg = args.kafka.load()?;
    let inputs = ProduceInputs {
        manifests: args.manifests,
        results: args.results,
        receipts: args.receipts,
    };
    let opts = ProduceOptions {
        rate: args.rate,
        max_record_bytes: args.max_record_bytes,
        ..ProduceOptions::default()
    };
    let report = produce_files(&cfg, &inputs, &opts, |r| {
        eprintln!("pooltrace: rejected {r} (not sent)");
    })?;
    for (topic, n) in &report.sent {
        eprintln!("sent {n} records to {topic}");
    }
    eprintln!(
        "{} records, {} end-of-input ticks (event time {}), {} lines rejected, in {:.2} s ({:.0} records/s)",
        report.records(),
        report.ticks,
        report
            .max_event_time
            .map_or_else(|| "-".to_string(), |t| t.to_string()),
        report.rejected.len(),
        report.elapsed.as_secs_f64(),
        report.rate()
    );
    Ok(())
}
