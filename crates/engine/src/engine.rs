//! The engine: routes records to the tube operator, messages between
//! operators, and fires timers as the watermark advances.

use std::collections::VecDeque;

use pooltrace_model::{EventTime, Record, Timestamp, HOUR_MS};

use crate::config::minutes;
use crate::msg::Msg;
use crate::ops::batch::BatchOp;
use crate::ops::household::HouseholdOp;
use crate::ops::person::PersonOp;
use crate::ops::pool::{MemberRetest, PoolOp};
use crate::ops::tube::TubeOp;
use crate::ops::Outbox;
use crate::partition::{route_partition, tube_partition, Partition};
use crate::timers::{TimerKind, Timers};
use crate::{Disposition, Effect, EngineConfig, Summary};

/// How much is coming, for [`Engine::reserve`]: counts of distinct keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    /// Tubes (manifests).
    pub tubes: usize,
    /// Households (distinct addresses down to the room).
    pub households: usize,
}

/// The whole deconvolution engine in one process (all keys local).
///
/// ```
/// use pooltrace_engine::{Engine, EngineConfig, Effect};
/// use pooltrace_model::{decode_record, RecordKind};
///
/// let mut engine = Engine::new(EngineConfig::default());
/// let mut effects = Vec::new();
/// let line = br#"{"tube_id":"T1","lab_id":"LAB-A","reported_at":"2022-05-10T09:00:00+08:00","ct":{"IC":27.0}}"#;
/// let record = decode_record(RecordKind::Result, line, 1 << 20).unwrap();
/// engine.handle(record, &mut effects);
/// assert!(effects.is_empty()); // no manifest yet: nothing to decide
/// ```
#[derive(Debug)]
pub struct Engine {
    pub(crate) cfg: EngineConfig,
    pub(crate) tubes: TubeOp,
    pub(crate) people: PersonOp,
    pub(crate) pools: PoolOp,
    pub(crate) households: HouseholdOp,
    pub(crate) batches: BatchOp,
    pub(crate) timers: Timers,
    pub(crate) queue: VecDeque<Msg>,
    pub(crate) max_seen: Option<Timestamp>,
    /// Watermark of the last retention sweep.
    pub(crate) swept_at: i64,
    pub(crate) summary: Summary,
    pub(crate) rejected: Option<Record>,
    /// In a partitioned engine: which partition of how many this is. Keys
    /// of other partitions are not handled here: their messages go to
    /// `outgoing`. Not part of a snapshot (the caller sets it).
    pub(crate) part: Option<Partition>,
    /// Messages for operators on other partitions, with their partition.
    pub(crate) outgoing: Vec<(u32, Msg)>,
    /// When true, records do not move the watermark: only
    /// [`Engine::observe_time`] does (the runtime computes it over its sources).
    pub(crate) external_time: bool,
    /// Watermark of the last look at whether to spill ([`crate::spill`]).
    pub(crate) spill_checked_at: i64,
    /// Bytes of tubes, households and people in memory past which cold ones
    /// are spilled (0: never); from the config at [`Engine::attach_spill`].
    pub(crate) spill_budget: usize,
}

/// How often (event time) the engine looks at whether to spill.
const SPILL_CHECK_MS: i64 = 5 * 60_000;

/// What a tube and its share of the households cost in memory at least,
/// for [`Engine::reserve`] with a store (its packed manifest, about 60
/// bytes a member, is most of it).
const TUBE_AND_MANIFEST_BYTES: usize = 700;

/// What spilling has done so far ([`Engine::spill_stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpillStats {
    /// Tubes out of memory now.
    pub tubes: usize,
    /// Households out of memory now.
    pub households: usize,
    /// People out of memory now.
    pub people: usize,
    /// Estimated memory of the tubes, households and people in memory (bytes).
    pub hot_bytes: usize,
}

impl Engine {
    /// A new engine with no state.
    pub fn new(cfg: EngineConfig) -> Self {
        Engine {
            pools: PoolOp::new(minutes(cfg.deadlines.discordant_pool_after_min)),
            tubes: TubeOp::new(&cfg.batch.designs),
            batches: BatchOp::new(&cfg.batch.designs),
            cfg,
            people: PersonOp::default(),
            households: HouseholdOp::default(),
            timers: Timers::default(),
            queue: VecDeque::new(),
            max_seen: None,
            swept_at: i64::MIN,
            summary: Summary::default(),
            rejected: None,
            part: None,
            outgoing: Vec::new(),
            external_time: false,
            spill_checked_at: i64::MIN,
            spill_budget: 0,
        }
    }

