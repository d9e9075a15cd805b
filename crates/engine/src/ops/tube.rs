//! The tube operator (key: tube id). Joins a tube's manifest, result and
//! receipt; decides the tube when manifest and result are both there; owns
//! the tube's own alerts (`orphan_result`, `lab_overdue`, `result_missing`).
//!
//! A tube keeps its manifest, result and receipt packed
//! (`tube_state.rs`) until retention forgets it: a corrected result
//! re-decides the tube, and the household directory's contacts point into
//! its manifest. With a spill store, a decided tube nobody touches may
//! wait on disk meanwhile (`tube_cold.rs`).

use std::sync::Arc;

use compact_str::CompactString;
use rustc_hash::FxHashMap as HashMap;

use pooltrace_model::{
    AlertKind, Evidence, LabResult, Manifest, Receipt, Record, ResultStatus, Timestamp, TubeKind,
    TubeResultRow,
};

use super::{new_alert, resolved, Outbox};
use crate::config::minutes;
use crate::contact::HouseholdKeys;
use crate::msg::{BatchPool, Contact, Msg, Observation};
use crate::packed::{to_region, PackedManifest};
use crate::packed_result::{PackedReceipt, PackedResult};

use super::oldest::Oldest;
use super::tube_state::TubeState;
use crate::spill::Cold;
use crate::timers::TimerKind;
use crate::{Disposition, Effect, EngineConfig, Rejection};

/// What applying a record did; a rejected record is handed back.
pub type Applied = Result<Disposition, Box<(Rejection, Record)>>;

/// All tubes' state.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct TubeOp {
    /// By tube id, stored inline (ids up to 24 bytes): a lookup neither
    /// allocates a key nor follows a pointer to compare one.
    pub(super) tubes: HashMap<CompactString, TubeState>,
    /// Lower bound of the tubes' `last_at` (not snapshotted: relearnt).
    #[serde(skip)]
    pub(super) oldest: Oldest,
    /// Rebuilt from the config, not snapshotted.
    #[serde(skip)]
    designs: super::batch::Designs,
    /// Tubes spilled out of memory (`tube_cold.rs`), when the engine has
    /// a store. Never in a snapshot (an engine with a store refuses one).
    #[serde(skip)]
    pub(super) cold: Option<Cold>,
    /// Bytes of the packed manifests of the tubes in memory.
    #[serde(skip)]
    pub(super) manifest_bytes: usize,
}

/// How a result ranks against another for the same tube: corrections beat
/// finals, later corrections beat earlier ones (two different finals conflict).
fn rank(r: &LabResult) -> (ResultStatus, i64) {
    (r.status, r.reported_at.millis())
}

impl TubeOp {
    /// A tube operator that accepts batch pools of the `loaded` designs
    /// besides the built-in ones.
    pub fn new(loaded: &[Arc<pooltrace_decode::Design>]) -> Self {
        TubeOp {
            tubes: HashMap::default(),
            oldest: Oldest::default(),
            designs: super::batch::Designs::new(loaded),
            cold: None,
            manifest_bytes: 0,
        }
    }

