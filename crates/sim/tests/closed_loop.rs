//! The closed loop: rounds merged with retests in entry order; missed people explained.

mod common;

use pooltrace_model::{Alert, AlertKind, Record, TubeKind};
use pooltrace_sim::{
    tube_id, City, ClosedLoop, LoopSource, MissReason, SimConfig, SimRecord, TubeOutcome,
};

fn city(rounds: u32, lost_tube_rate: f64) -> City {
    City::generate(&SimConfig {
        people: 30_000,
        prevalence: 0.01,
        rounds,
        lost_tube_rate,
        ..SimConfig::default()
    })
    .unwrap()
}

fn alert(kind: AlertKind, person: Option<String>, tube: &str, raised_ms: i64) -> Alert {
    common::alert_at(
        kind,
        person,
        tube,
        pooltrace_model::Timestamp::from_millis(raised_ms, 8 * 3600),
    )
}

#[test]
fn without_alerts_the_loop_is_the_rounds_in_entry_order() {
    let city = city(2, 0.0005);
    let out: Vec<_> = ClosedLoop::new(&city).collect();
    let mut expected: Vec<SimRecord> = city.round(0).chain(city.round(1)).collect();
    expected.sort_by_key(|r| r.emit_at);
    assert_eq!(out.len(), expected.len());
    assert!(out.windows(2).all(|w| w[0].emit_at <= w[1].emit_at));
    assert!(out.iter().enumerate().all(|(i, r)| r.seq == i as u64));
    let round1 = out
        .iter()
        .filter(|r| r.source == LoopSource::Screening(1))
        .count();
    assert_eq!(round1, city.round(1).len());
    // Same multiset of records: compare the tube ids and times.
    let key = |t: i64, r: &Record| (t, r.tube_id().to_string(), r.kind());
    let mut a: Vec<_> = out.iter().map(|r| key(r.emit_at, &r.record)).collect();
    let mut b: Vec<_> = expected.iter().map(|r| key(r.emit_at, &r.record)).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn retests_are_merged_in_entry_order_and_counted() {
    let city = city(1, 0.0);
    let mut lp = ClosedLoop::new(&city);
    let mut out = Vec::new();
    let mut answered = 0;
    while let Some(r) = lp.next_record() {
        // Answer every positive pool result with a pool retest of its first member.
        if let Record::Result(res) = &r.record {
            if let Some((_, t)) = pooltrace_sim::parse_tube_id(&res.tube_id) {
                let truth_pos = city.truth().rounds()[0]
                    .tubes
                    .iter()
                    .any(|it| it.tube == t && it.outcome == TubeOutcome::Positive);
                if truth_pos && city.tube_kind(t) == TubeKind::Pool {
                    let p = city.person_id(city.tube_members(t).start);
                    let a = alert(AlertKind::PoolRetest, Some(p), &res.tube_id, r.emit_at);
                    assert_eq!(lp.respond(&a), 3);
                    answered += 1;
                }
            }
        }
        out.push(r);
    }
    assert!(answered > 20, "{answered}");
    assert!(out.windows(2).all(|w| w[0].emit_at <= w[1].emit_at));
    let retests = out
        .iter()
        .filter(|r| r.source == LoopSource::Retest)
        .count();
    assert_eq!(retests, 3 * answered);
    let s = lp.stats();
    assert_eq!(
        (s.retest_tubes, s.alerts_answered, s.queued),
        (answered as u64, answered as u64, 0)
    );
    assert_eq!(s.screening_tubes, city.tubes_per_round() as u64);
}

#[test]
fn result_missing_resamples_the_lost_tube_and_explains_misses() {
    let city = city(1, 0.02);
    let truth = city.truth();
    let rt = &truth.rounds()[0];
    let lost = rt
        .tubes
        .iter()
        .position(|t| t.outcome == TubeOutcome::Lost)
        .expect("an infected person in a lost tube");
    let lost_tube = tube_id(0, rt.tubes[lost].tube);
    let mut lp = ClosedLoop::new(&city);
    while lp.next_record().is_some() {}
    assert_eq!(lp.why_missed(lost), MissReason::TubeLost);
    // A positive single tube without a hospital transfer cannot be explained.
    if let Some(i) = rt
        .tubes
        .iter()
        .position(|t| t.size == 1 && t.outcome == TubeOutcome::Positive)
    {
        assert_eq!(lp.why_missed(i), MissReason::Unexplained);
    }
    // A positive pool without a retest cannot either.
    let pool = rt
        .tubes
        .iter()
        .position(|t| t.size > 1 && t.outcome == TubeOutcome::Positive)
        .expect("a positive pool");
    assert_eq!(lp.why_missed(pool), MissReason::Unexplained);
    if let Some(i) = rt
        .tubes
        .iter()
        .position(|t| t.outcome == TubeOutcome::Negative)
    {
        assert_eq!(lp.why_missed(i), MissReason::Undetectable);
    }

    // `result_missing` of the lost tube: the same members in a new tube.
    let raised = city.config().start.millis() + 30 * 3_600_000;
    let a = alert(AlertKind::ResultMissing, None, &lost_tube, raised);
    assert_eq!(lp.respond(&a), 3);
    let recs: Vec<_> = std::iter::from_fn(|| lp.next_record()).collect();
    let Record::Manifest(m) = &recs[0].record else {
        panic!("manifest first")
    };
    assert_eq!(m.kind, city.tube_kind(rt.tubes[lost].tube));
    assert_eq!(m.members.len(), rt.tubes[lost].size);
    assert!(m.collected_at.millis() > raised);
    // Now followed by a retest: no longer a lost tube.
    assert_ne!(lp.why_missed(lost), MissReason::TubeLost);
}
