//! Merges several sources into event-time order, as if they had streamed.
//!
//! A k-way merge on each source's next record: the smallest event time goes
//! first (ties: manifests, then receipts, then results, then source order).
//! Each source is assumed roughly in order; a record out of order within its
//! file is simply processed late (the engine handles records behind the
//! watermark). Dead letters are passed on as soon as they are read.

use std::io::BufRead;

use pooltrace_model::RecordKind;

use super::ndjson::{NdjsonSource, Parsed};
use crate::sink::DeadLetter;

/// What the merge yields next.
#[derive(Debug)]
pub enum Item {
    Record(Parsed),
    Dead(DeadLetter),
}

/// The merge over any number of sources.
pub struct EventTimeMerge<R> {
    sources: Vec<NdjsonSource<R>>,
    heads: Vec<Option<Parsed>>,
    done: Vec<bool>,
}

/// Order of records with the same event time: manifests, then receipts,
/// then results (so a tube is known before its result). Kafka mode orders
/// by the same rule.
pub fn tie_rank(k: RecordKind) -> u8 {
    match k {
        RecordKind::Manifest => 0,
        RecordKind::Receipt => 1,
        RecordKind::Result => 2,
    }
}

impl<R: BufRead> EventTimeMerge<R> {
    /// Merges `sources`.
    pub fn new(sources: Vec<NdjsonSource<R>>) -> Self {
        let n = sources.len();
        EventTimeMerge {
            sources,
            heads: (0..n).map(|_| None).collect(),
            done: vec![false; n],
        }
    }

    /// The sources (for their counters).
    pub fn sources(&self) -> &[NdjsonSource<R>] {
        &self.sources
    }

    /// The next item in event-time order; `None` when every source is done.
    pub fn next_item(&mut self) -> std::io::Result<Option<Item>> {
        for i in 0..self.sources.len() {
            if self.heads[i].is_none() && !self.done[i] {
                match self.sources[i].next_item()? {
                    None => self.done[i] = true,
                    Some(Ok(p)) => self.heads[i] = Some(p),
                    Some(Err(dead)) => return Ok(Some(Item::Dead(dead))),
                }
            }
        }
        let best = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.as_ref().map(|p| (i, p)))
            .min_by_key(|(i, p)| {
                (
                    p.record.event_time().millis(),
                    tie_rank(p.record.kind()),
                    *i,
                )
            })
            .map(|(i, _)| i);
        Ok(best.and_then(|i| self.heads[i].take()).map(Item::Record))
    }
}
