//! [`Contact`]: a person's contact details as last seen in a manifest.

use std::borrow::Cow;
use std::sync::Arc;

use pooltrace_model::{Address, IdType, Manifest, Member, Region};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::packed::{to_address, to_region, MemberView, PackError, PackedManifest, ReadBytes};

/// A person's contact details as last seen in a manifest: what a tracing
/// team needs to find them. A handle on one member of the shared packed
/// manifest ([`PackedManifest`]): passing a contact between operators copies
/// nothing, and the household directory holding one costs a pointer and an
/// offset. The details are read from the packed bytes when asked for
/// (routing reads the person id; names, phones and addresses are read only
/// to build an alert).
///
/// Serialized (snapshots, the repartition topic), it is just the member and
/// the region; deserialized, a one-member packed manifest (see its
/// `Deserialize`).
#[derive(Clone)]
pub struct Contact {
    packed: Arc<PackedManifest>,
    /// Byte offset of the member's record in `packed`.
    at: u32,
}

/// A household: a hash of region + address down to the room (128 bits of
/// XXH3, stable across runs and machines).
pub type HouseholdKey = u128;

impl PartialEq for Contact {
    /// Same member (every field) and same region: the packed encoding is
    /// canonical, so this compares bytes.
    fn eq(&self, other: &Self) -> bool {
        same_details(self.parts(), other.parts())
    }
}

impl std::fmt::Debug for Contact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contact")
            .field("member", &self.view())
            .field("region", &self.packed.region())
            .finish()
    }
}

impl Contact {
    /// Member `member` of `manifest` (callers pass an index that exists),
    /// packed alone with the region.
    pub fn of(manifest: &Manifest, member: usize) -> Self {
        debug_assert!(member < manifest.members.len());
        let packed = match manifest.members.get(member) {
            Some(m) => PackedManifest::pack_contact(m, &manifest.region),
            None => PackedManifest::pack_contact(&nobody(), &manifest.region),
        };
        Contact::alone(packed)
    }

    /// The member whose record starts at byte `at` of `packed` (an offset
    /// from [`PackedManifest::members`]).
    pub fn in_packed(packed: &Arc<PackedManifest>, at: usize) -> Self {
        Contact {
            packed: Arc::clone(packed),
            at: u32::try_from(at).unwrap_or(u32::MAX),
        }
    }

    /// The shared packed manifest and the member's byte offset in it (for
    /// holders that store the two apart, see the household directory).
    pub(crate) fn into_parts(self) -> (Arc<PackedManifest>, u32) {
        (self.packed, self.at)
    }

    /// The shared packed manifest and the member's byte offset, borrowed.
    pub(crate) fn parts(&self) -> (&PackedManifest, u32) {
        (&self.packed, self.at)
    }

    /// As [`Contact::parts`], with the manifest's shared handle (to tell
    /// whether two contacts come from the very same manifest).
    pub(crate) fn shared_parts(&self) -> (&Arc<PackedManifest>, u32) {
        (&self.packed, self.at)
    }

    /// The packed bytes of the region and of the member, standalone (what
    /// [`Contact::from_packed_parts`] takes back).
    pub(crate) fn packed_parts(&self) -> Result<(&[u8], Cow<'_, [u8]>), PackError> {
        Ok((
            self.packed.region_bytes()?,
            self.packed.member_bytes(self.at())?,
        ))
    }

    /// A contact from the packed bytes of a region and a member, checked
    /// (see [`PackedManifest::contact_from_parts`]).
    pub(crate) fn from_packed_parts(region: &[u8], member: &[u8]) -> Result<Self, PackError> {
        PackedManifest::contact_from_parts(region, member).map(Contact::alone)
    }

    /// The one member of a packed manifest made for a single contact
    /// ([`PackedManifest::pack_contact`], [`PackedManifest::contact_from_parts`]).
    pub(crate) fn alone(packed: PackedManifest) -> Self {
        Contact {
            at: first_member(&packed),
            packed: Arc::new(packed),
        }
    }

    /// The contact [`Contact::into_parts`] took apart.
    pub(crate) fn from_parts(packed: Arc<PackedManifest>, at: u32) -> Self {
        Contact { packed, at }
    }

    fn at(&self) -> usize {
        self.at as usize
    }

