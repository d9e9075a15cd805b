//! Snapshots and message encoding: an engine restored from a snapshot taken
//! at any point of a stream goes on exactly as the engine that never stopped;
//! every internal message survives its wire encoding; snapshots of another
//! format version are refused.

mod common;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use common::{inconclusive, invalid, neg, pos, rec, rid};
use pooltrace_engine::msg::{
    BatchDecision, BatchPool, Contact, ExposureSource, Msg, Observation, RetestStatus,
};
use pooltrace_engine::{
    decode_msg, encode_msg, Effect, Engine, EngineConfig, Partition, SnapshotError, Summary,
    MSG_FORMAT, SNAPSHOT_VERSION,
};
use pooltrace_model::{
    AlertKind, Ct, DecodedEvidence, Interpretation, Manifest, Record, RecordKind, Region,
    Timestamp, TubeKind,
};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------
// A realistic stream: several days of pooled screening with household tubes,
// single tubes, retests of flagged pools, resamples of invalid tubes,
// parallel retests, lost tubes, orphan and late manifests, corrections,
// duplicates, non-adaptive batches (one left incomplete) and two labs, one
// reporting in UTC.
// ---------------------------------------------------------------------------

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo) as u64) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Minutes since 2022-05-10T00:00+08:00, written in +08:00 or in UTC.
fn ts(min: i64, utc: bool) -> String {
    let min = if utc { min - 8 * 60 } else { min };
    let (day, m) = (min.div_euclid(1440), min.rem_euclid(1440));
    let tz = if utc { "Z" } else { "+08:00" };
    format!("2022-05-{:02}T{:02}:{:02}:00{tz}", 10 + day, m / 60, m % 60)
}

const REGIONS: [(&str, &str, &str); 2] = [
    ("Chaoyang", "Nanhu", "Yuanyi"),
    ("Haidian", "Zhongguancun", "Huangzhuang"),
];

#[derive(Clone, Copy, PartialEq)]
enum Res {
    Pos,
    Neg,
    Inconclusive,
    Invalid,
}

fn ct_of(r: Res) -> Value {
    match r {
        Res::Pos => pos(),
        Res::Neg => neg(),
        Res::Inconclusive => inconclusive(),
        Res::Invalid => invalid(),
    }
}

struct Person {
    n: u32,
    household: usize,
    infected_from_day: Option<i64>,
}

struct Gen {
    rng: Rng,
    people: Vec<Person>,
    /// (site 0/1, room): members live in the same room.
    households: Vec<(usize, String, Vec<usize>)>,
    /// (event minute, sequence, record)
    events: Vec<(i64, u64, Record)>,
    seq: u64,
    tubes: u32,
    /// The batches' design.
    design: String,
}

impl Gen {
    fn new(seed: u64, households: usize, design: &str) -> Self {
        let mut rng = Rng(seed | 1);
        let mut people = Vec::new();
        let mut hh = Vec::new();
        for h in 0..households {
            let site = h % 2;
            let size = 1 + rng.below(4) as usize;
            let room = format!("{}{:02}", 1 + h / 40, h % 40);
            let mut members = Vec::new();
            for _ in 0..size {
                let infected_from_day = rng.chance(6).then(|| rng.range(0, 4));
                members.push(people.len());
                people.push(Person {
                    n: people.len() as u32 + 1,
                    household: h,
                    infected_from_day,
                });
            }
            hh.push((site, room, members));
        }
        Gen {
            rng,
            people,
            households: hh,
            events: Vec::new(),
            seq: 0,
            tubes: 0,
            design: design.to_string(),
        }
    }

    fn push(&mut self, at: i64, r: Record) {
        self.seq += 1;
        self.events.push((at, self.seq, r));
    }

    // `%` rather than `is_multiple_of`: the workspace's MSRV is 1.85.
    #[allow(clippy::manual_is_multiple_of)]
    fn member(&mut self, p: usize) -> Value {
        let person = &self.people[p];
        let (_, room, _) = &self.households[person.household];
        let n = person.n;
        if n % 37 == 0 {
            // A foreigner: passport, no address (so no household).
            return json!({"person_id": format!("E{:08}", n), "id_type": "passport", "name": format!("Visitor {n}")});
        }
        let mut v = json!({"person_id": rid(n),
            "address": {"compound": "Garden", "building": format!("{}", 1 + person.household % 5), "unit": "2", "room": room}});
        if n % 5 != 0 {
            v["name"] = json!(format!("Person {n}"));
            v["phone"] = json!(format!("159{:08}", n));
        }
        v
    }

