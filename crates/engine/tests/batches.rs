//! Non-adaptive batches in the engine: decoded once every pool has a result,
//! `presumptive_positive` for decoded positives, `pool_retest` for what the
//! decoder cannot decide, `batch_incomplete`, and re-decoding on correction.

mod common;

use common::*;
use pooltrace_engine::{Disposition, Effect, Engine, EngineConfig, Rejection};
use pooltrace_model::{AlertKind::*, AlertState::*, PersonOutcome, Record, RecordKind, Timestamp};
use serde_json::json;

/// A 2x3 array: people 1..=6 on a grid; pools 0-1 are rows, 2-4 columns.
const GRID: [&[u32]; 5] = [&[1, 2, 3], &[4, 5, 6], &[1, 4], &[2, 5], &[3, 6]];

fn batch_pool(index: usize, design: &str) -> Record {
    let members: Vec<_> = GRID[index]
        .iter()
        .map(|p| member(*p, &format!("40{p}")))
        .collect();
    rec(
        RecordKind::Manifest,
        json!({"tube_id": format!("B1-P{index}"), "kind": "pool", "collected_at": t("08:00"), "site_id": "SITE-1",
               "region": {"district": "Chaoyang", "street": "Nanhu", "community": "Yuanyi"},
               "members": members, "batch_id": "B1", "design": design, "pool_index": index}),
    )
}

/// Manifests and results of the batch, positive pools as given.
fn batch(positive: &[usize]) -> Vec<Record> {
    let mut r: Vec<Record> = (0..5).map(|i| batch_pool(i, "array-2x3")).collect();
    for i in 0..5 {
        let ct = if positive.contains(&i) { pos() } else { neg() };
        r.push(result(&format!("B1-P{i}"), &format!("09:0{i}"), ct));
    }
    r
}

fn at(hm: &str) -> Timestamp {
    Timestamp::parse(&t(hm)).unwrap()
}

