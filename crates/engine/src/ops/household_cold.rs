//! Households out of memory: a household with no confirmed positive and
//! no resident told of one, none of whose residents has been seen for a
//! while, is written to the engine's spill store ([`crate::spill`]) and
//! read back by the next sighting at the address or the next positive
//! there. Each resident comes back as a member of one packed manifest
//! holding the household (the tube each was listed in may be spilled too).
//!
//! A spilled household, in this layout (little endian; the files live only
//! as long as the run, so the layout carries no version):
//!
//! | bytes | what |
//! |---|---|
//! | 16 | the household key |
//! | LEB128 | how many residents, `n` |
//! | `n` x 20 | each resident's first sighting (millis i64, UTC offset in seconds i32) and last sighting (millis i64) |
//! | the rest | the residents as one packed manifest ([`PackedManifest::pack_members_into`]): the region once, each address a reference to the first |
//!
//! It took 580 bytes a household as MessagePack with named fields, every
//! resident repeating the region and the address (benches/README.md,
//! session 20).
//!
//! Retention: a spilled household is forgotten when its latest sighting
//! falls out of the window; residents seen only before the latest sweep's
//! cut-off are dropped when it is read back, as that sweep would have
//! dropped them in memory.

use std::sync::Arc;

use pooltrace_model::Timestamp;

use super::household::{id_tag, HouseholdOp, Resident};
use crate::contact::Contact;
use crate::msg::HouseholdKey;
use crate::packed::PackedManifest;
use crate::packed_bytes::{put_len, Reader};
use crate::spill::{Cold, SpillError, SpillStore};

/// What a resident in memory costs (32 bytes, its share of the household's
/// map entry and box), measured with heaptrack on the demo (benches/README.md,
/// session 17).
pub(crate) const RESIDENT_BYTES: usize = 48;

/// Bytes of a resident's sightings in a spilled household.
const SIGHTINGS_LEN: usize = 20;

/// The index key of a household: 64 of its 128 bits (the index entry is
/// then 24 bytes, not 32). Two households that share it are told apart by
/// the full key in the record; the second of them stays in memory.
fn short_key(household: HouseholdKey) -> u64 {
    (household as u64) ^ ((household >> 64) as u64)
}

/// Writes `residents` of `household` into `buf` in the layout above;
/// false (the household stays in memory) if their regions differ (their
/// keys would then differ too, short of a hash collision) or a packed
/// manifest is damaged.
fn encode(buf: &mut Vec<u8>, household: HouseholdKey, residents: &[Resident]) -> bool {
    buf.clear();
    buf.extend_from_slice(&household.to_le_bytes());
    put_len(buf, residents.len());
    for r in residents {
        let first = r.first_seen();
        buf.extend_from_slice(&first.millis().to_le_bytes());
        buf.extend_from_slice(&first.offset_secs().to_le_bytes());
        buf.extend_from_slice(&r.last_seen.to_le_bytes());
    }
    let members = || residents.iter().map(Resident::parts);
    let Some(region) = members().next().and_then(|(p, _)| p.region_bytes().ok()) else {
        return false;
    };
    if !members().all(|(p, _)| p.region_bytes().is_ok_and(|r| r == region)) {
        return false;
    }
    PackedManifest::pack_members_into(buf, region, members()).is_ok()
}

/// A resident read back: contact, first and last sighting.
type Thawed = (Contact, Timestamp, i64);

