//! The ingest stage: reads the input topics (whatever partition a lab
//! published to), reads each record's tube id and event time, and forwards
//! it to the internal topic's partition that owns its tube, with its origin
//! and original key. A record without a readable tube id and event time
//! goes to the dead-letter topic with origin and reason here; the full
//! validation happens once, in the partition's task, which dead-letters the
//! rest the same way. Every few hundred records or 50 ms of a busy source,
//! and when a source runs dry, it tells every partition how far in event
//! time the source has got (a tick).
//!
//! Each forwarded record carries its order time: the greatest event time
//! its source has reached up to and including it. Partitions process
//! records in order of it, so a record published behind later ones is
//! processed where a merge of the sources by event time would put it,
//! whatever the timing of the fetches.
//!
//! At least once: after a crash the ingest re-reads from its last
//! checkpointed offset ([`SourceMark`], which also keeps the source's
//! greatest event time, so order times after a restart are those of an
//! uninterrupted run); receivers drop what they already have by
//! (source, offset).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pooltrace_engine::partition::tube_partition;
use std::borrow::Cow;

use pooltrace_model::{decode_record, RecordKind, Timestamp};

use super::checkpoint::SourceMark;
use super::envelope::{Envelope, Source};
use super::outputs::{DeadOrigin, Outputs};
use super::RuntimeError;

use crate::produce::TICK_KEY;

/// Records between two ticks of a busy source.
const TICK_EVERY: u32 = 500;
/// Longest time a busy source goes without a tick: records wait for every
/// source's tick to pass their order time, so at a low rate this bounds
/// that wait (500 records at 750 records/s would be 0.67 s).
const TICK_AFTER: Duration = Duration::from_millis(50);

