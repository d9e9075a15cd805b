//! Publishing NDJSON input files to the input topics (`pooltrace produce`).
//!
//! Every line is validated with [`pooltrace_model::decode_record`] first: a
//! bad line is reported (file, line number, reason) and counted, never sent.
//! The good ones are sent in event-time order, merged across the files
//! exactly as `pooltrace run` merges them (smallest event time first; ties:
//! manifests, receipts, results), so a run on Kafka sees the records in the
//! order a run on the files would.
//!
//! Each record goes to its kind's topic with key = `tube_id`, value = the
//! original line (without its line break), partition =
//! [`tube_partition`](crate::partitioner::tube_partition)`(tube_id, partitions
//! of that topic)`, set explicitly. The Kafka timestamp is left to the
//! producer (the send time): event times may be days old, and a broker's
//! time-based retention would delete records stamped with them at once.
//!
//! # End-of-input ticks
//!
//! After the last record, one **tick** goes to every partition of each of
//! the three input topics:
//!
//! - key `__pooltrace_tick` ([`TICK_KEY`]),
//! - header `pooltrace-tick: 1` ([`TICK_HEADER`]),
//! - value `{"tick_event_time":"<RFC 3339>"}`: the greatest event time of
//!   all records this run produced (in the offset it was written with).
//!
//! A tick tells the runtime "this source partition has reached that event
//! time": a partition that got few or no records of the batch still moves
//! its watermark, so timers fire up to the end of the input. A tick is not a
//! record: consumers recognise it by the header (or the key, which no tube
//! id can be) and never decode it as one. Nothing was produced (every line
//! bad, or empty files): no ticks.
//!
//! Producing the same files twice sends every record twice; the engine
//! treats the copies as duplicates.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pooltrace_model::{decode_record, RecordError, RecordKind, Timestamp};
use pooltrace_pipeline::source::{Line, LineReader};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;

use crate::config::KafkaConfig;
use crate::error::ProduceError;
use crate::partitioner::tube_partition_i32;
use crate::topics::{check_copartitioned, partition_counts};

/// Key of an end-of-input tick.
pub const TICK_KEY: &[u8] = b"__pooltrace_tick";
/// Header that marks an end-of-input tick (value `1`).
pub const TICK_HEADER: &str = "pooltrace-tick";

/// The value of an end-of-input tick.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tick {
    /// The greatest event time the producer sent before this tick.
    pub tick_event_time: Timestamp,
}

/// The files to publish; `-` reads stdin (at most one of them).
#[derive(Clone, Debug, Default)]
pub struct ProduceInputs {
    pub manifests: Option<PathBuf>,
    pub results: Option<PathBuf>,
    pub receipts: Option<PathBuf>,
}

/// How to publish.
#[derive(Clone, Debug)]
pub struct ProduceOptions {
    /// At most this many records per second (`None`: as fast as the broker takes them).
    pub rate: Option<u64>,
    /// Lines longer than this are rejected unread (as `run` does: `[input] max_record_bytes`).
    pub max_record_bytes: usize,
    /// How long metadata requests may take.
    pub metadata_timeout: Duration,
    /// How long the final flush may take.
    pub flush_timeout: Duration,
}

impl Default for ProduceOptions {
    fn default() -> Self {
        ProduceOptions {
            rate: None,
            max_record_bytes: 1 << 20,
            metadata_timeout: Duration::from_secs(10),
            flush_timeout: Duration::from_secs(60),
        }
    }
}

/// A line that was not sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejected {
    /// The file (as given; `-` for stdin).
    pub path: String,
    /// 1-based line number.
    pub line: u64,
    /// Short stable code (`json`, `invalid_field`, `too_long`, ...).
    pub code: &'static str,
    /// Why: field, value and reason.
    pub reason: String,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.reason)
    }
}

/// What a produce run did.
#[derive(Clone, Debug, Default)]
pub struct ProduceReport {
    /// Records sent and delivered, per topic (in manifests, results, receipts order).
    pub sent: Vec<(String, u64)>,
    /// End-of-input ticks sent (one per partition of each input topic).
    pub ticks: u64,
    /// The event time the ticks carry: the greatest of the records sent.
    pub max_event_time: Option<Timestamp>,
    /// Lines not sent, in the order they were read.
    pub rejected: Vec<Rejected>,
    /// Blank lines skipped.
    pub blank_lines: u64,
    /// Wall-clock time of the whole run, flush included.
    pub elapsed: Duration,
}