    fn infected(&self, p: usize, day: i64) -> bool {
        self.people[p].infected_from_day.is_some_and(|d| d <= day)
    }

    fn draw(&mut self, any_infected: bool) -> Res {
        if self.rng.chance(2) {
            return Res::Invalid;
        }
        if any_infected {
            if self.rng.chance(85) {
                Res::Pos
            } else {
                Res::Inconclusive
            }
        } else {
            match self.rng.below(100) {
                0..=1 => Res::Pos, // a false positive pool: discordant
                2..=3 => Res::Inconclusive,
                _ => Res::Neg,
            }
        }
    }

    /// One tube's records; returns (reported minute, result) when a result
    /// is reported.
    #[allow(clippy::too_many_arguments)]
    fn tube(
        &mut self,
        id: &str,
        kind: &str,
        site: usize,
        members: &[usize],
        collected: i64,
        day: i64,
        retest_of: Option<&str>,
        kit: &str,
    ) -> Option<(i64, Res)> {
        let (district, street, community) = REGIONS[site];
        let member_json: Vec<Value> = members.iter().map(|&p| self.member(p)).collect();
        let mut m = json!({"tube_id": id, "kind": kind, "collected_at": ts(collected, false),
            "site_id": format!("SITE-{site}"),
            "region": {"district": district, "street": street, "community": community},
            "members": member_json});
        if let Some(of) = retest_of {
            m["retest_of"] = json!(of);
        }
        let manifest = rec(RecordKind::Manifest, m);
        let utc = self.rng.chance(40);
        let lab = if utc { "LAB-B" } else { "LAB-A" };
        let received = collected + self.rng.range(30, 120);
        let reported = received + self.rng.range(60, 300);
        // The manifest: on time, late (after its result: an orphan for a
        // while), or never.
        match self.rng.below(100) {
            0..=1 => {}
            2..=4 => {
                let late = reported + self.rng.range(40, 600);
                self.push(late, manifest)
            }
            _ => self.push(collected, manifest.clone()),
        }
        if self.rng.chance(80) {
            let r = rec(
                RecordKind::Receipt,
                json!({"tube_id": id, "lab_id": lab, "received_at": ts(received, utc)}),
            );
            self.push(received, r.clone());
            if self.rng.chance(3) {
                self.push(received + 15, r); // duplicate
            }
        }
        if self.rng.chance(3) {
            return None; // lost in the lab
        }
        let any = members.iter().any(|&p| self.infected(p, day));
        let res = self.draw(any);
        let mut r = json!({"tube_id": id, "lab_id": lab, "reported_at": ts(reported, utc),
            "kit": kit, "ct": ct_of(res)});
        if self.rng.chance(10) {
            r["received_at"] = json!(ts(received, utc));
        }
        let result = rec(RecordKind::Result, r);
        self.push(reported, result.clone());
        if self.rng.chance(3) {
            let again = reported + self.rng.range(1, 90);
            self.push(again, result); // duplicate
        }
        if self.rng.chance(3) {
            // A correction: the other way round.
            let fixed = if res == Res::Neg { Res::Pos } else { Res::Neg };
            let at = reported + self.rng.range(60, 400);
            let c = rec(
                RecordKind::Result,
                json!({"tube_id": id, "lab_id": lab, "reported_at": ts(at, utc), "kit": kit,
                       "ct": ct_of(fixed), "status": "corrected"}),
            );
            self.push(at, c);
        }
        Some((reported, res))
    }

    fn next_id(&mut self, prefix: &str) -> String {
        self.tubes += 1;
        format!("{prefix}{:05}", self.tubes)
    }

    /// Single-tube follow-ups of one tube, up to `depth` rounds deep.
    #[allow(clippy::too_many_arguments)]
    fn follow_up(
        &mut self,
        tube: &str,
        kind: &str,
        site: usize,
        members: &[usize],
        day: i64,
        outcome: Option<(i64, Res)>,
        depth: u32,
    ) {
        let Some((reported, res)) = outcome else {
            return;
        };
        if depth == 0 {
            return;
        }
        let flagged_pool = kind != "single" && matches!(res, Res::Pos | Res::Inconclusive);
        for &p in members {
            if self.rng.chance(6) {
                continue; // nobody came back
            }
            let collected = reported + self.rng.range(45, 180);
            let (id, retest_of, kit) = match res {
                _ if flagged_pool => (self.next_id("R"), Some(tube), "KIT-1"),
                Res::Invalid => (self.next_id("S"), None, "KIT-1"),
                Res::Inconclusive => (self.next_id("Q"), None, "KIT-2"),
                _ => continue,
            };
            let out = self.tube(&id, "single", site, &[p], collected, day, retest_of, kit);
            self.follow_up(&id, "single", site, &[p], day, out, depth - 1);
        }
    }