    /// Makes room for `additional` more tubes.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.tubes.reserve(additional);
    }

    /// Number of tubes held, in memory or spilled.
    pub fn len(&self) -> usize {
        self.tubes.len() + self.cold.as_ref().map_or(0, Cold::len)
    }

    /// After a restore: takes what comes from the config (the designs) from
    /// `fresh`, the operator of a newly built engine, and counts the bytes
    /// of the manifests restored.
    pub(crate) fn adopt_config(&mut self, fresh: &mut TubeOp) {
        self.designs = std::mem::take(&mut fresh.designs);
        self.manifest_bytes = self
            .tubes
            .values()
            .filter_map(|t| t.manifest.as_ref())
            .map(|m| m.as_bytes().len())
            .sum();
    }

    /// True when no tube is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A manifest arrived.
    pub fn on_manifest(&mut self, m: Manifest, cfg: &EngineConfig, ob: &mut Outbox) -> Applied {
        if let Err(why) = self.check_batch(&m) {
            let rejection = Rejection::BadBatchPool {
                tube_id: m.tube_id.clone(),
                design: m.design.clone().unwrap_or_default(),
                why,
            };
            return Err(Box::new((rejection, Record::Manifest(m))));
        }
        self.thaw(&m.tube_id);
        let st = self
            .tubes
            .entry(CompactString::from(m.tube_id.as_str()))
            .or_default();
        st.last_at = st.last_at.max(m.collected_at.millis());
        self.oldest.note(m.collected_at.millis());
        let packed = PackedManifest::pack(&m);
        if let Some(existing) = &st.manifest {
            return if **existing == packed {
                Ok(Disposition::Duplicate)
            } else {
                let tube_id = m.tube_id.clone();
                Err(Box::new((
                    Rejection::ConflictingManifest { tube_id },
                    Record::Manifest(m),
                )))
            };
        }
        self.manifest_bytes += packed.as_bytes().len();
        let packed = Arc::new(packed);
        let mut households = HouseholdKeys::new(region_parts(&m).map(str::as_bytes));
        for (at, member) in packed.members().zip(&m.members) {
            if let Some(a) = &member.address {
                let address = [&a.compound, &a.building, &a.unit, &a.room].map(|s| s.as_str());
                ob.msgs.push_back(Msg::Resident {
                    household: households.key(address),
                    contact: Contact::in_packed(&packed, at),
                    seen_at: m.collected_at,
                });
            }
        }
        if st.result.is_none() {
            let due = m.collected_at.millis() + minutes(cfg.deadlines.result_missing_after_min);
            ob.timers.set(due, TimerKind::ResultMissing, &m.tube_id);
        }
        // Its manifest is here: the orphan timer can no longer raise anything.
        ob.timers.cancel(&m.tube_id, &[TimerKind::Orphan]);
        let now = m.collected_at;
        st.manifest = Some(packed);
        if let Some(r) = st.result.as_ref().and_then(|r| r.unpack().ok()) {
            decide(st, &r, cfg, ob, now);
        }
        reconcile_alerts(st, now, ob);
        Ok(Disposition::Processed)
    }

    /// Forgets tubes with no event since `before`; returns how many.
    pub fn evict(&mut self, before: i64) -> usize {
        let mut freed = 0;
        let dropped = self.oldest.sweep(&mut self.tubes, before, |t| {
            let kept = t.last_at >= before;
            if !kept {
                freed += t.manifest.as_ref().map_or(0, |m| m.as_bytes().len());
            }
            kept.then_some(t.last_at)
        });
        self.manifest_bytes -= freed;
        dropped + self.cold.as_mut().map_or(0, |c| c.evict(before))
    }

    /// A batch pool must name a known design and a pool index inside it.
    fn check_batch(&mut self, m: &Manifest) -> Result<(), String> {
        if m.batch_id.is_none() {
            return Ok(());
        }
        let (Some(name), Some(index)) = (&m.design, m.pool_index) else {
            return Err("is missing (both are required with a batch_id)".into());
        };
        let Some(design) = self.designs.get(name) else {
            return Err(format!(
                "is neither a design file of the config nor a built-in design ({})",
                pooltrace_decode::builtin_names().join(", ")
            ));
        };
        if m.kind != TubeKind::Pool {
            return Err(format!(
                "needs pool tubes, this is a {} tube",
                m.kind.as_str()
            ));
        }
        if index as usize >= design.pool_count() {
            return Err(format!(
                "has {} pools, pool_index {index} is outside it",
                design.pool_count()
            ));
        }
        Ok(())
    }

    /// Reads, ahead of their records, where these tubes live in memory:
    /// the map's slots and the first bytes of each tube's manifest (see
    /// [`crate::Engine::warm`]). Changes nothing.
    pub fn warm<'a>(&self, tube_ids: impl Iterator<Item = &'a str>) {
        for id in tube_ids {
            let first = self
                .tubes
                .get(id)
                .and_then(|st| st.manifest.as_ref())
                .and_then(|m| m.as_bytes().first().copied());
            std::hint::black_box(first);
        }
    }

    /// A result arrived.
    pub fn on_result(&mut self, r: LabResult, cfg: &EngineConfig, ob: &mut Outbox) -> Applied {
        self.thaw(&r.tube_id);
        let st = self
            .tubes
            .entry(CompactString::from(r.tube_id.as_str()))
            .or_default();
        st.last_at = st.last_at.max(r.reported_at.millis());
        self.oldest.note(r.reported_at.millis());
        if let Some(cur) = st.result.as_ref().and_then(|c| c.unpack().ok()) {
            let cur = &cur;
            if *cur == r {
                return Ok(Disposition::Duplicate);
            }
            let existing = cur.reported_at.to_string();
            if r.status == ResultStatus::Final && cur.status == ResultStatus::Final {
                // Two different final results: only a correction may replace one.
                let tube_id = r.tube_id.clone();
                return Err(Box::new((
                    Rejection::ConflictingFinalResult { tube_id, existing },
                    Record::Result(r),
                )));
            }
            match rank(&r).cmp(&rank(cur)) {
                std::cmp::Ordering::Less => return Ok(Disposition::Stale),
                std::cmp::Ordering::Equal => {
                    let tube_id = r.tube_id.clone();
                    return Err(Box::new((
                        Rejection::ConflictingCorrection { tube_id, existing },
                        Record::Result(r),
                    )));
                }
                std::cmp::Ordering::Greater => {}
            }
        }
        if st.manifest.is_none() {
            let due = r.reported_at.millis() + minutes(cfg.deadlines.orphan_result_after_min);
            ob.timers.set(due, TimerKind::Orphan, &r.tube_id);
        }
        // Its result is here: neither result_missing nor lab_overdue can
        // fire any more (they need a tube without a result).
        ob.timers.cancel(
            &r.tube_id,
            &[TimerKind::ResultMissing, TimerKind::LabOverdue],
        );
        let now = r.reported_at;
        st.result = Some(PackedResult::pack(&r));
        if st.manifest.is_some() {
            decide(st, &r, cfg, ob, now);
        }
        reconcile_alerts(st, now, ob);
        Ok(Disposition::Processed)
    }

    /// A receipt arrived.
    pub fn on_receipt(&mut self, r: Receipt, cfg: &EngineConfig, ob: &mut Outbox) -> Applied {
        self.thaw(&r.tube_id);
        let st = self
            .tubes
            .entry(CompactString::from(r.tube_id.as_str()))
            .or_default();
        st.last_at = st.last_at.max(r.received_at.millis());
        self.oldest.note(r.received_at.millis());
        match st.receipt.as_ref().and_then(|rc| rc.unpack().ok()) {
            Some(existing) if existing == r => return Ok(Disposition::Duplicate),
            // A re-scan: the first receipt stands (the lab had the tube from then).
            Some(existing) if existing.received_at.millis() <= r.received_at.millis() => {
                return Ok(Disposition::Stale)
            }
            _ => {}
        }
        if st.result.is_none() {
            let due = r.received_at.millis() + minutes(cfg.deadlines.lab_overdue_after_min);
            ob.timers.set(due, TimerKind::LabOverdue, &r.tube_id);
        }
        st.receipt = Some(PackedReceipt::pack(&r));
        Ok(Disposition::Processed)
    }

    /// A timer registered by this operator fired at watermark time `due`.
    pub fn on_timer(
        &mut self,
        kind: TimerKind,
        tube_id: &str,
        cfg: &EngineConfig,
        ob: &mut Outbox,
    ) {
        let Some(st) = self.tubes.get_mut(tube_id) else {
            return;
        };
        let d = &cfg.deadlines;
        let fired_at = match kind {
            TimerKind::Orphan => match (&st.manifest, &st.result, st.orphan_at()) {
                (None, Some(r), None) => {
                    let Ok(reported_at) = r.reported_at() else {
                        return;
                    };
                    let at = reported_at.plus_millis(minutes(d.orphan_result_after_min));
                    st.alerts_mut().orphan_at = Some(at);
                    at
                }
                _ => return,
            },
            TimerKind::LabOverdue => match (&st.result, &st.receipt, st.overdue_at()) {
                (None, Some(rc), None) => {
                    let Ok(received_at) = rc.received_at() else {
                        return;
                    };
                    let at = received_at.plus_millis(minutes(d.lab_overdue_after_min));
                    st.alerts_mut().overdue_at = Some(at);
                    at
                }
                _ => return,
            },
            TimerKind::ResultMissing => match (&st.result, &st.manifest, st.missing_at()) {
                (None, Some(m), None) => {
                    let Ok(m) = m.view() else { return };
                    let at = m
                        .collected_at
                        .plus_millis(minutes(d.result_missing_after_min));
                    st.alerts_mut().missing_at = Some(at);
                    at
                }
                _ => return,
            },
            TimerKind::DiscordantPool | TimerKind::BatchIncomplete => return,
        };
        reconcile_alerts(st, fired_at, ob);
    }
}

