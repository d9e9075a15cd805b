//! One test per rule of the core-pipeline issue, with exact deadlines.

mod common;

use common::*;
use pooltrace_engine::{Disposition, Effect, Engine, EngineConfig, Rejection};
use pooltrace_model::{AlertKind::*, AlertState::*, PersonOutcome, Record, Timestamp};

fn at(hm: &str) -> Timestamp {
    Timestamp::parse(&t(hm)).unwrap()
}

fn outcomes(effects: &[Effect]) -> Vec<(String, PersonOutcome)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::PersonOutcome(p) => Some((p.person_id.to_string(), p.outcome)),
            _ => None,
        })
        .collect()
}

fn pool5() -> Record {
    manifest(
        "P1",
        "pool",
        "08:00",
        (1..=5).map(|i| member(i, &format!("30{i}"))).collect(),
    )
}

#[test]
fn rule1_negative_pool_clears_everyone_without_alerts() {
    let fx = run(vec![pool5(), result("P1", "09:00", neg())]);
    assert!(alerts(&fx).is_empty(), "{fx:#?}");
    let o = outcomes(&fx);
    assert_eq!(o.len(), 5);
    assert!(o
        .iter()
        .all(|(_, out)| *out == PersonOutcome::ClearedByPool));
}

#[test]
fn rule2_positive_or_inconclusive_pool_raises_pool_retest_per_member() {
    for ct in [pos(), inconclusive()] {
        let fx = run(vec![pool5(), result("P1", "09:00", ct)]);
        let f = finals(&fx);
        assert_eq!(f.len(), 5);
        for i in 1..=5 {
            let a = one(&f, PoolRetest, i);
            assert_eq!(a.state, Open);
            assert_eq!(a.raised_at, at("09:00"));
            assert_eq!(a.due_at, Some(at("11:00")));
            assert_eq!(a.tube_id, "P1");
            assert_eq!(a.name.as_deref(), Some(format!("Person {i}").as_str()));
            assert!(a.address.is_some() && a.region.is_some() && a.phone.is_some());
        }
        // A pool result is never a person's result.
        assert!(outcomes(&fx)
            .iter()
            .all(|(_, o)| *o == PersonOutcome::PoolPositivePending));
    }
    let household = manifest("H1", "household", "08:00", vec![member(1, "301")]);
    let f = finals(&run(vec![household, result("H1", "09:00", pos())]));
    assert_eq!(one(&f, PoolRetest, 1).state, Open);
}

#[test]
fn rule3_positive_single_transfers_supersedes_and_isolates_co_residents() {
    let records = vec![
        pool5(),
        // Person 9 lives in room 301 with person 1; person 10 elsewhere.
        manifest(
            "H9",
            "pool",
            "08:00",
            vec![member(9, "301"), member(10, "310")],
        ),
        result("P1", "09:00", pos()),
        result("H9", "09:00", neg()),
        manifest_with("R1", "single", "11:00", vec![member(1, "301")], Some("P1")),
        result("R1", "12:00", pos()),
    ];
    let f = finals(&run(records));
    let ht = one(&f, HospitalTransfer, 1);
    assert_eq!(
        (ht.state, ht.raised_at, ht.due_at),
        (Open, at("12:00"), Some(at("14:00")))
    );
    assert_eq!(ht.tube_id, "R1");
    let pr = one(&f, PoolRetest, 1);
    assert_eq!(pr.state, Superseded);
    assert_eq!(pr.superseded_by.as_deref(), Some(ht.alert_id.as_str()));
    let it = one(&f, IsolationTransfer, 9);
    assert_eq!(
        (it.state, it.raised_at, it.due_at),
        (Open, at("12:00"), Some(at("20:00")))
    );
    assert_eq!(
        it.evidence.positive_person_id.as_deref(),
        Some(rid(1).as_str())
    );
    assert!(of(&f, IsolationTransfer, Some(10)).is_empty());
    assert!(
        of(&f, IsolationTransfer, Some(1)).is_empty(),
        "the positive person is not their own contact"
    );
    // Persons 2-5 still wait for their retests.
    for i in 2..=5 {
        assert_eq!(one(&f, PoolRetest, i).state, Open);
    }
}

#[test]
fn rule3_co_resident_already_positive_gets_no_isolation() {
    let records = vec![
        manifest("S1", "single", "08:00", vec![member(1, "301")]),
        manifest("S9", "single", "08:00", vec![member(9, "301")]),
        result("S9", "09:00", pos()),
        result("S1", "10:00", pos()),
    ];
    let f = finals(&run(records));
    assert_eq!(one(&f, HospitalTransfer, 1).state, Open);
    assert_eq!(one(&f, HospitalTransfer, 9).state, Open);
    // Both are each other's co-residents; both go to hospital, never to
    // isolation: their isolation alerts are superseded by their transfers.
    for p in [1, 9] {
        let it = one(&f, IsolationTransfer, p);
        assert_eq!(it.state, Superseded);
        assert_eq!(
            it.superseded_by,
            Some(one(&f, HospitalTransfer, p).alert_id)
        );
    }
}