/// Reads a spilled household: `None` if it is another household's (whose
/// short key `household` shares), an error if the bytes are damaged.
fn decode(bytes: &[u8], household: HouseholdKey) -> Result<Option<Vec<Thawed>>, String> {
    let mut r = Reader { b: bytes, at: 0 };
    let key = HouseholdKey::from_le_bytes(r.array().map_err(|e| e.to_string())?);
    if key != household {
        return Ok(None);
    }
    let n = r.len().map_err(|e| e.to_string())?;
    let mut sightings = Vec::with_capacity(n.min(bytes.len() / SIGHTINGS_LEN));
    for _ in 0..n {
        let first = i64::from_le_bytes(r.array().map_err(|e| e.to_string())?);
        let offset = i32::from_le_bytes(r.array().map_err(|e| e.to_string())?);
        let last = i64::from_le_bytes(r.array().map_err(|e| e.to_string())?);
        sightings.push((Timestamp::from_millis(first, offset), last));
    }
    let packed = PackedManifest::from_bytes(bytes[r.at..].to_vec()).map_err(|e| e.to_string())?;
    let packed = Arc::new(packed);
    let thawed: Vec<Thawed> = packed
        .members()
        .zip(sightings)
        .map(|(at, (first, last))| (Contact::in_packed(&packed, at), first, last))
        .collect();
    let packed_count = packed.view().map_err(|e| e.to_string())?.member_count;
    if thawed.len() != n || packed_count != n {
        return Err(format!("{n} residents listed, {packed_count} packed"));
    }
    Ok(Some(thawed))
}

impl HouseholdOp {
    /// From now on, cold households can be spilled to `store`.
    pub(crate) fn attach_store(&mut self, store: Box<dyn SpillStore>) {
        self.cold = Some(Cold::new(store, "household"));
    }

    /// Households spilled (out of memory).
    pub(crate) fn spilled(&self) -> usize {
        self.cold.as_ref().map_or(0, Cold::len)
    }

    /// What the households in memory take, estimated (bytes).
    pub(crate) fn hot_bytes(&self) -> usize {
        self.hot_residents * RESIDENT_BYTES
    }

    /// The store's first error, if any (taken: reported once).
    pub(crate) fn take_spill_error(&mut self) -> Option<SpillError> {
        self.cold.as_mut().and_then(Cold::take_error)
    }

    /// Brings `household` back into memory if it was spilled.
    pub(super) fn thaw(&mut self, household: HouseholdKey) {
        let Some(cold) = &mut self.cold else { return };
        let key = short_key(household);
        if !cold.contains(&key) || self.households.contains_key(&household) {
            return;
        }
        let cut_off = cold.swept_before();
        let back = cold.take(&key, |bytes| decode(bytes, household));
        let residents: Box<[Resident]> = back
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, _, last_seen)| *last_seen >= cut_off)
            .map(|(contact, first_seen, last_seen)| {
                let tag = id_tag(contact.parts());
                Resident::new(contact, tag, first_seen, last_seen)
            })
            .collect();
        if let Some(oldest) = residents.iter().map(|r| r.last_seen).min() {
            self.oldest.note(oldest);
            self.hot_residents += residents.len();
            self.households.insert(household, residents);
        }
    }

    /// Spills every household with no exposure whose residents were all
    /// last seen before `before`; returns how many.
    pub(crate) fn spill(&mut self, before: i64) -> usize {
        let Some(cold) = &mut self.cold else { return 0 };
        let (mut spilled, mut freed) = (0, 0);
        let mut buf = Vec::new();
        let exposed = &self.exposed;
        self.households.retain(|key, residents| {
            let Some(last) = residents.iter().map(|r| r.last_seen).max() else {
                return true;
            };
            if last >= before || cold.has_failed() || exposed.contains_key(key) {
                return true;
            }
            if !encode(&mut buf, *key, residents) || !cold.put(short_key(*key), &buf, last) {
                return true;
            }
            spilled += 1;
            freed += residents.len();
            false
        });
        self.hot_residents -= freed;
        spilled
    }
}

#[cfg(test)]
mod tests {
    use pooltrace_model::{Address, IdType, Manifest, Member, Region, TubeKind};

    use super::*;
    use crate::contact::{test_member, test_region};

