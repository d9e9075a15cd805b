//! One NDJSON stream of one record kind: lines -> validated records or dead letters.

use std::io::BufRead;

use pooltrace_model::{decode_record, Record, RecordError, RecordKind};

use super::lines::{Line, LineReader};
use crate::sink::{DeadLetter, Origin};

/// A validated record and where it came from.
#[derive(Debug)]
pub struct Parsed {
    pub record: Record,
    pub origin: Origin,
}

/// Reads records of one kind from one stream.
pub struct NdjsonSource<R> {
    kind: RecordKind,
    name: String,
    lines: LineReader<R>,
    max: usize,
    /// Lines read that held a record (good or bad).
    pub lines_read: u64,
    /// Blank lines skipped.
    pub blank_lines: u64,
}

impl<R: BufRead> NdjsonSource<R> {
    /// `name` is how dead letters name the source (a path, or `-` for stdin).
    pub fn new(
        kind: RecordKind,
        name: impl Into<String>,
        reader: R,
        max_record_bytes: usize,
    ) -> Self {
        NdjsonSource {
            kind,
            name: name.into(),
            lines: LineReader::new(reader, max_record_bytes),
            max: max_record_bytes,
            lines_read: 0,
            blank_lines: 0,
        }
    }

    /// The record kind of this stream.
    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    /// The next record or dead letter; `None` at the end of the stream.
    pub fn next_item(&mut self) -> std::io::Result<Option<Result<Parsed, DeadLetter>>> {
        let kind = self.kind;
        let Some(line) = self.lines.next_line(&mut self.blank_lines)? else {
            return Ok(None);
        };
        self.lines_read += 1;
        let (line_no, result) = match line {
            Line::Record { line_no, bytes } => (
                line_no,
                decode_record(kind, bytes, self.max).map_err(|e| (e, bytes.to_vec(), bytes.len())),
            ),
            Line::TooLong {
                line_no,
                len,
                prefix,
            } => (
                line_no,
                Err((
                    RecordError::TooLong {
                        len,
                        limit: self.max,
                    },
                    prefix.to_vec(),
                    len,
                )),
            ),
        };
        let origin = Origin::File {
            stream: kind.as_str(),
            path: self.name.clone(),
            line: line_no,
        };
        Ok(Some(match result {
            Ok(record) => Ok(Parsed { record, origin }),
            Err((error, raw, raw_len)) => {
                Err(DeadLetter::from_record_error(origin, &error, raw, raw_len))
            }
        }))
    }
}
