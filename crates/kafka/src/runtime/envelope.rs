//! The internal topic's records: every event a partition's engine consumes
//! travels through one totally ordered stream (its partition of
//! `pooltrace.internal.v1`), so that replaying it after a crash gives the
//! same outputs in the same order.
//!
//! Three kinds, in a small fixed binary layout (little endian):
//!
//! | tag | kind  | fields |
//! |-----|-------|--------|
//! | 1   | input | (read only: as earlier versions wrote; its order time is its event time) source kind u8, source partition i32, source offset i64, Kafka timestamp i64 (`i64::MIN`: none), event time i64 (millis), then the original value bytes |
//! | 2   | msg   | (read only: one message a record, as earlier versions wrote): sender partition u32, sender sequence u64, then the engine's encoded message ([`pooltrace_engine::encode_msg`]) |
//! | 3   | tick  | source kind u8, source partition i32, greatest event time i64 (`i64::MIN`: none yet), its UTC offset i32, idle u8 |
//! | 4   | msgs  | sender partition u32, count u32, then per message its sender sequence u64, its length u32 and its encoded bytes |
//! | 5   | input | as tag 1, then its order time i64 (millis) before the value bytes |
//!
//! An input is an input record forwarded by the ingest stage from the input
//! topic it was published to (re-keyed by tube id), with its order time:
//! the greatest event time its source had reached when it was read (its
//! own event time or later), which places it among the other sources'
//! records as a merge of the sources by event time would. A msg is a
//! message between keyed operators on different partitions; msgs is several of
//! them from one sender to one partition in one record (what the runtime
//! writes: far fewer records than one per message). A tick tells every
//! partition how far in event time a source (one input topic partition) has
//! got, for the watermark.

use pooltrace_model::RecordKind;

/// Where an input record was published: its input topic (by kind) and partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Source {
    pub kind: RecordKind,
    pub partition: i32,
}

impl Source {
    /// A stable text key (`manifest:3`) for checkpoint maps.
    pub fn key(&self) -> String {
        format!("{}:{}", kind_name(self.kind), self.partition)
    }
}

/// One record of the internal topic.
#[derive(Clone, Debug, PartialEq)]
pub enum Envelope<'a> {
    Input {
        source: Source,
        offset: i64,
        kafka_ts: Option<i64>,
        /// The record's event time (millis), read once by the ingest.
        event_time: i64,
        /// Where the record stands in its source (millis): the greatest
        /// event time of the source up to and including it. Records are
        /// processed in order of this time, so that one published late
        /// (behind records with later times) is processed after everything
        /// the source had published before it, as a merge of files would.
        order_time: i64,
        value: &'a [u8],
    },
    Msg {
        from: u32,
        seq: u64,
        body: &'a [u8],
    },
    /// Messages from one sender, each with its sequence number, in order.
    Msgs {
        from: u32,
        msgs: Vec<(u64, &'a [u8])>,
    },
    Tick {
        source: Source,
        max_event_time: Option<(i64, i32)>,
        idle: bool,
    },
}

/// A record of the internal topic that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("internal topic record: {0}")]
pub struct EnvelopeError(&'static str);

pub fn kind_name(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Manifest => "manifest",
        RecordKind::Result => "result",
        RecordKind::Receipt => "receipt",
    }
}

fn kind_code(kind: RecordKind) -> u8 {
    match kind {
        RecordKind::Manifest => 0,
        RecordKind::Result => 1,
        RecordKind::Receipt => 2,
    }
}

fn kind_of(code: u8) -> Result<RecordKind, EnvelopeError> {
    match code {
        0 => Ok(RecordKind::Manifest),
        1 => Ok(RecordKind::Result),
        2 => Ok(RecordKind::Receipt),
        _ => Err(EnvelopeError("unknown source kind")),
    }
}

impl Envelope<'_> {
    /// The bytes of this record.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        match self {
            Envelope::Input {
                source,
                offset,
                kafka_ts,
                event_time,
                order_time,
                value,
            } => {
                b.reserve(38 + value.len());
                b.push(5);
                b.push(kind_code(source.kind));
                b.extend_from_slice(&source.partition.to_le_bytes());
                b.extend_from_slice(&offset.to_le_bytes());
                b.extend_from_slice(&kafka_ts.unwrap_or(i64::MIN).to_le_bytes());
                b.extend_from_slice(&event_time.to_le_bytes());
                b.extend_from_slice(&order_time.to_le_bytes());
                b.extend_from_slice(value);
            }
            Envelope::Msg { from, seq, body } => {
                b.reserve(13 + body.len());
                b.push(2);
                b.extend_from_slice(&from.to_le_bytes());
                b.extend_from_slice(&seq.to_le_bytes());
                b.extend_from_slice(body);
            }
            Envelope::Msgs { from, msgs } => {
                b.reserve(9 + msgs.iter().map(|(_, m)| 12 + m.len()).sum::<usize>());
                b.push(4);
                b.extend_from_slice(&from.to_le_bytes());
                b.extend_from_slice(&(msgs.len() as u32).to_le_bytes());
                for (seq, m) in msgs {
                    b.extend_from_slice(&seq.to_le_bytes());
                    b.extend_from_slice(&(m.len() as u32).to_le_bytes());
                    b.extend_from_slice(m);
                }
            }
            Envelope::Tick {
                source,
                max_event_time,
                idle,
            } => {
                b.push(3);
                b.push(kind_code(source.kind));
                b.extend_from_slice(&source.partition.to_le_bytes());
                let (t, off) = max_event_time.unwrap_or((i64::MIN, 0));
                b.extend_from_slice(&t.to_le_bytes());
                b.extend_from_slice(&off.to_le_bytes());
                b.push(u8::from(*idle));
            }
        }
        b
    }
}

