//! One partition of the engine: consumes its partition of the internal
//! topic (input records, messages from other partitions, source ticks) in
//! offset order, drives a partitioned [`Engine`], and sends what it produces
//! (messages to other partitions, alerts, dead letters, Parquet rows).
//!
//! Effectively once: the partition's stream is totally ordered and the
//! engine deterministic, so after restoring a checkpoint and consuming from
//! its offset the task emits exactly what it emitted before the crash:
//! alerts with the same ids and content, messages with the same sequence
//! numbers (receivers drop those they already have), Parquet files with the
//! same names (stem `p{partition:04}-o{first offset:012}`: a replayed file
//! replaces the earlier one; files of an epoch that never reached its
//! checkpoint are deleted on restore).

use std::path::{Path, PathBuf};
use std::time::Instant;

use pooltrace_engine::{
    decode_msg, encode_msg, Disposition, Effect, Engine, EngineConfig, Partition,
};
use pooltrace_model::{decode_record, RecordKind, Timestamp};
use pooltrace_parquet::{ParquetConfig, ParquetSink, PseudonymKey, Table};

use std::collections::BTreeMap;

use pooltrace_pipeline::source::tie_rank;

use super::checkpoint::{CheckpointStore, Meta, PendingInput, META_VERSION};
use super::envelope::{self, Envelope, Source};
use super::outputs::{DeadOrigin, Outputs};
use super::RuntimeError;

/// What every task of a run shares.
pub struct TaskSettings {
    pub engine: EngineConfig,
    pub parquet: ParquetConfig,
    pub pseudonym_key: String,
    pub out: PathBuf,
    pub partitions: u32,
    /// How many sources (input topic partitions) the watermark waits for.
    pub sources: usize,
    pub max_record_bytes: usize,
}

/// One partition's engine and bookkeeping.
pub struct PartitionTask {
    pub partition: u32,
    engine: Engine,
    meta: Meta,
    parquet: ParquetSink,
    effects: Vec<Effect>,
    /// Kafka timestamp of the result being processed (latency metric).
    result_ts: Option<i64>,
    /// Input records waiting for every source to pass their order time
    /// (see [`Envelope::Input`]), in the order they will be processed:
    /// (order time, rank of the kind as in the file merge, source
    /// partition, source offset).
    pending: BTreeMap<(i64, u8, i32, i64), Waiting>,
    /// How far records are released: see [`Release`].
    released: Option<Release>,
    /// `pooltrace_event_time_seconds` and `pooltrace_pending_inputs` of
    /// this partition (set on every tick: registered once).
    event_time_gauge: metrics::Gauge,
    pending_gauge: metrics::Gauge,
    /// Messages for other partitions not yet written, by partition: (sequence, encoded).
    /// [`PartitionTask::send_msgs`] writes each partition's as one record.
    outbox: BTreeMap<u32, Vec<(u64, Vec<u8>)>>,
    outbox_bytes: usize,
    /// Internal records processed since start: inputs, messages, ticks,
    /// duplicates dropped; and messages sent.
    pub counts: TaskCounts,
}

/// Messages waiting in a task's outbox are written once they reach this
/// size (and whenever the runtime asks: when idle, every few milliseconds,
/// and before a checkpoint); one record never exceeds about this much.
const OUTBOX_BYTES: usize = 256 * 1024;

/// How far waiting records may be processed: those with an order time
/// before `upto`, and those at `upto` too once every source is idle.
///
/// While some source is busy, a record at exactly `upto` may still come
/// from it (a record is never behind its source's time, but may be at it)
/// and sort before one at `upto` already here; holding back records at
/// `upto` keeps the processing order independent of fetch timing.
#[derive(Clone, Copy, Debug)]
struct Release {
    upto: i64,
    /// The UTC offset that came with `upto`.
    offset_secs: i32,
    all_idle: bool,
}

impl Release {
    fn admits(self, order_time: i64) -> bool {
        order_time < self.upto || (self.all_idle && order_time == self.upto)
    }
}

/// An input record waiting in [`PartitionTask::pending`].
struct Waiting {
    /// Its own event time (kept for the checkpoint).
    event_time: i64,
    kind: RecordKind,
    kafka_ts: Option<i64>,
    /// The key it was published with (for a dead letter).
    key: Option<Vec<u8>>,
    value: Vec<u8>,
}

