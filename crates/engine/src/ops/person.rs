//! The person operator (key: person id). Holds the tubes a person was in and
//! their home exposures, derives the person's alerts from them
//! ([`super::person_rules`]), and tells households when the person is
//! confirmed positive and pools where the person's retest stands.

use std::borrow::Cow;
use std::sync::Arc;

use compact_str::CompactString;
use rustc_hash::FxHashMap as HashMap;

use pooltrace_model::{
    AlertKind, AlertState, Interpretation, PersonOutcome, PersonOutcomeRow, Timestamp, TubeKind,
};

use super::oldest::Oldest;
use super::person_rules::{derive, Derived};
use super::Outbox;
use crate::alert_book::AlertBook;
use crate::msg::{Contact, ExposureSource, HouseholdKey, Msg, Observation, RetestStatus};
use crate::{Effect, EngineConfig};

/// A person with something to remember. What few people have (exposures,
/// what households and pools were told) is boxed apart: 112 bytes, not 176.
/// Snapshots keep the form they always had ([`PersonWire`]).
#[derive(Debug)]
pub(crate) struct PersonState {
    pub contact: Contact,
    contact_at: i64,
    pub obs: Vec<Arc<Observation>>,
    households: Vec<HouseholdKey>,
    rare: Option<Box<Rare>>,
    pub(super) book: AlertBook,
    /// Latest event time about this person (for retention).
    pub(super) last_at: i64,
}

/// The part of a person's state most people never need.
#[derive(Debug, Default)]
struct Rare {
    /// (household key, who exposed the person there).
    exposures: Vec<(HouseholdKey, ExposureSource)>,
    /// What each household was last told about this person being positive.
    told_positive: Vec<(HouseholdKey, Option<(Timestamp, String)>)>,
    /// What each flagged pool was last told about this person's retest.
    told_retest: Vec<ToldRetest>,
}

impl PersonState {
    /// True when one of the person's alerts is open (such a person is
    /// neither forgotten by retention nor spilled).
    pub(super) fn has_open_alert(&self) -> bool {
        self.book
            .states()
            .any(|(_, state)| state == AlertState::Open)
    }

    /// (household key, who exposed the person there).
    pub fn exposures(&self) -> &[(HouseholdKey, ExposureSource)] {
        self.rare.as_ref().map_or(&[], |r| &r.exposures)
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Drops the rare part when nothing is left in it.
    fn tidy(&mut self) {
        if self.rare.as_ref().is_some_and(|r| {
            r.exposures.is_empty() && r.told_positive.is_empty() && r.told_retest.is_empty()
        }) {
            self.rare = None;
        }
    }
}

/// A person as snapshots have always written it (same fields, same order).
#[derive(serde::Serialize)]
struct PersonWire<'a> {
    contact: &'a Contact,
    contact_at: i64,
    obs: &'a [Arc<Observation>],
    exposures: &'a [(HouseholdKey, ExposureSource)],
    households: &'a [HouseholdKey],
    told_positive: &'a [(HouseholdKey, Option<(Timestamp, String)>)],
    told_retest: &'a [ToldRetest],
    book: &'a AlertBook,
    last_at: i64,
}

#[derive(serde::Deserialize)]
struct PersonOwned {
    contact: Contact,
    contact_at: i64,
    obs: Vec<Arc<Observation>>,
    exposures: Vec<(HouseholdKey, ExposureSource)>,
    households: Vec<HouseholdKey>,
    told_positive: Vec<(HouseholdKey, Option<(Timestamp, String)>)>,
    told_retest: Vec<ToldRetest>,
    book: AlertBook,
    last_at: i64,
}

