//! The closed loop: the retest records an alert from the pipeline triggers.
//!
//! | alert | response |
//! |---|---|
//! | `pool_retest`, `presumptive_positive` | the person in a single tube, `retest_of` = the alert's tube |
//! | `parallel_retest` | the person in a single tube run with a different kit |
//! | `resample` with a person | the person in a single tube again |
//! | `resample` of a whole screening tube | the same members in a new tube of the same kind |
//! | `result_missing` of a screening tube | the same: the lost tube's members resampled |
//! | anything else | nothing |
//!
//! Retests of a person that came from a pool keep `retest_of` pointing at
//! that pool (`evidence.pool_tube_id`). The tube is collected 1-2 h after
//! `raised_at`, then received and reported with the normal lab delays (no
//! slow lab, no loss, no early result). Its assay is the same model as in
//! screening, undiluted for one person: a truly infected person reads
//! positive when their Ct is at or below the cut-off, anyone else negative
//! (or false positive at the configured rate), and the inconclusive and
//! invalid rates apply, so loops can repeat. Only the first record of an open
//! alert (version 1) is answered; the answer is a function of
//! (seed, config, alert) alone.

use pooltrace_model::{
    validate_tube_id, Alert, AlertKind, AlertState, LabResult, Manifest, Receipt, Record,
    ResultStatus, TubeKind,
};

use crate::city::{parse_tube_id, City};
use crate::labs::{self, lab_id};
use crate::rng::{self, hash_str};
use crate::round::SimRecord;

impl City {
    /// The retest records triggered by `alert` (manifest, receipt, result, in
    /// entry-time order), or none. See the module docs of `retest`.
    pub fn respond(&self, alert: &Alert) -> Vec<SimRecord> {
        if alert.version != 1 || alert.state != AlertState::Open {
            return Vec::new();
        }
        let person = alert
            .person_id
            .as_deref()
            .and_then(|id| self.ids.person_of(id));
        let screened = parse_tube_id(&alert.tube_id).filter(|(_, t)| *t < self.tubes_per_round());
        let pool_of_person = alert.evidence.pool_tube_id.clone();
        let (people, kind, retest_of, parallel) = match (alert.kind, person) {
            (AlertKind::PoolRetest | AlertKind::PresumptivePositive, Some(p)) => (
                p..p + 1,
                TubeKind::Single,
                Some(alert.tube_id.clone()),
                false,
            ),
            (AlertKind::ParallelRetest, Some(p)) => {
                (p..p + 1, TubeKind::Single, pool_of_person, true)
            }
            (AlertKind::Resample, Some(p)) => (p..p + 1, TubeKind::Single, pool_of_person, false),
            (AlertKind::ParallelRetest | AlertKind::Resample | AlertKind::ResultMissing, None) => {
                let Some((_, t)) = screened else {
                    return Vec::new();
                };
                let kind = self.layout.tube_kind[t];
                let parallel = alert.kind == AlertKind::ParallelRetest;
                (self.layout.tube_people(t as u32), kind, None, parallel)
            }
            _ => return Vec::new(),
        };
        let new_id = retest_tube_id(&alert.alert_id);
        let retest_of = retest_of.filter(|of| kind == TubeKind::Single && *of != new_id);

        let mut rng = rng::stream(self.cfg.seed, rng::RETEST, hash_str(&alert.alert_id), 0);
        let timing = labs::retest_timing(&self.cfg, alert.raised_at.millis(), &mut rng);
        let mut cts = Vec::new();
        self.inf.cts_in(people.clone(), &mut cts);
        let assay = crate::assay::run(&self.cfg.assay, &cts, people.len(), &mut rng);

        let c = self.geo.community_of(people.start);
        let lab = u32::from(self.labs[c as usize]);
        let lab_kit = labs::kit_of(&self.cfg, lab);
        let kit = if parallel {
            labs::other_kit(
                &self.cfg,
                Some(alert.evidence.kit.as_deref().unwrap_or(lab_kit)),
            )
        } else {
            lab_kit
        };
        let h = self.geo.household_of(people.start);
        let manifest = Manifest {
            tube_id: new_id.clone(),
            kind,
            collected_at: self.ts(timing.collected),
            site_id: self.site_of(h),
            region: self.regions[c as usize].clone(),
            members: self.members(people, h),
            retest_of,
            batch_id: None,
            design: None,
            pool_index: None,
        };
        let receipt = Receipt {
            tube_id: new_id.clone(),
            lab_id: lab_id(lab),
            received_at: self.ts(timing.received),
        };
        let result = LabResult {
            tube_id: new_id,
            lab_id: lab_id(lab),
            reported_at: self.ts(timing.reported),
            received_at: Some(self.ts(timing.received)),
            kit: Some(kit.to_string()),
            ct: assay.ct,
            call: None,
            status: ResultStatus::Final,
        };
        vec![
            SimRecord {
                emit_at: timing.collected,
                record: Record::Manifest(manifest),
            },
            SimRecord {
                emit_at: timing.received,
                record: Record::Receipt(receipt),
            },
            SimRecord {
                emit_at: timing.reported,
                record: Record::Result(result),
            },
        ]
    }
}

/// The id of the retest tube an alert triggers: `RT-` + the alert id, or a
/// hash of it when the alert id is not a usable tube id.
pub fn retest_tube_id(alert_id: &str) -> String {
    let direct = format!("RT-{alert_id}");
    if validate_tube_id("tube_id", &direct).is_ok() {
        direct
    } else {
        format!("RT-{:016x}", hash_str(alert_id))
    }
}
