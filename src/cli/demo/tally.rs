//! What the demo counts while the pipeline runs: confirmations and their
//! timing, positive pools, false alerts.

use std::collections::HashMap;

use pooltrace_model::{Alert, AlertKind, Interpretation, TubeKind, TubeResultRow};
use pooltrace_sim::City;

/// One person's `hospital_transfer`.
#[derive(Clone, Copy, Debug)]
pub struct Confirmation {
    /// Raised by the due time of the pool retest that led to it (or direct).
    pub in_time: bool,
    /// Milliseconds from the collection of the tube that first flagged the
    /// person to the `hospital_transfer`.
    pub sample_to_alert_ms: i64,
}

#[derive(Default)]
pub struct Tally {
    /// Confirmed people (index in the city), first `hospital_transfer` only.
    pub confirmed: HashMap<usize, Confirmation>,
    /// `hospital_transfer` alerts for people who are not infected or not residents.
    pub false_alerts: u64,
    /// Pool and household tubes first decided positive.
    pub positive_pools: u64,
    /// Due time of each (person, pool tube) `pool_retest`.
    retest_due: HashMap<(usize, String), i64>,
    /// Earliest collection of a tube that flagged the person (retest alerts).
    first_flag: HashMap<usize, i64>,
}

impl Tally {
    /// Takes one effect of the pipeline into account.
    pub fn tube(&mut self, t: &TubeResultRow) {
        if t.revision == 1
            && t.tube_kind != TubeKind::Single
            && t.interpretation == Interpretation::Positive
        {
            self.positive_pools += 1;
        }
    }

    /// Takes one alert state into account (only first versions count).
    pub fn alert(&mut self, city: &City, a: &Alert) {
        if a.version != 1 {
            return;
        }
        let Some(id) = a.person_id.as_deref() else {
            return;
        };
        let person = city.person_index(id);
        let collected = a.evidence.collected_at.map(|t| t.millis());
        match (a.kind, person) {
            (AlertKind::HospitalTransfer, None) => self.false_alerts += 1,
            (AlertKind::HospitalTransfer, Some(p)) => {
                if !city.truth().is_infected(id) {
                    self.false_alerts += 1;
                }
                let raised = a.raised_at.millis();
                // Direct single-tube positives (no pool behind them) count as in time.
                let in_time = match &a.evidence.pool_tube_id {
                    None => true,
                    Some(pool) => self
                        .retest_due
                        .get(&(p, pool.clone()))
                        .is_some_and(|due| raised <= *due),
                };
                let first = [self.first_flag.get(&p).copied(), collected]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap_or(raised);
                self.confirmed.entry(p).or_insert(Confirmation {
                    in_time,
                    sample_to_alert_ms: raised - first,
                });
            }
            (AlertKind::PoolRetest, Some(p)) => {
                if let Some(due) = a.due_at {
                    self.retest_due.insert((p, a.tube_id.clone()), due.millis());
                }
                self.flagged(p, collected);
            }
            (AlertKind::ParallelRetest | AlertKind::Resample, Some(p)) => {
                self.flagged(p, collected)
            }
            _ => {}
        }
    }

    fn flagged(&mut self, p: usize, collected: Option<i64>) {
        if let Some(c) = collected {
            let e = self.first_flag.entry(p).or_insert(c);
            *e = (*e).min(c);
        }
    }
}