/// What a task did since it was opened.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaskCounts {
    pub inputs: u64,
    pub msgs: u64,
    pub ticks: u64,
    pub duplicates: u64,
    pub sent: u64,
}

fn stem(partition: u32, offset: i64) -> String {
    format!("p{partition:04}-o{offset:012}")
}

impl PartitionTask {
    /// Restores the partition from its latest checkpoint (or starts it
    /// empty), deleting Parquet files written after that checkpoint.
    pub fn open(
        partition: u32,
        s: &TaskSettings,
        store: &CheckpointStore,
    ) -> Result<Self, RuntimeError> {
        let part = Partition {
            index: partition,
            count: s.partitions,
        };
        let mut engine = Engine::partitioned(s.engine.clone(), part);
        let mut meta = match store.load(partition)? {
            Some((meta, snapshot)) => {
                if meta.partitions != s.partitions {
                    return Err(RuntimeError::Config(format!(
                        "the checkpoint of partition {partition} was written for {} partitions, the topics now have {}: state cannot be re-partitioned; use a new consumer group and checkpoint store",
                        meta.partitions, s.partitions
                    )));
                }
                engine
                    .restore(&snapshot)
                    .map_err(|e| RuntimeError::Checkpoint(format!("partition {partition}: {e}")))?;
                meta
            }
            None => Meta {
                version: META_VERSION,
                partition,
                partitions: s.partitions,
                ..Meta::default()
            },
        };
        remove_files_after(&s.out, partition, meta.next_offset)?;
        let key = PseudonymKey::new(s.pseudonym_key.as_bytes())
            .map_err(|e| RuntimeError::Config(e.to_string()))?;
        let mut parquet = ParquetSink::create(&s.out, key, s.parquet.clone())?;
        parquet.set_file_stem(&stem(partition, meta.next_offset))?;
        tracing::info!(
            partition,
            next_offset = meta.next_offset,
            "partition opened"
        );
        let mut pending = BTreeMap::new();
        for w in std::mem::take(&mut meta.pending) {
            let kind = kind_named(&w.kind).ok_or_else(|| {
                RuntimeError::Checkpoint(format!(
                    "partition {partition}: pending record of kind `{}`",
                    w.kind
                ))
            })?;
            pending.insert(
                (
                    w.order_time.unwrap_or(w.event_time),
                    tie_rank(kind),
                    w.partition,
                    w.offset,
                ),
                Waiting {
                    event_time: w.event_time,
                    kind,
                    kafka_ts: w.kafka_ts,
                    key: w.key,
                    value: w.value.into_bytes(),
                },
            );
        }
        let released = release_of(&meta.sources, s.sources);
        let label = partition.to_string();
        Ok(PartitionTask {
            pending,
            released,
            event_time_gauge: metrics::gauge!("pooltrace_event_time_seconds", "partition" => label.clone()),
            pending_gauge: metrics::gauge!("pooltrace_pending_inputs", "partition" => label),
            partition,
            engine,
            meta,
            parquet,
            effects: Vec::new(),
            result_ts: None,
            outbox: BTreeMap::new(),
            outbox_bytes: 0,
            counts: TaskCounts::default(),
        })
    }

    /// The next internal offset to process.
    pub fn next_offset(&self) -> i64 {
        self.meta.next_offset
    }

    /// The engine's counters.
    pub fn summary(&self) -> pooltrace_engine::Summary {
        self.engine.summary()
    }