    /// Gives the engine stores for cold state: from now on, when its
    /// tubes, households and people in memory pass `state_memory_mb`
    /// (estimated), those untouched for `spill_after_min` are spilled (see
    /// [`crate::spill`]). Outputs are the same as without; memory is not.
    /// Such an engine cannot [`Engine::snapshot`]. A store that fails ends
    /// the run: check [`Engine::take_spill_error`] after each call.
    pub fn attach_spill(&mut self, stores: crate::spill::SpillStores) {
        self.tubes.attach_store(stores.tubes);
        self.households.attach_store(stores.households);
        self.people.attach_store(stores.people);
        self.spill_budget = (self.cfg.state_memory_mb as usize).saturating_mul(1 << 20);
    }

    /// Sets the spill budget in bytes, finer than the config's MiB (tests
    /// spill everything with 1; 0 never spills).
    pub fn set_spill_budget(&mut self, bytes: usize) {
        self.spill_budget = bytes;
    }

    /// True when the engine has spill stores.
    pub fn spills(&self) -> bool {
        self.tubes.spills()
    }

    /// The first error of a spill store, if one failed since the last call.
    /// The engine's outputs can no longer be trusted after one: the caller
    /// must stop (a spilled tube or household that cannot be read back
    /// would be taken for one never seen).
    pub fn take_spill_error(&mut self) -> Option<crate::spill::SpillError> {
        self.tubes
            .take_spill_error()
            .or_else(|| self.households.take_spill_error())
            .or_else(|| self.people.take_spill_error())
    }

    /// What is spilled, and what is in memory.
    pub fn spill_stats(&self) -> SpillStats {
        SpillStats {
            tubes: self.tubes.spilled(),
            households: self.households.spilled(),
            people: self.people.spilled(),
            hot_bytes: self.hot_bytes(),
        }
    }

    /// Estimated memory of the tubes, households and people in memory (bytes).
    fn hot_bytes(&self) -> usize {
        self.tubes.hot_bytes() + self.households.hot_bytes() + self.people.hot_bytes()
    }

    /// One partition of an engine split over `part.count` partitions (Kafka
    /// mode). It handles only the records of its own tubes and the messages
    /// for its own keys ([`crate::partition`]); messages for other
    /// partitions' keys are collected for [`Engine::take_outgoing`]. Its
    /// watermark moves only by [`Engine::observe_time`]: the runtime sets it
    /// from the progress of all its sources, not from single records.
    pub fn partitioned(cfg: EngineConfig, part: Partition) -> Self {
        let mut engine = Engine::new(cfg);
        engine.part = Some(part);
        engine.external_time = true;
        engine
    }

    /// Makes room for this many tubes and households at once (a hint: the
    /// results are the same with or without it). A caller that knows the
    /// size of what is coming (the demo knows its city) saves the tables'
    /// regrowth: each doubling moves every entry and, while it runs, holds
    /// the old table and the new one (gigabytes at the scale of a city).
    ///
    /// An engine that spills keeps only what its memory budget holds: it
    /// reserves no more than that.
    pub fn reserve(&mut self, expected: Expected) {
        let (mut tubes, mut households) = (expected.tubes, expected.households);
        if self.spills() && self.spill_budget > 0 {
            let budget = self.spill_budget;
            tubes = tubes.min(budget / TUBE_AND_MANIFEST_BYTES);
            // A tube's members live in a few households: room for four a tube.
            households = households.min(budget / TUBE_AND_MANIFEST_BYTES * 4);
        }
        self.tubes.reserve(tubes);
        self.households.reserve(households);
    }

    /// The partition this engine is, when partitioned.
    pub fn partition(&self) -> Option<Partition> {
        self.part
    }

    /// Processes a message from an operator on another partition (Kafka
    /// mode), with everything it causes locally.
    pub fn deliver(&mut self, msg: Msg, out: &mut Vec<Effect>) {
        let start = out.len();
        self.queue.push_back(msg);
        self.drain(out);
        self.fire_due(out);
        self.count(&out[start..]);
    }

    /// Messages produced since the last call for operators on other
    /// partitions, each with its partition.
    pub fn take_outgoing(&mut self) -> Vec<(u32, Msg)> {
        std::mem::take(&mut self.outgoing)
    }

    /// The configuration in force.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// The watermark: greatest event time seen minus the allowed lateness.
    pub fn watermark(&self) -> Option<EventTime> {
        self.max_seen
            .map(|t| t.millis() - minutes(self.cfg.allowed_lateness_min))
    }