impl serde::Serialize for PersonState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let rare = self.rare.as_deref();
        PersonWire {
            contact: &self.contact,
            contact_at: self.contact_at,
            obs: &self.obs,
            exposures: rare.map_or(&[], |r| &r.exposures),
            households: &self.households,
            told_positive: rare.map_or(&[], |r| &r.told_positive),
            told_retest: rare.map_or(&[], |r| &r.told_retest),
            book: &self.book,
            last_at: self.last_at,
        }
        .serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for PersonState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = PersonOwned::deserialize(d)?;
        let mut st = PersonState {
            contact: w.contact,
            contact_at: w.contact_at,
            obs: w.obs,
            households: w.households,
            rare: Some(Box::new(Rare {
                exposures: w.exposures,
                told_positive: w.told_positive,
                told_retest: w.told_retest,
            })),
            book: w.book,
            last_at: w.last_at,
        };
        st.tidy();
        Ok(st)
    }
}

/// What a flagged pool was last told about a member's retest: the pool,
/// the status and when the negative retest was reported (snapshots of
/// earlier builds hold only the first two: the third reads as `None`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ToldRetest(String, RetestStatus, #[serde(default)] Option<Timestamp>);

/// All people with something to remember. People cleared by a negative pool
/// and nothing else are not kept: memory does not grow with them. With a
/// spill store, people with no open alert that nothing touches may wait on
/// disk (`person_cold.rs`).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct PersonOp {
    /// By person id, stored inline (ids up to 24 bytes).
    pub(super) people: HashMap<CompactString, PersonState>,
    /// Lower bound of the people's `last_at` (not snapshotted: relearnt).
    #[serde(skip)]
    pub(super) oldest: Oldest,
    /// People spilled out of memory, when the engine has a store. Never in
    /// a snapshot.
    #[serde(skip)]
    pub(super) cold: Option<crate::spill::Cold>,
}

impl PersonOp {
    /// People held, in memory or spilled.
    pub fn len(&self) -> usize {
        self.people.len() + self.spilled()
    }

    /// True when nobody is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counts people by their current standing: (positive, pending).
    /// Positive: an open `hospital_transfer`. Pending: no positive, but an
    /// open retest-type alert (pool retest, parallel retest, resample,
    /// presumptive positive). Spilled people have no open alert: neither.
    pub fn standing(&self) -> (u64, u64) {
        let (mut positive, mut pending) = (0, 0);
        for p in self.people.values() {
            let open = |k: AlertKind| {
                p.book
                    .states()
                    .any(|(kind, state)| kind == k && state == AlertState::Open)
            };
            if open(AlertKind::HospitalTransfer) {
                positive += 1;
            } else if open(AlertKind::PoolRetest)
                || open(AlertKind::ParallelRetest)
                || open(AlertKind::Resample)
                || open(AlertKind::PresumptivePositive)
            {
                pending += 1;
            }
        }
        (positive, pending)
    }

    /// Forgets people with no open alert and no event since `before`.
    pub fn evict(&mut self, before: i64) -> usize {
        let hot = self.oldest.sweep(&mut self.people, before, |p| {
            (p.last_at >= before || p.has_open_alert()).then_some(p.last_at)
        });
        hot + self.evict_cold(before)
    }

