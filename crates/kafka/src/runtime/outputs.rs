//! Everything the runtime produces: internal records, alerts and dead
//! letters, through one idempotent producer. Delivery failures are counted
//! and checked before every checkpoint: a checkpoint is only written once
//! everything it reflects is in Kafka.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext};

use super::RuntimeError;
use crate::TopicNames;

/// Counts failed deliveries.
#[derive(Default)]
pub struct DeliveryCounter {
    failed: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl ClientContext for DeliveryCounter {}

impl ProducerContext for DeliveryCounter {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut first) = self.first_error.lock() {
                first.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// Where a dead-lettered record came from.
pub struct DeadOrigin<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
}

/// The runtime's producer and the topics it writes.
pub struct Outputs {
    producer: ThreadedProducer<DeliveryCounter>,
    pub topics: TopicNames,
}

impl Outputs {
    pub fn new(config: &ClientConfig, topics: TopicNames) -> Result<Arc<Self>, RuntimeError> {
        let producer: ThreadedProducer<DeliveryCounter> = config
            .create_with_context(DeliveryCounter::default())
            .map_err(|e| RuntimeError::Kafka(format!("cannot create the producer: {e}")))?;
        crate::producer_start::get_producer_id(producer.client(), &topics.internal);
        Ok(Arc::new(Outputs { producer, topics }))
    }

    fn send(&self, mut record: BaseRecord<'_, [u8], [u8]>) -> Result<(), RuntimeError> {
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(RuntimeError::Kafka(format!("produce: {e}"))),
            }
        }
    }

    /// A record for the internal topic, to a given partition.
    pub fn internal(&self, partition: u32, key: &[u8], value: &[u8]) -> Result<(), RuntimeError> {
        self.send(
            BaseRecord::to(&self.topics.internal)
                .partition(partition as i32)
                .key(key)
                .payload(value),
        )
    }

    /// An alert state change (key: the person, else the tube).
    pub fn alert(&self, key: &str, json: &[u8]) -> Result<(), RuntimeError> {
        self.send(
            BaseRecord::to(&self.topics.alerts)
                .key(key.as_bytes())
                .payload(json),
        )
    }

    /// A rejected record: its original key and value, with headers naming
    /// its origin and the reason.
    pub fn dead_letter(
        &self,
        origin: DeadOrigin<'_>,
        key: Option<&[u8]>,
        value: &[u8],
        reason: &str,
    ) -> Result<(), RuntimeError> {
        let partition = origin.partition.to_string();
        let offset = origin.offset.to_string();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "pooltrace-source-topic",
                value: Some(origin.topic),
            })
            .insert(Header {
                key: "pooltrace-source-partition",
                value: Some(&partition),
            })
            .insert(Header {
                key: "pooltrace-source-offset",
                value: Some(&offset),
            })
            .insert(Header {
                key: "pooltrace-reason",
                value: Some(reason),
            });
        let mut record = BaseRecord::to(&self.topics.dead_letters)
            .payload(value)
            .headers(headers);
        if let Some(k) = key {
            record = record.key(k);
        }
        metrics::counter!("pooltrace_dead_letters_total", "reason" => reason_class(reason))
            .increment(1);
        self.send(record)
    }

    /// Waits until everything sent is delivered; fails if any delivery failed.
    pub fn flush(&self) -> Result<(), RuntimeError> {
        self.producer
            .flush(Duration::from_secs(60))
            .map_err(|e| RuntimeError::Kafka(format!("flush: {e}")))?;
        let ctx = self.producer.context();
        let failed = ctx.failed.load(Ordering::Relaxed);
        if failed > 0 {
            let first = ctx
                .first_error
                .lock()
                .ok()
                .and_then(|f| f.clone())
                .unwrap_or_default();
            return Err(RuntimeError::Kafka(format!(
                "{failed} records could not be delivered (first: {first}); stopping without a checkpoint so they are produced again on restart"
            )));
        }
        Ok(())
    }
}

/// A short, low-cardinality class of a dead-letter reason for metrics: the
/// field it names (text before the first `:`), else the first word.
pub fn reason_class(reason: &str) -> String {
    let head = reason.split(':').next().unwrap_or(reason);
    let head = if head.len() > 40 {
        head.split_whitespace().next().unwrap_or("other")
    } else {
        head
    };
    head.trim().to_string()
}
