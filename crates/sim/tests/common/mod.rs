//! Shared helpers for the integration tests.
#![allow(dead_code)]

use pooltrace_model::{
    alert_id, Alert, AlertKind, AlertState, Evidence, LabResult, Manifest, Receipt, Record,
    Timestamp,
};
use pooltrace_sim::{City, SimConfig, SimRecord};

/// A city of `people` with the default config and `seed`.
pub fn city(people: u32, seed: u64) -> City {
    City::generate(&SimConfig {
        people,
        seed,
        ..SimConfig::default()
    })
    .expect("valid config")
}

/// Four binomial standard deviations of a count of `n` trials at rate `p`.
pub fn four_sd(n: f64, p: f64) -> f64 {
    4.0 * (n * p * (1.0 - p)).sqrt()
}

/// The records of round 0 split by stream, with their entry times.
#[derive(Default)]
pub struct Split {
    pub manifests: Vec<(i64, Manifest)>,
    pub results: Vec<(i64, LabResult)>,
    pub receipts: Vec<(i64, Receipt)>,
}

pub fn split(records: impl IntoIterator<Item = SimRecord>) -> Split {
    let mut s = Split::default();
    for r in records {
        match r.record {
            Record::Manifest(m) => s.manifests.push((r.emit_at, m)),
            Record::Result(x) => s.results.push((r.emit_at, x)),
            Record::Receipt(x) => s.receipts.push((r.emit_at, x)),
        }
    }
    s
}

/// An open, version-1 alert of `kind` about `person` (or the tube), caused
/// by `tube`, raised at `raised`: what the pipeline hands the simulator.
pub fn alert_at(kind: AlertKind, person: Option<String>, tube: &str, raised: Timestamp) -> Alert {
    Alert {
        alert_id: alert_id(kind, person.as_deref().unwrap_or(tube), tube),
        version: 1,
        kind,
        state: AlertState::Open,
        person_id: person,
        tube_id: tube.to_string(),
        raised_at: raised,
        due_at: None,
        updated_at: raised,
        region: None,
        name: None,
        phone: None,
        address: None,
        reason: "test".into(),
        evidence: Evidence::default(),
        superseded_by: None,
        resolved_reason: None,
    }
}
