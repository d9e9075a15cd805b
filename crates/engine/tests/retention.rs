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