fn take<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N], EnvelopeError> {
    b.get(at..at + N)
        .and_then(|s| s.try_into().ok())
        .ok_or(EnvelopeError("truncated"))
}

/// Reads one record of the internal topic.
pub fn decode(b: &[u8]) -> Result<Envelope<'_>, EnvelopeError> {
    match b.first() {
        Some(tag @ (1 | 5)) => {
            let kind = kind_of(take::<1>(b, 1)?[0])?;
            let partition = i32::from_le_bytes(take(b, 2)?);
            let offset = i64::from_le_bytes(take(b, 6)?);
            let ts = i64::from_le_bytes(take(b, 14)?);
            let event_time = i64::from_le_bytes(take(b, 22)?);
            let (order_time, value) = if *tag == 5 {
                (i64::from_le_bytes(take(b, 30)?), &b[38..])
            } else {
                (event_time, &b[30..])
            };
            Ok(Envelope::Input {
                source: Source { kind, partition },
                offset,
                kafka_ts: (ts != i64::MIN).then_some(ts),
                event_time,
                order_time,
                value,
            })
        }
        Some(2) => Ok(Envelope::Msg {
            from: u32::from_le_bytes(take(b, 1)?),
            seq: u64::from_le_bytes(take(b, 5)?),
            body: b.get(13..).ok_or(EnvelopeError("truncated"))?,
        }),
        Some(3) => {
            let kind = kind_of(take::<1>(b, 1)?[0])?;
            let partition = i32::from_le_bytes(take(b, 2)?);
            let t = i64::from_le_bytes(take(b, 6)?);
            let off = i32::from_le_bytes(take(b, 14)?);
            let idle = take::<1>(b, 18)?[0] != 0;
            Ok(Envelope::Tick {
                source: Source { kind, partition },
                max_event_time: (t != i64::MIN).then_some((t, off)),
                idle,
            })
        }
        Some(4) => {
            let from = u32::from_le_bytes(take(b, 1)?);
            let count = u32::from_le_bytes(take(b, 5)?) as usize;
            // Each message takes at least 12 bytes (sequence and length): a
            // count the record cannot hold is refused before allocating.
            if count > (b.len() - 9) / 12 {
                return Err(EnvelopeError("truncated"));
            }
            let mut msgs = Vec::with_capacity(count);
            let mut at = 9;
            for _ in 0..count {
                let seq = u64::from_le_bytes(take(b, at)?);
                let len = u32::from_le_bytes(take(b, at + 8)?) as usize;
                at += 12;
                let body = b.get(at..at + len).ok_or(EnvelopeError("truncated"))?;
                msgs.push((seq, body));
                at += len;
            }
            if at != b.len() {
                return Err(EnvelopeError("bytes after the last message"));
            }
            Ok(Envelope::Msgs { from, msgs })
        }
        _ => Err(EnvelopeError("unknown record tag")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips() {
        let source = Source {
            kind: RecordKind::Result,
            partition: 3,
        };
        let all = [
            Envelope::Input {
                source,
                offset: 42,
                kafka_ts: Some(1_700_000_000_000),
                event_time: 1_652_140_800_000,
                order_time: 1_652_150_000_000,
                value: b"{\"tube_id\":\"T1\"}",
            },
            Envelope::Input {
                source,
                offset: 0,
                kafka_ts: None,
                event_time: -5,
                order_time: -5,
                value: b"",
            },
            Envelope::Msg {
                from: 2,
                seq: 99,
                body: b"\x81\xa1a\x01",
            },
            Envelope::Tick {
                source,
                max_event_time: Some((1_652_140_800_000, 28_800)),
                idle: true,
            },
            Envelope::Tick {
                source,
                max_event_time: None,
                idle: false,
            },
            Envelope::Msgs {
                from: 1,
                msgs: vec![(7, b"\x81\xa1a\x01"), (9, b""), (12, b"xyz")],
            },
            Envelope::Msgs {
                from: 0,
                msgs: vec![],
            },
        ];
        for e in &all {
            assert_eq!(&decode(&e.encode()).unwrap(), e);
        }
        assert!(decode(b"").is_err());
        assert!(decode(b"\x09").is_err());
        assert!(decode(&[1, 0, 1]).is_err(), "truncated input");
        let with_order = all[0].encode();
        assert!(
            decode(&with_order[..37]).is_err(),
            "truncated input with order time"
        );
        // An input as earlier versions wrote it (tag 1): its order time is
        // its event time.
        let mut old = vec![1, 1];
        old.extend_from_slice(&3i32.to_le_bytes());
        old.extend_from_slice(&42i64.to_le_bytes());
        old.extend_from_slice(&i64::MIN.to_le_bytes());
        old.extend_from_slice(&1_000i64.to_le_bytes());
        old.extend_from_slice(b"{}");
        assert_eq!(
            decode(&old).unwrap(),
            Envelope::Input {
                source,
                offset: 42,
                kafka_ts: None,
                event_time: 1_000,
                order_time: 1_000,
                value: b"{}",
            }
        );
        let msgs = Envelope::Msgs {
            from: 1,
            msgs: vec![(7, b"abc"), (8, b"de")],
        }
        .encode();
        assert!(decode(&msgs[..msgs.len() - 1]).is_err(), "truncated msgs");
        let mut longer = msgs.clone();
        longer.push(0);
        assert!(decode(&longer).is_err(), "bytes after the last message");
        let mut huge = msgs[..9].to_vec();
        huge[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge).is_err(), "a count the record cannot hold");
    }
}