    /// The member, read in place (`None` only if the packed bytes were
    /// damaged, which [`PackedManifest::pack`] never does).
    fn view(&self) -> Option<MemberView<'_>> {
        self.packed.member_at(self.at()).ok()
    }

    /// The member's entry in the manifest.
    pub fn member(&self) -> Member {
        self.view().map_or_else(nobody, |m| m.to_member())
    }

    pub fn person_id(&self) -> &str {
        self.packed.person_id_at(self.at()).unwrap_or_default()
    }

    pub fn name(&self) -> Option<&str> {
        self.view()?.name
    }

    pub fn phone(&self) -> Option<&str> {
        self.view()?.phone
    }

    pub fn address(&self) -> Option<Address> {
        self.view()?.address.map(to_address)
    }

    pub fn region(&self) -> Region {
        to_region(self.packed.region().unwrap_or_default())
    }

    /// The household this person lives in: region + full address down to the
    /// room. `None` without an address.
    pub fn household_key(&self) -> Option<HouseholdKey> {
        let address = self.view()?.address?;
        Some(household_key(self.packed.region().ok()?, address))
    }
}

/// The household key of a region (district, street, community) and an
/// address (compound, building, unit, room).
///
/// The key is XXH3-128 of the seven parts, each followed by the unit
/// separator `0x1f`. Addresses are short: the parts are joined on the stack
/// and hashed in one call (a streaming hasher, fed part by part, cost twice
/// as much); a longer address is streamed, which gives the same key. For
/// many addresses of one region, [`HouseholdKeys`] joins the region once.
pub fn household_key<S: AsRef<[u8]>>(region: [S; 3], address: [S; 4]) -> HouseholdKey {
    HouseholdKeys::new(region.each_ref().map(AsRef::as_ref)).key(address)
}

/// Bytes of joined parts hashed in one call; longer text is streamed.
const ON_STACK: usize = 256;

/// [`household_key`]s of addresses in one region (the members of one
/// manifest): the region's part of the hashed text is joined once.
pub struct HouseholdKeys<'a> {
    region: [&'a [u8]; 3],
    buf: [u8; ON_STACK],
    /// Bytes of the joined region in `buf` (more than `ON_STACK`: it did
    /// not fit, every key is streamed).
    prefix: usize,
}

impl<'a> HouseholdKeys<'a> {
    pub fn new(region: [&'a [u8]; 3]) -> Self {
        let mut keys = HouseholdKeys {
            region,
            buf: [0; ON_STACK],
            prefix: region.iter().map(|p| p.len() + 1).sum(),
        };
        if keys.prefix <= ON_STACK {
            join(&mut keys.buf, 0, region);
        }
        keys
    }

    /// The key of `address` in this region.
    pub fn key<S: AsRef<[u8]>>(&mut self, address: [S; 4]) -> HouseholdKey {
        let len = self.prefix + address.iter().map(|p| p.as_ref().len() + 1).sum::<usize>();
        if len > ON_STACK {
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            for part in self
                .region
                .iter()
                .copied()
                .chain(address.iter().map(AsRef::as_ref))
            {
                h.update(part);
                h.update(&[0x1f]);
            }
            return h.digest128();
        }
        let n = join(
            &mut self.buf,
            self.prefix,
            address.iter().map(AsRef::as_ref),
        );
        xxhash_rust::xxh3::xxh3_128(&self.buf[..n])
    }
}

/// Writes `parts` into `buf` from byte `n`, each followed by `0x1f` (the
/// caller checked that they fit); returns the end.
fn join<'p>(buf: &mut [u8], mut n: usize, parts: impl IntoIterator<Item = &'p [u8]>) -> usize {
    for part in parts {
        buf[n..n + part.len()].copy_from_slice(part);
        buf[n + part.len()] = 0x1f;
        n += part.len() + 1;
    }
    n
}

/// Same person id, for two contacts given as [`Contact::parts`] (compares
/// bytes: no UTF-8 check).
pub(crate) fn same_person(a: (&PackedManifest, u32), b: (&PackedManifest, u32)) -> bool {
    a.0.person_id_bytes_at(a.1 as usize) == b.0.person_id_bytes_at(b.1 as usize)
}

/// Same member (every field) and same region, for two contacts given as
/// [`Contact::parts`]: the region's packed encoding is canonical, so it
/// compares bytes; the members are compared field by field (an address may
/// be a reference to an earlier member's).
pub(crate) fn same_details(a: (&PackedManifest, u32), b: (&PackedManifest, u32)) -> bool {
    member_fields(a) == member_fields(b) && a.0.region_bytes() == b.0.region_bytes()
}

