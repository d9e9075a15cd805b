//! The household operator (key: full address down to the room). Knows who
//! lives where, from every manifest; when a resident is confirmed positive,
//! tells every other resident they were exposed (rule 3: `isolation_transfer`).
//!
//! This directory holds everyone with an address, so it is kept small: a
//! resident is a handle on the packed manifest that listed them (see
//! [`Contact`]), a short hash of their id and their first and last
//! sighting, 32 bytes; a household
//! is a boxed slice of them sized to its contents (32 bytes a household in
//! the map). The few households with a confirmed positive keep the
//! positives and what each resident was told in a map of their own.
//! Snapshots keep the form they always had (`household_wire.rs`). With a
//! spill store, households with no exposure that nobody touches may wait
//! on disk (`household_cold.rs`).

use std::hash::Hasher;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use pooltrace_model::Timestamp;

use super::oldest::Oldest;
use super::Outbox;
use crate::contact::{same_details, same_person};
use crate::msg::{Contact, ExposureSource, HouseholdKey, Msg};
use crate::packed::PackedManifest;
use crate::spill::Cold;

/// One person seen at the address. Its [`Contact`] is stored apart (the
/// packed manifest and the member's offset) so that the offset and one
/// word holding the first sighting's UTC offset and the id's hash sit side
/// by side (32 bytes in all, checked by a test).
#[derive(Debug)]
pub(super) struct Resident {
    packed: Arc<PackedManifest>,
    at: u32,
    /// The first sighting's UTC offset in seconds (the high 18 bits,
    /// signed: chrono's offsets are within +-86,399 s) and a
    /// [`TAG_BITS`]-bit hash of the person id ([`id_tag`], the low bits).
    /// With the hash, telling a new resident from the others reads no one
    /// else's manifest unless the hashes agree (in the run bench ten
    /// people share a room: ten reads of cold memory per sighting).
    offset_and_tag: u32,
    first_seen_ms: i64,
    /// Latest sighting (for retention).
    pub(super) last_seen: i64,
}

impl Resident {
    /// `tag` is the contact's [`id_tag`] (the caller has it already).
    pub(super) fn new(contact: Contact, tag: u32, first_seen: Timestamp, last_seen: i64) -> Self {
        let (packed, at) = contact.into_parts();
        Resident {
            packed,
            at,
            offset_and_tag: offset_and_tag(first_seen.offset_secs(), tag),
            first_seen_ms: first_seen.millis(),
            last_seen,
        }
    }

    pub(super) fn contact(&self) -> Contact {
        Contact::from_parts(Arc::clone(&self.packed), self.at)
    }

    /// The packed manifest and the member's offset, borrowed (what
    /// [`Contact::parts`] answers, without a handle on the manifest).
    pub(super) fn parts(&self) -> (&PackedManifest, u32) {
        (&self.packed, self.at)
    }

    fn set_contact(&mut self, contact: Contact) {
        (self.packed, self.at) = contact.into_parts();
    }

    /// The same person as `contact`. Two members of one manifest are the
    /// same person only if they are the same member: a manifest never lists
    /// anyone twice (validated before it is packed). So members of the
    /// manifest being filed, household by household, are told apart without
    /// reading the other residents' bytes.
    fn is(&self, contact: &Contact, tag: u32) -> bool {
        let (packed, at) = contact.shared_parts();
        if Arc::ptr_eq(&self.packed, packed) {
            return self.at == at;
        }
        self.tag() == tag && same_person((&self.packed, self.at), contact.parts())
    }

    /// The same person with the same details as `contact`.
    fn has(&self, contact: &Contact) -> bool {
        let (packed, at) = contact.shared_parts();
        if Arc::ptr_eq(&self.packed, packed) && self.at == at {
            return true;
        }
        same_details((&self.packed, self.at), contact.parts())
    }

    pub(super) fn first_seen(&self) -> Timestamp {
        // An arithmetic shift: the offset's sign comes back.
        let offset = (self.offset_and_tag as i32) >> TAG_BITS;
        Timestamp::from_millis(self.first_seen_ms, offset)
    }

    /// The hash of the person id ([`id_tag`]).
    pub(super) fn tag(&self) -> u32 {
        self.offset_and_tag & TAG_MASK
    }

