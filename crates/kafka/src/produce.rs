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

/// A validated line, ready to send.
struct Head {
    /// 1-based line number in its file.
    line: u64,
    time: Timestamp,
    tube_id: String,
    /// The line as read (without its line break).
    bytes: Vec<u8>,
}

/// One input file.
struct Source<R> {
    kind: RecordKind,
    path: String,
    lines: LineReader<R>,
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

impl<R: BufRead> Source<R> {
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
                        line: line_no,
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

/// The input files merged in event time exactly as `pooltrace run` merges
/// them (`pooltrace_pipeline::source::EventTimeMerge`: smallest event time
/// first; ties: manifests, receipts, results, then source order), keeping
/// each good line's bytes; bad lines go to `reject` as they are read.
struct Merge<R> {
    sources: Vec<Source<R>>,
    max: usize,
    /// Blank lines skipped.
    blank: u64,
}

impl<R: BufRead> Merge<R> {
    /// `sources`: (kind, name, reader), in the order `run` takes them
    /// (manifests, results, receipts).
    fn new(sources: Vec<(RecordKind, String, R)>, max: usize) -> Self {
        Merge {
            sources: sources
                .into_iter()
                .map(|(kind, path, reader)| Source {
                    kind,
                    path,
                    lines: LineReader::new(reader, max),
                    head: None,
                    done: false,
                })
                .collect(),
            max,
            blank: 0,
        }
    }

    /// The name of the file of `kind`.
    fn path(&self, kind: RecordKind) -> &str {
        self.sources
            .iter()
            .find(|s| s.kind == kind)
            .map_or("?", |s| s.path.as_str())
    }

    /// The next good line and its kind; `None` when every file is done.
    fn next(
        &mut self,
        reject: &mut dyn FnMut(Rejected),
    ) -> Result<Option<(RecordKind, Head)>, ProduceError> {
        for s in &mut self.sources {
            s.fill(self.max, &mut self.blank, reject)?;
        }
        let best = self
            .sources
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.head.as_ref().map(|h| (i, s.kind, h)))
            .min_by_key(|(i, kind, h)| (h.time.millis(), tie_rank(*kind), *i))
            .map(|(i, _, _)| i);
        Ok(best.and_then(|i| {
            let s = &mut self.sources[i];
            s.head.take().map(|h| (s.kind, h))
        }))
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
    what: impl Fn() -> String,
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
                    what: format!("{} to {}", what(), back.topic),
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
    for (kind, path) in [
        (RecordKind::Manifest, &inputs.manifests),
        (RecordKind::Result, &inputs.results),
        (RecordKind::Receipt, &inputs.receipts),
    ] {
        if let Some(p) = path {
            sources.push((kind, p.display().to_string(), open(p, &mut stdin_used)?));
        }
    }
    if sources.is_empty() {
        return Err(ProduceError::NoInput);
    }
    let mut merge = Merge::new(sources, opts.max_record_bytes);