/// Every field of a member (what [`same_details`] compares).
type MemberFields<'a> = (
    &'a str,
    IdType,
    Option<&'a str>,
    Option<&'a str>,
    Option<[&'a str; 4]>,
);

fn member_fields((p, at): (&PackedManifest, u32)) -> Option<MemberFields<'_>> {
    p.member_at(at as usize)
        .ok()
        .map(|m| (m.person_id, m.id_type, m.name, m.phone, m.address))
}

/// A member with an empty person id and no details (what a contact made
/// from a bad index, or read from damaged bytes, answers).
fn nobody() -> Member {
    Member {
        person_id: Default::default(),
        id_type: Default::default(),
        name: None,
        phone: None,
        address: None,
    }
}

fn first_member(packed: &PackedManifest) -> u32 {
    packed.view().map_or(u32::MAX, |v| {
        u32::try_from(v.first_member).unwrap_or(u32::MAX)
    })
}

/// On the wire a contact is only what its methods read: the member and the
/// manifest's region, not the whole manifest. In human-readable formats as
/// a `Member` and a `Region`; in binary ones (snapshots, the repartition
/// topic) as their packed bytes (two MessagePack `bin`s), checked when
/// read back.
#[derive(Serialize)]
struct ContactRef<'a> {
    member: &'a Member,
    region: &'a Region,
}

#[derive(Deserialize)]
struct ContactOwned {
    member: Member,
    region: Region,
}

/// A byte string as MessagePack `bin` (serde writes `&[u8]` as a sequence).
struct Bin<'a>(&'a [u8]);

impl Serialize for Bin<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl Serialize for Contact {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let damaged =
            |e: crate::packed::PackError| serde::ser::Error::custom(format!("contact: {e}"));
        if !s.is_human_readable() {
            let (region, member) = self.packed_parts().map_err(damaged)?;
            return (Bin(region), Bin(&member)).serialize(s);
        }
        let view = self
            .view()
            .ok_or_else(|| serde::ser::Error::custom("contact: damaged packed manifest"))?;
        let region = self.packed.region().map_err(damaged)?;
        ContactRef {
            member: &view.to_member(),
            region: &to_region(region),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Contact {
    /// Packs the member alone with the region (see
    /// [`PackedManifest::pack_contact`]). Every [`Contact`] method reads only
    /// the member and the region, so they (and `==`, and
    /// [`Contact::household_key`]) answer exactly as before the round trip.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let ContactOwned { member, region } = ContactOwned::deserialize(d)?;
            return Ok(Contact::alone(PackedManifest::pack_contact(
                &member, &region,
            )));
        }
        // Borrowed where the reader lends them: the parts are copied once,
        // into the contact's packed bytes.
        let (ReadBytes(region), ReadBytes(member)) =
            <(ReadBytes<'de>, ReadBytes<'de>)>::deserialize(d)?;
        Contact::from_packed_parts(&region, &member)
            .map_err(|e| serde::de::Error::custom(format!("contact: {e}")))
    }
}

/// A member living at room R404 (C1, B2, U3), for tests.
#[cfg(test)]
pub(crate) fn test_member(person_id: &str, id_type: IdType, name: &str, phone: &str) -> Member {
    Member {
        person_id: person_id.into(),
        id_type,
        name: Some(name.into()),
        phone: Some(phone.into()),
        address: Some(Address {
            compound: "C1".into(),
            building: "B2".into(),
            unit: "U3".into(),
            room: "R404".into(),
        }),
    }
}

/// The region D / S / C, for tests.
#[cfg(test)]
pub(crate) fn test_region() -> Region {
    Region {
        district: "D".into(),
        street: "S".into(),
        community: "C".into(),
    }
}

