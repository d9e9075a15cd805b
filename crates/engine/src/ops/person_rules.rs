//! The rules that turn a person's tubes and exposures into alerts.
//!
//! A pure function of the person's state: the same tubes give the same alerts
//! whatever order they arrived in, which is what makes out-of-order input,
//! duplicates and corrections converge.

use pooltrace_model::{alert_id, Alert, AlertKind, Evidence, Interpretation, Timestamp, TubeKind};

use super::person::PersonState;
use super::{new_alert, resolved, superseded};
use crate::config::minutes;
use crate::msg::{Observation, RetestStatus};
use crate::EngineConfig;

/// What a person's state implies.
pub(crate) struct Derived {
    pub alerts: Vec<Alert>,
    /// Confirmed positive since (time, tube), if so.
    pub positive: Option<(Timestamp, String)>,
    /// Retest standing for every flagged pool the person was in.
    pub retests: Vec<PoolRetest>,
}

pub(crate) struct PoolRetest {
    pub pool_tube_id: String,
    pub status: RetestStatus,
    pub retest_tube_id: Option<String>,
    pub reported_at: Option<Timestamp>,
    /// The negative retest (tube, report time), also when a positive
    /// decides the status.
    pub negative: Option<(String, Timestamp)>,
}

fn evidence(o: &Observation) -> Evidence {
    Evidence {
        tube_kind: Some(o.tube_kind),
        interpretation: Some(o.interpretation),
        ct: Some(o.ct),
        lab_id: Some(o.lab_id.clone()),
        kit: o.kit.clone(),
        pool_tube_id: match o.tube_kind {
            TubeKind::Single => o.retest_of.as_deref().map(String::from),
            _ => Some(o.tube_id.to_string()),
        },
        collected_at: Some(o.collected_at),
        reported_at: Some(o.reported_at),
        decoder: o.decided_by().map(|d| d.to_string()),
        ..Evidence::default()
    }
}

fn key(o: &Observation) -> (i64, &str) {
    (o.reported_at.millis(), &*o.tube_id)
}

