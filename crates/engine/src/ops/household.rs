//! The household operator (key: full address down to the room). Knows who
//! lives where, from every manifest; when a resident is confirmed positive,
//! tells every other resident they were exposed (rule 3: `isolation_transfer`).

use rustc_hash::FxHashMap as HashMap;

use pooltrace_model::Timestamp;

use super::Outbox;
use crate::msg::{Contact, ExposureSource, HouseholdKey, Msg};

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Resident {
    contact: Contact,
    first_seen: Timestamp,
    /// Latest sighting (for retention).
    last_seen: i64,
    /// Boxed: almost every resident is never exposed (8 bytes, not 72).
    told: Option<Box<ExposureSource>>,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct HouseholdState {
    residents: Vec<Resident>,
    /// (person, confirmed since, confirming tube).
    positives: Vec<(String, Timestamp, String)>,
}

/// All households seen.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct HouseholdOp {
    households: HashMap<HouseholdKey, HouseholdState>,
}

impl HouseholdOp {
    /// Households held.
    pub fn len(&self) -> usize {
        self.households.len()
    }

    /// True when no household is held.
    pub fn is_empty(&self) -> bool {
        self.households.is_empty()
    }

    /// A manifest listed this person at this address.
    pub fn on_resident(
        &mut self,
        household: HouseholdKey,
        contact: Contact,
        seen_at: Timestamp,
        ob: &mut Outbox,
    ) {
        let st = self.households.entry(household).or_default();
        match st
            .residents
            .iter_mut()
            .find(|r| r.contact.person_id() == contact.person_id())
        {
            Some(r) => {
                r.last_seen = r.last_seen.max(seen_at.millis());
                if seen_at.millis() < r.first_seen.millis() {
                    r.first_seen = seen_at;
                } else if r.contact == contact {
                    return;
                }
                r.contact = contact;
                // Resend any exposure so the person's alert carries the new details.
                r.told = None;
            }
            None => st.residents.push(Resident {
                contact,
                first_seen: seen_at,
                last_seen: seen_at.millis(),
                told: None,
            }),
        }
        if !st.positives.is_empty() {
            sync(household, st, seen_at, ob);
        }
    }

    /// Forgets sightings and confirmations older than `before`, and empty
    /// households. Returns how many households were dropped.
    pub fn evict(&mut self, before: i64) -> usize {
        let n = self.households.len();
        self.households.retain(|_, h| {
            h.residents.retain(|r| r.last_seen >= before);
            h.positives.retain(|(_, since, _)| since.millis() >= before);
            !h.residents.is_empty() || !h.positives.is_empty()
        });
        n - self.households.len()
    }

    /// A resident is confirmed positive since `since`, or no longer (`None`).
    pub fn on_positive(
        &mut self,
        household: HouseholdKey,
        person: String,
        since: Option<(Timestamp, String)>,
        at: Timestamp,
        ob: &mut Outbox,
    ) {
        let st = self.households.entry(household).or_default();
        st.positives.retain(|(p, _, _)| *p != person);
        if let Some((t, tube)) = since {
            st.positives.push((person, t, tube));
        }
        st.positives
            .sort_by(|a, b| (a.1.millis(), &a.0).cmp(&(b.1.millis(), &b.0)));
        sync(household, st, at, ob);
    }
}

/// Tells each resident who exposed them (the earliest other positive), if that changed.
fn sync(household: HouseholdKey, st: &mut HouseholdState, at: Timestamp, ob: &mut Outbox) {
    for r in &mut st.residents {
        let source = st
            .positives
            .iter()
            .find(|(p, _, _)| p != r.contact.person_id())
            .map(|(p, t, tube)| ExposureSource {
                person_id: p.clone(),
                tube_id: tube.clone(),
                since: t.max_instant(r.first_seen),
            });
        if source.as_ref() == r.told.as_deref() {
            continue;
        }
        r.told = source.clone().map(Box::new);
        ob.msgs.push_back(Msg::Exposure {
            household,
            contact: r.contact.clone(),
            source,
            at,
        });
    }
}
