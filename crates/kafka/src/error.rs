//! Errors of the Kafka tooling: configuration, topics, producing, viewing alerts.

use std::collections::BTreeMap;

use rdkafka::error::KafkaError;
use thiserror::Error;

/// A `[kafka]` configuration that could not be read.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config {origin}: {message}")]
    Invalid { origin: String, message: String },
}

/// Creating or inspecting topics failed.
#[derive(Debug, Error)]
pub enum TopicsError {
    #[error("kafka client: {0}")]
    Client(#[source] KafkaError),
    #[error("cannot read metadata from {brokers}: {source} (is a broker running there?)")]
    Metadata {
        brokers: String,
        #[source]
        source: KafkaError,
    },
    #[error("topic {topic} does not exist on {brokers}; create it first (`pooltrace topics --brokers {brokers} --partitions N`)")]
    Missing { topic: String, brokers: String },
    #[error("topic {topic}: {error}")]
    Topic { topic: String, error: String },
    #[error("creating topics failed: {source}; the broker may not support CreateTopics: create them with its own tools ({topics})")]
    CreateUnsupported {
        topics: String,
        #[source]
        source: KafkaError,
    },
    #[error("creating topic {topic} failed: {code}")]
    Create { topic: String, code: String },
    #[error("topic {topic} still has no partitions {secs} s after creation")]
    NotReady { topic: String, secs: u64 },
    #[error(transparent)]
    NotCopartitioned(#[from] CopartitionError),
}

/// The topics that must be co-partitioned by tube do not share a partition
/// count: records of one tube would land on different partitions.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("topics must have the same number of partitions (co-partitioned by tube_id), but: {}; recreate them with one count, e.g. `pooltrace topics --partitions N` on fresh names", describe(.counts))]
pub struct CopartitionError {
    /// Each topic and its partition count.
    pub counts: BTreeMap<String, u32>,
}

fn describe(counts: &BTreeMap<String, u32>) -> String {
    counts
        .iter()
        .map(|(t, n)| format!("{t} has {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `produce` could not finish. Bad input lines are not errors: they are
/// reported and counted ([`crate::produce::ProduceReport`]).
#[derive(Debug, Error)]
pub enum ProduceError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("no input: give at least one of manifests, results, receipts")]
    NoInput,
    #[error(transparent)]
    Topics(#[from] TopicsError),
    #[error("kafka producer: {0}")]
    Client(#[source] KafkaError),
    #[error("sending {what}: {source}")]
    Send {
        /// The line or tick, and the topic.
        what: String,
        #[source]
        source: KafkaError,
    },
    #[error(
        "flush did not finish within {secs} s ({in_flight} records still in flight): {source}"
    )]
    Flush {
        secs: u64,
        in_flight: i32,
        #[source]
        source: KafkaError,
    },
    #[error("{failed} of {sent} records were not delivered (first error: {first})")]
    Delivery {
        failed: u64,
        sent: u64,
        first: String,
    },
}

/// `alerts` could not go on.
#[derive(Debug, Error)]
pub enum AlertsError {
    #[error(transparent)]
    Topics(#[from] TopicsError),
    #[error("kafka consumer: {0}")]
    Client(#[source] KafkaError),
    #[error("writing output: {0}")]
    Write(#[from] std::io::Error),
}
