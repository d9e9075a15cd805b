//! NDJSON writers: one JSON object per line, in the wire format of
//! `pooltrace-model` (manifests, results and receipts each to their own writer).

use std::borrow::Borrow;
use std::io::Write;

use pooltrace_model::Record;

use crate::round::SimRecord;
use crate::SimError;

/// Lines written to each stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamCounts {
    pub manifests: u64,
    pub results: u64,
    pub receipts: u64,
}

impl StreamCounts {
    /// Lines written in all.
    pub fn total(&self) -> u64 {
        self.manifests + self.results + self.receipts
    }
}

/// Writes one record as one JSON line.
pub fn write_record<W: Write>(record: &Record, w: &mut W) -> Result<(), SimError> {
    match record {
        Record::Manifest(m) => serde_json::to_writer(&mut *w, m)?,
        Record::Result(r) => serde_json::to_writer(&mut *w, r)?,
        Record::Receipt(r) => serde_json::to_writer(&mut *w, r)?,
    }
    w.write_all(b"\n")?;
    Ok(())
}

/// Writes each record to the writer of its stream, in the order given.
/// Pass buffered writers (`BufWriter`); nothing is flushed here.
pub fn write_ndjson<I, M, R, C>(
    records: I,
    manifests: &mut M,
    results: &mut R,
    receipts: &mut C,
) -> Result<StreamCounts, SimError>
where
    I: IntoIterator,
    I::Item: Borrow<SimRecord>,
    M: Write,
    R: Write,
    C: Write,
{
    let mut n = StreamCounts::default();
    for rec in records {
        let rec = &rec.borrow().record;
        match rec {
            Record::Manifest(_) => {
                write_record(rec, manifests)?;
                n.manifests += 1;
            }
            Record::Result(_) => {
                write_record(rec, results)?;
                n.results += 1;
            }
            Record::Receipt(_) => {
                write_record(rec, receipts)?;
                n.receipts += 1;
            }
        }
    }
    Ok(n)
}
