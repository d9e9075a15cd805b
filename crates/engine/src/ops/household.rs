//! The household operator (key: full address down to the room). Knows who
//! lives where, from every manifest; when a resident is confirmed positive,
//! tells every other resident they were exposed (rule 3: `isolation_transfer`).
//!
//! This directory holds everyone with an address, so it is kept small: a
//! resident is a handle on the packed manifest that listed them (see
//! [`Contact`]), their first and last sighting and what they were told, 40
//! bytes; a household's lists are boxed slices sized to their contents (48
//! bytes a household in the map).

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize, Serializer};

use pooltrace_model::Timestamp;

use super::oldest::Oldest;
use super::Outbox;
use crate::contact::{same_details, same_person};
use crate::msg::{Contact, ExposureSource, HouseholdKey, Msg};
use crate::packed::PackedManifest;

/// One person seen at the address. Its [`Contact`] is stored apart (the
/// packed manifest and the member's offset) so that the offset and the
/// first sighting's UTC offset share a word: 40 bytes, not 48. In snapshots
/// it has the same fields as before (see [`ResidentWire`]).
#[derive(Debug)]
struct Resident {
    packed: Arc<PackedManifest>,
    at: u32,
    first_seen_offset: i32,
    first_seen_ms: i64,
    /// Latest sighting (for retention).
    last_seen: i64,
    /// Boxed: almost every resident is never exposed (8 bytes, not 72).
    told: Option<Box<ExposureSource>>,
}

impl Resident {
    fn new(contact: Contact, first_seen: Timestamp, last_seen: i64) -> Self {
        let (packed, at) = contact.into_parts();
        Resident {
            packed,
            at,
            first_seen_offset: first_seen.offset_secs(),
            first_seen_ms: first_seen.millis(),
            last_seen,
            told: None,
        }
    }

    fn contact(&self) -> Contact {
        Contact::from_parts(Arc::clone(&self.packed), self.at)
    }

    fn set_contact(&mut self, contact: Contact) {
        (self.packed, self.at) = contact.into_parts();
    }

    /// The same person as `contact`.
    fn is(&self, contact: &Contact) -> bool {
        same_person((&self.packed, self.at), contact.parts())
    }

    /// The same person with the same details as `contact`.
    fn has(&self, contact: &Contact) -> bool {
        same_details((&self.packed, self.at), contact.parts())
    }

    fn first_seen(&self) -> Timestamp {
        Timestamp::from_millis(self.first_seen_ms, self.first_seen_offset)
    }

    fn set_first_seen(&mut self, t: Timestamp) {
        self.first_seen_ms = t.millis();
        self.first_seen_offset = t.offset_secs();
    }
}

/// A resident as snapshots have always written it.
#[derive(Serialize, Deserialize)]
struct ResidentWire {
    contact: Contact,
    first_seen: Timestamp,
    last_seen: i64,
    told: Option<Box<ExposureSource>>,
}

impl Serialize for Resident {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ResidentWire {
            contact: self.contact(),
            first_seen: self.first_seen(),
            last_seen: self.last_seen,
            told: self.told.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Resident {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = ResidentWire::deserialize(d)?;
        let mut r = Resident::new(w.contact, w.first_seen, w.last_seen);
        r.told = w.told;
        Ok(r)
    }
}

/// (person, confirmed since, confirming tube).
type Positive = (String, Timestamp, String);

#[derive(Debug, Default, Serialize, Deserialize)]
struct HouseholdState {
    residents: Box<[Resident]>,
    positives: Box<[Positive]>,
}

/// Runs `f` on a boxed slice as a vector, then boxes it again with no spare
/// capacity (households are small and there are millions of them).
fn edit<T>(slice: &mut Box<[T]>, f: impl FnOnce(&mut Vec<T>)) {
    let mut v = std::mem::take(slice).into_vec();
    f(&mut v);
    *slice = v.into_boxed_slice();
}

/// All households seen.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct HouseholdOp {
    households: HashMap<HouseholdKey, HouseholdState>,
    /// Lower bound of the residents' `last_seen` and the positives' times
    /// (not snapshotted: relearnt).
    #[serde(skip)]
    oldest: Oldest,
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
        self.oldest.note(seen_at.millis());
        let st = self.households.entry(household).or_default();
        match st.residents.iter_mut().find(|r| r.is(&contact)) {
            Some(r) => {
                r.last_seen = r.last_seen.max(seen_at.millis());
                if seen_at.millis() < r.first_seen_ms {
                    r.set_first_seen(seen_at);
                } else if r.has(&contact) {
                    return;
                }
                r.set_contact(contact);
                // Resend any exposure so the person's alert carries the new details.
                r.told = None;
            }
            None => edit(&mut st.residents, |v| {
                v.reserve_exact(1);
                v.push(Resident::new(contact, seen_at, seen_at.millis()));
            }),
        }
        if !st.positives.is_empty() {
            sync(household, st, seen_at, ob);
        }
    }

    /// Forgets sightings and confirmations older than `before`, and empty
    /// households. Returns how many households were dropped.
    pub fn evict(&mut self, before: i64) -> usize {
        self.oldest.sweep(&mut self.households, before, |h| {
            if h.residents.iter().any(|r| r.last_seen < before) {
                edit(&mut h.residents, |v| v.retain(|r| r.last_seen >= before));
            }
            if h.positives
                .iter()
                .any(|(_, since, _)| since.millis() < before)
            {
                edit(&mut h.positives, |v| {
                    v.retain(|(_, since, _)| since.millis() >= before)
                });
            }
            let residents = h.residents.iter().map(|r| r.last_seen);
            let positives = h.positives.iter().map(|(_, since, _)| since.millis());
            residents.chain(positives).min()
        })
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
        if let Some((t, _)) = &since {
            self.oldest.note(t.millis());
        }
        let st = self.households.entry(household).or_default();
        edit(&mut st.positives, |v| {
            v.retain(|(p, _, _)| *p != person);
            if let Some((t, tube)) = since {
                v.push((person, t, tube));
            }
            v.sort_by(|a, b| (a.1.millis(), &a.0).cmp(&(b.1.millis(), &b.0)));
        });
        sync(household, st, at, ob);
    }
}

/// Tells each resident who exposed them (the earliest other positive), if that changed.
fn sync(household: HouseholdKey, st: &mut HouseholdState, at: Timestamp, ob: &mut Outbox) {
    for r in st.residents.iter_mut() {
        let contact = r.contact();
        let source = st
            .positives
            .iter()
            .find(|(p, _, _)| p != contact.person_id())
            .map(|(p, t, tube)| ExposureSource {
                person_id: p.clone(),
                tube_id: tube.clone(),
                since: t.max_instant(r.first_seen()),
            });
        if source.as_ref() == r.told.as_deref() {
            continue;
        }
        r.told = source.clone().map(Box::new);
        ob.msgs.push_back(Msg::Exposure {
            household,
            contact,
            source,
            at,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resident_is_40_bytes_and_a_household_entry_48() {
        assert_eq!(std::mem::size_of::<Resident>(), 40);
        assert_eq!(std::mem::size_of::<(HouseholdKey, HouseholdState)>(), 48);
    }
}