/// A contact living at room R404 (C1, B2, U3) in D / S / C, for tests.
#[cfg(test)]
pub(crate) fn test_contact(person_id: &str, id_type: IdType, name: &str, phone: &str) -> Contact {
    let member = test_member(person_id, id_type, name, phone);
    Contact::alone(PackedManifest::pack_contact(&member, &test_region()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The key as defined: XXH3-128, streamed part by part.
    fn streamed_key(parts: &[String; 7]) -> HouseholdKey {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for part in parts {
            h.update(part.as_bytes());
            h.update(&[0x1f]);
        }
        h.digest128()
    }

    proptest! {
        /// Joined on the stack or streamed (past 256 bytes), the key is
        /// the one the definition gives: keys in snapshots and partition
        /// routes stay valid.
        #[test]
        fn the_household_key_is_xxh3_of_the_parts(
            parts in proptest::array::uniform7("[a-z0-9\\x{4e00}-\\x{4e20}]{0,60}")
        ) {
            let [d, s, c, co, b, u, r] = parts.clone();
            prop_assert_eq!(household_key([d, s, c], [co, b, u, r]), streamed_key(&parts));
        }

        /// One region's keys for many addresses, in any order and of any
        /// length, are each the definition's key.
        #[test]
        fn keys_of_one_region_are_each_the_definitions(
            region in proptest::array::uniform3("[a-z0-9\\x{4e00}-\\x{4e20}]{0,80}"),
            addresses in proptest::collection::vec(
                proptest::array::uniform4("[a-z0-9\\x{4e00}-\\x{4e20}]{0,40}"), 1..6)
        ) {
            let mut keys = HouseholdKeys::new(region.each_ref().map(|p| p.as_bytes()));
            for a in &addresses {
                let [d, s, c] = region.clone();
                let [co, b, u, r] = a.clone();
                prop_assert_eq!(keys.key(a.each_ref()), streamed_key(&[d, s, c, co, b, u, r]));
            }
        }
    }

    #[test]
    fn the_household_key_of_an_address_is_pinned() {
        let key = household_key(["朝阳区", "Nanhu", "Yuanyi"], ["C1", "B2", "U3", "R404"]);
        assert_eq!(key, 70_479_127_973_883_595_522_473_604_450_748_737_065);
    }

    fn contact() -> Contact {
        test_contact(
            "110101199003074477",
            IdType::ResidentId,
            "李四",
            "13800000000",
        )
    }

    #[test]
    fn a_contact_reads_back_the_same_borrowed_or_copied() {
        let c = contact();
        let bytes = rmp_serde::to_vec(&c).expect("encodes");
        // From a slice: the parts are lent by the reader.
        let lent: Contact = rmp_serde::from_slice(&bytes).expect("decodes from a slice");
        // From a stream: the parts are copied.
        let copied: Contact =
            rmp_serde::from_read(std::io::Cursor::new(&bytes)).expect("decodes from a reader");
        for back in [lent, copied] {
            assert_eq!(back, c);
            assert_eq!(back.person_id(), "110101199003074477");
            assert_eq!(back.name(), Some("李四"));
            assert_eq!(back.household_key(), c.household_key());
        }
        // Cut short: an error, not a contact.
        let cut: Result<Contact, _> = rmp_serde::from_slice(&bytes[..bytes.len() - 2]);
        assert!(cut.is_err());
    }

    #[test]
    fn a_member_whose_address_is_a_reference_is_the_same_contact_as_alone() {
        let first = contact().member();
        let mut household = first.clone();
        household.person_id = "110101199003074493".into();
        let mut neighbour = household.clone();
        neighbour.person_id = "110101199003074515".into();
        if let Some(a) = neighbour.address.as_mut() {
            a.room = "R405".into();
        }
        let manifest = Manifest {
            tube_id: "T1".into(),
            kind: pooltrace_model::TubeKind::Pool,
            collected_at: pooltrace_model::Timestamp::from_millis(0, 0),
            site_id: "S1".into(),
            region: contact().region(),
            members: vec![first, household, neighbour],
            retest_of: None,
            batch_id: None,
            design: None,
            pool_index: None,
        };
        let packed = Arc::new(PackedManifest::pack(&manifest));
        for (i, at) in packed.members().enumerate() {
            let shared = Contact::in_packed(&packed, at);
            let alone = Contact::of(&manifest, i);
            assert_eq!(shared, alone, "member {i}");
            assert_eq!(shared.address(), manifest.members[i].address);
            assert_eq!(shared.household_key(), alone.household_key());
            let back: Contact =
                rmp_serde::from_slice(&rmp_serde::to_vec(&shared).unwrap()).unwrap();
            assert_eq!(back, alone);
            assert_eq!(back.packed_parts().unwrap(), alone.packed_parts().unwrap());
        }
        let [a, b, c]: [usize; 3] = packed.members().collect::<Vec<_>>().try_into().unwrap();
        let (a, b, c) = (
            Contact::in_packed(&packed, a),
            Contact::in_packed(&packed, b),
            Contact::in_packed(&packed, c),
        );
        assert_eq!(a.household_key(), b.household_key());
        assert_ne!(b.household_key(), c.household_key());
        assert_ne!(a, b);
    }
}