    /// A 2x3 array batch (people on a grid; pools 0-1 rows, 2-4 columns).
    fn batch(&mut self, day: i64, people: &[usize], incomplete: bool) {
        const GRID: [&[usize]; 5] = [&[0, 1, 2], &[3, 4, 5], &[0, 3], &[1, 4], &[2, 5]];
        let batch_id = format!("BATCH-{day}");
        let collected = day * 1440 + 9 * 60;
        for (i, cells) in GRID.iter().enumerate() {
            let members: Vec<Value> = cells.iter().map(|&c| self.member(people[c])).collect();
            let tube_id = format!("B{day}-P{i}");
            let (district, street, community) = REGIONS[0];
            self.push(
                collected,
                rec(
                    RecordKind::Manifest,
                    json!({"tube_id": tube_id, "kind": "pool", "collected_at": ts(collected, false),
                       "site_id": "SITE-0", "region": {"district": district, "street": street, "community": community},
                       "members": members, "batch_id": batch_id, "design": self.design, "pool_index": i}),
                ),
            );
            if incomplete && i == 4 {
                continue;
            }
            let any = cells.iter().any(|&c| self.infected(people[c], day));
            let reported = collected + 120 + 7 * i as i64;
            let ct = if any { pos() } else { neg() };
            self.push(
                reported,
                rec(
                    RecordKind::Result,
                    json!({"tube_id": tube_id, "lab_id": "LAB-A", "reported_at": ts(reported, false), "kit": "KIT-1", "ct": ct}),
                ),
            );
        }
    }

    /// `days` screening rounds; records in event-time order, give or take a
    /// few minutes (arrival is never exactly in order).
    fn stream(mut self, days: i64) -> Vec<Record> {
        for day in 0..days {
            for site in 0..2 {
                // Households in this site, in a shuffled order.
                let mut hh: Vec<usize> = (0..self.households.len())
                    .filter(|&h| self.households[h].0 == site)
                    .collect();
                for i in (1..hh.len()).rev() {
                    let j = self.rng.below(i as u64 + 1) as usize;
                    hh.swap(i, j);
                }
                let mut pool: Vec<usize> = Vec::new();
                for h in hh {
                    let members = self.households[h].2.clone();
                    let collected = day * 1440 + self.rng.range(7 * 60, 11 * 60);
                    match self.rng.below(100) {
                        0..=14 => {
                            let id = self.next_id("H");
                            let out = self.tube(
                                &id,
                                "household",
                                site,
                                &members,
                                collected,
                                day,
                                None,
                                "KIT-1",
                            );
                            self.follow_up(&id, "household", site, &members, day, out, 2);
                        }
                        15..=24 => {
                            for p in members {
                                let id = self.next_id("T");
                                let out = self.tube(
                                    &id,
                                    "single",
                                    site,
                                    &[p],
                                    collected,
                                    day,
                                    None,
                                    "KIT-1",
                                );
                                self.follow_up(&id, "single", site, &[p], day, out, 2);
                            }
                        }
                        _ => {
                            for p in members {
                                pool.push(p);
                                if pool.len() == 5 {
                                    let id = self.next_id("P");
                                    let ps = std::mem::take(&mut pool);
                                    let out = self.tube(
                                        &id, "pool", site, &ps, collected, day, None, "KIT-1",
                                    );
                                    self.follow_up(&id, "pool", site, &ps, day, out, 2);
                                }
                            }
                        }
                    }
                }
                if pool.len() >= 2 {
                    let id = self.next_id("P");
                    let collected = day * 1440 + 11 * 60;
                    let out = self.tube(&id, "pool", site, &pool, collected, day, None, "KIT-1");
                    self.follow_up(&id, "pool", site, &pool, day, out, 2);
                }
            }
            // Six people, one of them infected, in a non-adaptive batch.
            let (sick, well): (Vec<usize>, Vec<usize>) =
                (0..self.people.len()).partition(|&p| self.infected(p, day));
            if !sick.is_empty() && well.len() >= 5 * (day as usize + 1) {
                let mut six = vec![sick[day as usize % sick.len()]];
                six.extend_from_slice(&well[5 * day as usize..5 * (day as usize + 1)]);
                self.batch(day, &six, day == 1);
            }
        }
        let mut events = self.events;
        let mut rng = Rng(0x5eed);
        for e in &mut events {
            e.0 += rng.range(-3, 4); // a little out of order
        }
        events.sort_by_key(|e| (e.0, e.1));
        events.into_iter().map(|e| e.2).collect()
    }
}

