//! The ingest stage: reads the input topics (whatever partition a lab
//! published to), validates each record, and forwards it to the internal
//! topic's partition that owns its tube, with its origin. Records that fail
//! validation go to the dead-letter topic with origin and reason. Every
//! few hundred records, and when a source runs dry, it tells every
//! partition how far in event time the source has got (a tick).
//!
//! At least once: after a crash the ingest re-reads from its last committed
//! offset; receivers drop what they already have by (source, offset).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pooltrace_engine::partition::tube_partition;
use pooltrace_model::{decode_record, RecordKind, Timestamp};

use super::envelope::{Envelope, Source};
use super::outputs::{DeadOrigin, Outputs};
use super::RuntimeError;

use crate::produce::TICK_KEY;

/// Records between two ticks of a busy source.
const TICK_EVERY: u32 = 500;

/// One input partition being read.
#[derive(Debug, Default)]
pub struct SourceState {
    /// Next offset to read (committed with checkpoints).
    pub next_offset: Option<i64>,
    max: Option<(i64, i32)>,
    since_tick: u32,
    idle: bool,
    /// When the last record came (or the partition was assigned).
    last_seen: Option<Instant>,
}

/// The ingest stage of this instance: the input partitions it reads.
#[derive(Debug, Default)]
pub struct Ingest {
    pub sources: BTreeMap<Source, SourceState>,
}

impl Ingest {
    /// Handles one input record.
    #[allow(clippy::too_many_arguments)]
    pub fn on_record(
        &mut self,
        source: Source,
        topic: &str,
        offset: i64,
        key: Option<&[u8]>,
        value: &[u8],
        kafka_ts: Option<i64>,
        partitions: u32,
        max_record_bytes: usize,
        out: &Outputs,
    ) -> Result<(), RuntimeError> {
        metrics::counter!("pooltrace_records_in_total", "topic" => topic.to_string()).increment(1);
        let st = self.sources.entry(source).or_default();
        if st.next_offset.is_some_and(|n| offset < n) {
            return Ok(()); // forwarded before (re-read from an earlier offset)
        }
        st.next_offset = Some(offset + 1);
        st.last_seen = Some(Instant::now());
        let was_idle = std::mem::take(&mut st.idle);
        if key == Some(TICK_KEY) {
            match tick_time(value) {
                Some(t) => bump(&mut st.max, t),
                None => {
                    let origin = DeadOrigin {
                        topic,
                        partition: source.partition,
                        offset,
                    };
                    out.dead_letter(
                        origin,
                        key,
                        value,
                        "tick: value is not {\"tick_event_time\": RFC 3339}",
                    )?;
                }
            }
            return self.tick(source, partitions, out);
        }
        match decode_record(source.kind, value, max_record_bytes) {
            Err(e) => {
                let origin = DeadOrigin {
                    topic,
                    partition: source.partition,
                    offset,
                };
                out.dead_letter(origin, key, value, &e.to_string())?;
            }
            Ok(record) => {
                let t = record.event_time();
                bump(&mut st.max, (t.millis(), t.offset_secs()));
                let to = tube_partition(record.tube_id(), partitions);
                let env = Envelope::Input {
                    source,
                    offset,
                    kafka_ts,
                    event_time: t.millis(),
                    value,
                };
                out.internal(to, record.tube_id().as_bytes(), &env.encode())?;
            }
        }
        st.since_tick += 1;
        if was_idle || st.since_tick >= TICK_EVERY {
            self.tick(source, partitions, out)?;
        }
        Ok(())
    }

    /// Next offset and idleness of each source read here (for logs).
    pub fn progress(&self) -> Vec<(String, Option<i64>, bool)> {
        self.sources
            .iter()
            .map(|(src, s)| (src.key(), s.next_offset, s.idle))
            .collect()
    }

    /// Records before `offset` were forwarded already (the committed offset).
    pub fn resume_at(&mut self, source: Source, offset: i64) {
        self.sources.entry(source).or_default().next_offset = Some(offset);
    }

    /// The next offset expected from a source, when known.
    pub fn expected(&self, source: Source) -> Option<i64> {
        self.sources.get(&source).and_then(|s| s.next_offset)
    }

    /// The partition was assigned to this instance.
    pub fn assigned(&mut self, source: Source) {
        let st = self.sources.entry(source).or_default();
        st.last_seen.get_or_insert_with(Instant::now);
    }

    /// How long a busy source has sent nothing (zero when idle already).
    pub fn quiet_for(&self, source: Source) -> Duration {
        match self.sources.get(&source) {
            Some(s) if !s.idle => s.last_seen.map_or(Duration::ZERO, |t| t.elapsed()),
            _ => Duration::ZERO,
        }
    }

    /// The source has been read to its end: it no longer holds time back.
    pub fn on_idle(
        &mut self,
        source: Source,
        partitions: u32,
        out: &Outputs,
    ) -> Result<(), RuntimeError> {
        let st = self.sources.entry(source).or_default();
        if st.idle {
            return Ok(());
        }
        st.idle = true;
        self.tick(source, partitions, out)
    }

    /// Tells every partition where `source` stands.
    fn tick(&mut self, source: Source, partitions: u32, out: &Outputs) -> Result<(), RuntimeError> {
        let st = self.sources.entry(source).or_default();
        st.since_tick = 0;
        let env = Envelope::Tick {
            source,
            max_event_time: st.max,
            idle: st.idle,
        }
        .encode();
        for p in 0..partitions {
            out.internal(p, &[], &env)?;
        }
        Ok(())
    }
}

fn bump(max: &mut Option<(i64, i32)>, t: (i64, i32)) {
    if max.is_none_or(|m| m.0 < t.0) {
        *max = Some(t);
    }
}

fn tick_time(value: &[u8]) -> Option<(i64, i32)> {
    #[derive(serde::Deserialize)]
    struct Tick {
        tick_event_time: String,
    }
    let t: Tick = serde_json::from_slice(value).ok()?;
    let ts = Timestamp::parse(&t.tick_event_time).ok()?;
    Some((ts.millis(), ts.offset_secs()))
}

/// The record kind an input topic carries.
pub fn kind_of_topic(topics: &crate::TopicNames, topic: &str) -> Option<RecordKind> {
    if topic == topics.manifests {
        Some(RecordKind::Manifest)
    } else if topic == topics.results {
        Some(RecordKind::Result)
    } else if topic == topics.receipts {
        Some(RecordKind::Receipt)
    } else {
        None
    }
}