    fn set_first_seen(&mut self, t: Timestamp) {
        self.first_seen_ms = t.millis();
        self.offset_and_tag = offset_and_tag(t.offset_secs(), self.tag());
    }
}

/// (person, confirmed since, confirming tube).
pub(super) type Positive = (String, Timestamp, String);

/// What a household with a confirmed positive (now or before) holds
/// besides its residents.
#[derive(Debug, Default)]
pub(super) struct Exposed {
    /// Confirmed positives, by (since, person).
    pub(super) positives: Vec<Positive>,
    /// What each resident was last told, by person id (none: nothing).
    pub(super) told: Vec<(String, ExposureSource)>,
}

impl Exposed {
    fn is_empty(&self) -> bool {
        self.positives.is_empty() && self.told.is_empty()
    }

    pub(super) fn told(&self, person: &str) -> Option<&ExposureSource> {
        self.told.iter().find(|(p, _)| p == person).map(|(_, s)| s)
    }
}

/// Bits of the person id's hash a resident keeps: one in 16,384 other
/// residents needs its id read to be told apart.
pub(super) const TAG_BITS: u32 = 14;
const TAG_MASK: u32 = (1 << TAG_BITS) - 1;

/// Largest UTC offset magnitude the 18 remaining bits hold (chrono allows
/// under 86,400 s, so every offset read from input or a snapshot fits; a
/// larger one, which no timestamp read can have, would be clamped).
const MAX_OFFSET: i32 = (1 << (31 - TAG_BITS)) - 1;

/// One word of a UTC offset and an id hash (see [`Resident`]).
fn offset_and_tag(offset_secs: i32, tag: u32) -> u32 {
    let offset = offset_secs.clamp(-MAX_OFFSET - 1, MAX_OFFSET);
    ((offset as u32) << TAG_BITS) | (tag & TAG_MASK)
}

/// A [`TAG_BITS`]-bit hash of a contact's person id bytes (equal ids,
/// equal tags; bytes that cannot be read hash as empty, which
/// [`same_person`] tells apart).
pub(super) fn id_tag((packed, at): (&PackedManifest, u32)) -> u32 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(packed.person_id_bytes_at(at as usize).unwrap_or_default());
    // The top bits of Fx's output: on the run bench's 1 M sightings (ten
    // to a room) 272 false matches, as many as a uniform hash would give.
    (h.finish() >> (64 - TAG_BITS)) as u32
}

/// Runs `f` on a boxed slice as a vector, then boxes it again with no spare
/// capacity (households are small and there are millions of them).
fn edit<T>(slice: &mut Box<[T]>, f: impl FnOnce(&mut Vec<T>)) {
    let mut v = std::mem::take(slice).into_vec();
    f(&mut v);
    *slice = v.into_boxed_slice();
}

/// All households seen.
#[derive(Debug, Default)]
pub struct HouseholdOp {
    /// Residents by household.
    pub(super) households: HashMap<HouseholdKey, Box<[Resident]>>,
    /// Households with a positive, or a resident told of one.
    pub(super) exposed: HashMap<HouseholdKey, Exposed>,
    /// Lower bound of the residents' `last_seen` (not snapshotted: relearnt).
    pub(super) oldest: Oldest,
    /// Households spilled out of memory (`household_cold.rs`), when the
    /// engine has a store. Never in a snapshot.
    pub(super) cold: Option<Cold>,
    /// Residents of the households in memory.
    pub(super) hot_residents: usize,
}

