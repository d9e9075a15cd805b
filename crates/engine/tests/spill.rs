//! Spilling cold tubes and households to a store changes no output: the
//! same records give the same effects, dispositions and summary with a
//! store and a budget of one byte (everything cold is spilled every five
//! minutes of event time and read back when touched) as with none.

mod common;

use common::random_tubes::*;
use common::*;
use pooltrace_engine::spill::{MemorySpill, SpillError, SpillStore, SpillStores};
use pooltrace_engine::{Disposition, Effect, Engine, EngineConfig, SnapshotError};
use pooltrace_model::{Record, RecordKind};
use proptest::prelude::*;
use serde_json::json;

/// An engine that spills whatever is cold, as soon as it may.
fn spilling(cfg: EngineConfig) -> Engine {
    let mut e = Engine::new(EngineConfig {
        spill_after_min: 0,
        ..cfg
    });
    e.attach_spill(SpillStores::in_memory());
    e.set_spill_budget(1);
    e
}

/// A [`spilling`] engine with default settings after `records`, and the
/// effects they caused.
fn spilling_through(records: &[Record]) -> (Engine, Vec<Effect>) {
    let mut e = spilling(EngineConfig::default());
    let mut out = Vec::new();
    for r in records {
        e.handle(r.clone(), &mut out);
    }
    (e, out)
}

struct Ran {
    effects: Vec<Effect>,
    dispositions: Vec<Disposition>,
    summary: pooltrace_engine::Summary,
}

fn drive(mut e: Engine, records: &[Record], end: Option<&str>) -> (Ran, Engine) {
    let mut effects = Vec::new();
    let dispositions = records
        .iter()
        .map(|r| e.handle(r.clone(), &mut effects))
        .collect();
    if let Some(end) = end {
        let at = pooltrace_model::Timestamp::parse(end).unwrap();
        e.observe_time(at, &mut effects);
    }
    assert!(e.take_spill_error().is_none());
    let summary = e.summary();
    (
        Ran {
            effects,
            dispositions,
            summary,
        },
        e,
    )
}

fn assert_same(cfg: EngineConfig, records: &[Record], end: Option<&str>) -> usize {
    let (plain, _) = drive(Engine::new(cfg.clone()), records, end);
    let (spilled, engine) = drive(spilling(cfg), records, end);
    assert_eq!(plain.dispositions, spilled.dispositions);
    assert_eq!(plain.effects, spilled.effects);
    assert_eq!(plain.summary, spilled.summary);
    let s = engine.spill_stats();
    s.tubes + s.households
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn spilling_changes_no_output(tubes in tube_strategy(true), seed in any::<u64>(), twice in any::<bool>()) {
        let mut recs = records(&tubes);
        if twice {
            recs.extend(records(&tubes));
        }
        let n = recs.len();
        for i in 0..n {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % n as u64) as usize;
            recs.swap(i, j);
        }
        assert_same(EngineConfig::default(), &recs, Some("2022-05-12T00:00:00+08:00"));
    }
}

fn at(day: u32, hm: &str) -> String {
    format!("2022-05-{day:02}T{hm}:00+08:00")
}

fn manifest_at(tube: &str, kind: &str, when: &str, members: Vec<serde_json::Value>) -> Record {
    rec(
        RecordKind::Manifest,
        json!({"tube_id": tube, "kind": kind, "collected_at": when, "site_id": "SITE-1",
            "region": {"district": "Chaoyang", "street": "Nanhu", "community": "Yuanyi"}, "members": members}),
    )
}

/// A single-tube retest of `pool`'s member.
fn retest_at(tube: &str, member: serde_json::Value, when: &str, pool: &str) -> Record {
    rec(
        RecordKind::Manifest,
        json!({"tube_id": tube, "kind": "single", "collected_at": when, "site_id": "SITE-1",
            "region": {"district": "Chaoyang", "street": "Nanhu", "community": "Yuanyi"},
            "members": [member], "retest_of": pool}),
    )
}

fn result_at(tube: &str, when: &str, ct: serde_json::Value, status: &str) -> Record {
    rec(
        RecordKind::Result,
        json!({"tube_id": tube, "lab_id": "LAB-A", "reported_at": when, "kit": "KIT-1", "ct": ct, "status": status}),
    )
}

fn receipt_at(tube: &str, when: &str) -> Record {
    rec(
        RecordKind::Receipt,
        json!({"tube_id": tube, "lab_id": "LAB-A", "received_at": when}),
    )
}