fn stream(seed: u64, households: usize, days: i64) -> Vec<Record> {
    Gen::new(seed, households, "array-2x3").stream(days)
}

/// Three days after the last record: every timer has fired by then.
fn end_of(records: &[Record]) -> Timestamp {
    let last = records
        .iter()
        .map(|r| r.event_time())
        .max_by_key(|t| t.millis())
        .unwrap();
    last.plus_millis(3 * 24 * 3_600_000)
}

/// What the engine did for one input: its effects, and its summary after.
type Step = (Vec<Effect>, Summary);

/// Feeds records, then moves time to `end`; returns a [`Step`] per record
/// (and one for the end).
fn feed(e: &mut Engine, records: &[Record], end: Option<Timestamp>) -> Vec<Step> {
    let mut steps = Vec::with_capacity(records.len() + 1);
    for r in records {
        let mut out = Vec::new();
        e.handle(r.clone(), &mut out);
        steps.push((out, e.summary()));
    }
    if let Some(end) = end {
        let mut out = Vec::new();
        e.observe_time(end, &mut out);
        steps.push((out, e.summary()));
    }
    steps
}

fn kinds_in(steps: &[Step]) -> std::collections::BTreeSet<AlertKind> {
    steps
        .iter()
        .flat_map(|s| &s.0)
        .filter_map(|e| match e {
            Effect::Alert(a) => Some(a.kind),
            _ => None,
        })
        .collect()
}

#[test]
fn restored_engine_goes_on_exactly_like_the_one_that_never_stopped() {
    let records = stream(20220510, 90, 5);
    goes_on_identically(EngineConfig::default(), &records);
}

/// The same with what a snapshot leaves to the config: a batch design from
/// the config (not a built-in one) and a discordant-pool settle time.
#[test]
fn restored_engine_keeps_the_config_it_was_built_with() {
    let grid = [
        vec![0, 1, 2],
        vec![3, 4, 5],
        vec![0, 3],
        vec![1, 4],
        vec![2, 5],
    ];
    let design = pooltrace_decode::Design::new("grid-of-six", 6, grid.to_vec()).unwrap();
    let mut cfg = EngineConfig::default();
    cfg.batch.designs = vec![Arc::new(design)];
    cfg.deadlines.discordant_pool_after_min = 90;
    cfg.allowed_lateness_min = 30;
    let records = Gen::new(99, 90, "grid-of-six").stream(5);
    goes_on_identically(cfg, &records);
}

/// Engine A runs all records; at every tenth of the stream, engine B runs
/// the records before, is snapshotted and restored into a new engine C, which
/// runs the rest: C's effects and summaries, step by step, must be A's.
fn goes_on_identically(cfg: EngineConfig, records: &[Record]) {
    let end = end_of(records);

    let mut a = Engine::new(cfg.clone());
    let a_effects = feed(&mut a, records, Some(end));
    let a_summary = a.summary();
    assert_eq!(a_summary.records_rejected, 0, "{a_summary:?}");

    // The stream exercises every part of the engine.
    let all = kinds_in(&a_effects);
    for k in AlertKind::ALL {
        assert!(all.contains(&k), "the stream never raises {k:?}: {all:?}");
    }
    assert!(
        a_summary.records_duplicate > 0
            && a_summary.records_stale + a_summary.records_processed > 0
    );
    assert!(
        a_summary.evicted_tubes > 0 && a_summary.evicted_households > 0,
        "retention runs within the stream: {a_summary:?}"
    );

    let n = records.len();
    for tenth in 1..10 {
        let cut = n * tenth / 10;
        let mut b = Engine::new(cfg.clone());
        feed(&mut b, &records[..cut], None);
        let bytes = b.snapshot().unwrap();
        let mut c = Engine::new(cfg.clone());
        c.restore(&bytes).unwrap();
        assert_eq!(
            c.summary(),
            b.summary(),
            "cut at {tenth}0%: summary right after restore"
        );
        assert_eq!(c.watermark(), b.watermark(), "cut at {tenth}0%: watermark");
        let c_effects = feed(&mut c, &records[cut..], Some(end));
        let expected = &a_effects[cut..];
        assert_eq!(c_effects.len(), expected.len());
        for (i, (got, want)) in c_effects.iter().zip(expected).enumerate() {
            assert_eq!(
                got.0,
                want.0,
                "cut at {tenth}0% ({cut} of {n}): effects of record {} differ",
                cut + i
            );
            // Summaries too, step by step: retention sweeps at the same times.
            assert_eq!(
                got.1,
                want.1,
                "cut at {tenth}0% ({cut} of {n}): summary after record {}",
                cut + i
            );
        }
        assert_eq!(c.summary(), a_summary, "cut at {tenth}0%: final summary");
        // After the middle of the stream, timers set before the cut fire
        // after it.
        if tenth == 5 {
            let after = kinds_in(expected);
            for k in [
                AlertKind::ResultMissing,
                AlertKind::LabOverdue,
                AlertKind::OrphanResult,
                AlertKind::DiscordantPool,
            ] {
                assert!(after.contains(&k), "{k:?} after the cut: {after:?}");
            }
        }
    }
}