impl ProduceReport {
    /// Records sent, all topics.
    pub fn records(&self) -> u64 {
        self.sent.iter().map(|(_, n)| n).sum()
    }

    /// Records per second over the whole run.
    pub fn rate(&self) -> f64 {
        self.records() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Counts delivery reports: every record sent gets exactly one.
#[derive(Default)]
struct Deliveries {
    ok: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = self.first_error.lock() {
                    first.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }
}

/// A validated line waiting for its turn in the merge.
struct Head {
    millis: i64,
    time: Timestamp,
    tube_id: String,
    bytes: Vec<u8>,
}

/// One input file.
struct Source {
    kind: RecordKind,
    /// Index into the three input topics (manifests, results, receipts).
    topic: usize,
    path: String,
    lines: LineReader<Box<dyn BufRead>>,
    head: Option<Head>,
    done: bool,
}

/// Ties in event time: manifests, then receipts, then results (as `run`).
fn tie_rank(k: RecordKind) -> u8 {
    match k {
        RecordKind::Manifest => 0,
        RecordKind::Receipt => 1,
        RecordKind::Result => 2,
    }
}

impl Source {
    /// Reads lines until a good one is at the head or the file ends;
    /// reports each bad line.
    fn fill(
        &mut self,
        max: usize,
        blank: &mut u64,
        reject: &mut dyn FnMut(Rejected),
    ) -> Result<(), ProduceError> {
        while self.head.is_none() && !self.done {
            let line = self
                .lines
                .next_line(blank)
                .map_err(|source| ProduceError::Read {
                    path: self.path.clone(),
                    source,
                })?;
            let (line_no, result) = match line {
                None => {
                    self.done = true;
                    return Ok(());
                }
                Some(Line::Record { line_no, bytes }) => (
                    line_no,
                    decode_record(self.kind, bytes, max).map(|r| (r, bytes.to_vec())),
                ),
                Some(Line::TooLong { line_no, len, .. }) => {
                    (line_no, Err(RecordError::TooLong { len, limit: max }))
                }
            };
            match result {
                Ok((record, bytes)) => {
                    let time = record.event_time();
                    self.head = Some(Head {
                        millis: time.millis(),
                        time,
                        tube_id: record.tube_id().to_string(),
                        bytes,
                    });
                }
                Err(e) => reject(Rejected {
                    path: self.path.clone(),
                    line: line_no,
                    code: e.code(),
                    reason: e.to_string(),
                }),
            }
        }
        Ok(())
    }
}

fn open(path: &Path, stdin_used: &mut bool) -> Result<Box<dyn BufRead>, ProduceError> {
    if path == Path::new("-") {
        if *stdin_used {
            return Err(ProduceError::Open {
                path: "-".into(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "only one input may be read from stdin",
                ),
            });
        }
        *stdin_used = true;
        return Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            std::io::stdin(),
        )));
    }
    let f = File::open(path).map_err(|source| ProduceError::Open {
        path: path.display().to_string(),
        source,
    })?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, f)))
}

/// Sends one record, waiting while the producer's queue is full.
fn send(
    producer: &BaseProducer<Deliveries>,
    mut record: BaseRecord<'_, [u8], [u8]>,
) -> Result<(), ProduceError> {
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                producer.poll(Duration::from_millis(50));
            }
            Err((source, back)) => {
                return Err(ProduceError::Send {
                    topic: back.topic.to_string(),
                    source,
                })
            }
        }
    }
}

