//! The closed loop as one time-ordered stream: every screening round merged
//! with the retests that the pipeline's alerts trigger.
//!
//! A caller takes records from [`ClosedLoop::next_record`], feeds them to its
//! pipeline, and hands every alert the pipeline raises back to
//! [`ClosedLoop::respond`]; the retest records it triggers ([`City::respond`])
//! wait in a priority queue keyed by (entry time, arrival number) and come
//! out merged with the screening records in entry-time order. Round `r` is
//! opened only when nothing earlier than its start is left, so at most two
//! rounds' keys are held at once.
//!
//! A round's records come from [`City::round`], built as the loop reaches
//! them; [`ClosedLoop::with_rounds`] takes them from elsewhere instead (the
//! demo builds them on a thread of their own, ahead of the pipeline).
//!
//! The loop also keeps the truth of the retests it produced for infected
//! people (when each was collected, what it read), so that a missed person
//! can be explained ([`ClosedLoop::why_missed`]).

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::iter::Peekable;

use pooltrace_model::{Alert, Record, TubeKind};
use serde::Serialize;

use crate::assay;
use crate::city::City;
use crate::round::SimRecord;
use crate::truth::TubeOutcome;

/// Where a record of the loop came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopSource {
    /// First-round records of screening round `r`.
    Screening(u32),
    /// A retest triggered by an alert.
    Retest,
}

/// One record of the loop.
#[derive(Clone, Debug, PartialEq)]
pub struct LoopRecord {
    /// 0, 1, 2, ... in the order records leave the loop.
    pub seq: u64,
    pub source: LoopSource,
    /// When the record enters its stream (epoch milliseconds).
    pub emit_at: i64,
    pub record: Record,
}

/// Counts of what left the loop so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LoopStats {
    /// Screening records (manifests, receipts, results).
    pub screening_records: u64,
    /// Screening tubes (their manifests).
    pub screening_tubes: u64,
    /// Retest records.
    pub retest_records: u64,
    /// Retest tubes (their manifests).
    pub retest_tubes: u64,
    /// Alerts answered with a retest.
    pub alerts_answered: u64,
    /// Retest records still queued.
    pub queued: u64,
}

/// A retest tube that carried an infected person.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RetestTruth {
    pub collected: i64,
    pub single: bool,
    pub outcome: TubeOutcome,
}

/// A queued retest record (boxed: the heap moves only the key and a pointer).
struct Queued {
    emit_at: i64,
    n: u64,
    record: Box<Record>,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        (self.emit_at, self.n) == (o.emit_at, o.n)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.emit_at, self.n).cmp(&(o.emit_at, o.n))
    }
}

/// The records of one screening round, in the order of [`City::round`].
pub type RoundRecords<'a> = Box<dyn Iterator<Item = SimRecord> + 'a>;

/// Opens a round's records: `City::round`, or the same records from elsewhere.
type RoundOpener<'a> = Box<dyn FnMut(u32) -> RoundRecords<'a> + 'a>;

/// Screening rounds merged with the retests alerts trigger. See the module docs.
pub struct ClosedLoop<'a> {
    city: &'a City,
    next_round: u32,
    open: Vec<(u32, Peekable<RoundRecords<'a>>)>,
    opener: RoundOpener<'a>,
    queue: BinaryHeap<Reverse<Queued>>,
    queued_total: u64,
    stats: LoopStats,
    /// Retests of infected people, by index in `Truth::infected`.
    retests: HashMap<u32, Vec<RetestTruth>>,
}

impl<'a> ClosedLoop<'a> {
    /// The loop over every configured round of `city` (`config().rounds`).
    pub fn new(city: &'a City) -> Self {
        Self::with_rounds(city, move |r| Box::new(city.round(r)))
    }

    /// The loop with each round's records from `open(r)`, which must give
    /// exactly the records of `city.round(r)` in their order (the same
    /// records built on another thread, say).
    pub fn with_rounds(city: &'a City, open: impl FnMut(u32) -> RoundRecords<'a> + 'a) -> Self {
        ClosedLoop {
            city,
            next_round: 0,
            open: Vec::new(),
            opener: Box::new(open),
            queue: BinaryHeap::new(),
            queued_total: 0,
            stats: LoopStats::default(),
            retests: HashMap::new(),
        }
    }