    /// Processes the internal record at `offset` (`key`: its key, which
    /// for an input record is the key it was published with).
    pub fn process(
        &mut self,
        offset: i64,
        key: Option<&[u8]>,
        value: &[u8],
        s: &TaskSettings,
        out: &Outputs,
    ) -> Result<(), RuntimeError> {
        if offset < self.meta.next_offset {
            return Ok(()); // already in the checkpoint
        }

        self.meta.next_offset = offset + 1;
        self.result_ts = None;
        match envelope::decode(value) {
            Err(e) => out.dead_letter(self.origin(out, offset), None, value, &e.to_string())?,
            Ok(Envelope::Input {
                source,
                offset: source_offset,
                kafka_ts,
                event_time,
                order_time,
                value,
            }) => {
                let seen = self.meta.inputs_seen.entry(source.key()).or_insert(-1);
                if source_offset <= *seen {
                    self.counts.duplicates += 1;
                    return Ok(()); // forwarded again by an ingest replaying after a crash
                }
                *seen = source_offset;
                self.counts.inputs += 1;
                self.pending.insert(
                    (
                        order_time,
                        tie_rank(source.kind),
                        source.partition,
                        source_offset,
                    ),
                    Waiting {
                        event_time,
                        kind: source.kind,
                        kafka_ts,
                        key: key.filter(|k| !k.is_empty()).map(<[u8]>::to_vec),
                        value: value.to_vec(),
                    },
                );
                if let Some(r) = self.released {
                    self.release(r, s, out)?;
                }
            }
            Ok(Envelope::Msg { from, seq, body }) => self.on_msg(from, seq, body, offset, out)?,
            Ok(Envelope::Msgs { from, msgs }) => {
                for (seq, body) in msgs {
                    self.on_msg(from, seq, body, offset, out)?;
                }
            }
            Ok(Envelope::Tick {
                source,
                max_event_time,
                idle,
            }) => {
                self.counts.ticks += 1;
                self.meta.sources.tick(source.key(), max_event_time, idle);
                if let Some(r) = release_of(&self.meta.sources, s.sources) {
                    self.released = Some(r);
                    self.release(r, s, out)?;
                    self.engine.observe_time(
                        Timestamp::from_millis(r.upto, r.offset_secs),
                        &mut self.effects,
                    );
                    self.event_time_gauge.set(r.upto as f64 / 1000.0);
                    self.pending_gauge.set(self.pending.len() as f64);
                }
            }
        }
        self.emit(out)
    }

    /// A message from another partition's operators.
    fn on_msg(
        &mut self,
        from: u32,
        seq: u64,
        body: &[u8],
        offset: i64,
        out: &Outputs,
    ) -> Result<(), RuntimeError> {
        let seen = self.meta.msgs_seen.entry(from).or_insert(0);
        if seq <= *seen {
            self.counts.duplicates += 1;
            return Ok(()); // sent again by a sender replaying after a crash
        }
        *seen = seq;
        self.counts.msgs += 1;
        match decode_msg(body) {
            Ok(msg) => self.engine.deliver(msg, &mut self.effects),
            Err(e) => out.dead_letter(
                self.origin(out, offset),
                None,
                body,
                &format!("message from partition {from}: {e}"),
            )?,
        }
        Ok(())
    }

    /// Writes the messages waiting in the outbox: one internal record per
    /// destination partition (more when they exceed [`OUTBOX_BYTES`]).
    /// Batch boundaries need not be the same on a replay: receivers drop
    /// messages by sequence number, one by one.
    pub fn send_msgs(&mut self, out: &Outputs) -> Result<(), RuntimeError> {
        for (to, msgs) in std::mem::take(&mut self.outbox) {
            let mut batch: Vec<(u64, &[u8])> = Vec::new();
            let mut bytes = 0;
            for (seq, body) in &msgs {
                if bytes + body.len() > OUTBOX_BYTES && !batch.is_empty() {
                    self.write_batch(to, std::mem::take(&mut batch), out)?;
                    bytes = 0;
                }
                bytes += body.len() + 12;
                batch.push((*seq, body));
            }
            if !batch.is_empty() {
                self.write_batch(to, batch, out)?;
            }
        }
        self.outbox_bytes = 0;
        Ok(())
    }

    fn write_batch(
        &self,
        to: u32,
        msgs: Vec<(u64, &[u8])>,
        out: &Outputs,
    ) -> Result<(), RuntimeError> {
        let env = Envelope::Msgs {
            from: self.partition,
            msgs,
        };
        out.internal(to, &[], &env.encode())
    }