/// Five days of one building: negative pools every day, the same rooms
/// seen again days apart (some residents past the 72 h retention, some
/// not), late receipts, a replayed manifest, a correction of a spilled
/// negative pool, and positives whose co-residents were spilled long ago.
fn five_days() -> Vec<Record> {
    let mut recs = Vec::new();
    for day in 10..15 {
        for pool in 0..6u32 {
            let tube = format!("P{day}-{pool}");
            let first = (day - 10) * 3 + pool * 5;
            let members = (first..first + 5)
                .map(|p| member(p, &format!("{}", 300 + p % 7)))
                .collect();
            recs.push(manifest_at(&tube, "pool", &at(day, "08:00"), members));
            recs.push(receipt_at(&tube, &at(day, "09:00")));
            recs.push(result_at(&tube, &at(day, "10:00"), neg(), "final"));
        }
    }
    // Hours later: a receipt scanned again, a replayed manifest.
    recs.push(receipt_at("P10-1", &at(10, "20:00")));
    let replay = recs[0].clone();
    recs.push(replay);
    // Day 14: a spilled pool of day 12 was positive after all.
    recs.push(result_at("P12-2", &at(14, "11:00"), pos(), "corrected"));
    // Its members retest: one positive, whose rooms hold residents from
    // every day.
    for (i, p) in [16u32, 17, 18].into_iter().enumerate() {
        let tube = format!("S{p}");
        let m = member(p, &format!("{}", 300 + p % 7));
        recs.push(retest_at(&tube, m, &at(14, "13:00"), "P12-2"));
        let ct = if i == 0 { pos() } else { neg() };
        recs.push(result_at(&tube, &at(14, "15:00"), ct, "final"));
    }
    recs
}

#[test]
fn five_days_of_a_building_spilled_give_the_same_alerts_and_rows() {
    let recs = five_days();
    let spilled = assert_same(EngineConfig::default(), &recs, None);
    assert!(spilled > 0, "the scenario must spill something");
    // And on to where every timer has fired.
    assert_same(EngineConfig::default(), &recs, Some(&at(16, "00:00")));
}

#[test]
fn spilled_state_is_forgotten_by_retention_as_state_in_memory_is() {
    let recs = five_days();
    let (plain, _) = drive(
        Engine::new(EngineConfig::default()),
        &recs,
        Some(&at(25, "00:00")),
    );
    let (spilled, e) = drive(
        spilling(EngineConfig::default()),
        &recs,
        Some(&at(25, "00:00")),
    );
    assert_eq!(plain.effects, spilled.effects);
    assert_eq!(plain.summary, spilled.summary);
    assert!(plain.summary.evicted_tubes > 0 && plain.summary.evicted_households > 0);
    let s = e.spill_stats();
    assert_eq!((s.tubes, s.households), (0, 0), "{s:?}");
}

#[test]
fn the_tubes_and_households_out_of_memory_are_counted_and_come_back() {
    let recs = five_days();
    // Day 10, then the first manifest of day 11 (the watermark jumps a day).
    let (mut e, mut out) = spilling_through(&recs[..19]);
    let before = e.spill_stats();
    assert!(before.tubes > 0, "{before:?}");
    assert!(before.households > 0, "{before:?}");
    // A correction of a spilled tube of the first day brings it back.
    let d = e.handle(
        result_at("P10-0", &at(11, "09:00"), pos(), "corrected"),
        &mut out,
    );
    assert_eq!(d, Disposition::Processed);
    assert!(e.spill_stats().tubes < before.tubes);
}

/// People with a negative tube of their own on day 10 (kept: no alert,
/// but their result stands), a day later in a positive pool, one of them
/// retested negative, and the pool corrected to negative on day 13.
fn people_seen_again() -> Vec<Record> {
    let region = json!({"district": "Chaoyang", "street": "Nanhu", "community": "Yuanyi"});
    let single = |tube: &str, p: u32, when: &str, retest_of: Option<&str>| {
        let mut m = json!({"tube_id": tube, "kind": "single", "collected_at": when,
            "site_id": "SITE-1", "region": region, "members": [member(p, "401")]});
        if let Some(pool) = retest_of {
            m["retest_of"] = json!(pool);
        }
        rec(RecordKind::Manifest, m)
    };
    let mut recs = Vec::new();
    for p in 0..4u32 {
        let tube = format!("S10-{p}");
        recs.push(single(&tube, p, &at(10, "08:00"), None));
        recs.push(result_at(&tube, &at(10, "10:00"), neg(), "final"));
    }
    let members = (0..4u32).map(|p| member(p, "401")).collect();
    recs.push(manifest_at("P11", "pool", &at(11, "08:00"), members));
    recs.push(result_at("P11", &at(11, "10:00"), pos(), "final"));
    recs.push(single("S11-1", 1, &at(11, "12:00"), Some("P11")));
    recs.push(result_at("S11-1", &at(11, "14:00"), neg(), "final"));
    recs.push(result_at("P11", &at(13, "10:00"), neg(), "corrected"));
    recs
}

