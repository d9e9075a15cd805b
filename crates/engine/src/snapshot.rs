//! Engine snapshots (Kafka-mode checkpoints) and the wire encoding of the
//! operators' messages (the internal repartition topic).
//!
//! Both use MessagePack with named fields (`rmp-serde`): a self-describing
//! format, as the model's types leave out empty optional fields
//! (`skip_serializing_if`), which a positional format such as bincode cannot
//! read back. A [`HouseholdKey`](crate::msg::HouseholdKey) (`u128`) is a
//! 16-byte MessagePack `bin` and reads back exactly.
//!
//! Timestamps are (milliseconds, UTC offset in seconds) pairs here, not
//! RFC 3339 text (see [`pooltrace_model::Timestamp`]'s serde impls), and
//! packed manifests and contacts their packed bytes (see
//! [`crate::packed`]): binary formats get the compact form, JSON the
//! readable one.
//!
//! A snapshot is the version line `pooltrace-engine-snapshot/3\n`, then one
//! part per piece of state, in a fixed order: a one-byte name length, the
//! name, the payload length (`u64`, little-endian) and the payload (one
//! MessagePack value). The parts are `tubes`, `people`, `pools`,
//! `households`, `batches`, `timers`, `clock` (greatest event time seen and
//! the last retention sweep) and `summary`. A tube's manifest, result and receipt,
//! held packed in memory ([`crate::packed::PackedManifest`]), are written as
//! what they pack. What comes from the config (the
//! batch designs, the pool settle time), the partition, and the always-empty
//! message queues are not in it: [`Engine::restore`] keeps those of the
//! engine it is called on.
//!
//! A message ([`encode_msg`]) is one format byte ([`MSG_FORMAT`]), a kind
//! byte, then the [`Msg`]: compact binary for the two frequent kinds
//! (`msg_wire.rs`), MessagePack for the rest. A contact in it carries only
//! the member and the region (see [`crate::msg::Contact`]), not the whole
//! manifest.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use pooltrace_model::Timestamp;

use crate::msg::Msg;
use crate::msg_wire;
use crate::Engine;

/// The snapshot format this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 3;

/// What every snapshot starts with, before its version and a newline.
const MAGIC: &[u8] = b"pooltrace-engine-snapshot/";

/// The first byte of every encoded message: the message format version.
/// Format 4 adds a kind byte and the compact layout of `msg_wire.rs`.
pub const MSG_FORMAT: u8 = 4;