    /// A tube this person was in was decided.
    pub fn on_observed(
        &mut self,
        contact: Contact,
        obs: Arc<Observation>,
        at: Timestamp,
        cfg: &EngineConfig,
        ob: &mut Outbox,
    ) {
        let decoded_positive =
            obs.batch_id().is_some() && obs.interpretation == Interpretation::Positive;
        let outcome = if decoded_positive && cfg.batch.positives_to_hospital {
            PersonOutcome::Positive
        } else {
            PersonOutcome::of(obs.tube_kind, obs.interpretation)
        };
        // Read once (each read checks the packed bytes' UTF-8).
        let person_id = contact.person_id();
        self.thaw(person_id);
        ob.effects.push(Effect::PersonOutcome(PersonOutcomeRow {
            person_id: person_id.into(),
            tube_id: obs.tube_id.clone(),
            tube_kind: obs.tube_kind,
            revision: obs.revision,
            outcome,
            decided_by: obs
                .decided_by()
                .cloned()
                .unwrap_or(Cow::Borrowed(obs.tube_kind.as_str())),
            region: Arc::clone(&obs.region),
            collected_at: obs.collected_at,
            decided_at: obs.reported_at,
            retest_of: obs.retest_of.clone(),
            decoded: obs.decoded(),
        }));
        let cleared_by_pool =
            obs.tube_kind != TubeKind::Single && obs.interpretation == Interpretation::Negative;
        if cleared_by_pool && !self.people.contains_key(person_id) {
            return;
        }
        let collected = obs.collected_at.millis();
        let st = self.state(contact.clone(), collected);
        if collected >= st.contact_at {
            st.contact = contact;
            st.contact_at = collected;
        }
        if let Some(h) = st.contact.household_key() {
            if !st.households.contains(&h) {
                push_exact(&mut st.households, h);
            }
        }
        match st.obs.iter_mut().find(|o| o.tube_id == obs.tube_id) {
            Some(o) if o.revision <= obs.revision => *o = obs,
            Some(_) => {}
            None => push_exact(&mut st.obs, obs),
        }
        update(st, at, cfg, ob);
        self.oldest.note(at.millis());
    }

    /// A household told this person about an exposure at home (or withdrew it).
    pub fn on_exposure(
        &mut self,
        household: HouseholdKey,
        contact: Contact,
        source: Option<ExposureSource>,
        at: Timestamp,
        cfg: &EngineConfig,
        ob: &mut Outbox,
    ) {
        self.thaw(contact.person_id());
        if source.is_none() && !self.people.contains_key(contact.person_id()) {
            return;
        }
        let st = self.state(contact, i64::MIN);
        let rare = st.rare_mut();
        rare.exposures.retain(|(h, _)| *h != household);
        if let Some(src) = source {
            rare.exposures.push((household, src));
            rare.exposures.sort_by_key(|e| e.0);
        }
        st.tidy();
        update(st, at, cfg, ob);
        self.oldest.note(at.millis());
    }

    fn state(&mut self, contact: Contact, contact_at: i64) -> &mut PersonState {
        self.people
            .entry(CompactString::from(contact.person_id()))
            .or_insert_with(|| PersonState {
                contact,
                contact_at,
                obs: Vec::new(),
                households: Vec::new(),
                rare: None,
                book: AlertBook::default(),
                last_at: i64::MIN,
            })
    }
}

/// Pushes with room for exactly one more: most people have one household,
/// one or two observations and one pool, and a first `push` alone makes
/// room for four (64 bytes for one 16-byte household key, for millions of
/// people).
fn push_exact<T>(v: &mut Vec<T>, item: T) {
    v.reserve_exact(1);
    v.push(item);
}