#[test]
fn people_out_of_memory_are_counted_come_back_and_change_nothing() {
    let recs = people_seen_again();
    assert_same(EngineConfig::default(), &recs, None);
    assert_same(EngineConfig::default(), &recs, Some(&at(20, "00:00")));
    // Day 10, then the pool's manifest of day 11 (the watermark jumps a day).
    let (mut e, mut out) = spilling_through(&recs[..9]);
    let before = e.spill_stats();
    assert_eq!(before.people, 4, "{before:?}");
    assert_eq!(
        e.summary().state_sizes.1,
        4,
        "spilled people are still held"
    );
    // The positive pool brings its members back: each gets a pool retest.
    e.handle(recs[9].clone(), &mut out);
    assert_eq!(e.spill_stats().people, 0);
    assert_eq!(e.summary().state_sizes.1, 4, "people held, spilled or not");
    let retests = out
        .iter()
        .filter(
            |f| matches!(f, Effect::Alert(a) if a.kind == pooltrace_model::AlertKind::PoolRetest),
        )
        .count();
    assert_eq!(retests, 4);
    assert!(e.take_spill_error().is_none());
}

/// A block of 900 people on day 10: 300 negative pools of two, each
/// person in a room of their own, and 300 negative single tubes; a day
/// later one of the pools is corrected to positive and its members retest,
/// one positive. The day-11 records move the watermark a day at once, so a
/// single spill pass takes every tube, household and person of day 10:
/// hundreds of each at once.
fn a_block_spilled_at_once() -> Vec<Record> {
    let room = |p: u32| format!("{}", 1000 + p);
    let mut recs = Vec::new();
    for pool in 0..300u32 {
        let tube = format!("P10-{pool}");
        let members = (pool * 2..pool * 2 + 2)
            .map(|p| member(p, &room(p)))
            .collect();
        recs.push(manifest_at(&tube, "pool", &at(10, "08:00"), members));
        recs.push(result_at(&tube, &at(10, "10:00"), neg(), "final"));
    }
    for p in 600..900u32 {
        let tube = format!("S10-{p}");
        recs.push(manifest_at(
            &tube,
            "single",
            &at(10, "08:00"),
            vec![member(p, &room(p))],
        ));
        recs.push(result_at(&tube, &at(10, "10:00"), neg(), "final"));
    }
    recs.push(result_at("P10-7", &at(11, "09:00"), pos(), "corrected"));
    for (p, ct) in [(14u32, pos()), (15, neg())] {
        let tube = format!("S11-{p}");
        recs.push(retest_at(
            &tube,
            member(p, &room(p)),
            &at(11, "11:00"),
            "P10-7",
        ));
        recs.push(result_at(&tube, &at(11, "13:00"), ct, "final"));
    }
    recs
}

#[test]
fn hundreds_spilled_in_one_pass_change_nothing() {
    let recs = a_block_spilled_at_once();
    assert_same(EngineConfig::default(), &recs, None);
    assert_same(EngineConfig::default(), &recs, Some(&at(13, "00:00")));
    // The pass did take hundreds of each at once.
    let through_the_correction = 1200;
    let (mut e, _) = spilling_through(&recs[..=through_the_correction]);
    // Every tube but the corrected pool (back in memory), every household,
    // every person of a single tube.
    let s = e.spill_stats();
    assert_eq!((s.tubes, s.households, s.people), (599, 900, 300), "{s:?}");
    assert!(e.take_spill_error().is_none());
}

#[test]
fn an_engine_that_spills_refuses_to_snapshot_and_restore() {
    let mut e = spilling(EngineConfig::default());
    assert!(matches!(e.snapshot(), Err(SnapshotError::Spilled)));
    let plain = Engine::new(EngineConfig::default()).snapshot().unwrap();
    assert!(matches!(e.restore(&plain), Err(SnapshotError::Spilled)));
}

/// A store that takes a few appends, then fails like a full disk.
#[derive(Debug)]
struct FillsUp(MemorySpill, usize);

impl SpillStore for FillsUp {
    fn append(&mut self, bytes: &[u8]) -> Result<u64, SpillError> {
        if self.1 == 0 {
            return Err(SpillError::Io {
                what: "append".into(),
                source: std::io::Error::other("No space left on device"),
            });
        }
        self.1 -= 1;
        self.0.append(bytes)
    }
    fn read(&mut self, offset: u64, len: usize, buf: &mut Vec<u8>) -> Result<(), SpillError> {
        self.0.read(offset, len, buf)
    }
}

#[test]
fn a_store_that_fails_is_reported_and_what_it_refused_stays_in_memory() {
    let recs = five_days();
    let (plain, _) = drive(Engine::new(EngineConfig::default()), &recs, None);
    let mut e = Engine::new(EngineConfig {
        spill_after_min: 0,
        ..EngineConfig::default()
    });
    e.attach_spill(SpillStores {
        tubes: Box::new(FillsUp(MemorySpill::default(), 3)),
        ..SpillStores::in_memory()
    });
    e.set_spill_budget(1);
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for r in &recs {
        e.handle(r.clone(), &mut out);
        errors.extend(e.take_spill_error());
    }
    assert_eq!(errors.len(), 1, "reported once: {errors:?}");
    assert!(
        errors[0].to_string().contains("No space left"),
        "{}",
        errors[0]
    );
    assert_eq!(
        out, plain.effects,
        "nothing was lost: the rest stayed in memory"
    );
}