/// Manifest and result are both present: emit the decision and tell the
/// members' person operators and, for pools, the pool operator.
fn decide(st: &mut TubeState, r: &LabResult, cfg: &EngineConfig, ob: &mut Outbox, now: Timestamp) {
    let Some(packed) = &st.manifest else {
        return;
    };
    // Never fails: the bytes were packed by `on_manifest`.
    let Ok(m) = packed.view() else {
        return;
    };
    st.revision += 1;
    let region = to_region(m.region);
    let interpretation = cfg.ct_rules.interpret(r);
    let received_at = r
        .received_at
        .or(st.receipt.as_ref().and_then(|rc| rc.received_at().ok()));
    ob.effects.push(Effect::TubeResult(Box::new(TubeResultRow {
        tube_id: m.tube_id.to_string(),
        tube_kind: m.kind,
        revision: st.revision,
        interpretation,
        member_count: m.member_count as u32,
        lab_id: r.lab_id.clone(),
        kit: r.kit.clone(),
        ct: r.ct,
        corrected: r.status == ResultStatus::Corrected,
        site_id: m.site_id.to_string(),
        region: region.clone(),
        collected_at: m.collected_at,
        received_at,
        reported_at: r.reported_at,
        retest_of: m.retest_of.map(String::from),
        batch_id: m.batch_id.map(String::from),
    })));
    let obs = Arc::new(Observation {
        tube_id: m.tube_id.into(),
        region: Arc::new(region.clone()),
        tube_kind: m.kind,
        revision: st.revision,
        interpretation,
        collected_at: m.collected_at,
        reported_at: r.reported_at,
        retest_of: m.retest_of.map(Arc::from),
        ct: r.ct,
        lab_id: r.lab_id.clone(),
        kit: r.kit.clone(),
        batch: None,
    });
    if let (Some(batch_id), Some(design), Some(pool_index)) = (m.batch_id, m.design, m.pool_index) {
        // A pool of a non-adaptive batch is not a Dorfman pool: only the
        // batch decoder speaks for its members (it gets the whole manifest).
        let Ok(manifest) = packed.unpack() else {
            return;
        };
        ob.msgs.push_back(Msg::BatchPool {
            pool: Box::new(BatchPool {
                batch_id: batch_id.to_string(),
                design: design.to_string(),
                pool_index,
                manifest: Arc::new(manifest),
                interpretation,
                ct: r.ct,
                lab_id: r.lab_id.clone(),
                kit: r.kit.clone(),
                reported_at: r.reported_at,
            }),
            at: now,
        });
        return;
    }
    for at in packed.members() {
        ob.msgs.push_back(Msg::Observed {
            contact: Contact::in_packed(packed, at),
            obs: Arc::clone(&obs),
            at: now,
        });
    }
    if m.kind != TubeKind::Single {
        use pooltrace_model::Interpretation::{Inconclusive, Positive};
        let flagged = matches!(interpretation, Positive | Inconclusive);
        // The pool operator keeps the members of a flagged pool only (to
        // know when all of them retested negative): a cleared pool's go
        // unsent.
        let members = if flagged {
            packed
                .members()
                .map(|at| packed.person_id_at(at).unwrap_or_default().to_string())
                .collect()
        } else {
            Vec::new()
        };
        ob.msgs.push_back(Msg::PoolDecided {
            pool_tube_id: m.tube_id.to_string(),
            members,
            flagged,
            region,
            at: now,
        });
    }
}