#[test]
fn a_restored_engine_snapshots_to_an_equivalent_state() {
    // Snapshot -> restore -> snapshot -> restore still goes on identically.
    let records = stream(7, 40, 3);
    let end = end_of(&records);
    let cut = records.len() / 2;
    let mut a = Engine::new(EngineConfig::default());
    let a_effects = feed(&mut a, &records, Some(end));
    let mut b = Engine::new(EngineConfig::default());
    feed(&mut b, &records[..cut], None);
    let mut c = Engine::new(EngineConfig::default());
    c.restore(&b.snapshot().unwrap()).unwrap();
    let mut d = Engine::new(EngineConfig::default());
    d.restore(&c.snapshot().unwrap()).unwrap();
    assert_eq!(feed(&mut d, &records[cut..], Some(end)), a_effects[cut..]);
    assert_eq!(d.summary(), a.summary());
}

#[test]
fn an_empty_engine_round_trips() {
    let e = Engine::new(EngineConfig::default());
    let bytes = e.snapshot().unwrap();
    let line = format!("pooltrace-engine-snapshot/{SNAPSHOT_VERSION}\n");
    assert!(bytes.starts_with(line.as_bytes()));
    let mut f = Engine::new(EngineConfig::default());
    f.restore(&bytes).unwrap();
    assert_eq!(f.summary(), e.summary());
    assert_eq!(f.watermark(), None);
}