    /// Reads, ahead of time, the state these records will touch first (their
    /// tubes, their tubes' manifests and timers), so that handling them
    /// finds it in the cache. Changes nothing: a hint for callers that
    /// hold the next records (a batch from a file or a poll), worth it on
    /// state bigger than the cache. Looked up together, the reads of
    /// memory overlap; one record at a time, each waits in turn.
    pub fn warm<'a>(&self, records: impl Iterator<Item = &'a Record> + Clone) {
        self.tubes.warm(records.clone().map(Record::tube_id));
        self.timers.warm(records.map(Record::tube_id));
    }

    /// Processes one record, then advances the watermark past it and fires
    /// the timers it passes. Effects are appended to `out` in a deterministic
    /// order. A record behind the watermark is processed all the same.
    pub fn handle(&mut self, record: Record, out: &mut Vec<Effect>) -> Disposition {
        let at = record.event_time();
        let start = out.len();
        debug_assert!(self
            .part
            .is_none_or(|p| tube_partition(record.tube_id(), p.count) == p.index));
        self.fire_own_timers(record.tube_id(), at, out);
        let mut ob = Outbox {
            effects: out,
            msgs: &mut self.queue,
            timers: &mut self.timers,
        };
        let disposition = match record {
            Record::Manifest(m) => {
                let d = self.tubes.on_manifest(m, &self.cfg, &mut ob);
                self.households
                    .warm(self.queue.iter().filter_map(|m| match m {
                        Msg::Resident { household, .. } => Some(*household),
                        _ => None,
                    }));
                d
            }
            Record::Result(r) => self.tubes.on_result(r, &self.cfg, &mut ob),
            Record::Receipt(r) => self.tubes.on_receipt(r, &self.cfg, &mut ob),
        };
        let disposition = match disposition {
            Ok(d) => d,
            Err(rejected) => {
                let (rejection, record) = *rejected;
                self.rejected = Some(record);
                Disposition::Rejected(rejection)
            }
        };
        self.drain(out);
        match &disposition {
            Disposition::Processed => self.summary.records_processed += 1,
            Disposition::Duplicate => self.summary.records_duplicate += 1,
            Disposition::Stale => self.summary.records_stale += 1,
            Disposition::Rejected(_) => self.summary.records_rejected += 1,
        }
        if !self.external_time {
            self.advance(at, out);
        }
        self.count(&out[start..]);
        disposition
    }

    /// Fires the tube's own timers that a record at `at` shows are past
    /// (due at or before `at` minus the allowed lateness), before the record
    /// is processed. This makes a tube's timer outcome depend only on the
    /// tube's own records, not on how densely other tubes' records happen
    /// to advance the watermark: files and Kafka partitions agree.
    fn fire_own_timers(&mut self, tube_id: &str, at: Timestamp, out: &mut Vec<Effect>) {
        let passed = at.millis() - minutes(self.cfg.allowed_lateness_min);
        for (_, kind, tube) in self.timers.due_for_tube(tube_id, passed) {
            let mut ob = Outbox {
                effects: out,
                msgs: &mut self.queue,
                timers: &mut self.timers,
            };
            self.tubes.on_timer(kind, &tube, &self.cfg, &mut ob);
            self.drain(out);
        }
    }

    /// The record of the last [`Disposition::Rejected`], handed back so the
    /// caller can dead-letter it without copying every record up front.
    pub fn take_rejected(&mut self) -> Option<Record> {
        self.rejected.take()
    }

    /// Moves the watermark as if an event at `at` had been seen (for idle
    /// sources in streaming mode) and fires the timers it passes.
    pub fn observe_time(&mut self, at: Timestamp, out: &mut Vec<Effect>) {
        let start = out.len();
        self.advance(at, out);
        self.count(&out[start..]);
    }

    fn advance(&mut self, at: Timestamp, out: &mut Vec<Effect>) {
        if self.max_seen.is_none_or(|m| m.millis() < at.millis()) {
            self.max_seen = Some(at);
        }
        self.fire_due(out);
    }

    /// Fires every timer due at or before the watermark (also those set
    /// behind it, by a late record or message), then sweeps old state.
    fn fire_due(&mut self, out: &mut Vec<Effect>) {
        let Some(wm) = self.watermark() else { return };
        loop {
            let due = self.timers.due(wm);
            if due.is_empty() {
                break;
            }
            for (_, kind, tube) in due {
                let mut ob = Outbox {
                    effects: out,
                    msgs: &mut self.queue,
                    timers: &mut self.timers,
                };
                match kind {
                    TimerKind::DiscordantPool => self.pools.on_timer(&tube, &mut ob),
                    TimerKind::BatchIncomplete => self.batches.on_timer(&tube, &self.cfg, &mut ob),
                    _ => self.tubes.on_timer(kind, &tube, &self.cfg, &mut ob),
                }
                self.drain(out);
            }
        }
        self.sweep(wm);
        self.spill_cold(wm);
    }

    /// Spills the cold tubes, households and people when those in memory
    /// pass the budget, looking at most once per [`SPILL_CHECK_MS`] of
    /// watermark.
    fn spill_cold(&mut self, wm: EventTime) {
        if !self.spills()
            || self.spill_budget == 0
            || wm < self.spill_checked_at.saturating_add(SPILL_CHECK_MS)
        {
            return;
        }
        self.spill_checked_at = wm;
        if self.hot_bytes() <= self.spill_budget {
            return;
        }
        let before = wm - minutes(self.cfg.spill_after_min);
        self.tubes.spill(before);
        self.households.spill(before);
        self.people.spill(before);
    }

    /// Forgets state older than the retention window, at most once per
    /// event-time hour of watermark progress.
    fn sweep(&mut self, wm: EventTime) {
        let retention = self.cfg.retention_hours * HOUR_MS;
        if retention <= 0 || wm < self.swept_at.saturating_add(HOUR_MS) {
            return;
        }
        self.swept_at = wm;
        let before = wm - retention;
        let s = &mut self.summary;
        s.evicted_tubes += self.tubes.evict(before) as u64;
        s.evicted_people += self.people.evict(before) as u64;
        s.evicted_households += self.households.evict(before) as u64;
        self.pools.evict(before);
        self.batches.evict(before);
    }

    /// Delivers queued messages until none are left.
    fn drain(&mut self, out: &mut Vec<Effect>) {
        while let Some(msg) = self.queue.pop_front() {
            if let Some(part) = self.part {
                let to = route_partition(msg.route(), part.count);
                if to != part.index {
                    self.outgoing.push((to, msg));
                    continue;
                }
            }
            let mut ob = Outbox {
                effects: out,
                msgs: &mut self.queue,
                timers: &mut self.timers,
            };
            let cfg = &self.cfg;
            match msg {
                Msg::Observed { contact, obs, at } => {
                    self.people.on_observed(contact, obs, at, cfg, &mut ob)
                }
                Msg::BatchPool { pool, at } => self.batches.on_pool(*pool, at, cfg, &mut ob),
                Msg::Exposure {
                    household,
                    contact,
                    source,
                    at,
                } => self
                    .people
                    .on_exposure(household, contact, source, at, cfg, &mut ob),
                Msg::Resident {
                    household,
                    contact,
                    seen_at,
                } => self
                    .households
                    .on_resident(household, contact, seen_at, &mut ob),
                Msg::Positive {
                    household,
                    person_id,
                    since,
                    at,
                } => self
                    .households
                    .on_positive(household, person_id, since, at, &mut ob),
                Msg::PoolDecided {
                    pool_tube_id,
                    members,
                    flagged,
                    region,
                    at,
                } => self
                    .pools
                    .on_decided(pool_tube_id, members, flagged, region, at, &mut ob),
                Msg::Retest {
                    pool_tube_id,
                    person_id,
                    status,
                    retest_tube_id,
                    reported_at,
                    negative,
                    at,
                } => self.pools.on_retest(
                    pool_tube_id,
                    person_id,
                    MemberRetest {
                        status,
                        tube: retest_tube_id,
                        reported_at,
                        negative,
                    },
                    at,
                    &mut ob,
                ),
            }
        }
    }

    fn count(&mut self, effects: &[Effect]) {
        for e in effects {
            match e {
                Effect::Alert(a) => {
                    self.summary.alert_records += 1;
                    if a.version == 1 {
                        *self
                            .summary
                            .alerts_raised
                            .entry(a.kind.as_str())
                            .or_default() += 1;
                    }
                }
                Effect::TubeResult(_) => self.summary.tubes_decided += 1,
                Effect::PersonOutcome(p) => {
                    *self.summary.outcomes.entry(p.outcome.as_str()).or_default() += 1
                }
            }
        }
    }

    /// Counters so far, with the people's current standing.
    pub fn summary(&self) -> Summary {
        let mut s = self.summary.clone();
        let (positive, pending) = self.people.standing();
        s.people_positive = positive;
        s.people_pending = pending;
        s.timers_pending = self.timers.len() as u64;
        s.state_sizes = (
            self.tubes.len() as u64,
            self.people.len() as u64,
            self.pools.len() as u64,
            self.households.len() as u64,
        );
        s
    }
}