    let producer: BaseProducer<Deliveries> = cfg
        .producer_config()
        .create_with_context(Deliveries::default())
        .map_err(ProduceError::Client)?;
    crate::producer_start::get_producer_id(producer.client(), topics[0]);

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
    while let Some((kind, head)) = merge.next(&mut reject)? {
        let topic = match kind {
            RecordKind::Manifest => 0,
            RecordKind::Result => 1,
            RecordKind::Receipt => 2,
        };
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
        send(&producer, record, || {
            let path = merge.path(kind);
            format!("{path}:{}", head.line)
        })?;
        sent += 1;
        report.sent[topic].1 += 1;
        report.max_event_time = Some(match report.max_event_time {
            None => head.time,
            Some(t) => t.max_instant(head.time),
        });
        if sent & 1023 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    report.blank_lines = merge.blank;

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
                send(&producer, record, || {
                    format!("the end-of-input tick of partition {p}")
                })?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use pooltrace_pipeline::sink::Origin;
    use pooltrace_pipeline::source::{EventTimeMerge, Item, NdjsonSource};

    const M: &str = r#"{"tube_id":"TUBE-{ID}","kind":"single","collected_at":"{T}","site_id":"S","region":{"district":"D","street":"S","community":"C"},"members":[{"person_id":"P{ID}","id_type":"other"}]}"#;
    const R: &str = r#"{"tube_id":"TUBE-{ID}","lab_id":"L","reported_at":"{T}","ct":{"IC":27.0}}"#;
    const C: &str = r#"{"tube_id":"TUBE-{ID}","lab_id":"L","received_at":"{T}"}"#;

    fn rec(template: &str, id: u32, minute: u32) -> String {
        template
            .replace("{ID}", &id.to_string())
            .replace("{T}", &format!("2022-04-04T08:{minute:02}:00+08:00"))
    }

    /// Files with ties across kinds, a record out of order within its file,
    /// a blank line and bad lines.
    fn files() -> [(RecordKind, String); 3] {
        let manifests = [
            rec(M, 1, 0),
            rec(M, 2, 5),
            "not json".to_string(),
            rec(M, 3, 5),
            rec(M, 4, 2), // behind its predecessor: goes out late, as in `run`
            rec(M, 5, 30),
        ];
        let results = [rec(R, 1, 5), rec(R, 2, 5), String::new(), rec(R, 9, 1)];
        let receipts = [rec(C, 1, 5), "{}".to_string(), rec(C, 3, 30), rec(C, 2, 31)];
        [
            (RecordKind::Manifest, manifests.join("\n")),
            (RecordKind::Result, results.join("\n")),
            (RecordKind::Receipt, receipts.join("\n")),
        ]
    }

    #[test]
    fn merge_order_is_the_order_run_processes() {
        let names = ["m", "r", "c"];
        let texts = files();
        let mut run_order = Vec::new();
        let mut run_merge = EventTimeMerge::new(
            texts
                .iter()
                .zip(names)
                .map(|((kind, text), name)| {
                    NdjsonSource::new(*kind, name, text.as_bytes(), 1 << 20)
                })
                .collect(),
        );
        while let Some(item) = run_merge.next_item().unwrap() {
            if let Item::Record(p) = item {
                let Origin::File { path, line, .. } = p.origin else {
                    unreachable!()
                };
                run_order.push((path, line));
            }
        }

        let mut merge = Merge::new(
            texts
                .iter()
                .zip(names)
                .map(|((kind, text), name)| (*kind, name.to_string(), text.as_bytes()))
                .collect(),
            1 << 20,
        );
        let mut rejected = Vec::new();
        let mut ours = Vec::new();
        while let Some((kind, head)) = merge.next(&mut |r| rejected.push(r)).unwrap() {
            let i = texts.iter().position(|(k, _)| *k == kind).unwrap();
            // The bytes are the line itself.
            let line = texts[i].1.lines().nth(head.line as usize - 1).unwrap();
            assert_eq!(head.bytes, line.as_bytes());
            assert!(head.tube_id.starts_with("TUBE-"));
            ours.push((names[i].to_string(), head.line));
        }
        assert_eq!(ours, run_order);
        assert_eq!(ours.len(), 11);
        assert_eq!(merge.blank, 1);
        let bad: Vec<(String, u64, &str)> = rejected
            .iter()
            .map(|r| (r.path.clone(), r.line, r.code))
            .collect();
        assert_eq!(
            bad,
            vec![("m".to_string(), 3, "json"), ("c".to_string(), 2, "json")]
        );
    }

    #[test]
    fn too_long_lines_are_rejected() {
        let long = format!("{{\"x\": \"{}\"}}", "y".repeat(300));
        let text = format!("{}\n{long}\n", rec(C, 1, 0));
        let mut merge = Merge::new(
            vec![(RecordKind::Receipt, "c".into(), text.as_bytes())],
            200,
        );
        let mut rejected = Vec::new();
        assert!(merge.next(&mut |r| rejected.push(r)).unwrap().is_some());
        assert!(merge.next(&mut |r| rejected.push(r)).unwrap().is_none());
        assert_eq!(rejected.len(), 1);
        assert_eq!((rejected[0].line, rejected[0].code), (2, "too_long"));
        assert!(
            rejected[0].to_string().starts_with("c:2: record is "),
            "{}",
            rejected[0]
        );
    }
}