/// The format earlier builds wrote (MessagePack only), still read, so that
/// an internal topic written before an upgrade replays.
const MSG_FORMAT_NAMED_ONLY: u8 = 3;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a snapshot, a restore or a message encoding failed, and which part.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The bytes do not start with the snapshot version line.
    #[error(
        "not an engine snapshot: it does not start with `pooltrace-engine-snapshot/<version>`"
    )]
    NotASnapshot,
    /// A snapshot of another format version.
    #[error(
        "engine snapshot format version `{found}` is not supported: this build reads version \
         {supported} only (restore it with the release that wrote it, or rebuild the state from \
         the input)"
    )]
    Version { found: String, supported: u32 },
    /// A message of another format version.
    #[error("engine message format {found} is not supported: this build reads format {supported}")]
    MsgFormat { found: u8, supported: u8 },
    /// The engine spills state to a store ([`crate::spill`]): a snapshot
    /// would leave the spilled part out.
    #[error("cannot snapshot or restore an engine that spills state to disk (engine.state_memory_mb > 0 with a spill store): spilled tubes and households are not in snapshots")]
    Spilled,
    /// Snapshot taken with messages in flight (it is only valid between calls).
    #[error("cannot snapshot the engine while {what} holds {pending} message(s)")]
    NotIdle { what: &'static str, pending: usize },
    /// A part could not be encoded.
    #[error("{}: cannot encode: {source}", what(part))]
    Encode {
        part: &'static str,
        #[source]
        source: BoxError,
    },
    /// A part could not be decoded.
    #[error("{}: cannot decode: {source}", what(part))]
    Decode {
        part: &'static str,
        #[source]
        source: BoxError,
    },
    /// The framing around the parts is wrong (truncated, parts out of order,
    /// trailing bytes).
    #[error("{}: {why}", what(part))]
    Malformed { part: &'static str, why: String },
}

/// Names the failing part in an error message.
fn what(part: &str) -> String {
    match part {
        "message" => "engine message".into(),
        "snapshot" => "engine snapshot".into(),
        _ => format!("engine snapshot, part `{part}`"),
    }
}

/// The parts of a snapshot, in order.
const PARTS: [&str; 8] = [
    "tubes",
    "people",
    "pools",
    "households",
    "batches",
    "timers",
    "clock",
    "summary",
];

/// The engine's clock: greatest event time seen, last retention sweep.
#[derive(Serialize, Deserialize)]
struct Clock {
    max_seen: Option<Timestamp>,
    swept_at: i64,
}

impl Engine {
    /// The engine's whole state as bytes, for a checkpoint: every operator's
    /// keys, the pending timers, the watermark's clock and the summary
    /// counters. Take it between calls, after [`Engine::take_outgoing`]: it
    /// fails if messages are in flight.
    pub fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        if self.spills() {
            return Err(SnapshotError::Spilled);
        }
        if !self.queue.is_empty() {
            return Err(SnapshotError::NotIdle {
                what: "the internal message queue",
                pending: self.queue.len(),
            });
        }
        if !self.outgoing.is_empty() {
            return Err(SnapshotError::NotIdle {
                what: "the outgoing messages for other partitions (take them first)",
                pending: self.outgoing.len(),
            });
        }
        let mut w = Writer::new();
        w.part(PARTS[0], &self.tubes)?;
        w.part(PARTS[1], &self.people)?;
        w.part(PARTS[2], &self.pools)?;
        w.part(PARTS[3], &self.households)?;
        w.part(PARTS[4], &self.batches)?;
        w.part(PARTS[5], &self.timers)?;
        let clock = Clock {
            max_seen: self.max_seen,
            swept_at: self.swept_at,
        };
        w.part(PARTS[6], &clock)?;
        w.part(PARTS[7], &self.summary)?;
        Ok(w.buf)
    }

    /// Replaces this engine's state with a [`snapshot`](Engine::snapshot).
    /// Call it on a newly built engine ([`Engine::new`] or
    /// [`Engine::partitioned`]): its config (batch designs, deadlines) and
    /// partition stay. On error the engine is left as it was.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        if self.spills() {
            return Err(SnapshotError::Spilled);
        }
        if !self.queue.is_empty() || !self.outgoing.is_empty() {
            return Err(SnapshotError::NotIdle {
                what: "the engine restored into",
                pending: self.queue.len() + self.outgoing.len(),
            });
        }
        let mut r = Reader::new(bytes)?;
        let mut tubes: crate::ops::tube::TubeOp = r.part(PARTS[0])?;
        let people: crate::ops::person::PersonOp = r.part(PARTS[1])?;
        let mut pools: crate::ops::pool::PoolOp = r.part(PARTS[2])?;
        let households: crate::ops::household::HouseholdOp = r.part(PARTS[3])?;
        let mut batches: crate::ops::batch::BatchOp = r.part(PARTS[4])?;
        let timers: crate::timers::Timers = r.part(PARTS[5])?;
        let clock: Clock = r.part(PARTS[6])?;
        let summary: crate::Summary = r.part(PARTS[7])?;
        r.finish()?;
        tubes.adopt_config(&mut self.tubes);
        pools.adopt_config(&self.pools);
        batches.adopt_config(&mut self.batches);
        self.tubes = tubes;
        self.people = people;
        self.pools = pools;
        self.households = households;
        self.batches = batches;
        self.timers = timers;
        self.max_seen = clock.max_seen;
        self.swept_at = clock.swept_at;
        self.summary = summary;
        Ok(())
    }
}

/// Encodes a message for the repartition topic: [`MSG_FORMAT`], a kind
/// byte, then the message: in a compact binary layout for the two that
/// make up nearly all the traffic (a tube observed by a member, a
/// member's address; see `msg_wire.rs`), else in MessagePack with named
/// fields.
pub fn encode_msg(msg: &Msg) -> Result<Vec<u8>, SnapshotError> {
    let mut buf = vec![MSG_FORMAT];
    let compact = msg_wire::encode(msg, &mut buf).map_err(|e| SnapshotError::Encode {
        part: "message",
        source: Box::new(e),
    })?;
    if !compact {
        buf.push(msg_wire::NAMED);
        rmp_serde::encode::write_named(&mut buf, msg).map_err(|e| SnapshotError::Encode {
            part: "message",
            source: Box::new(e),
        })?;
    }
    Ok(buf)
}