    fn t(min: i64, offset_h: i32) -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000 + min * 60_000, offset_h * 3600)
    }

    /// A resident listed alone in a manifest of their own.
    fn resident(member: Member, region: &Region, first: Timestamp, last: i64) -> Resident {
        let contact = Contact::alone(PackedManifest::pack_contact(&member, region));
        let tag = id_tag(contact.parts());
        Resident::new(contact, tag, first, last)
    }

    /// Three residents of room R404, unlike in every detail a record could
    /// lose: id types, a missing name and phone, UTC offsets either side of
    /// zero, and one listed in a pool manifest with neighbours from other
    /// rooms (its address is written in full there, not by reference).
    fn household() -> Vec<Resident> {
        let region = test_region();
        let mut bare = test_member("P2", IdType::Passport, "", "");
        (bare.name, bare.phone) = (None, None);
        let neighbour = Member {
            address: Some(Address {
                compound: "C1".into(),
                building: "B2".into(),
                unit: "U3".into(),
                room: "R405".into(),
            }),
            ..test_member("P9", IdType::Other, "N", "9")
        };
        let pool = Manifest {
            tube_id: "T1".into(),
            kind: TubeKind::Pool,
            collected_at: t(0, 8),
            site_id: "S".into(),
            region: region.clone(),
            members: vec![
                neighbour,
                test_member("P3", IdType::ResidentId, "Third", "333"),
            ],
            retest_of: None,
            batch_id: None,
            design: None,
            pool_index: None,
        };
        let in_pool = Arc::new(PackedManifest::pack(&pool));
        let third_at = in_pool.members().nth(1).expect("two members");
        let third = Contact::in_packed(&in_pool, third_at);
        let tag = id_tag(third.parts());
        vec![
            resident(
                test_member("P1", IdType::Other, "First", "111"),
                &region,
                t(0, 8),
                60_000,
            ),
            resident(bare, &region, t(5, -5), 120_000),
            Resident::new(third, tag, t(9, 0), 180_000),
        ]
    }

    fn thawed(residents: &[Resident]) -> Vec<(Contact, Timestamp, i64)> {
        residents
            .iter()
            .map(|r| (r.contact(), r.first_seen(), r.last_seen))
            .collect()
    }

    #[test]
    fn a_household_comes_back_as_it_went_out() {
        let residents = household();
        let mut buf = Vec::new();
        assert!(encode(&mut buf, 7, &residents));
        let back = decode(&buf, 7).expect("well formed").expect("its own key");
        assert_eq!(back.len(), 3);
        for ((c, first, last), (want_c, want_first, want_last)) in
            back.iter().zip(thawed(&residents))
        {
            assert_eq!(*c, want_c, "every detail and the region");
            assert_eq!(c.person_id(), want_c.person_id());
            assert_eq!(c.household_key(), want_c.household_key());
            assert_eq!(
                (first.millis(), first.offset_secs()),
                (want_first.millis(), want_first.offset_secs())
            );
            assert_eq!(*last, want_last);
        }
        // The residents share one packed manifest: one allocation, not three.
        let (a, _) = back[0].0.shared_parts();
        assert!(back
            .iter()
            .all(|(c, _, _)| Arc::ptr_eq(c.shared_parts().0, a)));
    }

    #[test]
    fn region_and_address_are_written_once() {
        let residents = household();
        let mut buf = Vec::new();
        assert!(encode(&mut buf, 7, &residents));
        let count = |needle: &[u8]| buf.windows(needle.len()).filter(|w| *w == needle).count();
        let region = residents[0].parts().0.region_bytes().expect("packed");
        assert_eq!(count(region), 1);
        assert_eq!(count(b"R404"), 1);
    }

    #[test]
    fn another_households_record_is_left_alone() {
        let mut buf = Vec::new();
        assert!(encode(&mut buf, 7, &household()));
        assert!(decode(&buf, 8).expect("well formed").is_none());
    }

    #[test]
    fn damaged_records_are_errors_not_households() {
        let mut buf = Vec::new();
        assert!(encode(&mut buf, 7, &household()));
        for cut in [10, 17, 17 + SIGHTINGS_LEN, buf.len() - 1] {
            assert!(decode(&buf[..cut], 7).is_err(), "cut at {cut}");
        }
        // One resident more listed than packed.
        let mut more = buf.clone();
        more[16] = 4;
        assert!(decode(&more, 7).is_err());
    }

    #[test]
    fn residents_of_two_regions_stay_in_memory() {
        let mut residents = household();
        let elsewhere = Region {
            district: "D".into(),
            street: "S2".into(),
            community: "C".into(),
        };
        residents.push(resident(
            test_member("P4", IdType::Other, "F", "4"),
            &elsewhere,
            t(1, 8),
            1,
        ));
        assert!(!encode(&mut Vec::new(), 7, &residents));
    }
}
