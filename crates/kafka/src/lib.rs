//! # pooltrace-kafka: pooltrace on Kafka
//!
//! Kafka mode runs the same sans-IO engine as the file and embedded modes,
//! with Kafka topics as its inputs and outputs (librdkafka through
//! `rdkafka`, bundled). This crate holds:
//!
//! - [`config`]: [`KafkaConfig`], the typed `[kafka]` section (brokers,
//!   topic names, librdkafka settings, checkpoints, metrics) and the
//!   producer / consumer / admin client configs built from it;
//! - [`topics`]: creating the topics, reading partition counts, checking
//!   that the tube-keyed topics are co-partitioned;
//! - [`partitioner`]: which partition a tube's records go to (the engine's
//!   [`tube_partition`](partitioner::tube_partition));
//! - [`produce`]: publishing NDJSON files to the input topics in event-time
//!   order, with end-of-input ticks (`pooltrace produce`);
//! - [`alerts_view`]: reading the alert topic for people (`pooltrace alerts`);
//! - [`runtime`]: the Kafka runtime (`pooltrace run --brokers`): consumer
//!   loop, repartitioning, checkpoints.
//!
//! Topics (defaults; [`TopicNames`]): `pooltrace.manifests.v1`,
//! `pooltrace.results.v1`, `pooltrace.receipts.v1` (inputs, key = tube id,
//! co-partitioned by [`tube_partition`](partitioner::tube_partition)),
//! `pooltrace.alerts.v1`, `pooltrace.dead-letters.v1` (outputs) and
//! `pooltrace.internal.v1` (repartitioned events, co-partitioned with the
//! inputs).

pub mod alerts_view;
pub mod config;
pub mod error;
pub mod partitioner;
pub mod produce;
mod producer_start;
pub mod runtime;
pub mod topics;

/// The rdkafka this crate is built with (its `ClientConfig` is in this crate's API).
pub use rdkafka;

pub use config::{CheckpointConfig, KafkaConfig, TopicNames};
pub use error::{AlertsError, ConfigError, CopartitionError, ProduceError, TopicsError};