    /// A record of this partition of the internal topic, as a dead letter's origin.
    fn origin<'o>(&self, out: &'o Outputs, offset: i64) -> DeadOrigin<'o> {
        DeadOrigin {
            topic: &out.topics.internal,
            partition: self.partition as i32,
            offset,
        }
    }

    /// Processes the waiting records `r` admits, in order.
    fn release(&mut self, r: Release, s: &TaskSettings, out: &Outputs) -> Result<(), RuntimeError> {
        while let Some(entry) = self.pending.first_entry() {
            if !r.admits(entry.key().0) {
                break;
            }
            let ((order_time, _, partition, offset), w) = entry.remove_entry();
            let source = Source {
                kind: w.kind,
                partition,
            };
            self.on_input(source, offset, order_time, &w, s, out)?;
            // Messages and effects of each record go out before the next.
            self.emit(out)?;
        }
        Ok(())
    }

    fn on_input(
        &mut self,
        source: Source,
        source_offset: i64,
        order_time: i64,
        w: &Waiting,
        s: &TaskSettings,
        out: &Outputs,
    ) -> Result<(), RuntimeError> {
        let (value, key) = (&w.value[..], w.key.as_deref());
        let topic = out.topics.input(source.kind);
        let origin = DeadOrigin {
            topic,
            partition: source.partition,
            offset: source_offset,
        };
        let record = match decode_record(source.kind, value, s.max_record_bytes) {
            Ok(r) => r,
            Err(e) => return out.dead_letter(origin, key, value, &e.to_string()),
        };
        if source.kind == RecordKind::Result {
            self.result_ts = w.kafka_ts;
        }
        let offset_secs = record.event_time().offset_secs();
        let disposition = self.engine.handle(record, &mut self.effects);
        // Time moves past the record as in a file run, where the watermark
        // follows every record: to its order time, which every source has
        // reached (so the partition's watermark never gets ahead of them).
        self.engine.observe_time(
            Timestamp::from_millis(order_time, offset_secs),
            &mut self.effects,
        );
        if let Disposition::Rejected(why) = disposition {
            self.engine.take_rejected();
            out.dead_letter(origin, key, value, &why.to_string())?;
        }
        Ok(())
    }

    /// Puts messages for other partitions in the outbox (written when it
    /// is big enough, or by the runtime); sends alerts; writes Parquet rows.
    fn emit(&mut self, out: &Outputs) -> Result<(), RuntimeError> {
        for (to, msg) in self.engine.take_outgoing() {
            self.meta.seq += 1;
            self.counts.sent += 1;
            let body = encode_msg(&msg).map_err(|e| RuntimeError::Checkpoint(e.to_string()))?;
            self.outbox_bytes += body.len() + 12;
            self.outbox
                .entry(to)
                .or_default()
                .push((self.meta.seq, body));
        }
        if self.outbox_bytes >= OUTBOX_BYTES {
            self.send_msgs(out)?;
        }
        let now_ms = now_ms();
        for effect in self.effects.drain(..) {
            match effect {
                Effect::Alert(a) => {
                    let json = serde_json::to_vec(&a)
                        .map_err(|e| RuntimeError::Kafka(format!("alert to JSON: {e}")))?;
                    let key = a.person_id.as_deref().unwrap_or(&a.tube_id);
                    out.alert(key, &json)?;
                    metrics::counter!("pooltrace_alerts_total", "kind" => a.kind.as_str(), "state" => a.state.as_str()).increment(1);
                    if let Some(ts) = self.result_ts {
                        metrics::histogram!("pooltrace_result_to_alert_seconds")
                            .record((now_ms - ts).max(0) as f64 / 1000.0);
                    }
                    self.parquet.write_alert(&a)?;
                }
                Effect::TubeResult(row) => self.parquet.write_tube_result(&row)?,
                Effect::PersonOutcome(row) => self.parquet.write_person_outcome(&row)?,
            }
        }
        Ok(())
    }

    /// Writes this partition's Parquet files and checkpoint (call after
    /// [`PartitionTask::send_msgs`] and a producer flush: everything the
    /// checkpoint reflects must be in Kafka), and starts the next epoch's
    /// file names.
    pub fn checkpoint(&mut self, store: &CheckpointStore) -> Result<(), RuntimeError> {
        let started = Instant::now();
        self.parquet.flush()?;
        let snapshot = self
            .engine
            .snapshot()
            .map_err(|e| RuntimeError::Checkpoint(format!("partition {}: {e}", self.partition)))?;
        self.meta.pending = self
            .pending
            .iter()
            .map(|(&(order_time, _, partition, offset), w)| PendingInput {
                event_time: w.event_time,
                order_time: Some(order_time),
                kind: envelope::kind_name(w.kind).to_string(),
                partition,
                offset,
                kafka_ts: w.kafka_ts,
                key: w.key.clone(),
                value: String::from_utf8_lossy(&w.value).into_owned(),
            })
            .collect();
        store.save(&self.meta, &snapshot)?;
        self.meta.pending.clear();
        tracing::debug!(partition = self.partition, next_offset = self.meta.next_offset, counts = ?self.counts, watermark = ?self.engine.watermark(), "checkpoint");
        self.parquet
            .set_file_stem(&stem(self.partition, self.meta.next_offset))?;
        let s = self.engine.summary();
        let p = self.partition.to_string();
        metrics::gauge!("pooltrace_state_tubes", "partition" => p.clone())
            .set(s.state_sizes.0 as f64);
        metrics::gauge!("pooltrace_state_people", "partition" => p.clone())
            .set(s.state_sizes.1 as f64);
        metrics::gauge!("pooltrace_state_bytes", "partition" => p).set(snapshot.len() as f64);
        metrics::histogram!("pooltrace_checkpoint_seconds").record(started.elapsed().as_secs_f64());
        Ok(())
    }
}