    /// The city the loop runs on.
    pub fn city(&self) -> &'a City {
        self.city
    }

    /// What has left the loop so far.
    pub fn stats(&self) -> LoopStats {
        LoopStats {
            queued: self.queue.len() as u64,
            ..self.stats
        }
    }

    /// The round opened last (the one being screened), if any.
    pub fn current_round(&self) -> Option<u32> {
        self.next_round.checked_sub(1)
    }

    /// Queues the retest records `alert` triggers (see [`City::respond`]);
    /// returns how many.
    pub fn respond(&mut self, alert: &Alert) -> usize {
        let recs = self.city.respond(alert);
        if recs.is_empty() {
            return 0;
        }
        self.stats.alerts_answered += 1;
        self.note_retest(&recs);
        let n = recs.len();
        for r in recs {
            self.queue.push(Reverse(Queued {
                emit_at: r.emit_at,
                n: self.queued_total,
                record: Box::new(r.record),
            }));
            self.queued_total += 1;
        }
        n
    }

    /// The next record in entry-time order (ties: screening first), or `None`
    /// when every round and every queued retest has been handed out.
    pub fn next_record(&mut self) -> Option<LoopRecord> {
        loop {
            self.open.retain_mut(|(_, s)| s.peek().is_some());
            let screening = self
                .open
                .iter_mut()
                .enumerate()
                .filter_map(|(i, (_, s))| s.peek().map(|r| (r.emit_at, i)))
                .min();
            let retest = self.queue.peek().map(|Reverse(q)| q.emit_at);
            let earliest = match (screening, retest) {
                (Some((s, _)), Some(r)) => Some(s.min(r)),
                (s, r) => s.map(|s| s.0).or(r),
            };
            if self.next_round < self.city.cfg.rounds {
                let start = self.city.round_start(self.next_round);
                if earliest.is_none_or(|t| t >= start) {
                    let r = self.next_round;
                    self.open.push((r, (self.opener)(r).peekable()));
                    self.next_round += 1;
                    continue;
                }
            }
            let take_retest = match (screening, retest) {
                (Some((s, _)), Some(r)) => r < s,
                (None, Some(_)) => true,
                _ => false,
            };
            let (source, rec) = if take_retest {
                let Reverse(q) = self.queue.pop()?;
                self.stats.retest_records += 1;
                if matches!(*q.record, Record::Manifest(_)) {
                    self.stats.retest_tubes += 1;
                }
                let rec = SimRecord {
                    emit_at: q.emit_at,
                    record: *q.record,
                };
                (LoopSource::Retest, rec)
            } else {
                let (_, i) = screening?;
                let (round, s) = &mut self.open[i];
                let round = *round;
                let rec = s.next()?;
                self.stats.screening_records += 1;
                if matches!(rec.record, Record::Manifest(_)) {
                    self.stats.screening_tubes += 1;
                }
                (LoopSource::Screening(round), rec)
            };
            let seq = self.stats.screening_records + self.stats.retest_records - 1;
            return Some(LoopRecord {
                seq,
                source,
                emit_at: rec.emit_at,
                record: rec.record,
            });
        }
    }

    /// Records, for every infected member of a retest, what the retest read.
    fn note_retest(&mut self, recs: &[SimRecord]) {
        let (Some(Record::Manifest(m)), Some(Record::Result(r))) = (
            recs.first().map(|r| &r.record),
            recs.last().map(|r| &r.record),
        ) else {
            return;
        };
        let city = self.city;
        let outcome = TubeOutcome::from(assay::interpret(&r.ct, city.cfg.assay.cutoff));
        for member in &m.members {
            // `Infections::people` is in the order of `Truth::infected`.
            let infected = city
                .person_index(&member.person_id)
                .and_then(|p| city.inf.position(p as u32));
            if let Some(i) = infected {
                self.retests.entry(i as u32).or_default().push(RetestTruth {
                    collected: m.collected_at.millis(),
                    single: m.kind == TubeKind::Single,
                    outcome,
                });
            }
        }
    }

    /// The retests of infected person `i` (index in `Truth::infected`).
    pub(crate) fn retests_of(&self, i: usize) -> &[RetestTruth] {
        self.retests.get(&(i as u32)).map_or(&[], |v| &v[..])
    }
}

impl Iterator for ClosedLoop<'_> {
    type Item = LoopRecord;

    fn next(&mut self) -> Option<LoopRecord> {
        self.next_record()
    }
}