/// Decodes a message written by [`encode_msg`].
pub fn decode_msg(bytes: &[u8]) -> Result<Msg, SnapshotError> {
    let Some((&format, body)) = bytes.split_first() else {
        return Err(SnapshotError::Malformed {
            part: "message",
            why: "empty".into(),
        });
    };
    let named = match (format, body.split_first()) {
        // Format 3 (earlier builds): MessagePack only, no kind byte.
        (MSG_FORMAT_NAMED_ONLY, _) => body,
        (MSG_FORMAT, Some((&msg_wire::NAMED, rest))) => rest,
        (MSG_FORMAT, Some((&kind, rest))) => {
            return msg_wire::decode(kind, rest).map_err(|e| SnapshotError::Decode {
                part: "message",
                source: Box::new(e),
            })
        }
        (MSG_FORMAT, None) => {
            return Err(SnapshotError::Malformed {
                part: "message",
                why: "no kind byte".into(),
            })
        }
        _ => {
            return Err(SnapshotError::MsgFormat {
                found: format,
                supported: MSG_FORMAT,
            })
        }
    };
    rmp_serde::from_slice(named).map_err(|e| SnapshotError::Decode {
        part: "message",
        source: Box::new(e),
    })
}

struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn new() -> Self {
        let mut buf = MAGIC.to_vec();
        buf.extend_from_slice(SNAPSHOT_VERSION.to_string().as_bytes());
        buf.push(b'\n');
        Writer { buf }
    }

    fn part<T: Serialize>(&mut self, name: &'static str, value: &T) -> Result<(), SnapshotError> {
        self.buf.push(name.len() as u8);
        self.buf.extend_from_slice(name.as_bytes());
        let len_at = self.buf.len();
        self.buf.extend_from_slice(&[0; 8]);
        rmp_serde::encode::write_named(&mut self.buf, value).map_err(|e| {
            SnapshotError::Encode {
                part: name,
                source: Box::new(e),
            }
        })?;
        let len = (self.buf.len() - len_at - 8) as u64;
        self.buf[len_at..len_at + 8].copy_from_slice(&len.to_le_bytes());
        Ok(())
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Checks the version line.
    fn new(bytes: &'a [u8]) -> Result<Self, SnapshotError> {
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or(SnapshotError::NotASnapshot)?;
        let end = rest
            .iter()
            .take(32)
            .position(|&b| b == b'\n')
            .ok_or(SnapshotError::NotASnapshot)?;
        let version = String::from_utf8_lossy(&rest[..end]);
        if version.parse::<u32>() != Ok(SNAPSHOT_VERSION) {
            return Err(SnapshotError::Version {
                found: version.into_owned(),
                supported: SNAPSHOT_VERSION,
            });
        }
        Ok(Reader {
            rest: &rest[end + 1..],
        })
    }

    fn take(&mut self, n: usize, part: &'static str) -> Result<&'a [u8], SnapshotError> {
        if self.rest.len() < n {
            return Err(SnapshotError::Malformed {
                part,
                why: "the snapshot is truncated".into(),
            });
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn part<T: DeserializeOwned>(&mut self, name: &'static str) -> Result<T, SnapshotError> {
        let name_len = self.take(1, name)?[0] as usize;
        let found = self.take(name_len, name)?;
        if found != name.as_bytes() {
            return Err(SnapshotError::Malformed {
                part: name,
                why: format!(
                    "expected this part, found `{}`",
                    String::from_utf8_lossy(found)
                ),
            });
        }
        let len = self.take(8, name)?;
        let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
        let len = usize::try_from(len).map_err(|_| SnapshotError::Malformed {
            part: name,
            why: format!("length {len} does not fit in memory"),
        })?;
        let payload = self.take(len, name)?;
        rmp_serde::from_slice(payload).map_err(|e| SnapshotError::Decode {
            part: name,
            source: Box::new(e),
        })
    }

    fn finish(self) -> Result<(), SnapshotError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(SnapshotError::Malformed {
                part: "snapshot",
                why: format!("{} unexpected bytes after the last part", self.rest.len()),
            })
        }
    }
}