#[test]
fn one_positive_is_decoded_to_a_presumptive_positive() {
    // Person 1 is in row 0 and column 0: only those pools are positive.
    let fx = run(batch(&[0, 2]));
    let f = finals(&fx);
    assert_eq!(f.len(), 1, "{f:#?}");
    let a = one(&f, PresumptivePositive, 1);
    assert_eq!(
        (a.state, a.raised_at, a.due_at),
        (Open, at("09:04"), Some(at("11:04")))
    );
    assert_eq!(a.evidence.batch_id.as_deref(), Some("B1"));
    assert_eq!(a.evidence.decoder.as_deref(), Some("dd"));
    let outcomes: Vec<(String, PersonOutcome, String)> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::PersonOutcome(p) => {
                Some((p.person_id.to_string(), p.outcome, p.decided_by.to_string()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        outcomes.len(),
        6,
        "one row per sample, none per pool: {outcomes:?}"
    );
    // The decoder's evidence travels with each row: person 1 in two positive
    // pools, certainly positive; person 2 in one positive and one negative.
    let evidence = |n: u32| {
        fx.iter()
            .find_map(|e| match e {
                Effect::PersonOutcome(p) if p.person_id == rid(n) => p.decoded,
                _ => None,
            })
            .unwrap()
    };
    let (e1, e2) = (evidence(1), evidence(2));
    assert_eq!(
        (e1.pools_positive, e1.pools_negative, e1.p_positive),
        (2, 0, 1.0)
    );
    assert_eq!(
        (e2.pools_positive, e2.pools_negative, e2.p_positive),
        (1, 1, 0.0)
    );
    for (p, o, by) in &outcomes {
        assert_eq!(by, "dd");
        let expected = if *p == rid(1) {
            PersonOutcome::PoolPositivePending
        } else {
            PersonOutcome::ClearedByPool
        };
        assert_eq!(*o, expected, "{p}");
    }
}

#[test]
fn what_the_decoder_cannot_decide_gets_a_pool_retest() {
    // People 1 and 5 positive: rows 0-1 and columns 0-1 positive; 1, 2, 4, 5
    // all remain possible and none is forced.
    let f = finals(&run(batch(&[0, 1, 2, 3])));
    for p in [1, 2, 4, 5] {
        let a = one(&f, PoolRetest, p);
        assert_eq!(a.state, Open);
        assert_eq!(a.due_at, Some(at("11:04")));
    }
    assert!(of(&f, PresumptivePositive, Some(1)).is_empty());
    assert_eq!(f.len(), 4);
}

#[test]
fn confirmation_supersedes_or_resolves_the_presumptive_positive() {
    // Person 1's single-tube confirmation, with the given result.
    let confirmed = |ct| {
        let mut r = batch(&[0, 2]);
        r.push(manifest_with(
            "C1",
            "single",
            "10:00",
            vec![member(1, "401")],
            Some("B1-P0"),
        ));
        r.push(result("C1", "11:00", ct));
        finals(&run(r))
    };
    let f = confirmed(pos());
    let ht = one(&f, HospitalTransfer, 1);
    let pp = one(&f, PresumptivePositive, 1);
    assert_eq!(
        (pp.state, pp.superseded_by),
        (Superseded, Some(ht.alert_id))
    );
    let f = confirmed(neg());
    assert_eq!(one(&f, PresumptivePositive, 1).state, Resolved);
    assert!(of(&f, HospitalTransfer, Some(1)).is_empty());
}

#[test]
fn incomplete_batch_is_flagged_then_resolved_when_complete() {
    let mut r = batch(&[0, 2]);
    let last = r.pop().unwrap(); // pool 4's result
    let mut e = Engine::new(EngineConfig::default());
    let mut out = Vec::new();
    for rec in r {
        e.handle(rec, &mut out);
    }
    // 6 h after the first result (09:00) plus the 5 min lateness.
    e.observe_time(at("15:04"), &mut out);
    assert!(of(&finals(&out), BatchIncomplete, None).is_empty());
    e.observe_time(at("15:05"), &mut out);
    let f = finals(&out);
    let b = of(&f, BatchIncomplete, None);
    assert_eq!(
        (b.len(), b[0].state, b[0].raised_at, b[0].tube_id.as_str()),
        (1, Open, at("15:00"), "B1")
    );
    assert!(
        b[0].reason.contains("missing pool indices: 4"),
        "{}",
        b[0].reason
    );
    assert!(
        of(&f, PresumptivePositive, Some(1)).is_empty(),
        "not decoded before it is complete"
    );
    e.handle(last, &mut out);
    let f = finals(&out);
    assert_eq!(of(&f, BatchIncomplete, None)[0].state, Resolved);
    assert_eq!(one(&f, PresumptivePositive, 1).state, Open);
}

#[test]
fn corrected_pool_result_re_decodes_the_batch() {
    let mut r = batch(&[0, 2]);
    // The lab corrects rows 0 and 1: row 1 (with column 0) is positive, so
    // the positive is person 4, not person 1.
    r.push(corrected("B1-P0", "10:00", neg()));
    r.push(corrected("B1-P1", "10:00", pos()));
    let f = finals(&run(r));
    let p1 = one(&f, PresumptivePositive, 1);
    assert_eq!(
        (p1.state, p1.resolved_reason.as_deref()),
        (Resolved, Some("result corrected"))
    );
    assert_eq!(one(&f, PresumptivePositive, 4).state, Open);
}

#[test]
fn decoded_positives_can_go_straight_to_hospital() {
    let mut cfg = EngineConfig::default();
    cfg.batch.positives_to_hospital = true;
    let (fx, _) = run_with(cfg, batch(&[0, 2]));
    let f = finals(&fx);
    assert_eq!(one(&f, HospitalTransfer, 1).state, Open);
    assert!(of(&f, PresumptivePositive, Some(1)).is_empty());
}

#[test]
fn bad_batch_pools_are_rejected() {
    // array-1x2 has 3 pools: index 4 is outside it.
    let (_, d) = run_with(
        EngineConfig::default(),
        vec![
            batch_pool(0, "no-such-design"),
            batch_pool(4, "array-1x2"),
            batch_pool(1, "array-2x3"),
        ],
    );
    assert!(
        matches!(&d[0], Disposition::Rejected(Rejection::BadBatchPool { why, .. }) if why.contains("nor a built-in design")),
        "{:?}",
        d[0]
    );
    assert!(
        matches!(&d[1], Disposition::Rejected(Rejection::BadBatchPool { why, .. }) if why.contains("pool_index 4")),
        "{:?}",
        d[1]
    );
    assert_eq!(d[2], Disposition::Processed);
}

#[test]
fn a_design_loaded_from_a_file_is_used_by_its_name() {
    // The runtime loads design files into the config; here one is built
    // directly: the 2x3 grid under the lab's own name.
    let grid = pooltrace_decode::Design::builtin("array-2x3").unwrap();
    let lab =
        pooltrace_decode::Design::new("lab-grid", grid.samples(), grid.pools().to_vec()).unwrap();
    let mut cfg = EngineConfig::default();
    cfg.batch.designs.push(std::sync::Arc::new(lab));
    let mut records: Vec<Record> = (0..5).map(|i| batch_pool(i, "lab-grid")).collect();
    for i in 0..5 {
        let ct = if [0, 2].contains(&i) { pos() } else { neg() };
        records.push(result(&format!("B1-P{i}"), &format!("09:0{i}"), ct));
    }
    let (fx, d) = run_with(cfg, records.clone());
    assert!(d.iter().all(|d| *d == Disposition::Processed), "{d:?}");
    assert_eq!(one(&finals(&fx), PresumptivePositive, 1).state, Open);
    // Without it, the name is unknown and the pools are dead-lettered.
    let (_, d) = run_with(EngineConfig::default(), records);
    assert!(matches!(
        d[0],
        Disposition::Rejected(Rejection::BadBatchPool { .. })
    ));
}