impl HouseholdOp {
    /// Makes room for `additional` more households.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.households.reserve(additional);
    }

    /// Households held.
    pub fn len(&self) -> usize {
        let only_exposed = self
            .exposed
            .keys()
            .filter(|k| !self.households.contains_key(*k))
            .count();
        self.households.len() + only_exposed + self.spilled()
    }

    /// True when no household is held.
    pub fn is_empty(&self) -> bool {
        self.households.is_empty() && self.exposed.is_empty() && self.spilled() == 0
    }

    /// Reads, ahead of their sightings, where these households live in
    /// memory: the map's slots and the residents' first bytes. A manifest's
    /// members go to households all over a map too big for the cache; one
    /// look-up at a time, each waits for memory twice. Looked up together
    /// here, the reads overlap, and the sightings that follow find them
    /// cached. Changes nothing.
    pub fn warm(&self, households: impl Iterator<Item = HouseholdKey>) {
        for h in households {
            let first = self
                .households
                .get(&h)
                .and_then(|r| r.first())
                .map(|r| r.offset_and_tag);
            std::hint::black_box(first);
        }
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
        self.thaw(household);
        let residents = self.households.entry(household).or_default();
        let tag = id_tag(contact.parts());
        match residents.iter_mut().find(|r| r.is(&contact, tag)) {
            Some(r) => {
                r.last_seen = r.last_seen.max(seen_at.millis());
                if seen_at.millis() < r.first_seen_ms {
                    r.set_first_seen(seen_at);
                } else if r.has(&contact) {
                    return;
                }
                r.set_contact(contact);
                // Resend any exposure so the person's alert carries the new details.
                if let Some(e) = self.exposed.get_mut(&household) {
                    let person = r.contact();
                    e.told.retain(|(p, _)| p != person.person_id());
                }
            }
            None => {
                edit(residents, |v| {
                    v.reserve_exact(1);
                    v.push(Resident::new(contact, tag, seen_at, seen_at.millis()));
                });
                self.hot_residents += 1;
            }
        }
        if self
            .exposed
            .get(&household)
            .is_some_and(|e| !e.positives.is_empty())
        {
            self.sync(household, seen_at, ob);
        }
    }

    /// Forgets sightings and confirmations older than `before`, and empty
    /// households. Returns how many households' residents were all dropped.
    pub fn evict(&mut self, before: i64) -> usize {
        let mut forgotten = 0;
        let dropped = self
            .oldest
            .sweep(&mut self.households, before, |residents| {
                if residents.iter().any(|r| r.last_seen < before) {
                    let n = residents.len();
                    edit(residents, |v| v.retain(|r| r.last_seen >= before));
                    forgotten += n - residents.len();
                }
                residents.iter().map(|r| r.last_seen).min()
            });
        self.hot_residents -= forgotten;
        let dropped = dropped + self.cold.as_mut().map_or(0, |c| c.evict(before));
        // Few households are exposed: scanned in full. A person told of an
        // exposure who is no longer a resident is forgotten with them.
        let households = &self.households;
        self.exposed.retain(|key, e| {
            e.positives.retain(|(_, since, _)| since.millis() >= before);
            let residents = households.get(key).map_or(&[][..], |r| &r[..]);
            e.told.retain(|(p, _)| {
                residents
                    .iter()
                    .any(|r| r.contact().person_id() == p.as_str())
            });
            !e.is_empty()
        });
        dropped
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
        self.thaw(household);
        let e = self.exposed.entry(household).or_default();
        e.positives.retain(|(p, _, _)| *p != person);
        if let Some((t, tube)) = since {
            e.positives.push((person, t, tube));
        }
        e.positives
            .sort_by(|a, b| (a.1.millis(), &a.0).cmp(&(b.1.millis(), &b.0)));
        self.sync(household, at, ob);
    }

    /// Tells each resident who exposed them (the earliest other positive),
    /// if that changed.
    fn sync(&mut self, household: HouseholdKey, at: Timestamp, ob: &mut Outbox) {
        let Some(e) = self.exposed.get_mut(&household) else {
            return;
        };
        let residents = self.households.get(&household).map_or(&[][..], |r| &r[..]);
        for r in residents {
            let contact = r.contact();
            let person = contact.person_id();
            let source = e
                .positives
                .iter()
                .find(|(p, _, _)| p != person)
                .map(|(p, t, tube)| ExposureSource {
                    person_id: p.clone(),
                    tube_id: tube.clone(),
                    since: t.max_instant(r.first_seen()),
                });
            if source.as_ref() == e.told(person) {
                continue;
            }
            e.told.retain(|(p, _)| p != person);
            if let Some(s) = &source {
                e.told.push((person.to_string(), s.clone()));
            }
            ob.msgs.push_back(Msg::Exposure {
                household,
                contact,
                source,
                at,
            });
        }
        if e.is_empty() {
            self.exposed.remove(&household);
        }
    }
}

#[cfg(test)]
#[path = "household_tests.rs"]
mod tests;