#[test]
fn rule3_resident_seen_after_confirmation_still_isolated() {
    let records = vec![
        manifest("S1", "single", "08:00", vec![member(1, "301")]),
        result("S1", "09:00", pos()),
        manifest(
            "P7",
            "pool",
            "13:00",
            vec![member(9, "301"), member(10, "310")],
        ),
    ];
    let f = finals(&run(records));
    let it = one(&f, IsolationTransfer, 9);
    assert_eq!((it.raised_at, it.due_at), (at("13:00"), Some(at("21:00"))));
}

#[test]
fn rule4_negative_retest_resolves_and_all_negative_is_discordant() {
    let mut records = vec![pool5(), result("P1", "09:00", pos())];
    for i in 1..=5 {
        records.push(manifest_with(
            &format!("R{i}"),
            "single",
            "11:00",
            vec![member(i, &format!("30{i}"))],
            Some("P1"),
        ));
        records.push(result(&format!("R{i}"), &format!("12:0{i}"), neg()));
    }
    // "No member is positive" is only known once the watermark passes the
    // last negative (12:05 + 5 min lateness): the discordant check is a timer.
    let before = finals(&run_ticks(records.clone(), &["12:09"]));
    assert!(of(&before, DiscordantPool, None).is_empty());
    let f = finals(&run_ticks(records.clone(), &["12:10"]));
    for i in 1..=5 {
        let a = one(&f, PoolRetest, i);
        assert_eq!(a.state, Resolved);
        assert!(a.resolved_reason.unwrap().contains(&format!("R{i}")));
    }
    let d = of(&f, DiscordantPool, None);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].state, d[0].tube_id.as_str(), d[0].raised_at),
        (Open, "P1", at("12:05"))
    );
    assert_eq!(
        d[0].evidence.retest_tube_ids,
        vec!["R1", "R2", "R3", "R4", "R5"]
    );

    // Four negatives only: not discordant yet.
    let f = finals(&run_ticks(records[..10].to_vec(), &["23:00"]));
    assert!(of(&f, DiscordantPool, None).is_empty());
    // One positive among them: never discordant.
    let mut with_pos = records.clone();
    with_pos[11] = result("R5", "12:05", pos());
    let f = finals(&run_ticks(with_pos, &["23:00"]));
    assert!(of(&f, DiscordantPool, None).is_empty());
    // A member's positive retest that arrives after the negatives but before
    // the watermark passes them prevents the alert, as in any order.
    let mut late_pos = records.clone();
    late_pos.push(manifest_with(
        "R1b",
        "single",
        "11:30",
        vec![member(1, "301")],
        Some("P1"),
    ));
    late_pos.push(result("R1b", "12:04", pos()));
    let f = finals(&run_ticks(late_pos, &["23:00"]));
    assert!(of(&f, DiscordantPool, None).is_empty());
}

#[test]
fn rule5_inconclusive_single_parallel_retest() {
    let f = finals(&run(vec![
        manifest("S1", "single", "08:00", vec![member(1, "301")]),
        result("S1", "09:30", inconclusive()),
    ]));
    let a = one(&f, ParallelRetest, 1);
    assert_eq!(
        (a.state, a.raised_at, a.due_at),
        (Open, at("09:30"), Some(at("15:30")))
    );
    assert_eq!(f.len(), 1);
}

#[test]
fn rule6_invalid_tube_resamples_every_member() {
    let f = finals(&run(vec![pool5(), result("P1", "09:30", invalid())]));
    assert_eq!(f.len(), 5);
    for i in 1..=5 {
        let a = one(&f, Resample, i);
        assert_eq!(
            (a.state, a.raised_at, a.due_at),
            (Open, at("09:30"), Some(at("15:30")))
        );
    }
    // A later valid tube resolves the resample.
    let f = finals(&run(vec![
        manifest("S1", "single", "08:00", vec![member(1, "301")]),
        result("S1", "09:30", invalid()),
        manifest("S2", "single", "10:00", vec![member(1, "301")]),
        result("S2", "11:00", neg()),
    ]));
    assert_eq!(one(&f, Resample, 1).state, Resolved);
}

/// Runs records then moves the watermark to `tick` with no record.
fn run_ticks(records: Vec<Record>, ticks: &[&str]) -> Vec<Effect> {
    let mut e = Engine::new(EngineConfig::default());
    let mut out = Vec::new();
    for r in records {
        e.handle(r, &mut out);
    }
    for tick in ticks {
        e.observe_time(at(tick), &mut out);
    }
    out
}