/// Derives the person's alerts (rules 2-6 and the isolation part of rule 3).
pub(crate) fn derive(st: &PersonState, cfg: &EngineConfig) -> Derived {
    let d = &cfg.deadlines;
    let c = Some(&st.contact);
    let person = st.contact.person_id();
    let mut singles: Vec<&Observation> = st
        .obs
        .iter()
        .map(|o| &**o)
        .filter(|o| o.tube_kind == TubeKind::Single)
        .collect();
    singles.sort_by_key(|o| (o.collected_at.millis(), &*o.tube_id));
    let mut alerts = Vec::new();

    // Rule 3: the first positive single tube sends the person to hospital
    // (or a decoded batch positive, where the program validated its design
    // and chose so). One per person.
    let to_hospital = cfg.batch.positives_to_hospital;
    let first_positive = st
        .obs
        .iter()
        .map(|o| &**o)
        .filter(|o| {
            o.interpretation == Interpretation::Positive
                && (o.tube_kind == TubeKind::Single || (to_hospital && o.batch_id().is_some()))
        })
        .min_by(|a, b| key(a).cmp(&key(b)));
    let ht_id = alert_id(AlertKind::HospitalTransfer, person, "");
    let positive = first_positive.map(|o| (o.reported_at, o.tube_id.to_string()));
    if let Some(o) = first_positive {
        alerts.push(new_alert(
            AlertKind::HospitalTransfer,
            "",
            c,
            &o.tube_id,
            o.reported_at,
            Some(o.reported_at.plus_millis(minutes(d.hospital_transfer_min))),
            format!(
                "Positive single-tube RT-PCR result (tube {}): transfer to a designated hospital.",
                o.tube_id
            ),
            evidence(o),
        ));
    }

    // Rules 2 and 4: every flagged pool or household tube needs a single-tube retest.
    let mut pools: Vec<&Observation> = st
        .obs
        .iter()
        .map(|o| &**o)
        .filter(|o| {
            o.tube_kind != TubeKind::Single
                && matches!(
                    o.interpretation,
                    Interpretation::Positive | Interpretation::Inconclusive
                )
        })
        .collect();
    pools.sort_by(|a, b| key(a).cmp(&key(b)));
    let mut retests = Vec::new();
    for p in pools {
        let linked = singles.iter().filter(|s| {
            s.retest_of.as_deref() == Some(&*p.tube_id)
                || s.collected_at.millis() >= p.collected_at.millis()
        });
        let negative = linked
            .clone()
            .find(|s| s.interpretation == Interpretation::Negative);
        let linked_positive = linked
            .clone()
            .find(|s| s.interpretation == Interpretation::Positive);
        let decoded_positive =
            p.batch_id().is_some() && p.interpretation == Interpretation::Positive;
        if decoded_positive && to_hospital {
            continue; // the decoded positive is itself the hospital transfer's cause
        }
        let decoder = p.decided_by().map_or("", |d| &**d);
        let (kind, due_min, reason) = if decoded_positive {
            (
                AlertKind::PresumptivePositive,
                d.presumptive_positive_min,
                format!(
                    "Batch {} decoded this sample positive ({decoder} decoder): temporary in-place control and a single-tube confirmation. Not yet a confirmed result.",
                    p.tube_id
                ),
            )
        } else if p.batch_id().is_some() {
            (
                AlertKind::PoolRetest,
                d.pool_retest_min,
                format!(
                    "Batch {} could not decide this sample ({decoder} decoder): temporary in-place control and a single-tube resample. This is not the person's own result.",
                    p.tube_id
                ),
            )
        } else {
            let what = if p.interpretation == Interpretation::Positive {
                "tested positive"
            } else {
                "was inconclusive"
            };
            let tube = if p.tube_kind == TubeKind::Household {
                "Household"
            } else {
                "Pool"
            };
            (
                AlertKind::PoolRetest,
                d.pool_retest_min,
                format!(
                    "{tube} tube {} {what}: temporary in-place control and a single-tube resample. This is not the person's own result.",
                    p.tube_id
                ),
            )
        };
        let mut ev = evidence(p);
        ev.batch_id = p.batch_id().map(|b| b.to_string());
        let a = new_alert(
            kind,
            &p.tube_id,
            c,
            &p.tube_id,
            p.reported_at,
            Some(p.reported_at.plus_millis(minutes(due_min))),
            reason,
            ev,
        );
        let (status, by) = if let Some(s) = linked_positive.copied().or(first_positive) {
            alerts.push(superseded(a, &ht_id));
            (RetestStatus::Positive, Some(s))
        } else if let Some(s) = negative {
            let what = if decoded_positive {
                "single-tube confirmation"
            } else {
                "single-tube retest"
            };
            alerts.push(resolved(
                a,
                format!("{what} negative (tube {}): control lifted", s.tube_id),
            ));
            (RetestStatus::Negative, Some(*s))
        } else {
            alerts.push(a);
            (RetestStatus::Pending, None)
        };
        if p.batch_id().is_some() {
            continue; // a batch has no pool follow-up (discordant_pool is per Dorfman pool)
        }
        retests.push(PoolRetest {
            pool_tube_id: p.tube_id.to_string(),
            status,
            retest_tube_id: by.map(|s| s.tube_id.to_string()),
            reported_at: by.map(|s| s.reported_at),
            negative: negative.map(|s| (s.tube_id.to_string(), s.reported_at)),
        });
    }

    // Rule 5: an inconclusive single tube needs a parallel retest with another kit.
    for s in singles
        .iter()
        .filter(|o| o.interpretation == Interpretation::Inconclusive)
    {
        let a = new_alert(
            AlertKind::ParallelRetest,
            &s.tube_id,
            c,
            &s.tube_id,
            s.reported_at,
            Some(s.reported_at.plus_millis(minutes(d.parallel_retest_min))),
            format!(
                "Single tube {} was inconclusive (one target only or grey zone): retest in parallel with a different reagent kit.",
                s.tube_id
            ),
            evidence(s),
        );
        let later_negative = singles.iter().find(|o| {
            o.collected_at.millis() > s.collected_at.millis()
                && o.interpretation == Interpretation::Negative
        });
        alerts.push(if positive.is_some() {
            superseded(a, &ht_id)
        } else if let Some(n) = later_negative {
            resolved(a, format!("parallel retest negative (tube {})", n.tube_id))
        } else {
            a
        });
    }

    // Rule 6: an invalid tube (internal control failed) needs a resample.
    let mut invalid: Vec<&Observation> = st
        .obs
        .iter()
        .map(|o| &**o)
        .filter(|o| o.interpretation == Interpretation::Invalid)
        .collect();
    invalid.sort_by(|a, b| key(a).cmp(&key(b)));
    for i in invalid {
        let a = new_alert(
            AlertKind::Resample,
            &i.tube_id,
            c,
            &i.tube_id,
            i.reported_at,
            Some(i.reported_at.plus_millis(minutes(d.resample_min))),
            format!(
                "Tube {} was invalid (internal control not detected): take a new sample.",
                i.tube_id
            ),
            evidence(i),
        );
        let later = st
            .obs
            .iter()
            .filter(|o| {
                o.collected_at.millis() > i.collected_at.millis()
                    && o.interpretation != Interpretation::Invalid
            })
            .min_by_key(|o| (o.collected_at.millis(), &*o.tube_id));
        alerts.push(if positive.is_some() {
            superseded(a, &ht_id)
        } else if let Some(l) = later {
            resolved(
                a,
                format!(
                    "resampled: tube {} is {}",
                    l.tube_id,
                    l.interpretation.as_str()
                ),
            )
        } else {
            a
        });
    }

    // Rule 3, co-residents: exposure at home to a confirmed positive. A
    // person who is (or becomes) positive goes to hospital instead: the
    // isolation alert is superseded, never left open. It is raised even then,
    // so that the final alert set does not depend on which result arrived
    // first (an alert once sent cannot be unsent).
    for (household, src) in st.exposures() {
        let ev = Evidence {
            positive_person_id: Some(src.person_id.clone()),
            reported_at: Some(src.since),
            ..Evidence::default()
        };
        let a = new_alert(
            AlertKind::IsolationTransfer,
            &format!("{household:032x}"),
            c,
            &src.tube_id,
            src.since,
            Some(src.since.plus_millis(minutes(d.isolation_transfer_min))),
            format!(
                "Lives at the same address as a person confirmed positive by tube {}: close contact, transfer to central isolation (one person per room).",
                src.tube_id
            ),
            ev,
        );
        alerts.push(if positive.is_some() {
            superseded(a, &ht_id)
        } else {
            a
        });
    }

    Derived {
        alerts,
        positive,
        retests,
    }
}
