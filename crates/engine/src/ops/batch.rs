//! The batch operator (key: batch id). Collects the pools of a non-adaptive
//! batch; once every pool of the design has a result, decodes the batch
//! (`pooltrace-decode`) and tells each sample's person operator the call.
//! Owns `batch_incomplete`.
//!
//! The incidence comes from the manifests themselves: pool `pool_index` holds
//! the people its manifest lists. The named design says how many pools make
//! the batch complete.

use std::collections::BTreeMap;
use std::sync::Arc;

use pooltrace_decode::{decode, Assay, Decoder, Design, PoolObservation, SampleCall};
use pooltrace_model::{AlertKind, DecodedEvidence, Evidence, Interpretation, Timestamp, TubeKind};
use rustc_hash::FxHashMap as HashMap;

use super::{new_alert, resolved, Outbox};
use crate::alert_book::AlertBook;
use crate::config::minutes;
use crate::msg::{BatchDecision, BatchPool, Contact, Msg, Observation};
use crate::timers::TimerKind;
use crate::EngineConfig;

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct BatchState {
    pools: BTreeMap<u32, BatchPool>,
    first_result: Option<Timestamp>,
    incomplete_at: Option<Timestamp>,
    decodes: u32,
    book: AlertBook,
    /// Latest event time about this batch (for retention).
    last_at: i64,
}

/// All batches, and the designs they name.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct BatchOp {
    batches: HashMap<String, BatchState>,
    /// Rebuilt from the config, not snapshotted.
    #[serde(skip)]
    designs: Designs,
}

/// Designs by name: the loaded ones (from files), else built-in, built once.
#[derive(Debug, Default)]
pub struct Designs {
    by_name: HashMap<String, Option<Arc<Design>>>,
}

impl Designs {
    /// Starts with `loaded` (they win over built-in designs of the same name).
    pub fn new(loaded: &[Arc<Design>]) -> Self {
        Designs {
            by_name: loaded
                .iter()
                .map(|d| (d.name().to_string(), Some(Arc::clone(d))))
                .collect(),
        }
    }

    /// The design called `name`, or `None` when there is no such design.
    pub fn get(&mut self, name: &str) -> Option<Arc<Design>> {
        self.by_name
            .entry(name.to_string())
            .or_insert_with(|| Design::builtin(name).ok().map(Arc::new))
            .clone()
    }
}

impl BatchOp {
    /// A batch operator that knows the `loaded` designs besides the built-in ones.
    pub fn new(loaded: &[Arc<Design>]) -> Self {
        BatchOp {
            batches: HashMap::default(),
            designs: Designs::new(loaded),
        }
    }

    /// Batches held.
    pub fn len(&self) -> usize {
        self.batches.len()
    }

    /// After a restore: takes what comes from the config (the designs) from
    /// `fresh`, the operator of a newly built engine.
    pub(crate) fn adopt_config(&mut self, fresh: &mut BatchOp) {
        self.designs = std::mem::take(&mut fresh.designs);
    }

    /// True when no batch is held.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// A pool of a batch was decided (or re-decided after a correction).
    pub fn on_pool(&mut self, pool: BatchPool, at: Timestamp, cfg: &EngineConfig, ob: &mut Outbox) {
        let Some(design) = self.designs.get(&pool.design) else {
            return; // the tube operator rejects unknown designs
        };
        let batch_id = pool.batch_id.clone();
        let st = self.batches.entry(batch_id.clone()).or_default();
        st.last_at = st.last_at.max(at.millis());
        if st
            .first_result
            .is_none_or(|f| pool.reported_at.millis() < f.millis())
        {
            st.first_result = Some(pool.reported_at);
            let due = pool.reported_at.millis() + minutes(cfg.deadlines.batch_incomplete_after_min);
            ob.timers.set(due, TimerKind::BatchIncomplete, &batch_id);
        }
        st.pools.insert(pool.pool_index, pool);
        if st.pools.len() == design.pool_count() {
            decode_batch(&batch_id, st, &design, cfg, at, ob);
        }
        reconcile(&batch_id, st, design.pool_count(), at, ob);
    }

    /// Forgets batches with no event since `before`.
    pub fn evict(&mut self, before: i64) -> usize {
        let n = self.batches.len();
        self.batches.retain(|_, b| b.last_at >= before);
        n - self.batches.len()
    }

    /// The incompleteness timer of `batch_id` fired.
    pub fn on_timer(&mut self, batch_id: &str, cfg: &EngineConfig, ob: &mut Outbox) {
        let Some(st) = self.batches.get_mut(batch_id) else {
            return;
        };
        let Some(design) = st
            .pools
            .values()
            .next()
            .and_then(|p| self.designs.get(&p.design))
        else {
            return;
        };
        if st.pools.len() < design.pool_count() && st.incomplete_at.is_none() {
            if let Some(first) = st.first_result {
                let at = first.plus_millis(minutes(cfg.deadlines.batch_incomplete_after_min));
                st.incomplete_at = Some(at);
                reconcile(batch_id, st, design.pool_count(), at, ob);
            }
        }
    }
}