/// Publishes `inputs` to the input topics of `cfg` (which must exist and be
/// co-partitioned), then the end-of-input ticks; waits for every delivery.
/// `on_reject` sees each bad line as it is found (they are in the report too).
pub fn produce(
    cfg: &KafkaConfig,
    inputs: &ProduceInputs,
    opts: &ProduceOptions,
    mut on_reject: impl FnMut(&Rejected),
) -> Result<ProduceReport, ProduceError> {
    let start = Instant::now();
    let topics = cfg.topics.inputs();
    let counts = partition_counts(&cfg.admin_config(), &topics, opts.metadata_timeout)?;
    check_copartitioned(&counts).map_err(crate::error::TopicsError::from)?;
    let partitions: Vec<u32> = topics.iter().map(|t| counts[*t]).collect();

    let mut stdin_used = false;
    let mut sources = Vec::new();
    for (topic, (kind, path)) in [
        (RecordKind::Manifest, &inputs.manifests),
        (RecordKind::Result, &inputs.results),
        (RecordKind::Receipt, &inputs.receipts),
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(p) = path {
            sources.push(Source {
                kind,
                topic,
                path: p.display().to_string(),
                lines: LineReader::new(open(p, &mut stdin_used)?, opts.max_record_bytes),
                head: None,
                done: false,
            });
        }
    }
    if sources.is_empty() {
        return Err(ProduceError::NoInput);
    }

    let producer: BaseProducer<Deliveries> = cfg
        .producer_config()
        .create_with_context(Deliveries::default())
        .map_err(ProduceError::Client)?;

    let mut report = ProduceReport {
        sent: topics.iter().map(|t| (t.to_string(), 0)).collect(),
        ..ProduceReport::default()
    };
    let mut rejected = Vec::new();
    let mut reject = |r: Rejected| {
        on_reject(&r);
        rejected.push(r);
    };
    let mut sent: u64 = 0;
    loop {
        for s in &mut sources {
            s.fill(opts.max_record_bytes, &mut report.blank_lines, &mut reject)?;
        }
        let Some(i) = sources
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.head.as_ref().map(|h| (i, h)))
            .min_by_key(|(i, h)| (h.millis, tie_rank(sources[*i].kind), *i))
            .map(|(i, _)| i)
        else {
            break;
        };
        let topic = sources[i].topic;
        let head = sources[i].head.take().expect("chosen source has a head");
        if let Some(rate) = opts.rate.filter(|r| *r > 0) {
            // Pace to `rate`: record n leaves no earlier than n / rate s after the start.
            let due = Duration::from_secs_f64(sent as f64 / rate as f64);
            let now = start.elapsed();
            if due > now {
                producer.poll(due - now);
            }
        }
        let record = BaseRecord::to(topics[topic])
            .key(head.tube_id.as_bytes())
            .payload(head.bytes.as_slice())
            .partition(tube_partition_i32(&head.tube_id, partitions[topic]));
        send(&producer, record)?;
        sent += 1;
        report.sent[topic].1 += 1;
        report.max_event_time = Some(match report.max_event_time {
            None => head.time,
            Some(t) => t.max_instant(head.time),
        });
        if sent.is_multiple_of(1024) {
            producer.poll(Duration::ZERO);
        }
    }

    if let Some(max) = report.max_event_time {
        let value = serde_json::to_vec(&Tick {
            tick_event_time: max,
        })
        .expect("a tick serializes");
        for (topic, n) in topics.iter().zip(&partitions) {
            for p in 0..*n {
                let headers = OwnedHeaders::new().insert(Header {
                    key: TICK_HEADER,
                    value: Some("1"),
                });
                let record = BaseRecord::to(topic)
                    .key(TICK_KEY)
                    .payload(value.as_slice())
                    .partition(i32::try_from(p).unwrap_or(i32::MAX))
                    .headers(headers);
                send(&producer, record)?;
                report.ticks += 1;
            }
        }
    }

    let total = sent + report.ticks;
    producer
        .flush(opts.flush_timeout)
        .map_err(|source| ProduceError::Flush {
            secs: opts.flush_timeout.as_secs(),
            in_flight: producer.in_flight_count(),
            source,
        })?;
    let ctx = producer.context();
    let (ok, failed) = (
        ctx.ok.load(Ordering::Relaxed),
        ctx.failed.load(Ordering::Relaxed),
    );
    if failed > 0 || ok != total {
        let first = ctx
            .first_error
            .lock()
            .ok()
            .and_then(|f| f.clone())
            .unwrap_or_else(|| {
                format!(
                    "{} delivery reports missing",
                    total.saturating_sub(ok + failed)
                )
            });
        return Err(ProduceError::Delivery {
            failed: total - ok,
            sent: total,
            first,
        });
    }
    report.rejected = rejected;
    report.elapsed = start.elapsed();
    Ok(report)
}
