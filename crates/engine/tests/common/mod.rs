//! Shared helpers for the engine tests: record builders and a runner.
#![allow(dead_code)]

pub mod random_tubes;

use std::collections::BTreeMap;

use pooltrace_engine::{Disposition, Effect, Engine, EngineConfig};
use pooltrace_model::{decode_record, Alert, AlertKind, AlertState, Record, RecordKind};
use serde_json::json;

pub const DAY: &str = "2022-05-10";

/// `HH:MM` on the test day at +08:00.
pub fn t(hm: &str) -> String {
    format!("{DAY}T{hm}:00+08:00")
}

/// A valid resident id made from a 17-digit prefix.
pub fn rid(n: u32) -> String {
    let first17 = format!("22010219610{:06}", n);
    let check = pooltrace_model::resident_id_check_char(first17.as_bytes()).unwrap();
    format!("{first17}{}", check as char)
}

pub fn member(n: u32, room: &str) -> serde_json::Value {
    json!({"person_id": rid(n), "name": format!("Person {n}"), "phone": format!("159{:08}", n),
           "address": {"compound": "Garden", "building": "7", "unit": "2", "room": room}})
}

pub fn manifest(tube: &str, kind: &str, at: &str, members: Vec<serde_json::Value>) -> Record {
    manifest_with(tube, kind, at, members, None)
}

pub fn manifest_with(
    tube: &str,
    kind: &str,
    at: &str,
    members: Vec<serde_json::Value>,
    retest_of: Option<&str>,
) -> Record {
    let mut v = json!({"tube_id": tube, "kind": kind, "collected_at": t(at), "site_id": "SITE-1",
        "region": {"district": "Chaoyang", "street": "Nanhu", "community": "Yuanyi"}, "members": members});
    if let Some(of) = retest_of {
        v["retest_of"] = json!(of);
    }
    rec(RecordKind::Manifest, v)
}

pub fn result(tube: &str, at: &str, ct: serde_json::Value) -> Record {
    rec(
        RecordKind::Result,
        json!({"tube_id": tube, "lab_id": "LAB-A", "reported_at": t(at), "kit": "KIT-1", "ct": ct}),
    )
}

pub fn corrected(tube: &str, at: &str, ct: serde_json::Value) -> Record {
    rec(
        RecordKind::Result,
        json!({"tube_id": tube, "lab_id": "LAB-A", "reported_at": t(at), "kit": "KIT-1", "ct": ct, "status": "corrected"}),
    )
}

pub fn receipt(tube: &str, at: &str) -> Record {
    rec(
        RecordKind::Receipt,
        json!({"tube_id": tube, "lab_id": "LAB-A", "received_at": t(at)}),
    )
}

pub fn pos() -> serde_json::Value {
    json!({"ORF1ab": 31.2, "N": 30.4, "IC": 27.0})
}
pub fn neg() -> serde_json::Value {
    json!({"IC": 27.0})
}
pub fn inconclusive() -> serde_json::Value {
    json!({"N": 35.5, "IC": 27.0})
}
pub fn invalid() -> serde_json::Value {
    json!({})
}

pub fn rec(kind: RecordKind, v: serde_json::Value) -> Record {
    decode_record(kind, v.to_string().as_bytes(), 1 << 20)
        .unwrap_or_else(|e| panic!("bad test record {v}: {e}"))
}

/// Runs records through a fresh engine; returns effects and dispositions.
pub fn run_with(cfg: EngineConfig, records: Vec<Record>) -> (Vec<Effect>, Vec<Disposition>) {
    let mut engine = Engine::new(cfg);
    let mut out = Vec::new();
    let d = records
        .into_iter()
        .map(|r| engine.handle(r, &mut out))
        .collect();
    (out, d)
}

pub fn run(records: Vec<Record>) -> Vec<Effect> {
    run_with(EngineConfig::default(), records).0
}

pub fn alerts(effects: &[Effect]) -> Vec<&Alert> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Alert(a) => Some(&**a),
            _ => None,
        })
        .collect()
}

/// Final state of every alert (last record per alert_id), checking versions
/// increase by one per alert.
pub fn finals(effects: &[Effect]) -> BTreeMap<String, Alert> {
    let mut m: BTreeMap<String, Alert> = BTreeMap::new();
    for a in alerts(effects) {
        let expected = m.get(&a.alert_id).map_or(1, |p| p.version + 1);
        assert_eq!(
            a.version, expected,
            "versions of {} must count up by one",
            a.alert_id
        );
        m.insert(a.alert_id.clone(), a.clone());
    }
    m
}

/// The final alerts of a kind for a person (by resident-id number).
pub fn of(f: &BTreeMap<String, Alert>, kind: AlertKind, person: Option<u32>) -> Vec<Alert> {
    f.values()
        .filter(|a| a.kind == kind && a.person_id == person.map(rid))
        .cloned()
        .collect()
}

pub fn one(f: &BTreeMap<String, Alert>, kind: AlertKind, person: u32) -> Alert {
    let v = of(f, kind, Some(person));
    assert_eq!(
        v.len(),
        1,
        "expected one {kind:?} for person {person}, got {v:#?}"
    );
    v.into_iter().next().unwrap()
}

pub fn kinds(f: &BTreeMap<String, Alert>) -> BTreeMap<(AlertKind, AlertState), usize> {
    let mut m = BTreeMap::new();
    for a in f.values() {
        *m.entry((a.kind, a.state)).or_default() += 1;
    }
    m
}