/// Decodes a complete batch and sends every sample's call to its person.
fn decode_batch(
    batch_id: &str,
    st: &mut BatchState,
    design: &Design,
    cfg: &EngineConfig,
    at: Timestamp,
    ob: &mut Outbox,
) {
    // People in order of first appearance over the pools.
    let mut index: HashMap<&str, u32> = HashMap::default();
    let mut people: Vec<Contact> = Vec::new();
    let mut incidence: Vec<Vec<u32>> = Vec::with_capacity(st.pools.len());
    let mut observations = Vec::with_capacity(st.pools.len());
    for p in st.pools.values() {
        let mut members = Vec::with_capacity(p.manifest.members.len());
        for (i, m) in p.manifest.members.iter().enumerate() {
            let next = people.len() as u32;
            let idx = *index.entry(m.person_id.as_str()).or_insert_with(|| {
                people.push(Contact::of(&p.manifest, i));
                next
            });
            members.push(idx);
        }
        incidence.push(members);
        // An invalid pool says nothing: treated as positive, so nobody in it
        // is cleared by it (never a false negative).
        observations.push(match p.interpretation {
            Interpretation::Negative => PoolObservation::NEGATIVE,
            _ => PoolObservation::positive(min_ct(p)),
        });
    }
    let decoder = Decoder::from_name(&cfg.batch.decoder).unwrap_or(Decoder::Dd);
    let assay = Assay::new(cfg.batch.sensitivity, cfg.batch.specificity).unwrap_or(Assay::PERFECT);
    // Per sample: how many of its pools were positive / negative.
    let mut counts = vec![(0u32, 0u32); people.len()];
    for (pool, o) in incidence.iter().zip(&observations) {
        for &i in pool {
            let c = &mut counts[i as usize];
            if o.positive {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
        }
    }
    let decoding = Design::new(
        format!("{}@{batch_id}", design.name()),
        people.len(),
        incidence,
    )
    .ok()
    .and_then(|d| decode(&d, &observations, decoder, assay).ok());
    let (calls, p_positive) = match decoding {
        Some(d) => (d.calls, d.p_positive),
        None => (
            vec![SampleCall::Undetermined; people.len()],
            vec![f64::NAN; people.len()],
        ),
    };
    st.decodes += 1;
    let first = st.pools.values().next();
    let collected_at = st
        .pools
        .values()
        .map(|p| p.manifest.collected_at)
        .reduce(|a, b| if b.millis() < a.millis() { b } else { a });
    let reported_at = st
        .pools
        .values()
        .map(|p| p.reported_at)
        .reduce(|a, b| a.max_instant(b));
    let (Some(first), Some(collected_at), Some(reported_at)) = (first, collected_at, reported_at)
    else {
        return;
    };
    let batch: Arc<str> = batch_id.into();
    let region = Arc::new(first.manifest.region.clone());
    for (i, (contact, call)) in people.into_iter().zip(calls).enumerate() {
        let interpretation = match call {
            SampleCall::Positive => Interpretation::Positive,
            SampleCall::Negative => Interpretation::Negative,
            SampleCall::Undetermined => Interpretation::Inconclusive,
        };
        let obs = Observation {
            tube_id: Arc::clone(&batch),
            region: Arc::clone(&region),
            tube_kind: TubeKind::Pool,
            revision: st.decodes,
            interpretation,
            collected_at,
            reported_at,
            retest_of: None,
            ct: Default::default(),
            lab_id: first.lab_id.clone(),
            kit: first.kit.clone(),
            batch: Some(Box::new(BatchDecision {
                decided_by: Some(decoder.name().into()),
                batch: Some(Arc::clone(&batch)),
                decoded: Some(DecodedEvidence {
                    p_positive: p_positive.get(i).copied().unwrap_or(f64::NAN),
                    pools_positive: counts[i].0,
                    pools_negative: counts[i].1,
                }),
            })),
        };
        ob.msgs.push_back(Msg::Observed {
            contact,
            obs: Arc::new(obs),
            at,
        });
    }
}

fn min_ct(p: &BatchPool) -> Option<f64> {
    match (p.ct.orf1ab, p.ct.n) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `batch_incomplete`: raised when its timer found pools missing, resolved
/// once the batch is complete.
fn reconcile(batch_id: &str, st: &mut BatchState, pools: usize, now: Timestamp, ob: &mut Outbox) {
    let Some(raised) = st.incomplete_at else {
        return;
    };
    let missing: Vec<String> = (0..pools as u32)
        .filter(|i| !st.pools.contains_key(i))
        .map(|i| i.to_string())
        .collect();
    let mut a = new_alert(
        AlertKind::BatchIncomplete,
        "",
        None,
        batch_id,
        raised,
        None,
        format!(
            "Batch {batch_id} has results for {} of {pools} pools long after its first result; missing pool indices: {}.",
            st.pools.len(),
            missing.join(", ")
        ),
        Evidence {
            batch_id: Some(batch_id.to_string()),
            ..Evidence::default()
        },
    );
    a.region = st.pools.values().next().map(|p| p.manifest.region.clone());
    let a = if missing.is_empty() {
        resolved(a, "every pool has a result: the batch was decoded".into())
    } else {
        a
    };
    st.book
        .reconcile(vec![a], now, "no longer warranted", ob.effects);
}