/// Re-derives the person's alerts and tells households and pools what changed.
fn update(st: &mut PersonState, at: Timestamp, cfg: &EngineConfig, ob: &mut Outbox) {
    st.last_at = st.last_at.max(at.millis());
    let Derived {
        alerts,
        positive,
        retests,
    } = derive(st, cfg);
    st.book
        .reconcile(alerts, at, "result corrected", ob.effects);
    for h in &st.households {
        let told = st
            .rare
            .as_ref()
            .and_then(|r| r.told_positive.iter().find(|(k, _)| k == h));
        let changed = match told {
            Some((_, was)) => *was != positive,
            None => positive.is_some(),
        };
        if !changed {
            continue;
        }
        let told_positive = &mut st.rare.get_or_insert_with(Box::default).told_positive;
        match told_positive.iter_mut().find(|(k, _)| k == h) {
            Some((_, was)) => *was = positive.clone(),
            None => told_positive.push((*h, positive.clone())),
        }
        ob.msgs.push_back(Msg::Positive {
            household: *h,
            person_id: st.contact.person_id().to_string(),
            since: positive.clone(),
            at,
        });
    }
    for r in retests {
        let negative_at = r.negative.as_ref().map(|(_, t)| *t);
        let told_retest = &mut st.rare_mut().told_retest;
        match told_retest.iter_mut().find(|t| t.0 == r.pool_tube_id) {
            Some(t) if t.1 == r.status && t.2 == negative_at => continue,
            Some(t) => (t.1, t.2) = (r.status, negative_at),
            None => push_exact(
                told_retest,
                ToldRetest(r.pool_tube_id.clone(), r.status, negative_at),
            ),
        }
        ob.msgs.push_back(Msg::Retest {
            pool_tube_id: r.pool_tube_id,
            person_id: st.contact.person_id().to_string(),
            status: r.status,
            retest_tube_id: r.retest_tube_id,
            reported_at: r.reported_at,
            negative: r.negative,
            at,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_reads_back_from_its_snapshot_form_rare_part_and_all() {
        use pooltrace_model::{IdType, Member, Region};
        let member = Member {
            person_id: "P1".into(),
            id_type: IdType::Other,
            name: None,
            phone: None,
            address: None,
        };
        let region = Region {
            district: "D".into(),
            street: "S".into(),
            community: "C".into(),
        };
        let t = Timestamp::from_millis(5, 0);
        let contact = Contact::alone(crate::packed::PackedManifest::pack_contact(
            &member, &region,
        ));
        let bare = PersonState {
            contact,
            contact_at: 1,
            obs: Vec::new(),
            households: vec![7],
            rare: None,
            book: AlertBook::default(),
            last_at: 9,
        };
        let bytes = rmp_serde::to_vec_named(&bare).unwrap();
        let back: PersonState = rmp_serde::from_slice(&bytes).unwrap();
        assert!(back.rare.is_none(), "an empty rare part is not kept");
        assert_eq!(rmp_serde::to_vec_named(&back).unwrap(), bytes);

        let mut st = back;
        st.rare = Some(Box::new(Rare {
            exposures: vec![(
                7,
                ExposureSource {
                    person_id: "P2".into(),
                    tube_id: "T1".into(),
                    since: t,
                },
            )],
            told_positive: vec![(7, Some((t, "T1".into())))],
            told_retest: vec![ToldRetest("T9".into(), RetestStatus::Pending, None)],
        }));
        let bytes = rmp_serde::to_vec_named(&st).unwrap();
        let back: PersonState = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back.exposures(), st.exposures());
        let rare = back.rare.as_ref().expect("kept");
        assert_eq!(rare.told_positive, vec![(7, Some((t, "T1".to_string())))]);
        assert_eq!(
            (rare.told_retest[0].0.as_str(), rare.told_retest[0].1),
            ("T9", RetestStatus::Pending)
        );
        assert_eq!(rmp_serde::to_vec_named(&back).unwrap(), bytes);
    }

    #[test]
    fn small_lists_hold_room_for_their_items_only() {
        let mut v = Vec::new();
        for i in 0..3u128 {
            push_exact(&mut v, i);
            assert_eq!(v.capacity(), v.len());
        }
    }

    #[test]
    fn a_person_is_112_bytes() {
        assert_eq!(std::mem::size_of::<PersonState>(), 112);
    }

    #[test]
    fn told_retests_of_earlier_snapshots_read_back() {
        // Earlier builds stored (pool, status) pairs.
        let old = rmp_serde::to_vec_named(&("P1", RetestStatus::Negative)).unwrap();
        let back: ToldRetest = rmp_serde::from_slice(&old).unwrap();
        assert_eq!(
            (back.0.as_str(), back.1, back.2),
            ("P1", RetestStatus::Negative, None)
        );
        let t = Timestamp::from_millis(5, 0);
        let new =
            rmp_serde::to_vec_named(&ToldRetest("P1".into(), RetestStatus::Positive, Some(t)))
                .unwrap();
        let back: ToldRetest = rmp_serde::from_slice(&new).unwrap();
        assert_eq!((back.1, back.2), (RetestStatus::Positive, Some(t)));
    }
}
