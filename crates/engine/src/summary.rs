//! Counters over everything the engine has seen, for the run summary.

use std::collections::BTreeMap;

use pooltrace_model::{AlertKind, PersonOutcome};

/// What the engine saw and did.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    pub records_processed: u64,
    pub records_duplicate: u64,
    pub records_stale: u64,
    pub records_rejected: u64,
    /// Tube decisions (a correction counts again).
    pub tubes_decided: u64,
    /// Person outcome rows by outcome.
    pub outcomes: BTreeMap<&'static str, u64>,
    /// People with an open `hospital_transfer` now.
    pub people_positive: u64,
    /// People with an open retest-type alert and no positive now.
    pub people_pending: u64,
    /// Distinct alerts raised, by kind.
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