#[test]
fn snapshots_of_another_version_or_damaged_are_refused() {
    let records = stream(3, 20, 1);
    let mut b = Engine::new(EngineConfig::default());
    feed(&mut b, &records, None);
    let good = b.snapshot().unwrap();
    let fresh = Engine::new(EngineConfig::default()).summary();

    let next = SNAPSHOT_VERSION + 1;
    let mut wrong = format!("pooltrace-engine-snapshot/{next}\n").into_bytes();
    let line = format!("pooltrace-engine-snapshot/{SNAPSHOT_VERSION}\n");
    wrong.extend_from_slice(&good[line.len()..]);
    let mut e = Engine::new(EngineConfig::default());
    let err = e.restore(&wrong).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::Version { found, supported } if *found == next.to_string() && *supported == SNAPSHOT_VERSION),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&format!(
            "version `{next}` is not supported: this build reads version {SNAPSHOT_VERSION} only"
        )),
        "{err}"
    );
    assert_eq!(e.summary(), fresh, "a refused snapshot changes nothing");

    let err = e.restore(b"{\"tubes\": {}}").unwrap_err();
    assert!(matches!(err, SnapshotError::NotASnapshot), "{err:?}");

    // Cut short in every part: refused, naming the part; the engine is untouched.
    for len in [good.len() - 1, good.len() / 2, 40] {
        let err = e.restore(&good[..len]).unwrap_err();
        assert!(
            matches!(
                err,
                SnapshotError::Malformed { .. } | SnapshotError::Decode { .. }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("part `"), "{err}");
        assert_eq!(e.summary(), fresh);
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(matches!(
        e.restore(&trailing).unwrap_err(),
        SnapshotError::Malformed { .. }
    ));
    e.restore(&good).unwrap();
    assert_eq!(e.summary(), b.summary());
}

#[test]
fn no_snapshot_with_messages_for_other_partitions_in_flight() {
    let part = Partition { index: 0, count: 8 };
    // The records of this partition's tubes (an engine is only given those).
    let own = || {
        stream(11, 20, 1)
            .into_iter()
            .filter(|r| pooltrace_engine::partition::tube_partition(r.tube_id(), 8) == 0)
    };
    let mut e = Engine::partitioned(EngineConfig::default(), part);
    let mut out = Vec::new();
    for r in own() {
        e.handle(r, &mut out);
    }
    let pending = e.take_outgoing();
    assert!(
        !pending.is_empty(),
        "8 partitions: some keys live elsewhere"
    );
    // Messages back in flight: refused.
    let mut e2 = Engine::partitioned(EngineConfig::default(), part);
    for r in own().take(30) {
        e2.handle(r, &mut out);
    }
    let err = e2.snapshot().unwrap_err();
    assert!(matches!(err, SnapshotError::NotIdle { .. }), "{err:?}");
    e2.take_outgoing();
    let bytes = e2.snapshot().unwrap();
    let mut e3 = Engine::partitioned(EngineConfig::default(), part);
    e3.restore(&bytes).unwrap();
    assert_eq!(e3.partition(), Some(part));
    assert_eq!(e3.summary(), e2.summary());
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

fn manifest(v: Value) -> Arc<Manifest> {
    match rec(RecordKind::Manifest, v) {
        Record::Manifest(m) => Arc::new(m),
        _ => unreachable!(),
    }
}

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn round_trip(m: &Msg) -> Msg {
    let bytes = encode_msg(m).unwrap();
    assert_eq!(bytes[0], MSG_FORMAT);
    let back = decode_msg(&bytes).unwrap();
    assert_eq!(&back, m, "round trip of {m:?}");
    assert_eq!(back.route(), m.route());
    back
}

#[test]
fn every_message_survives_its_encoding() {
    let pool = manifest(
        json!({"tube_id": "P-0001", "kind": "pool", "collected_at": "2022-05-10T08:00:00+08:00",
        "site_id": "SITE-1", "region": {"district": "Chaoyang", "street": "Nanhu", "community": "Yuanyi"},
        "members": [
            {"person_id": rid(1), "name": "Li Wei", "phone": "15900000001",
             "address": {"compound": "Garden", "building": "7", "unit": "2", "room": "301"}},
            {"person_id": "E12345678", "id_type": "passport"},
            {"person_id": rid(3), "name": "Wang Fang, a name longer than twenty-four bytes", "phone": "15900000003",
             "address": {"compound": "Garden of the very long compound name", "building": "7", "unit": "2", "room": "302"}}
        ]}),
    );
    let batch_manifest = manifest(
        json!({"tube_id": "B1-P0", "kind": "pool", "collected_at": "2022-05-10T01:00:00Z",
        "site_id": "SITE-1", "region": {"district": "Chaoyang", "street": "Nanhu", "community": "Yuanyi"},
        "members": [{"person_id": rid(4)}, {"person_id": rid(5)}],
        "batch_id": "B1", "design": "array-2x3", "pool_index": 0}),
    );
    let region = pool.region.clone();
    let t = at("2022-05-10T09:00:00.250+08:00");
    let utc = at("2022-05-10T01:00:00Z");

    // Contacts: with name, phone and address; without any; long strings.
    for i in 0..pool.members.len() {
        let c = Contact::of(&pool, i);
        let Msg::Observed { contact: back, .. } = round_trip(&Msg::Observed {
            contact: c.clone(),
            obs: Arc::new(Observation {
                tube_id: "P-0001".into(),
                region: Arc::new(region.clone()),
                tube_kind: TubeKind::Pool,
                revision: 2,
                interpretation: Interpretation::Positive,
                collected_at: pool.collected_at,
                reported_at: t,
                retest_of: None,
                ct: Ct {
                    orf1ab: Some(31.2),
                    n: Some(30.4),
                    e: None,
                    ic: Some(27.0),
                },
                lab_id: "LAB-A".into(),
                kit: Some("KIT-1".into()),
                batch: None,
            }),
            at: t,
        }) else {
            unreachable!()
        };
        assert_eq!(back.person_id(), c.person_id());
        assert_eq!(back.name(), c.name());
        assert_eq!(back.phone(), c.phone());
        assert_eq!(back.address(), c.address());
        assert_eq!(back.region(), c.region());
        assert_eq!(back.member(), c.member());
        assert_eq!(back.household_key(), c.household_key());
        assert_eq!(c.household_key().is_some(), i != 1);
    }
    let contact = Contact::of(&pool, 0);
    let household = contact.household_key().unwrap();
    assert!(
        household > u128::from(u64::MAX),
        "a key with its high bits set"
    );

    let mut msgs = vec![
        // A decoded sample: every optional field of an observation set.
        Msg::Observed {
            contact: Contact::of(&batch_manifest, 1),
            obs: Arc::new(Observation {
                tube_id: "B1".into(),
                region: Arc::new(region.clone()),
                tube_kind: TubeKind::Pool,
                revision: 1,
                interpretation: Interpretation::Inconclusive,
                collected_at: utc,
                reported_at: t,
                retest_of: Some("P-0000".into()),
                ct: Ct::default(),
                lab_id: "LAB-B".into(),
                kit: None,
                batch: BatchDecision::boxed(
                    Some(Cow::Borrowed("dd")),
                    Some("B1".into()),
                    Some(DecodedEvidence {
                        p_positive: 0.25,
                        pools_positive: 1,
                        pools_negative: 1,
                    }),
                ),
            }),
            at: t,
        },
        Msg::Resident {
            household,
            contact: contact.clone(),
            seen_at: pool.collected_at,
        },
        Msg::Positive {
            household: u128::MAX,
            person_id: rid(1),
            since: Some((t, "S-0009".into())),
            at: t,
        },
        Msg::Positive {
            household: 1,
            person_id: rid(1),
            since: None,
            at: utc,
        },
        Msg::Exposure {
            household,
            contact: Contact::of(&pool, 2),
            source: Some(ExposureSource {
                person_id: rid(1),
                tube_id: "S-0009".into(),
                since: t,
            }),
            at: t,
        },
        Msg::Exposure {
            household: (1u128 << 127) | 5,
            contact: contact.clone(),
            source: None,
            at: t,
        },
        Msg::PoolDecided {
            pool_tube_id: "P-0001".into(),
            members: pool
                .members
                .iter()
                .map(|m| m.person_id.to_string())
                .collect(),
            flagged: true,
            region: region.clone(),
            at: t,
        },
        Msg::PoolDecided {
            pool_tube_id: "P-0002".into(),
            members: vec![],
            flagged: false,
            region: Region {
                district: "Haidian".into(),
                street: "Zhongguancun".into(),
                community: "Huangzhuang".into(),
            },
            at: utc,
        },
        Msg::BatchPool {
            pool: Box::new(BatchPool {
                batch_id: "B1".into(),
                design: "array-2x3".into(),
                pool_index: 0,
                manifest: Arc::clone(&batch_manifest),
                interpretation: Interpretation::Negative,
                ct: Ct {
                    ic: Some(27.0),
                    ..Ct::default()
                },
                lab_id: "LAB-A".into(),
                kit: None,
                reported_at: t,
            }),
            at: t,
        },
    ];
    for status in [
        RetestStatus::Pending,
        RetestStatus::Negative,
        RetestStatus::Positive,
    ] {
        msgs.push(Msg::Retest {
            pool_tube_id: "P-0001".into(),
            person_id: rid(3),
            status,
            retest_tube_id: (status != RetestStatus::Pending).then(|| "R-0001".into()),
            reported_at: (status != RetestStatus::Pending).then_some(utc),
            negative: (status == RetestStatus::Positive).then(|| ("R-0000".into(), utc)),
            at: t,
        });
    }
    for m in &msgs {
        round_trip(m);
    }
    // The batch pool keeps its whole manifest (the decoder needs every member).
    let Msg::BatchPool { pool: back, .. } = round_trip(&msgs[8]) else {
        unreachable!()
    };
    assert_eq!(*back.manifest, *batch_manifest);

    // The two frequent kinds go compact (kind byte 1, 2), the rest as
    // MessagePack (kind 0). Every strict prefix of an encoding, and a
    // compact one with a byte more, is refused with an error, never a panic
    // or a different message; format 3 (earlier builds: MessagePack right
    // after the format byte) still reads.
    // No optional field, no Ct at all, a contact without details.
    msgs.push(Msg::Observed {
        contact: Contact::of(&pool, 1),
        obs: Arc::new(Observation {
            tube_id: "S-0002".into(),
            region: Arc::new(region.clone()),
            tube_kind: TubeKind::Single,
            revision: 0,
            interpretation: Interpretation::Invalid,
            collected_at: utc,
            reported_at: utc,
            retest_of: None,
            ct: Ct::default(),
            lab_id: String::new(),
            kit: None,
            batch: None,
        }),
        at: utc,
    });
    round_trip(msgs.last().unwrap());
    let mut compact = 0;
    for m in &msgs {
        let bytes = encode_msg(m).unwrap();
        let kind = match m {
            Msg::Observed { .. } => 1,
            Msg::Resident { .. } => 2,
            _ => 0,
        };
        assert_eq!(bytes[1], kind, "kind byte of {m:?}");
        compact += usize::from(kind != 0);
        for len in 0..bytes.len() {
            assert!(
                decode_msg(&bytes[..len]).is_err(),
                "{len} of {} bytes of {m:?} decoded",
                bytes.len()
            );
        }
        if kind != 0 {
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(decode_msg(&longer).is_err(), "a byte more: {m:?}");
        }
        let mut old = vec![3];
        rmp_serde::encode::write_named(&mut old, m).unwrap();
        assert_eq!(&decode_msg(&old).unwrap(), m, "format 3 of {m:?}");
    }
    assert!(compact >= 3, "the observed and resident cases are compact");

    // A contact costs its member and region, not the whole manifest.
    let one = encode_msg(&msgs[1]).unwrap().len();
    let whole = serde_json::to_vec(&*pool).unwrap().len();
    assert!(
        one < whole,
        "{one} bytes for a resident, the manifest is {whole}"
    );
}

#[test]
fn messages_of_another_format_are_refused() {
    let m = Msg::Positive {
        household: 7,
        person_id: rid(1),
        since: None,
        at: at("2022-05-10T09:00:00+08:00"),
    };
    let mut bytes = encode_msg(&m).unwrap();
    bytes[0] = MSG_FORMAT + 1;
    assert!(matches!(
        decode_msg(&bytes).unwrap_err(),
        SnapshotError::MsgFormat { found, supported } if found == MSG_FORMAT + 1 && supported == MSG_FORMAT
    ));
    assert!(decode_msg(&[]).is_err());
    assert!(matches!(
        decode_msg(&[MSG_FORMAT, 0xc1]).unwrap_err(),
        SnapshotError::Decode {
            part: "message",
            ..
        }
    ));
}

// ---------------------------------------------------------------------------
// Size and speed, for the record (release): `cargo test -p pooltrace-engine
// --release --test snapshot -- --ignored --nocapture`.
// ---------------------------------------------------------------------------

#[test]
#[ignore = "measurement, prints numbers"]
fn snapshot_size_and_speed() {
    for households in [2_000, 20_000] {
        let records = stream(42, households, 3);
        let mut e = Engine::new(EngineConfig::default());
        let mut out = Vec::new();
        for r in &records {
            e.handle(r.clone(), &mut out);
            out.clear();
        }
        let s = e.summary();
        let t0 = Instant::now();
        let bytes = e.snapshot().unwrap();
        let encode = t0.elapsed();
        let t0 = Instant::now();
        let mut f = Engine::new(EngineConfig::default());
        f.restore(&bytes).unwrap();
        let decode = t0.elapsed();
        println!(
            "{} records; state (tubes, people, pools, households) = {:?}, timers {}: \
             snapshot {:.1} MiB, encode {:.1} ms, restore {:.1} ms",
            records.len(),
            s.state_sizes,
            s.timers_pending,
            bytes.len() as f64 / (1 << 20) as f64,
            encode.as_secs_f64() * 1e3,
            decode.as_secs_f64() * 1e3
        );
        // The parts' sizes (layout: see snapshot.rs).
        let mut rest = &bytes[bytes.iter().position(|&b| b == b'\n').unwrap() + 1..];
        let mut parts = Vec::new();
        while !rest.is_empty() {
            let name_len = rest[0] as usize;
            let name = String::from_utf8_lossy(&rest[1..1 + name_len]).into_owned();
            let len = u64::from_le_bytes(rest[1 + name_len..9 + name_len].try_into().unwrap());
            parts.push(format!("{name} {:.1} MiB", len as f64 / (1 << 20) as f64));
            rest = &rest[9 + name_len + len as usize..];
        }
        println!("  {}", parts.join(", "));
    }
}
