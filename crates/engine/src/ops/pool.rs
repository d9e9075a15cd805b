//! The pool follow-up operator (key: pool tube id). Watches the single-tube
//! retests of a flagged pool's members and raises `discordant_pool` when
//! every member re-tested negative (rule 4): the pool result needs a lab
//! quality check.

use rustc_hash::FxHashMap as HashMap;

use pooltrace_model::{AlertKind, Evidence, Region, Timestamp};

use super::{new_alert, Outbox};
use crate::alert_book::AlertBook;
use crate::msg::RetestStatus;
use crate::timers::TimerKind;

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct PoolState {
    /// Members and region while the pool is flagged (positive/inconclusive).
    flagged: Option<(Vec<String>, Region)>,
    /// person -> (status, retest tube, its report time).
    retests: HashMap<String, (RetestStatus, Option<String>, Option<Timestamp>)>,
    /// When the watermark confirmed the all-negative state (the timer fired).
    discordant_at: Option<Timestamp>,
    book: AlertBook,
    /// Latest event time about this pool (for retention).
    last_at: i64,
}

/// All flagged pools.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct PoolOp {
    pools: HashMap<String, PoolState>,
    /// `discordant_pool_after_min`, in milliseconds. From the config, not
    /// snapshotted.
    #[serde(skip)]
    settle_ms: i64,
}

impl PoolOp {
    /// A pool operator that raises `discordant_pool` `settle_ms` after the
    /// last negative retest (once the watermark passes that).
    pub fn new(settle_ms: i64) -> Self {
        PoolOp {
            pools: HashMap::default(),
            settle_ms,
        }
    }

    /// After a restore: takes what comes from the config (the settle time)
    /// from `fresh`, the operator of a newly built engine.
    pub(crate) fn adopt_config(&mut self, fresh: &PoolOp) {
        self.settle_ms = fresh.settle_ms;
    }

    /// The all-negative check timer fired for `pool`.
    pub fn on_timer(&mut self, pool: &str, ob: &mut Outbox) {
        let Some(st) = self.pools.get_mut(pool) else {
            return;
        };
        let Some(last) = all_negative(st).map(|(_, last)| last) else {
            return;
        };
        let at = last.plus_millis(self.settle_ms);
        if st.discordant_at.is_none() {
            st.discordant_at = Some(at);
        }
        reconcile(pool, st, at, self.settle_ms, ob);
    }

    /// Forgets pools with no event since `before`.
    pub fn evict(&mut self, before: i64) -> usize {
        let n = self.pools.len();
        self.pools.retain(|_, p| p.last_at >= before);
        n - self.pools.len()
    }

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
        st.last_at = st.last_at.max(at.millis());
        settle_before(&pool, st, at, self.settle_ms, ob);
        st.flagged = flagged.then_some((members, region));
        reconcile(&pool, st, at, self.settle_ms, ob);
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
        st.last_at = st.last_at.max(at.millis());
        settle_before(&pool, st, at, self.settle_ms, ob);
        st.retests.insert(person, (status, tube, reported_at));
        reconcile(&pool, st, at, self.settle_ms, ob);
    }
}

/// The members' negative retests (tube, reported) and the last report time,
/// when every member of a flagged pool re-tested negative.
fn all_negative(st: &PoolState) -> Option<(Vec<(&String, Timestamp)>, Timestamp)> {
    let (members, _) = st.flagged.as_ref()?;
    let negatives: Vec<(&String, Timestamp)> = members
        .iter()
        .map(|m| match st.retests.get(m) {
            Some((RetestStatus::Negative, Some(tube), Some(t))) => Some((tube, *t)),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let last = negatives
        .iter()
        .map(|(_, t)| *t)
        .reduce(|a, b| a.max_instant(b))?;
    Some((negatives, last))
}

/// Before a change at event time `at`: if every member has been negative
/// since `last` and `last + settle` is not after `at`, the all-negative
/// state was confirmed before the change, whether or not the timer has
/// fired here yet (across partitions, the messages of a pool's members can
/// arrive after the watermark passed that time): confirm it now, as the
/// timer would have, so that the change resolves the alert instead of
/// preventing it. One engine fed in event-time order has already fired the
/// timer by then; this makes every arrival order agree with it.
fn settle_before(pool: &str, st: &mut PoolState, at: Timestamp, settle_ms: i64, ob: &mut Outbox) {
    if st.discordant_at.is_some() {
        return;
    }
    let Some((_, last)) = all_negative(st) else {
        return;
    };
    let confirmed = last.plus_millis(settle_ms);
    if confirmed.millis() <= at.millis() {
        st.discordant_at = Some(confirmed);
        reconcile(pool, st, confirmed, settle_ms, ob);
    }
}

/// `discordant_pool` is wanted while every member is negative and the
/// watermark has confirmed it (an absence of positives is only known once
/// the watermark passes: deciding earlier would depend on arrival order).
fn reconcile(pool: &str, st: &mut PoolState, now: Timestamp, settle_ms: i64, ob: &mut Outbox) {
    let mut desired = Vec::new();
    match (all_negative(st), st.discordant_at) {
        (Some((_, last)), None) => {
            ob.timers
                .set(last.millis() + settle_ms, TimerKind::DiscordantPool, pool);
        }
        (Some((negatives, _)), Some(raised)) => {
            let members = negatives.len();
            let region = st.flagged.as_ref().map(|(_, r)| r.clone());
            let mut a = new_alert(
                AlertKind::DiscordantPool,
                "",
                None,
                pool,
                raised,
                None,
                format!(
                    "Pool tube {pool} was flagged but all {members} members re-tested negative in single tubes: check the lab's pool result."
                ),
                Evidence {
                    pool_tube_id: Some(pool.to_string()),
                    retest_tube_ids: negatives.iter().map(|(t, _)| (*t).clone()).collect(),
                    ..Evidence::default()
                },
            );
            a.region = region;
            desired.push(a);
        }
        (None, _) => {}
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
