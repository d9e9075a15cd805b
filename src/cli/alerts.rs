//! `pooltrace alerts`: read the alert topic, one line per alert state.

use std::io::{stdout, BufWriter, ErrorKind};

use pooltrace_kafka::alerts_view::{view_alerts, AlertFilter, ViewOptions};
use pooltrace_kafka::AlertsError;
use pooltrace_model::AlertKind;

use super::topics::KafkaArgs;

#[derive(clap::Args)]
pub struct AlertsArgs {
    /// Only alerts of people on this street (`region.street`, exact).
    #[arg(long, value_name = "STREET")]
    street: Option<String>,
    /// Only alerts of this kind.
    #[arg(long, value_name = "KIND", value_parser = AlertKind::ALL.map(AlertKind::as_str))]
    kind: Option<String>,
    /// Keep waiting for new alerts (default: stop at the end of the topic).
    #[arg(long)]
    follow: bool,
    #[command(flatten)]
    kafka: KafkaArgs,
}

pub fn alerts(args: AlertsArgs) -> Result<(), Box<dyn std::error::Error>> {
    let cfg = args.kafka.load()?;
    let opts = ViewOptions {
        filter: AlertFilter {
            street: args.street,
            kind: args.kind,
        },
        follow: args.follow,
        ..ViewOptions::default()
    };
    let mut out = BufWriter::new(stdout().lock());
    let report = match view_alerts(&cfg, &opts, &mut out) {
        // The reader went away (`| head`): not an error.
        Err(AlertsError::Write(e)) if e.kind() == ErrorKind::BrokenPipe => return Ok(()),
        r => r?,
    };
    eprintln!(
        "{} alert states shown, {} filtered out, {} duplicate records skipped (of {} records)",
        report.printed, report.filtered_out, report.duplicates, report.records
    );
    if let Some(first) = report.first_undecodable {
        eprintln!(
            "pooltrace: {} records are not alerts; first: {first}",
            report.undecodable
        );
    }
    Ok(())
}