#[test]
fn rule7_lab_overdue_after_six_hours_resolved_by_result() {
    let m = manifest(
        "P1",
        "pool",
        "08:00",
        vec![member(1, "301"), member(2, "302")],
    );
    // 6 h after receipt is 15:00; the watermark trails 5 min, so 15:04 is not enough.
    let fx = run_ticks(vec![m.clone(), receipt("P1", "09:00")], &["15:04"]);
    assert!(alerts(&fx).is_empty());
    let fx = run_ticks(vec![m.clone(), receipt("P1", "09:00")], &["15:05"]);
    let f = finals(&fx);
    let a = of(&f, LabOverdue, None);
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].state, a[0].raised_at, a[0].tube_id.as_str()),
        (Open, at("15:00"), "P1")
    );
    let mut records = vec![
        m.clone(),
        receipt("P1", "09:00"),
        result("P1", "16:00", neg()),
    ];
    records.insert(2, receipt("OTHER", "15:10"));
    let f = finals(&run(records));
    let a = of(&f, LabOverdue, None);
    assert_eq!(a.iter().filter(|a| a.tube_id == "P1").count(), 1);
    assert_eq!(
        a.iter().find(|a| a.tube_id == "P1").unwrap().state,
        Resolved
    );
    // A result in time: no alert.
    let fx = run_ticks(
        vec![m, receipt("P1", "09:00"), result("P1", "14:00", neg())],
        &["23:00"],
    );
    assert!(alerts(&fx).is_empty());
}

#[test]
fn rule8_result_missing_after_24_hours() {
    let m = manifest(
        "P1",
        "pool",
        "08:00",
        vec![member(1, "301"), member(2, "302")],
    );
    let mut e = Engine::new(EngineConfig::default());
    let mut out = Vec::new();
    e.handle(m, &mut out);
    e.observe_time(
        Timestamp::parse("2022-05-11T08:04:00+08:00").unwrap(),
        &mut out,
    );
    assert!(alerts(&out).is_empty());
    e.observe_time(
        Timestamp::parse("2022-05-11T08:05:00+08:00").unwrap(),
        &mut out,
    );
    let f = finals(&out);
    let a = of(&f, ResultMissing, None);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].raised_at.to_string(), "2022-05-11T08:00:00+08:00");
    assert_eq!(a[0].region.as_ref().unwrap().street, "Nanhu");
}

#[test]
fn rule9_orphan_result_then_manifest_processed_normally() {
    let r = result("P1", "09:00", pos());
    let fx = run_ticks(vec![r.clone()], &["09:34"]);
    assert!(
        alerts(&fx).is_empty(),
        "not before the watermark passes 09:30"
    );
    let mut e = Engine::new(EngineConfig::default());
    let mut out = Vec::new();
    e.handle(r, &mut out);
    e.observe_time(at("09:35"), &mut out);
    let f = finals(&out);
    let o = of(&f, OrphanResult, None);
    assert_eq!(
        (o.len(), o[0].raised_at, o[0].state),
        (1, at("09:30"), Open)
    );
    // The manifest arrives late: the tube is decided and the orphan resolved.
    e.handle(pool5(), &mut out);
    let f = finals(&out);
    assert_eq!(of(&f, OrphanResult, None)[0].state, Resolved);
    for i in 1..=5 {
        assert_eq!(one(&f, PoolRetest, i).raised_at, at("09:00"));
    }
}

#[test]
fn rule9_result_before_manifest_within_grace_is_no_orphan() {
    let f = finals(&run(vec![result("P1", "09:00", neg()), pool5()]));
    assert!(f.is_empty());
}

#[test]
fn rule10_correction_replaces_everything_that_followed() {
    // Positive single corrected to negative: hospital and isolation resolved.
    let base = vec![
        manifest("S1", "single", "08:00", vec![member(1, "301")]),
        manifest("S9", "single", "08:00", vec![member(9, "301")]),
        result("S9", "09:00", neg()),
        result("S1", "09:00", pos()),
    ];
    let mut records = base.clone();
    records.push(corrected("S1", "10:00", neg()));
    let f = finals(&run(records));
    let ht = one(&f, HospitalTransfer, 1);
    assert_eq!(
        (ht.state, ht.resolved_reason.as_deref()),
        (Resolved, Some("result corrected"))
    );
    let it = one(&f, IsolationTransfer, 9);
    assert_eq!(
        (it.state, it.resolved_reason.as_deref()),
        (Resolved, Some("result corrected"))
    );

    // Negative pool corrected to positive: newly warranted pool retests raised.
    let f = finals(&run(vec![
        pool5(),
        result("P1", "09:00", neg()),
        corrected("P1", "10:00", pos()),
    ]));
    assert_eq!(f.len(), 5);
    assert!(f
        .values()
        .all(|a| a.kind == PoolRetest && a.state == Open && a.raised_at == at("10:00")));

    // A final that arrives after its correction is stale and changes nothing.
    let (fx, d) = run_with(
        EngineConfig::default(),
        vec![
            pool5(),
            corrected("P1", "10:00", neg()),
            result("P1", "09:00", pos()),
        ],
    );
    assert_eq!(d[2], Disposition::Stale);
    assert!(alerts(&fx).is_empty());
}

