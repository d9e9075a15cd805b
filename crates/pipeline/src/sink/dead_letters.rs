//! Rejected input records, each with its origin, a specific reason and its raw text.

use pooltrace_engine::Rejection;
use pooltrace_model::RecordError;
use serde::Serialize;

/// Where a record came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// A line of an NDJSON file (`path` is `-` for stdin).
    File {
        stream: &'static str,
        path: String,
        line: u64,
    },
    /// A Kafka message.
    Kafka {
        topic: String,
        partition: i32,
        offset: i64,
    },
}

/// A record that could not be used, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeadLetter {
    pub origin: Origin,
    /// Stable code for grouping (`json`, `invalid_field`, `too_long`, ...).
    pub code: &'static str,
    /// A sentence naming the field, the value and why.
    pub reason: String,
    /// The record as text (lossy where not UTF-8; cut where over the limit).
    pub raw: String,
    /// The record's length in bytes.
    pub raw_bytes: usize,
    /// True when `raw` holds only the first bytes of the record.
    pub raw_truncated: bool,
    /// True when `raw` had bytes that are not UTF-8 (shown as U+FFFD).
    pub raw_lossy: bool,
}

impl DeadLetter {
    /// A record that failed decoding or validation.
    pub fn from_record_error(
        origin: Origin,
        error: &RecordError,
        raw: Vec<u8>,
        raw_bytes: usize,
    ) -> Self {
        Self::new(origin, error.code(), error.to_string(), raw, raw_bytes)
    }

    /// A valid record the engine could not apply.
    pub fn from_rejection(origin: Origin, rejection: &Rejection, raw: Vec<u8>) -> Self {
        let n = raw.len();
        Self::new(origin, rejection.code(), rejection.to_string(), raw, n)
    }

    fn new(
        origin: Origin,
        code: &'static str,
        reason: String,
        raw: Vec<u8>,
        raw_bytes: usize,
    ) -> Self {
        let raw_truncated = raw.len() < raw_bytes;
        let (raw, raw_lossy) = match String::from_utf8(raw) {
            Ok(s) => (s, false),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
        };
        DeadLetter {
            origin,
            code,
            reason,
            raw,
            raw_bytes,
            raw_truncated,
            raw_lossy,
        }
    }
}
