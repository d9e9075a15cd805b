//! The pool follow-up operator (key: pool tube id). Watches the single-tube
//! retests of a flagged pool's members and raises `discordant_pool` when
//! every member re-tested negative (rule 4): the pool result needs a lab
//! quality check.
//!
//! The decision depends on event time only, not on the order in which the
//! members' messages arrive (across partitions they interleave in any
//! order): each member's message says when its negative retest was
//! reported, also after a later positive, so the pool knows the interval
//! in which every member was negative (an episode, from the last negative
//! to the first positive). An episode that lasted the settle time raised
//! the alert at its start plus the settle time; one still open raises it
//! when the watermark passes that.

use rustc_hash::FxHashMap as HashMap;

use pooltrace_model::{Alert, AlertKind, Evidence, Region, Timestamp};

use super::{new_alert, Outbox};
use crate::alert_book::AlertBook;
use crate::msg::RetestStatus;
use crate::timers::TimerKind;

/// Why an open `discordant_pool` alert is resolved.
const NO_LONGER: &str = "no longer discordant: a result was corrected or a member tested positive";

/// Where a member's retest for the pool stands, as the pool last heard.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MemberRetest {
    pub status: RetestStatus,
    /// The retest tube behind the status, and its report time.
    pub tube: Option<String>,
    pub reported_at: Option<Timestamp>,
    /// The member's negative retest (tube, report time), also once a later
    /// positive decides the status. Snapshots of earlier builds lack it:
    /// then a negative status is the negative retest.
    #[serde(default)]
    pub negative: Option<(String, Timestamp)>,
}

impl MemberRetest {
    /// The negative retest and when it was reported.
    fn negative(&self) -> Option<(&String, Timestamp)> {
        match (&self.negative, self.status, &self.tube, self.reported_at) {
            (Some((tube, at)), ..) => Some((tube, *at)),
            (None, RetestStatus::Negative, Some(tube), Some(at)) => Some((tube, at)),
            _ => None,
        }
    }

    /// Since when the member is positive.
    fn positive_since(&self) -> Option<Timestamp> {
        (self.status == RetestStatus::Positive)
            .then_some(self.reported_at)
            .flatten()
    }
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct PoolState {
    /// Members and region while the pool is flagged (positive/inconclusive).
    flagged: Option<(Vec<String>, Region)>,
    /// By person.
    retests: HashMap<String, MemberRetest>,
    /// When the all-negative state was confirmed (the settle time after
    /// its start).
    discordant_at: Option<Timestamp>,
    book: AlertBook,
    /// Latest event time about this pool (for retention).
    last_at: i64,
}

/// The interval in which every member of the flagged pool was negative.
struct Episode<'a> {
    /// Each member's negative retest (tube, report time).
    negatives: Vec<(&'a String, Timestamp)>,
    /// The last member's negative report.
    start: Timestamp,
    /// The first positive report after it (`None`: still all negative).
    end: Option<Timestamp>,
}

impl Episode<'_> {
    /// When the episode was confirmed, if it lasted the settle time before
    /// `until` (its end, or a change at that time) and was not empty.
    fn held_until(&self, until: Timestamp, settle_ms: i64) -> Option<Timestamp> {
        let confirmed = self.start.plus_millis(settle_ms);
        (until.millis() > self.start.millis() && until.millis() >= confirmed.millis())
            .then_some(confirmed)
    }
}

