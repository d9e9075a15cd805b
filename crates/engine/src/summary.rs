//! Counters over everything the engine has seen, for the run summary.

use std::collections::BTreeMap;

use pooltrace_model::{AlertKind, PersonOutcome};
use serde::{de::Error as _, Deserialize, Deserializer};

/// What the engine saw and did.
///
/// Deserializable for engine snapshots: the keys of `outcomes` and
/// `alerts_raised` are read back as the model's own static names (an unknown
/// name is an error), so the map type and the JSON output stay as they are.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub records_processed: u64,
    pub records_duplicate: u64,
    pub records_stale: u64,
    pub records_rejected: u64,
    /// Tube decisions (a correction counts again).
    pub tubes_decided: u64,
    /// Person outcome rows by outcome.
    #[serde(deserialize_with = "outcome_keys")]
    pub outcomes: BTreeMap<&'static str, u64>,
    /// People with an open `hospital_transfer` now.
    pub people_positive: u64,
    /// People with an open retest-type alert and no positive now.
    pub people_pending: u64,
    /// Distinct alerts raised, by kind.
    #[serde(deserialize_with = "alert_kind_keys")]
    pub alerts_raised: BTreeMap<&'static str, u64>,
    /// Alert records written (every state change).
    pub alert_records: u64,
    /// Timers still waiting for the watermark.
    pub timers_pending: u64,
    /// Keys held per operator: (tubes, people, pools, households).
    pub state_sizes: (u64, u64, u64, u64),
    /// Keys forgotten by retention (tubes, people, households).
    pub evicted_tubes: u64,
    pub evicted_people: u64,
    pub evicted_households: u64,
}

impl Summary {
    /// Person outcome rows of one kind.
    pub fn outcome(&self, o: PersonOutcome) -> u64 {
        self.outcomes.get(o.as_str()).copied().unwrap_or(0)
    }

    /// Distinct alerts raised of one kind.
    pub fn raised(&self, k: AlertKind) -> u64 {
        self.alerts_raised.get(k.as_str()).copied().unwrap_or(0)
    }
}

/// Every person outcome (see `outcomes_all_listed`).
const OUTCOMES: [PersonOutcome; 6] = [
    PersonOutcome::ClearedByPool,
    PersonOutcome::PoolPositivePending,
    PersonOutcome::Positive,
    PersonOutcome::Negative,
    PersonOutcome::Inconclusive,
    PersonOutcome::Invalid,
];

/// Fails to compile when the model gains an outcome: then add it to
/// [`OUTCOMES`] too.
#[allow(dead_code)]
fn outcomes_all_listed(o: PersonOutcome) {
    use PersonOutcome::*;
    match o {
        ClearedByPool | PoolPositivePending | Positive | Negative | Inconclusive | Invalid => {}
    }
}

/// A counter map whose keys must be one of `names`, read back as those
/// `&'static str`.
fn static_keys<'de, D: Deserializer<'de>>(
    d: D,
    names: &[&'static str],
    what: &str,
) -> Result<BTreeMap<&'static str, u64>, D::Error> {
    let owned = BTreeMap::<String, u64>::deserialize(d)?;
    owned
        .into_iter()
        .map(|(k, v)| match names.iter().find(|n| **n == k) {
            Some(n) => Ok((*n, v)),
            None => Err(D::Error::custom(format!("unknown {what} `{k}`"))),
        })
        .collect()
}

fn outcome_keys<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<&'static str, u64>, D::Error> {
    let names = OUTCOMES.map(PersonOutcome::as_str);
    static_keys(d, &names, "person outcome")
}

fn alert_kind_keys<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<&'static str, u64>, D::Error> {
    let names = AlertKind::ALL.map(AlertKind::as_str);
    static_keys(d, &names, "alert kind")
}
