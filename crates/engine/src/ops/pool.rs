//! The pool follow-up operator (key: pool tube id). Watches the single-tube
//! retests of a flagged pool's members and raises `discordant_pool` when
//! every member re-tested negative (rule 4): the pool result needs a lab
//! quality check.

use rustc_hash::FxHashMap as HashMap;

use pooltrace_model::{AlertKind, Evidence, Region, Timestamp};

use super::{new_alert, Outbox};
use crate::alert_book::AlertBook;
use crate::msg::RetestStatus;

#[derive(Debug, Default)]
struct PoolState {
    /// Members and region while the pool is flagged (positive/inconclusive).
    flagged: Option<(Vec<String>, Region)>,
    /// person -> (status, retest tube, its report time).
    retests: HashMap<String, (RetestStatus, Option<String>, Option<Timestamp>)>,
    book: AlertBook,
}

/// All flagged pools.
#[derive(Debug, Default)]
pub struct PoolOp {
    pools: HashMap<String, PoolState>,
}

impl PoolOp {
    /// Pools held.
    pub fn len(&self) -> usize {
        self.pools.len()
    }

    /// True when no pool is held.
    pub fn is_empty(&self) -> bool {
        self.pools.is_empty()
    }

    /// A pool tube was decided (or re-decided after a correction).
    pub fn on_decided(
        &mut self,
        pool: String,
        members: Vec<String>,
        flagged: bool,
        region: Region,
        at: Timestamp,
        ob: &mut Outbox,
    ) {
        if !flagged && !self.pools.contains_key(&pool) {
            return;
        }
        let st = self.pools.entry(pool.clone()).or_default();
        st.flagged = flagged.then_some((members, region));
        reconcile(&pool, st, at, ob);
    }

    /// A member's retest standing changed.
    #[allow(clippy::too_many_arguments)]
    pub fn on_retest(
        &mut self,
        pool: String,
        person: String,
        status: RetestStatus,
        tube: Option<String>,
        reported_at: Option<Timestamp>,
        at: Timestamp,
        ob: &mut Outbox,
    ) {
        let st = self.pools.entry(pool.clone()).or_default();
        st.retests.insert(person, (status, tube, reported_at));
        reconcile(&pool, st, at, ob);
    }
}

fn reconcile(pool: &str, st: &mut PoolState, now: Timestamp, ob: &mut Outbox) {
    let mut desired = Vec::new();
    if let Some((members, region)) = &st.flagged {
        let all_negative: Option<Vec<(&String, Timestamp)>> = members
            .iter()
            .map(|m| match st.retests.get(m) {
                Some((RetestStatus::Negative, Some(tube), Some(t))) => Some((tube, *t)),
                _ => None,
            })
            .collect();
        if let Some(negatives) = all_negative.filter(|n| !n.is_empty()) {
            let raised = negatives
                .iter()
                .map(|(_, t)| *t)
                .reduce(|a, b| a.max_instant(b))
                .unwrap_or(now);
            let mut a = new_alert(
                AlertKind::DiscordantPool,
                "",
                None,
                pool,
                raised,
                None,
                format!(
                    "Pool tube {pool} was flagged but all {} members re-tested negative in single tubes: check the lab's pool result.",
                    members.len()
                ),
                Evidence {
                    pool_tube_id: Some(pool.to_string()),
                    retest_tube_ids: negatives.iter().map(|(t, _)| (*t).clone()).collect(),
                    ..Evidence::default()
                },
            );
            a.region = Some(region.clone());
            desired.push(a);
        }
    }
    if desired.is_empty() && st.book.is_empty() {
        return;
    }
    st.book.reconcile(
        desired,
        now,
        "no longer discordant: a result was corrected or a member tested positive",
        ob.effects,
    );
}