#[test]
fn rule11_replaying_input_twice_changes_nothing() {
    let records = vec![
        pool5(),
        result("P1", "09:00", pos()),
        receipt("P1", "08:30"),
        manifest_with("R1", "single", "11:00", vec![member(1, "301")], Some("P1")),
        result("R1", "12:00", pos()),
    ];
    let once = run(records.clone());
    let mut twice_input = records.clone();
    twice_input.extend(records);
    let (twice, d) = run_with(EngineConfig::default(), twice_input);
    assert_eq!(once, twice);
    assert!(d[5..].iter().all(|d| *d == Disposition::Duplicate), "{d:?}");
}

#[test]
fn rule12_end_of_input_fires_timers_only_up_to_the_final_watermark() {
    // Manifest at 08:00 and nothing after: result_missing (due next day) never fires.
    let fx = run(vec![pool5()]);
    assert!(alerts(&fx).is_empty());
    // A late record behind the watermark is still processed.
    let fx = run(vec![
        manifest("S1", "single", "12:00", vec![member(1, "301")]),
        result("S1", "13:00", neg()),
        pool5(),
        result("P1", "09:00", pos()),
    ]);
    let f = finals(&fx);
    assert_eq!(of(&f, PoolRetest, Some(1)).len(), 1);
    assert_eq!(one(&f, PoolRetest, 2).state, Open);
    // Person 1's negative single (collected after the pool) already lifted control.
    assert_eq!(one(&f, PoolRetest, 1).state, Resolved);
}

#[test]
fn out_of_order_retest_before_pool_result_gives_same_final_states() {
    let retest = [
        manifest_with("R1", "single", "11:00", vec![member(1, "301")], Some("P1")),
        result("R1", "12:00", neg()),
        manifest_with("R2", "single", "11:00", vec![member(2, "302")], Some("P1")),
        result("R2", "12:00", pos()),
    ];
    let mut in_order = vec![pool5(), result("P1", "09:00", pos())];
    in_order.extend(retest.clone());
    let mut reversed: Vec<Record> = retest.to_vec();
    reversed.extend([result("P1", "09:00", pos()), pool5()]);
    // Records behind the watermark set timers that are already due (the
    // reversed P1 result would be an orphan at once): this test is about
    // the retests, so the watermark stays out of the way.
    let cfg = EngineConfig {
        allowed_lateness_min: 100_000,
        ..EngineConfig::default()
    };
    let a = finals(&run_with(cfg.clone(), in_order).0);
    let b = finals(&run_with(cfg, reversed).0);
    let strip = |m: &std::collections::BTreeMap<String, pooltrace_model::Alert>| {
        m.values()
            .map(|a| {
                (
                    a.alert_id.clone(),
                    a.state,
                    a.raised_at,
                    a.due_at,
                    a.superseded_by.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&a), strip(&b));
    assert_eq!(one(&b, PoolRetest, 1).state, Resolved);
    assert_eq!(one(&b, PoolRetest, 2).state, Superseded);
}

#[test]
fn duplicates_and_conflicts() {
    let (fx, d) = run_with(
        EngineConfig::default(),
        vec![
            pool5(),
            pool5(),
            result("P1", "09:00", pos()),
            result("P1", "09:00", pos()),
            result("P1", "09:10", neg()),
        ],
    );
    assert_eq!(d[1], Disposition::Duplicate);
    assert_eq!(d[3], Disposition::Duplicate);
    assert!(
        matches!(
            d[4],
            Disposition::Rejected(Rejection::ConflictingFinalResult { .. })
        ),
        "{:?}",
        d[4]
    );
    assert_eq!(finals(&fx).len(), 5);
    let other = manifest(
        "P1",
        "pool",
        "08:00",
        vec![member(1, "301"), member(7, "307")],
    );
    let (_, d) = run_with(EngineConfig::default(), vec![pool5(), other]);
    assert!(matches!(
        d[1],
        Disposition::Rejected(Rejection::ConflictingManifest { .. })
    ));
}

#[test]
fn deadlines_are_configurable() {
    let mut cfg = EngineConfig::default();
    cfg.deadlines.pool_retest_min = 90;
    let (fx, _) = run_with(cfg, vec![pool5(), result("P1", "09:00", pos())]);
    assert_eq!(one(&finals(&fx), PoolRetest, 1).due_at, Some(at("10:30")));
}
