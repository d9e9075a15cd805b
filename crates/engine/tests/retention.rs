//! Retention: state of settled keys is forgotten once the watermark is
//! `retention_hours` past them, so a long-running engine's memory does not
//! grow with the people it has cleared; people with an open alert are kept.

mod common;

use common::*;
use pooltrace_engine::{Engine, EngineConfig};
use pooltrace_model::{AlertKind, Timestamp};

fn day(d: u32, hm: &str) -> Timestamp {
    Timestamp::parse(&format!("2022-05-{d:02}T{hm}:00+08:00")).unwrap()
}

#[test]
fn cleared_people_and_settled_tubes_are_forgotten_open_alerts_are_kept() {
    let mut e = Engine::new(EngineConfig::default());
    let mut out = Vec::new();
    // A negative pool (cleared) and a positive single (open hospital transfer).
    for r in [
        manifest(
            "P1",
            "pool",
            "08:00",
            (1..=5).map(|i| member(i, &format!("30{i}"))).collect(),
        ),
        result("P1", "09:00", neg()),
        manifest("S9", "single", "08:00", vec![member(9, "309")]),
        result("S9", "09:00", pos()),
    ] {
        e.handle(r, &mut out);
    }
    let s = e.summary();
    assert_eq!(
        (s.state_sizes.0, s.state_sizes.1),
        (2, 1),
        "two tubes, one person with an alert"
    );
    assert_eq!(s.state_sizes.3, 6, "six households (rooms) seen");
    // Just inside the 72 h window: nothing forgotten.
    e.observe_time(day(13, "09:00"), &mut out);
    assert_eq!(e.summary().state_sizes.0, 2);
    // Past it: tubes and households go, the person with an open alert stays.
    e.observe_time(day(13, "11:00"), &mut out);
    let s = e.summary();
    assert_eq!(s.state_sizes, (0, 1, 0, 0), "{s:?}");
    assert_eq!((s.evicted_tubes, s.evicted_households), (2, 6));
    let f = finals(&out);
    assert_eq!(
        one(&f, AlertKind::HospitalTransfer, 9).state,
        pooltrace_model::AlertState::Open
    );
}

#[test]
fn retention_zero_keeps_everything() {
    let cfg = EngineConfig {
        retention_hours: 0,
        ..EngineConfig::default()
    };
    let mut e = Engine::new(cfg);
    let mut out = Vec::new();
    e.handle(
        manifest(
            "P1",
            "pool",
            "08:00",
            vec![member(1, "301"), member(2, "302")],
        ),
        &mut out,
    );
    e.handle(result("P1", "09:00", neg()), &mut out);
    e.observe_time(day(30, "09:00"), &mut out);
    assert_eq!(e.summary().state_sizes.0, 1);
}

#[test]
fn retention_shorter_than_a_timer_is_refused() {
    let cfg = EngineConfig {
        retention_hours: 12,
        ..EngineConfig::default()
    };
    let e = cfg.validate().unwrap_err();
    assert!(e.contains("retention_hours = 12"), "{e}");
}

/// A pool tube of `members` collected on day `d` at 08:00, negative at 09:00.
fn negative_pool_on(
    d: u32,
    tube: &str,
    members: Vec<serde_json::Value>,
) -> [pooltrace_model::Record; 2] {
    use pooltrace_model::RecordKind;
    let at = |hm| day(d, hm).to_string();
    [
        rec(
            RecordKind::Manifest,
            serde_json::json!({"tube_id": tube, "kind": "pool", "collected_at": at("08:00"), "site_id": "SITE-1",
                "region": {"district": "Chaoyang", "street": "Nanhu", "community": "Yuanyi"}, "members": members}),
        ),
        rec(
            RecordKind::Result,
            serde_json::json!({"tube_id": tube, "lab_id": "LAB-A", "reported_at": at("09:00"), "kit": "KIT-1", "ct": neg()}),
        ),
    ]
}

/// Sweeps skip their scan while nothing can be old enough (the operators
/// keep a lower bound of their entries' times). A late record older than
/// everything seen by the last scan must lower that bound, or its state
/// would never be forgotten.
#[test]
fn a_late_record_older_than_the_last_sweep_saw_is_forgotten_on_time() {
    let mut e = Engine::new(EngineConfig::default());
    let mut out = Vec::new();
    for r in negative_pool_on(10, "P1", vec![member(1, "301"), member(2, "302")]) {
        e.handle(r, &mut out);
    }
    // A sweep scans (nothing to forget yet) and learns the oldest time: day 10.
    e.observe_time(day(11, "12:00"), &mut out);
    // A day late: day 9's pool, older than anything the sweep saw.
    for r in negative_pool_on(9, "P0", vec![member(3, "303"), member(4, "304")]) {
        e.handle(r, &mut out);
    }
    assert_eq!(e.summary().state_sizes.0, 2);
    // 72 h after day 9's pool: it goes (day 10's stays).
    e.observe_time(day(12, "10:00"), &mut out);
    let s = e.summary();
    assert_eq!((s.state_sizes.0, s.state_sizes.3), (1, 2), "{s:?}");
    assert_eq!((s.evicted_tubes, s.evicted_households), (1, 2));
    // And then day 10's, 72 h after it.
    e.observe_time(day(13, "10:00"), &mut out);
    let s = e.summary();
    assert_eq!((s.state_sizes.0, s.state_sizes.3), (0, 0), "{s:?}");
}

/// A tube's timers go when their firing can no longer raise anything, not
/// a day later: `result_missing` and `lab_overdue` when its result comes,
/// `orphan_result` when its manifest comes (in either order).
#[test]
fn a_decided_tube_holds_no_timers() {
    let mut e = Engine::new(EngineConfig::default());
    let mut out = Vec::new();
    let pending = |e: &Engine| e.summary().timers_pending;
    e.handle(
        manifest("M1", "single", "08:00", vec![member(1, "301")]),
        &mut out,
    );
    e.handle(receipt("M1", "08:30"), &mut out);
    assert_eq!(pending(&e), 2, "result_missing and lab_overdue");
    e.handle(result("M1", "09:00", neg()), &mut out);
    assert_eq!(pending(&e), 0, "the result settles both");
    // Result first: an orphan timer, settled by the manifest.
    e.handle(result("R2", "09:10", neg()), &mut out);
    assert_eq!(pending(&e), 1, "orphan_result");
    e.handle(
        manifest("R2", "single", "08:10", vec![member(2, "302")]),
        &mut out,
    );
    assert_eq!(pending(&e), 0);
    // No alert was lost: a tube still waiting keeps its timer and fires.
    e.handle(
        manifest("W3", "single", "09:20", vec![member(3, "303")]),
        &mut out,
    );
    assert_eq!(pending(&e), 1);
    e.observe_time(day(11, "12:00"), &mut out);
    let f = finals(&out);
    assert_eq!(
        kinds(&f)
            .into_iter()
            .map(|((k, _), n)| (k, n))
            .collect::<Vec<_>>(),
        [(AlertKind::ResultMissing, 1)],
        "only the tube without a result: {f:?}"
    );
}
