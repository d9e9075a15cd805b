//! `pooltrace topics`: create the six Kafka topics; and the flags every
//! Kafka command shares.

use std::path::PathBuf;
use std::time::Duration;

use pooltrace_kafka::topics::{check_copartitioned, ensure_topics};
use pooltrace_kafka::KafkaConfig;

/// Flags of the commands that talk to Kafka.
#[derive(clap::Args, Clone, Debug)]
pub struct KafkaArgs {
    /// Bootstrap brokers, `host:port[,host:port...]` (overrides `[kafka] brokers`;
    /// default 127.0.0.1:9092).
    #[arg(long, value_name = "HOST:PORT")]
    pub brokers: Option<String>,
    /// TOML configuration file; its `[kafka]` section is read (README: Kafka).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl KafkaArgs {
    /// `[kafka]` from the file, then `POOLTRACE__KAFKA__*` overrides, then `--brokers`.
    pub fn load(&self) -> Result<KafkaConfig, Box<dyn std::error::Error>> {
        let mut cfg = KafkaConfig::load(self.config.as_deref(), std::env::vars())?;
        if let Some(b) = &self.brokers {
            cfg.brokers = b.clone();
            cfg.validate()?;
        }
        Ok(cfg)
    }
}

#[derive(clap::Args)]
pub struct TopicsArgs {
    /// Partitions of each topic created (existing topics are left as they are).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    partitions: u32,
    /// How long to wait for the broker, seconds.
    #[arg(long, value_name = "S", default_value_t = 30)]
    timeout_secs: u64,
    #[command(flatten)]
    kafka: KafkaArgs,
}

pub fn topics(args: TopicsArgs) -> Result<(), Box<dyn std::error::Error>> {
    let cfg = args.kafka.load()?;
    let status = ensure_topics(
        &cfg.admin_config(),
        &cfg.topics.all(),
        args.partitions,
        Duration::from_secs(args.timeout_secs),
    )?;
    for s in &status {
        let what = if s.created { "created" } else { "exists " };
        println!("{what} {} ({} partitions)", s.name, s.partitions);
    }
    let copartitioned = status
        .iter()
        .filter(|s| cfg.topics.copartitioned().contains(&s.name.as_str()))
        .map(|s| (s.name.clone(), s.partitions))
        .collect();
    check_copartitioned(&copartitioned)?;
    Ok(())
}
