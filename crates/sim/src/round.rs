//! One screening round as a time-ordered stream of records.
//!
//! Building the stream computes only each tube's timing and keeps one packed
//! 8-byte key per record (entry time, tube, stream), sorted; the records
//! themselves (manifests with all their members, receipts, results) are built
//! one at a time as the iterator advances. A 25.7M-person round (about 2.4M
//! tubes, 7.2M records) holds about 58 MB of keys.

use pooltrace_model::{LabResult, Receipt, Record, ResultStatus};

use crate::city::{tube_id, City};
use crate::labs::{self, lab_id};

/// One record and the event time (epoch milliseconds) at which it enters its
/// stream. For a manifest that is `collected_at`, except for early-result
/// tubes, whose manifest enters after their result's `reported_at`; for a
/// receipt `received_at`; for a result `reported_at`.
#[derive(Clone, Debug, PartialEq)]
pub struct SimRecord {
    pub emit_at: i64,
    pub record: Record,
}

const MANIFEST: u64 = 0;
const RECEIPT: u64 = 1;
const RESULT: u64 = 2;
const TUBE_BITS: u32 = 30;

/// The records of one screening round in entry-time order (ties: by tube,
/// then manifest, receipt, result). Deterministic for (seed, config, round).
#[derive(Clone, Debug)]
pub struct Screening<'a> {
    city: &'a City,
    round: u32,
    base: i64,
    keys: Vec<u64>,
    next: usize,
    scratch: Vec<f32>,
}

impl City {
    /// The records of round `r` (0-based, one round a day from `config().start`),
    /// sorted by the time each enters its stream. Rounds past `config().rounds`
    /// are empty (the ground truth covers only the configured rounds).
    pub fn round(&self, r: u32) -> Screening<'_> {
        let base = self.round_start(r);
        let mut keys = Vec::new();
        if r < self.cfg.rounds {
            keys.reserve(self.tubes_per_round() * 3);
            for c in 0..self.communities() as u32 {
                for t in self.layout.community_tubes(c) {
                    let (_, timing) = self.tube_timing_in(r, t, c);
                    let key = |at: i64, stream: u64| {
                        let offset =
                            u64::try_from(at - base).expect("events follow the round start");
                        (offset << 32) | (u64::from(t) << 2) | stream
                    };
                    keys.push(key(timing.manifest_emit, MANIFEST));
                    keys.push(key(timing.received, RECEIPT));
                    if !timing.lost {
                        keys.push(key(timing.reported, RESULT));
                    }
                }
            }
            keys.sort_unstable();
        }
        Screening {
            city: self,
            round: r,
            base,
            keys,
            next: 0,
            scratch: Vec::new(),
        }
    }
}

impl Screening<'_> {
    /// The round these records belong to.
    pub fn round(&self) -> u32 {
        self.round
    }

    fn record(&mut self, key: u64) -> SimRecord {
        let city = self.city;
        let emit_at = self.base + (key >> 32) as i64;
        let t = ((key >> 2) & ((1 << TUBE_BITS) - 1)) as u32;
        let c = city.layout.community_of_tube(t);
        let (lab, timing) = city.tube_timing_in(self.round, t, c);
        let record = match key & 3 {
            MANIFEST => Record::Manifest(city.manifest(self.round, t, c, &timing)),
            RECEIPT => Record::Receipt(Receipt {
                tube_id: tube_id(self.round, t as usize),
                lab_id: lab_id(lab),
                received_at: city.ts(timing.received),
            }),
            _ => {
                let assay = city.tube_assay(self.round, t, &mut self.scratch);
                Record::Result(LabResult {
                    tube_id: tube_id(self.round, t as usize),
                    lab_id: lab_id(lab),
                    reported_at: city.ts(timing.reported),
                    received_at: Some(city.ts(timing.received)),
                    kit: Some(labs::kit_of(&city.cfg, lab).to_string()),
                    ct: assay.ct,
                    call: None,
                    status: ResultStatus::Final,
                })
            }
        };
        SimRecord { emit_at, record }
    }
}

impl Iterator for Screening<'_> {
    type Item = SimRecord;

    fn next(&mut self) -> Option<SimRecord> {
        let key = *self.keys.get(self.next)?;
        self.next += 1;
        Some(self.record(key))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.keys.len() - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Screening<'_> {}

// Key layout: 32 bits of offset, 30 of tube index (people <= 1e9 < 2^30), 2 of stream.
const _: () = assert!(TUBE_BITS + 2 + 32 == 64 && 1_000_000_000 < 1 << TUBE_BITS);
