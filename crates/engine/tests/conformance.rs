//! The shared conformance examples (tests/conformance at the repository
//! root): each input must produce exactly the expected final alert states.

mod common;

use std::path::PathBuf;

use pooltrace_engine::spill::SpillStores;
use pooltrace_engine::{Engine, EngineConfig};
use pooltrace_model::{decode_record, Record, RecordKind, Timestamp};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance")
}

fn load(name: &str, kind: RecordKind) -> Vec<Record> {
    let path = dir().join(format!(
        "{name}.{}.ndjson",
        if kind == RecordKind::Manifest {
            "manifests"
        } else {
            "results"
        }
    ));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| decode_record(kind, l.as_bytes(), 1 << 20).unwrap())
        .collect()
}

fn check(name: &str) {
    check_with(name, false);
}

/// With `spill`, the engine spills whatever is cold as soon as it may
/// (a store in memory, a budget of one byte): the alerts are the same.
fn check_with(name: &str, spill: bool) {
    let mut records = load(name, RecordKind::Manifest);
    records.extend(load(name, RecordKind::Result));
    // Event-time order across both files, as `pooltrace run` merges them.
    records.sort_by_key(|r| r.event_time().millis());
    let mut engine = Engine::new(EngineConfig {
        spill_after_min: 0,
        ..EngineConfig::default()
    });
    if spill {
        engine.attach_spill(SpillStores::in_memory());
        engine.set_spill_budget(1);
    }
    let mut effects = Vec::new();
    for r in records {
        engine.handle(r, &mut effects);
    }
    assert!(engine.take_spill_error().is_none());
    let finals = common::finals(&effects);
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir().join(format!("{name}.expected.json"))).unwrap(),
    )
    .unwrap();
    let expected = expected["final_alert_states"].as_array().unwrap();
    let instant = |v: &serde_json::Value| Timestamp::parse(v.as_str().unwrap()).unwrap().millis();
    for e in expected {
        let subject = e
            .get("person_id")
            .or(e.get("tube_id"))
            .unwrap()
            .as_str()
            .unwrap();
        let found: Vec<_> = finals
            .values()
            .filter(|a| a.kind.as_str() == e["kind"].as_str().unwrap() && a.subject() == subject)
            .collect();
        assert_eq!(found.len(), 1, "{name}: expected one {e}, found {found:#?}");
        let a = found[0];
        assert_eq!(
            a.state.as_str(),
            e["state"].as_str().unwrap(),
            "{name}: state of {e}"
        );
        assert_eq!(
            a.raised_at.millis(),
            instant(&e["raised_at"]),
            "{name}: raised_at of {e}"
        );
        assert_eq!(
            a.due_at.map(|d| d.millis()),
            e.get("due_at").map(instant),
            "{name}: due_at of {e}"
        );
    }
    assert_eq!(
        finals.len(),
        expected.len(),
        "{name}: no other alert may be raised: {finals:#?}"
    );
}

#[test]
fn positive_pool() {
    check("positive-pool");
}

#[test]
fn invalid_inconclusive() {
    check("invalid-inconclusive");
}

#[test]
fn positive_pool_with_cold_state_spilled() {
    check_with("positive-pool", true);
}

#[test]
fn invalid_inconclusive_with_cold_state_spilled() {
    check_with("invalid-inconclusive", true);
}