/// The tube's own alerts: each exists once its timer fired, and is resolved
/// once what it waited for arrived.
fn reconcile_alerts(st: &mut TubeState, now: Timestamp, ob: &mut Outbox) {
    let Some(alerts) = st.alerts.as_deref_mut() else {
        return;
    };
    if alerts.orphan_at.is_none() && alerts.overdue_at.is_none() && alerts.missing_at.is_none() {
        return;
    }
    let manifest = st.manifest.as_ref().and_then(|m| m.view().ok());
    let result = st.result.as_ref().and_then(|r| r.unpack().ok());
    let receipt = st.receipt.as_ref().and_then(|r| r.unpack().ok());
    let tube_id = manifest
        .map(|m| m.tube_id.to_string())
        .or_else(|| result.as_ref().map(|r| r.tube_id.clone()))
        .or_else(|| receipt.as_ref().map(|r| r.tube_id.clone()))
        .unwrap_or_default();
    let region = manifest.map(|m| to_region(m.region));
    let mut desired = Vec::new();
    let evidence = Evidence {
        tube_kind: manifest.map(|m| m.kind),
        lab_id: result
            .as_ref()
            .map(|r| r.lab_id.clone())
            .or_else(|| receipt.as_ref().map(|r| r.lab_id.clone())),
        collected_at: manifest.map(|m| m.collected_at),
        received_at: receipt.as_ref().map(|r| r.received_at),
        reported_at: result.as_ref().map(|r| r.reported_at),
        ..Evidence::default()
    };
    let tube_alert = |kind, at: Timestamp, reason: String| {
        let mut a = new_alert(kind, "", None, &tube_id, at, None, reason, evidence.clone());
        a.region = region.clone();
        a
    };
    if let Some(at) = alerts.orphan_at {
        let a = tube_alert(
            AlertKind::OrphanResult,
            at,
            format!("Result for tube {tube_id} has no manifest: nobody can be told their result until the sampling point sends it."),
        );
        desired.push(match manifest {
            Some(m) => resolved(
                a,
                format!("manifest arrived (collected {})", m.collected_at),
            ),
            None => a,
        });
    }
    if let Some(at) = alerts.overdue_at {
        let a = tube_alert(
            AlertKind::LabOverdue,
            at,
            format!("Tube {tube_id} was received by the lab and has no result after the reporting deadline."),
        );
        desired.push(match &result {
            Some(r) => resolved(a, format!("result reported at {}", r.reported_at)),
            None => a,
        });
    }
    if let Some(at) = alerts.missing_at {
        let a = tube_alert(
            AlertKind::ResultMissing,
            at,
            format!("Tube {tube_id} has no result long after collection: find the tube or resample its members."),
        );
        desired.push(match &result {
            Some(r) => resolved(a, format!("result reported at {}", r.reported_at)),
            None => a,
        });
    }
    alerts
        .book
        .reconcile(desired, now, "no longer warranted", ob.effects);
}

/// District, street and community of a manifest.
fn region_parts(m: &Manifest) -> [&str; 3] {
    [&m.region.district, &m.region.street, &m.region.community]
}