/// How far records may be released given the sources' progress.
fn release_of(sources: &super::sources::Sources, expected: usize) -> Option<Release> {
    sources.time(expected).map(|(upto, offset_secs)| Release {
        upto,
        offset_secs,
        all_idle: sources.all_idle(),
    })
}

fn kind_named(name: &str) -> Option<RecordKind> {
    [
        RecordKind::Manifest,
        RecordKind::Receipt,
        RecordKind::Result,
    ]
    .into_iter()
    .find(|k| envelope::kind_name(*k) == name)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Deletes this partition's Parquet files of epochs starting at or after
/// `from` (written after the checkpoint being restored; they will be
/// written again), and its hidden files still being written when the
/// previous owner stopped (`.{name}.tmp`: never published).
fn remove_files_after(out: &Path, partition: u32, from: i64) -> Result<(), RuntimeError> {
    let prefix = format!("p{partition:04}-o");
    let hidden = format!(".{prefix}");
    for table in [Table::TubeResults, Table::PersonOutcomes, Table::Alerts] {
        let dir = ParquetSink::table_dir(out, table);
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let name = entry.file_name();
                let Some(name) = name.to_str() else {
                    continue;
                };
                let unpublished = name.starts_with(&hidden) && name.ends_with(".tmp");
                let offset: Option<i64> = name
                    .strip_prefix(&prefix)
                    .and_then(|rest| rest.get(..12))
                    .and_then(|o| o.parse().ok());
                if unpublished || offset.is_some_and(|o| o >= from) {
                    std::fs::remove_file(&path).map_err(|e| {
                        RuntimeError::Io(format!("cannot remove {}: {e}", path.display()))
                    })?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_partition_removes_its_later_and_unpublished_files_only() {
        let out = std::env::temp_dir().join(format!("pooltrace-remove-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let dir = ParquetSink::table_dir(&out, Table::Alerts).join("date=2022-04-04/district=D");
        std::fs::create_dir_all(&dir).unwrap();
        let names = [
            "p0003-o000000000100-00000.parquet", // before the checkpoint: kept
            "p0003-o000000000200-00000.parquet", // at it: written again
            "p0003-o000000000300-00001.parquet", // after it: written again
            ".p0003-o000000000100-00001.parquet.tmp", // never published
            ".p0004-o000000000300-00000.parquet.tmp", // another partition's
            "p0004-o000000000300-00000.parquet", // another partition's
            "part-00000.parquet",                // not ours
        ];
        for n in names {
            std::fs::write(dir.join(n), b"x").unwrap();
        }
        remove_files_after(&out, 3, 200).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                ".p0004-o000000000300-00000.parquet.tmp",
                "p0003-o000000000100-00000.parquet",
                "p0004-o000000000300-00000.parquet",
                "part-00000.parquet",
            ]
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
}