/// One input partition being read.
#[derive(Debug, Default)]
pub struct SourceState {
    /// Next offset to read (committed with checkpoints).
    pub next_offset: Option<i64>,
    max: Option<(i64, i32)>,
    since_tick: u32,
    /// When the last tick went out.
    last_tick: Option<Instant>,
    idle: bool,
    /// When the last record came (or the partition was assigned).
    last_seen: Option<Instant>,
    /// The next offset as last saved in a [`SourceMark`].
    saved: Option<i64>,
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
        match route(source.kind, value, max_record_bytes) {
            Err(why) => {
                let origin = DeadOrigin {
                    topic,
                    partition: source.partition,
                    offset,
                };
                out.dead_letter(origin, key, value, &why)?;
            }
            Ok((tube_id, t)) => {
                bump(&mut st.max, (t.millis(), t.offset_secs()));
                let to = tube_partition(&tube_id, partitions);
                let env = Envelope::Input {
                    source,
                    offset,
                    kafka_ts,
                    event_time: t.millis(),
                    order_time: st.max.map_or(t.millis(), |m| m.0),
                    value,
                };
                out.internal(to, key.unwrap_or_default(), &env.encode())?;
            }
        }
        st.since_tick += 1;
        let due = st.last_tick.is_none_or(|t| t.elapsed() >= TICK_AFTER);
        if was_idle || st.since_tick >= TICK_EVERY || due {
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

    /// Records before `offset` were forwarded already (the committed
    /// offset; a saved [`SourceMark`] may be further on, since it is
    /// written before offsets are committed).
    pub fn resume_at(&mut self, source: Source, offset: i64) {
        let st = self.sources.entry(source).or_default();
        if st.next_offset.is_none_or(|n| n < offset) {
            st.next_offset = Some(offset);
        }
    }

    /// Resumes a source where a saved mark left it.
    pub fn restore(&mut self, source: Source, mark: &SourceMark) {
        let st = self.sources.entry(source).or_default();
        st.next_offset = Some(mark.next_offset);
        st.saved = Some(mark.next_offset);
        st.max = mark.max;
    }

    /// The marks of the sources that moved since their last
    /// [`Ingest::saved`] (to write once what was forwarded is in Kafka).
    pub fn marks_to_save(&self) -> Vec<(Source, SourceMark)> {
        self.sources
            .iter()
            .filter_map(|(src, st)| {
                let next_offset = st.next_offset?;
                (st.saved != Some(next_offset)).then_some((
                    *src,
                    SourceMark {
                        next_offset,
                        max: st.max,
                    },
                ))
            })
            .collect()
    }

    /// The mark of `source` up to `next_offset` was saved.
    pub fn saved(&mut self, source: Source, next_offset: i64) {
        if let Some(st) = self.sources.get_mut(&source) {
            st.saved = Some(next_offset);
        }
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
        st.last_tick = Some(Instant::now());
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

/// The tube id and event time of an input record: all the ingest needs to
/// route it, read without decoding the rest (the task decodes and validates
/// it once). When they cannot be read, the reason is the full decoder's, so
/// it names the field and value as everywhere else.
fn route(
    kind: RecordKind,
    value: &[u8],
    max_record_bytes: usize,
) -> Result<(Cow<'_, str>, Timestamp), String> {
    #[derive(serde::Deserialize)]
    struct Head<'a> {
        #[serde(borrow)]
        tube_id: Cow<'a, str>,
        #[serde(borrow, default)]
        collected_at: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        reported_at: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        received_at: Option<Cow<'a, str>>,
    }
    // UTF-8 is checked whole here (the JSON reader skips unread fields'
    // bytes), so that what is forwarded is text (checkpoints keep waiting
    // records as text).
    let head = (value.len() <= max_record_bytes)
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
        .and_then(|text| serde_json::from_str::<Head<'_>>(text).ok());
    let time = head.as_ref().and_then(|h| match kind {
        RecordKind::Manifest => h.collected_at.as_deref(),
        RecordKind::Result => h.reported_at.as_deref(),
        RecordKind::Receipt => h.received_at.as_deref(),
    });
    match (head.as_ref(), time.map(Timestamp::parse)) {
        (Some(h), Some(Ok(t))) if !h.tube_id.is_empty() => {
            let head = head.expect("matched Some");
            Ok((head.tube_id, t))
        }
        _ => match decode_record(kind, value, max_record_bytes) {
            Err(e) => Err(e.to_string()),
            // Cannot happen (the full decoder reads the same fields); route
            // it by what the decoder read.
            Ok(r) => Ok((Cow::Owned(r.tube_id().to_string()), r.event_time())),
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_tube_and_event_time_without_full_validation() {
        let (tube, t) = route(
            RecordKind::Result,
            br#"{"tube_id":"T\u002d1","lab_id":"L","reported_at":"2022-04-05T10:00:00+08:00","ct":{"N":99}}"#,
            1 << 20,
        )
        .unwrap();
        assert_eq!(tube, "T-1", "escapes are read");
        assert_eq!(t.to_string(), "2022-04-05T10:00:00+08:00");
        // The bad Ct is the task's to reject (with the same origin).
        let (_, t) = route(
            RecordKind::Receipt,
            br#"{"tube_id":"T2","lab_id":"L","received_at":"2022-04-05T11:00:00Z","reported_at":"2000-01-01T00:00:00Z"}"#,
            1 << 20,
        )
        .unwrap();
        assert_eq!(
            t.to_string(),
            "2022-04-05T11:00:00+00:00",
            "the kind's own time field"
        );
        // Bad UTF-8 in a field the router does not read: not forwarded.
        let mut bad =
            br#"{"tube_id":"T3","lab_id":"L","received_at":"2022-04-05T11:00:00Z","x":"#.to_vec();
        bad.extend_from_slice(b"\"\xff\"}");
        let why = route(RecordKind::Receipt, &bad, 1 << 20).unwrap_err();
        assert!(why.contains("UTF-8"), "{why}");
    }

    #[test]
    fn unroutable_records_get_the_full_decoders_reason() {
        let cases: [(RecordKind, &[u8], &str); 5] = [
            (RecordKind::Result, b"{not json", "line 1"),
            (RecordKind::Result, &[0xff, 0xfe], "UTF-8"),
            (
                RecordKind::Receipt,
                br#"{"tube_id":"T","lab_id":"L","received_at":"yesterday"}"#,
                "received_at",
            ),
            (
                RecordKind::Manifest,
                br#"{"tube_id":"T","kind":"single"}"#,
                "collected_at",
            ),
            (
                RecordKind::Result,
                br#"{"tube_id":"T","lab_id":"L","reported_at":"2022-04-05T10:00:00Z","kit":"xxxxxxxxxx"}"#,
                "over the limit",
            ),
        ];
        for (kind, value, named) in cases {
            let max = if named == "over the limit" {
                40
            } else {
                1 << 20
            };
            let why = route(kind, value, max).unwrap_err();
            let full = decode_record(kind, value, max).unwrap_err().to_string();
            assert_eq!(why, full);
            assert!(
                why.to_lowercase().contains(&named.to_lowercase()),
                "{named}: {why}"
            );
        }
    }
}
