//! The closed loop: alerts in, retest records out.

mod common;

use pooltrace_model::{
    Alert, AlertKind, AlertState, CtRules, Interpretation, Record, Timestamp, TubeKind,
};
use pooltrace_sim::{retest_tube_id, tube_id, AssayConfig, City, SimConfig, SimRecord};

fn city() -> City {
    City::generate(&SimConfig {
        people: 50_000,
        prevalence: 0.01,
        assay: AssayConfig {
            inconclusive_rate: 0.0,
            invalid_rate: 0.0,
            ..AssayConfig::default()
        },
        ..SimConfig::default()
    })
    .unwrap()
}

fn alert(kind: AlertKind, person: Option<String>, tube: &str) -> Alert {
    common::alert_at(
        kind,
        person,
        tube,
        Timestamp::parse("2022-04-04T20:00:00+08:00").unwrap(),
    )
}

fn parts(recs: &[SimRecord]) -> (&pooltrace_model::Manifest, &pooltrace_model::LabResult) {
    assert_eq!(recs.len(), 3);
    assert!(recs.windows(2).all(|w| w[0].emit_at <= w[1].emit_at));
    let Record::Manifest(m) = &recs[0].record else {
        panic!("manifest first")
    };
    assert!(matches!(recs[1].record, Record::Receipt(_)));
    let Record::Result(r) = &recs[2].record else {
        panic!("result last")
    };
    m.validate().unwrap();
    r.validate().unwrap();
    (m, r)
}

#[test]
fn pool_retest_gives_a_single_tube_of_the_pool_and_a_later_result() {
    let city = city();
    let truth = city.truth();
    let (i, t) = truth
        .infected()
        .iter()
        .zip(&truth.rounds()[0].tubes)
        .find(|(i, t)| t.kind == TubeKind::Pool && i.ct < 38.0)
        .expect("an infected pool member");
    let pool = tube_id(0, t.tube);
    let a = alert(AlertKind::PoolRetest, Some(i.person_id.clone()), &pool);
    let recs = city.respond(&a);
    let (m, r) = parts(&recs);
    assert_eq!(m.kind, TubeKind::Single);
    assert_eq!(m.retest_of.as_deref(), Some(pool.as_str()));
    assert_eq!(m.tube_id, retest_tube_id(&a.alert_id));
    assert_eq!(m.members.len(), 1);
    assert_eq!(m.members[0].person_id, i.person_id);
    let hours = (m.collected_at.millis() - a.raised_at.millis()) as f64 / 3.6e6;
    assert!((1.0..=2.0).contains(&hours), "{hours}");
    assert!(r.reported_at.millis() > m.collected_at.millis());
    assert_eq!(r.tube_id, m.tube_id);
    assert_eq!(
        CtRules::default().interpret(r),
        Interpretation::Positive,
        "{:?}",
        r.ct
    );
    // Deterministic for the same alert.
    assert_eq!(city.respond(&a), recs);

    // A healthy pool member re-tests negative.
    let healthy = city
        .tube_members(t.tube)
        .find(|p| !truth.is_infected(&city.person_id(*p)))
        .unwrap();
    let recs = city.respond(&alert(
        AlertKind::PoolRetest,
        Some(city.person_id(healthy)),
        &pool,
    ));
    assert_eq!(
        CtRules::default().interpret(parts(&recs).1),
        Interpretation::Negative
    );
}

#[test]
fn updates_closed_alerts_and_other_kinds_give_nothing() {
    let city = city();
    let person = Some(city.person_id(17));
    let pool = tube_id(0, city.tube_of(17));
    let mut a = alert(AlertKind::PoolRetest, person.clone(), &pool);
    a.version = 2;
    assert!(city.respond(&a).is_empty());
    let mut a = alert(AlertKind::PoolRetest, person.clone(), &pool);
    a.state = AlertState::Resolved;
    assert!(city.respond(&a).is_empty());
    a.state = AlertState::Superseded;
    assert!(city.respond(&a).is_empty());
    for kind in [
        AlertKind::HospitalTransfer,
        AlertKind::IsolationTransfer,
        AlertKind::LabOverdue,
        AlertKind::DiscordantPool,
    ] {
        assert!(
            city.respond(&alert(kind, person.clone(), &pool)).is_empty(),
            "{kind:?}"
        );
    }
    // A person from elsewhere is not resampled.
    assert!(city
        .respond(&alert(
            AlertKind::PoolRetest,
            Some("22010219610708001X".into()),
            &pool
        ))
        .is_empty());
}

#[test]
fn parallel_retest_uses_another_kit_and_resample_recollects() {
    let city = city();
    let p = 1234;
    let single = tube_id(0, city.tube_of(p));
    let mut a = alert(AlertKind::ParallelRetest, Some(city.person_id(p)), &single);
    a.evidence.kit = Some("KIT-2".into());
    a.evidence.pool_tube_id = Some("T00-00000042".into());
    let recs = city.respond(&a);
    let (m, r) = parts(&recs);
    assert_ne!(r.kit.as_deref(), Some("KIT-2"));
    assert_eq!(m.retest_of.as_deref(), Some("T00-00000042"));

    // An invalid screening tube without a person: the same members again.
    let t = (0..city.tubes_per_round())
        .find(|t| city.tube_kind(*t) == TubeKind::Pool)
        .unwrap();
    let recs = city.respond(&alert(AlertKind::Resample, None, &tube_id(0, t)));
    let (m, _) = parts(&recs);
    assert_eq!(m.kind, TubeKind::Pool);
    assert_eq!(m.members.len(), city.tube_members(t).len());
    assert_eq!(
        m.members[0].person_id,
        city.person_id(city.tube_members(t).start)
    );
    assert_eq!(m.retest_of, None);
}