/// The members' all-negative episode, when the pool is flagged and every
/// member has a negative retest reported before any member's positive.
fn episode(st: &PoolState) -> Option<Episode<'_>> {
    let (members, _) = st.flagged.as_ref()?;
    let mut negatives = Vec::with_capacity(members.len());
    let mut start: Option<Timestamp> = None;
    let mut end: Option<Timestamp> = None;
    for m in members {
        let r = st.retests.get(m)?;
        let (tube, at) = r.negative()?;
        negatives.push((tube, at));
        start = Some(start.map_or(at, |s| s.max_instant(at)));
        if let Some(p) = r.positive_since() {
            end = Some(end.map_or(p, |e| if p.millis() < e.millis() { p } else { e }));
        }
    }
    let start = start?;
    if end.is_some_and(|e| e.millis() <= start.millis()) {
        return None; // someone was positive before the last negative
    }
    Some(Episode {
        negatives,
        start,
        end,
    })
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
        let Some(start) = episode(st).filter(|e| e.end.is_none()).map(|e| e.start) else {
            return;
        };
        let at = start.plus_millis(self.settle_ms);
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
    pub fn on_retest(
        &mut self,
        pool: String,
        person: String,
        retest: MemberRetest,
        at: Timestamp,
        ob: &mut Outbox,
    ) {
        let st = self.pools.entry(pool.clone()).or_default();
        st.last_at = st.last_at.max(at.millis());
        settle_before(&pool, st, at, self.settle_ms, ob);
        st.retests.insert(person, retest);
        reconcile(&pool, st, at, self.settle_ms, ob);
    }
}

/// Before a change at event time `at`: if every member has been negative
/// since the episode's start and the settle time had passed by `at`, the
/// all-negative state was confirmed before the change, whether or not the
/// timer has fired here yet (across partitions, the messages of a pool's
/// members can arrive after the watermark passed that time): confirm it
/// now, as the timer would have, so that the change resolves the alert
/// instead of preventing it.
fn settle_before(pool: &str, st: &mut PoolState, at: Timestamp, settle_ms: i64, ob: &mut Outbox) {
    if st.discordant_at.is_some() {
        return;
    }
    let Some(confirmed) = episode(st)
        .filter(|e| e.end.is_none())
        .and_then(|e| e.held_until(at, settle_ms))
    else {
        return;
    };
    st.discordant_at = Some(confirmed);
    reconcile(pool, st, confirmed, settle_ms, ob);
}

/// The alert for an episode, raised at `raised`.
fn alert(pool: &str, st: &PoolState, ep: &Episode, raised: Timestamp) -> Alert {
    let members = ep.negatives.len();
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
            retest_tube_ids: ep.negatives.iter().map(|(t, _)| (*t).clone()).collect(),
            ..Evidence::default()
        },
    );
    a.region = st.flagged.as_ref().map(|(_, r)| r.clone());
    a
}

/// `discordant_pool` is wanted while every member is negative and that
/// was confirmed: by the watermark passing the episode's start plus the
/// settle time (an absence of positives is only known then: deciding
/// earlier would depend on arrival order), or by the episode having lasted
/// that long before a positive ended it, which a late message can reveal
/// (the alert is then raised as of its confirmation and resolved).
fn reconcile(pool: &str, st: &mut PoolState, now: Timestamp, settle_ms: i64, ob: &mut Outbox) {
    let (raised_late, desired) = {
        let ep = episode(st);
        let mut raised_late = None;
        if let (Some(ep), None) = (&ep, st.discordant_at) {
            match ep.end {
                None => ob.timers.set(
                    ep.start.millis() + settle_ms,
                    TimerKind::DiscordantPool,
                    pool,
                ),
                Some(end) => {
                    raised_late = ep
                        .held_until(end, settle_ms)
                        .map(|at| (at, alert(pool, st, ep, at), end));
                }
            }
        }
        let desired = match (&ep, st.discordant_at) {
            (Some(ep), Some(raised)) if ep.end.is_none() => vec![alert(pool, st, ep, raised)],
            _ => Vec::new(),
        };
        (raised_late, desired)
    };
    let mut now = now;
    if let Some((at, a, end)) = raised_late {
        st.discordant_at = Some(at);
        st.book.reconcile(vec![a], at, NO_LONGER, ob.effects);
        now = end; // the positive that ended the episode resolves it
    }
    if desired.is_empty() && st.book.is_empty() {
        return;
    }
    st.book.reconcile(desired, now, NO_LONGER, ob.effects);
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
