//! A tube manifest packed into one byte buffer: what the engine keeps of a
//! manifest once it has arrived.
//!
//! A [`Manifest`] costs about 190 bytes per member in memory (every member a
//! struct of inline strings, most of them padding); packed, a member costs
//! its string bytes plus one length byte per string and one tag byte, and
//! an address shared with an earlier member is a reference to it (about 45
//! bytes for a member with name, phone and the address of the member
//! before it: tubes are filled household by household, building by
//! building). The tube operator
//! keeps every manifest until retention forgets the tube (a corrected result
//! can re-decide it), and every [`Contact`](crate::msg::Contact) points into
//! one, so this is most of the engine's memory per person.
//!
//! Reads are zero-copy: [`PackedManifest::view`] reads the header,
//! [`PackedManifest::member_at`] one member, as `&str` slices of the buffer.
//! [`PackedManifest::unpack`] rebuilds the whole [`Manifest`] (snapshots,
//! batch pools, alerts).
//!
//! Layout (integers little-endian; `str` = LEB128 length + UTF-8 bytes):
//!
//! ```text
//! u32 region_at, u32 members_at        byte offsets of the region and of the member count
//! u8 kind, u8 flags                    flags: 1 retest_of, 2 batch_id, 4 design, 8 pool_index
//! i64 collected_at millis, i32 offset
//! [u32 pool_index]
//! str tube_id, str site_id, [str retest_of], [str batch_id], [str design]
//! region_at:  str district, str street, str community
//! members_at: LEB128 count, then per member:
//!   u8 tag (bits 0-1 id_type: resident id, passport, other; 4 name, 8 phone,
//!          16 address, 32 same address, 64 same unit)
//!   str person_id, [str name], [str phone], then with an address one of
//!     str compound, building, unit, room        (16: the address in full)
//!     LEB128 back                               (16 + 32: the same four strings
//!                                                as the address in full `back`
//!                                                bytes before this member's tag)
//!     LEB128 back, str room                     (16 + 64: compound, building and
//!                                                unit of that address, own room)
//! ```
//!
//! A member's address refers to the latest address written in full before
//! it when it equals it (32) or differs only in the room (64); otherwise it
//! is written in full and later members refer to it.
//!
//! The encoding is canonical (one value, one byte string), so two manifests
//! are equal exactly when their bytes are; so are two members' standalone
//! bytes ([`PackedManifest::member_bytes`]).
//!
//! A packed manifest is only ever built by [`PackedManifest::pack`] or
//! [`PackedManifest::pack_contact`], so its bytes are always well formed;
//! the readers still check every bound and report a [`PackError`] instead
//! of panicking.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use pooltrace_model::{Address, IdType, Manifest, Member, Region, Timestamp, TubeKind};

pub(crate) use crate::packed_bytes::{
    flag, get_time, kind_byte, put_bytes, put_len, put_str, put_time, str_len, tube_kind_of,
    ReadBytes, Reader,
};

/// Why packed bytes could not be read (a bug: [`PackedManifest::pack`]
/// writes only well-formed bytes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// The bytes end inside a value.
    #[error("packed manifest truncated at byte {at}")]
    Truncated { at: usize },
    /// A string is not UTF-8.
    #[error("packed manifest: string at byte {at} is not UTF-8")]
    Utf8 { at: usize },
    /// A tag byte has no meaning.
    #[error("packed manifest: bad {what} tag {tag} at byte {at}")]
    BadTag {
        what: &'static str,
        tag: u8,
        at: usize,
    },
}

const RETEST_OF: u8 = 1;
const BATCH_ID: u8 = 2;
const DESIGN: u8 = 4;
const POOL_INDEX: u8 = 8;

const ID_TYPE: u8 = 3;
const NAME: u8 = 4;
const PHONE: u8 = 8;
const ADDRESS: u8 = 16;
const SAME_ADDRESS: u8 = 32;
const SAME_UNIT: u8 = 64;

/// Byte offset of the fixed header's fields.
const KIND_AT: usize = 8;
const HEADER_LEN: usize = 22;

/// Where a member's address is in the packed bytes: the byte offset of the
/// address written in full that it uses (all four strings, or the first
/// three and its own room).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AddressAt {
    None,
    Full(usize),
    Same(usize),
    Unit(usize),
}

/// A manifest packed into one buffer (see the module docs for the layout).
#[derive(Clone, PartialEq, Eq)]
pub struct PackedManifest(Box<[u8]>);

impl std::fmt::Debug for PackedManifest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.unpack() {
            Ok(m) => m.fmt(f),
            Err(e) => write!(f, "PackedManifest({e})"),
        }
    }
}

/// A manifest's header, read in place.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ManifestView<'a> {
    pub tube_id: &'a str,
    pub kind: TubeKind,
    pub collected_at: Timestamp,
    pub site_id: &'a str,
    pub retest_of: Option<&'a str>,
    pub batch_id: Option<&'a str>,
    pub design: Option<&'a str>,
    pub pool_index: Option<u32>,
    /// District, street, community.
    pub region: [&'a str; 3],
    /// How many members.
    pub member_count: usize,
    /// Byte offset of the first member.
    pub first_member: usize,
}

/// One member, read in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberView<'a> {
    pub person_id: &'a str,
    pub id_type: IdType,
    pub name: Option<&'a str>,
    pub phone: Option<&'a str>,
    /// Compound, building, unit, room.
    pub address: Option<[&'a str; 4]>,
    /// Byte offset just past this member (where the next one starts).
    pub end: usize,
}

impl MemberView<'_> {
    /// The owned member.
    pub fn to_member(&self) -> Member {
        Member {
            person_id: self.person_id.into(),
            id_type: self.id_type,
            name: self.name.map(Into::into),
            phone: self.phone.map(Into::into),
            address: self.address.map(to_address),
        }
    }
}

/// An owned address from its four parts.
pub(crate) fn to_address([compound, building, unit, room]: [&str; 4]) -> Address {
    Address {
        compound: compound.into(),
        building: building.into(),
        unit: unit.into(),
        room: room.into(),
    }
}

/// An owned region from its three parts.
pub(crate) fn to_region([district, street, community]: [&str; 3]) -> Region {
    Region {
        district: district.into(),
        street: street.into(),
        community: community.into(),
    }
}

impl PackedManifest {
    /// Packs a whole manifest.
    pub fn pack(m: &Manifest) -> Self {
        Self::write(Some(m), &m.region, &m.members)
    }

    /// Packs one member and its region alone, behind a placeholder header
    /// (empty tube and site id, kind `single`, collected at the epoch in
    /// UTC, no retest or batch): what a [`Contact`](crate::msg::Contact)
    /// needs, without the rest of its manifest.
    pub fn pack_contact(member: &Member, region: &Region) -> Self {
        Self::write(None, region, std::slice::from_ref(member))
    }

    fn write(m: Option<&Manifest>, region: &Region, members: &[Member]) -> Self {
        thread_local! {
            /// Packing happens here, then the exact length is copied out:
            /// one allocation of the right size per manifest.
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH.with(|scratch| {
            let mut b = scratch.borrow_mut();
            b.clear();
            write_into(&mut b, m, region, members);
            PackedManifest(Box::from(&b[..]))
        })
    }

    /// The packed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The header and region, read in place.
    pub fn view(&self) -> Result<ManifestView<'_>, PackError> {
        let b = &*self.0;
        let mut r = Reader { b, at: 0 };
        let region_at = r.u32()? as usize;
        let members_at = r.u32()? as usize;
        let tag = r.u8()?;
        let kind = tube_kind_of(tag).ok_or(PackError::BadTag {
            what: "kind",
            tag,
            at: KIND_AT,
        })?;
        let flags = r.u8()?;
        let collected_at = get_time(&mut r)?;
        let pool_index = if flags & POOL_INDEX != 0 {
            Some(r.u32()?)
        } else {
            None
        };
        let tube_id = r.str()?;
        let site_id = r.str()?;
        let retest_of = r.str_if(flags & RETEST_OF != 0)?;
        let batch_id = r.str_if(flags & BATCH_ID != 0)?;
        let design = r.str_if(flags & DESIGN != 0)?;
        let region = self.region_at(region_at)?;
        let mut r = Reader { b, at: members_at };
        let member_count = r.len()?;
        Ok(ManifestView {
            tube_id,
            kind,
            collected_at,
            site_id,
            retest_of,
            batch_id,
            design,
            pool_index,
            region,
            member_count,
            first_member: r.at,
        })
    }

    /// District, street and community.
    pub fn region(&self) -> Result<[&str; 3], PackError> {
        let mut r = Reader { b: &self.0, at: 0 };
        let region_at = r.u32()? as usize;
        self.region_at(region_at)
    }

    fn region_at(&self, at: usize) -> Result<[&str; 3], PackError> {
        let mut r = Reader { b: &self.0, at };
        Ok([r.str()?, r.str()?, r.str()?])
    }

    /// The member whose record starts at byte `at` (a
    /// [`ManifestView::first_member`] or a [`MemberView::end`]).
    pub fn member_at(&self, at: usize) -> Result<MemberView<'_>, PackError> {
        self.member_and_address(at).map(|(m, _)| m)
    }

    /// The member at `at`, and where its address was read.
    fn member_and_address(&self, at: usize) -> Result<(MemberView<'_>, AddressAt), PackError> {
        let b = &*self.0;
        let mut r = Reader { b, at };
        let tag = r.u8()?;
        let bad = PackError::BadTag {
            what: "member",
            tag,
            at,
        };
        let id_type = match tag & ID_TYPE {
            0 => IdType::ResidentId,
            1 => IdType::Passport,
            2 => IdType::Other,
            _ => return Err(bad),
        };
        let person_id = r.str()?;
        let name = r.str_if(tag & NAME != 0)?;
        let phone = r.str_if(tag & PHONE != 0)?;
        let strings = |from: usize, n: usize| -> Result<[&str; 4], PackError> {
            let mut a = Reader { b, at: from };
            let mut parts = [""; 4];
            for part in parts.iter_mut().take(n) {
                *part = a.str()?;
            }
            // A referenced address ends before the member referring to it.
            if a.at > at {
                return Err(PackError::Truncated { at: from });
            }
            Ok(parts)
        };
        let back = |r: &mut Reader<'_>| -> Result<usize, PackError> {
            let d = r.len()?;
            at.checked_sub(d)
                .filter(|_| d > 0)
                .ok_or(PackError::Truncated { at: r.at })
        };
        let (address, address_at) = match tag & (ADDRESS | SAME_ADDRESS | SAME_UNIT) {
            0 => (None, AddressAt::None),
            ADDRESS => {
                let from = r.at;
                let parts = [r.str()?, r.str()?, r.str()?, r.str()?];
                (Some(parts), AddressAt::Full(from))
            }
            t if t == ADDRESS | SAME_ADDRESS => {
                let from = back(&mut r)?;
                (Some(strings(from, 4)?), AddressAt::Same(from))
            }
            t if t == ADDRESS | SAME_UNIT => {
                let from = back(&mut r)?;
                let mut parts = strings(from, 3)?;
                parts[3] = r.str()?;
                (Some(parts), AddressAt::Unit(from))
            }
            _ => return Err(bad),
        };
        Ok((
            MemberView {
                person_id,
                id_type,
                name,
                phone,
                address,
                end: r.at,
            },
            address_at,
        ))
    }

    /// The person id of the member whose record starts at byte `at` (reads
    /// only that string: the hot path of message routing).
    pub fn person_id_at(&self, at: usize) -> Result<&str, PackError> {
        let mut r = Reader { b: &self.0, at };
        r.u8()?;
        r.str()
    }

    /// The person id's bytes, not checked for UTF-8 (for comparing).
    pub fn person_id_bytes_at(&self, at: usize) -> Result<&[u8], PackError> {
        let mut r = Reader { b: &self.0, at };
        r.u8()?;
        r.raw()
    }

    /// Where the member whose record starts at byte `at` ends, skipping its
    /// strings without checking them.
    pub fn member_end(&self, at: usize) -> Result<usize, PackError> {
        let mut r = Reader { b: &self.0, at };
        let tag = r.u8()?;
        let strings = 1 + usize::from(tag & NAME != 0) + usize::from(tag & PHONE != 0);
        for _ in 0..strings {
            r.raw()?;
        }
        if tag & ADDRESS != 0 {
            let address = if tag & SAME_ADDRESS != 0 {
                r.len()?;
                0
            } else if tag & SAME_UNIT != 0 {
                r.len()?;
                1
            } else {
                4
            };
            for _ in 0..address {
                r.raw()?;
            }
        }
        Ok(r.at)
    }

    /// The bytes of the member whose record starts at byte `at`, standalone
    /// (its address in full, as a one-member manifest holds it): equal
    /// members have equal bytes. Borrowed unless the address is a reference.
    pub fn member_bytes(&self, at: usize) -> Result<Cow<'_, [u8]>, PackError> {
        // No reference to an earlier address: the member's own bytes, found
        // by skipping its strings (they were checked when the manifest was
        // packed or read). A tag the layout does not have goes the long way,
        // which refuses it.
        let tag = *self.0.get(at).ok_or(PackError::Truncated { at })?;
        if tag & (SAME_ADDRESS | SAME_UNIT) == 0 && tag & ID_TYPE != ID_TYPE {
            let end = self.member_end(at)?;
            return self
                .0
                .get(at..end)
                .map(Cow::Borrowed)
                .ok_or(PackError::Truncated { at });
        }
        let (m, _) = self.member_and_address(at)?;
        let mut b = Vec::with_capacity(m.end - at + 40);
        put_member_view(&mut b, &m, None);
        Ok(Cow::Owned(b))
    }

    /// The bytes of the region (equal regions have equal bytes).
    pub fn region_bytes(&self) -> Result<&[u8], PackError> {
        let mut r = Reader { b: &self.0, at: 0 };
        let (from, to) = (r.u32()? as usize, r.u32()? as usize);
        self.0
            .get(from..to)
            .ok_or(PackError::Truncated { at: from })
    }

    /// The byte offset of every member's record, in order (ends early at
    /// damaged bytes; [`PackedManifest::member_at`] reads one).
    pub fn members(&self) -> impl Iterator<Item = usize> + '_ {
        let mut next = self.first_member().ok();
        std::iter::from_fn(move || {
            let (at, left) = next?;
            if left == 0 {
                return None;
            }
            let end = self.member_end(at).ok()?;
            next = Some((end, left - 1));
            Some(at)
        })
    }

    /// Where the first member starts, and how many there are: what
    /// [`PackedManifest::view`] answers as `first_member` and
    /// `member_count`, read from the header's offset without the rest (it
    /// reads and checks every string before the members).
    fn first_member(&self) -> Result<(usize, usize), PackError> {
        let mut r = Reader { b: &self.0, at: 4 };
        let members_at = r.u32()? as usize;
        let mut r = Reader {
            b: &self.0,
            at: members_at,
        };
        let count = r.len()?;
        Ok((r.at, count))
    }

    /// The whole manifest again.
    pub fn unpack(&self) -> Result<Manifest, PackError> {
        let v = self.view()?;
        let mut members = Vec::with_capacity(v.member_count);
        let mut at = v.first_member;
        for _ in 0..v.member_count {
            let m = self.member_at(at)?;
            at = m.end;
            members.push(m.to_member());
        }
        if at != self.0.len() {
            return Err(PackError::Truncated { at });
        }
        Ok(Manifest {
            tube_id: v.tube_id.into(),
            kind: v.kind,
            collected_at: v.collected_at,
            site_id: v.site_id.into(),
            region: to_region(v.region),
            members,
            retest_of: v.retest_of.map(String::from),
            batch_id: v.batch_id.map(String::from),
            design: v.design.map(String::from),
            pool_index: v.pool_index,
        })
    }
}

impl PackedManifest {
    /// Takes bytes read from outside (a snapshot, the repartition topic)
    /// after checking that they are a well-formed packed manifest: every
    /// offset, length, tag and string, nothing before or after, every
    /// address reference to an address written in full before it. Bytes
    /// that are well formed but not what [`PackedManifest::pack`] writes
    /// (addresses in full where it refers to an earlier one, as versions
    /// before references wrote them) are packed again. (Lengths written
    /// longer than needed are not refused: only a damaged writer makes
    /// them, and they cost a byte comparison a false "different".)
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, PackError> {
        let p = PackedManifest(bytes.into_boxed_slice());
        if p.check()? {
            Ok(p)
        } else {
            p.unpack().map(|m| PackedManifest::pack(&m))
        }
    }

    /// A one-member packed manifest (what [`PackedManifest::pack_contact`]
    /// makes) from a region's and a member's packed bytes
    /// ([`PackedManifest::region_bytes`], [`PackedManifest::member_bytes`]),
    /// checked as [`PackedManifest::from_bytes`] does.
    pub fn contact_from_parts(region: &[u8], member: &[u8]) -> Result<Self, PackError> {
        let mut b = Vec::with_capacity(HEADER_LEN + 2 + region.len() + 1 + member.len());
        b.extend_from_slice(&[0; HEADER_LEN]);
        put_str(&mut b, "");
        put_str(&mut b, "");
        let region_at = offset(b.len());
        b.extend_from_slice(region);
        let members_at = offset(b.len());
        put_len(&mut b, 1);
        b.extend_from_slice(member);
        b[0..4].copy_from_slice(&region_at.to_le_bytes());
        b[4..8].copy_from_slice(&members_at.to_le_bytes());
        PackedManifest::from_bytes(b)
    }

    /// Appends to `b` one packed manifest with no tube (as
    /// [`PackedManifest::contact_from_parts`] writes) holding `members`, each
    /// given as a packed manifest and a member's offset in it, with the
    /// region whose packed bytes are `region`: the residents of a household
    /// written to the spill store. Addresses refer to earlier ones as
    /// [`PackedManifest::pack`] writes them (the residents of one room share
    /// theirs), so the bytes are canonical and
    /// [`PackedManifest::from_bytes`] takes them as they are. The header's
    /// offsets count from where the manifest starts in `b`.
    pub(crate) fn pack_members_into<'m>(
        b: &mut Vec<u8>,
        region: &[u8],
        members: impl ExactSizeIterator<Item = (&'m PackedManifest, u32)>,
    ) -> Result<(), PackError> {
        let start = b.len();
        b.extend_from_slice(&[0; HEADER_LEN]);
        put_str(b, "");
        put_str(b, "");
        let region_at = offset(b.len() - start);
        b.extend_from_slice(region);
        let members_at = offset(b.len() - start);
        put_len(b, members.len());
        let mut full: Option<(usize, [&'m str; 4])> = None;
        for (packed, at) in members {
            // A reference is a distance back, so `full` may count from the
            // start of `b`.
            let view = packed.member_at(at as usize)?;
            if let Some(written) = put_member_view(b, &view, full) {
                full = Some(written);
            }
        }
        b[start..start + 4].copy_from_slice(&region_at.to_le_bytes());
        b[start + 4..start + 8].copy_from_slice(&members_at.to_le_bytes());
        Ok(())
    }

    /// Checks that the bytes are well formed; answers whether they are
    /// canonical (what [`PackedManifest::pack`] writes) as well.
    fn check(&self) -> Result<bool, PackError> {
        let b = &*self.0;
        let v = self.view()?;
        let mut r = Reader { b, at: 0 };
        let (region_at, members_at) = (r.u32()? as usize, r.u32()? as usize);
        let flags = b.get(KIND_AT + 1).copied().unwrap_or_default();
        if flags & !(RETEST_OF | BATCH_ID | DESIGN | POOL_INDEX) != 0 {
            let at = KIND_AT + 1;
            return Err(PackError::BadTag {
                what: "flags",
                tag: flags,
                at,
            });
        }
        // The header's strings end where the region starts, the region
        // where the members start, the last member at the end.
        let mut r = Reader { b, at: HEADER_LEN };
        if flags & POOL_INDEX != 0 {
            r.u32()?;
        }
        let optional = [RETEST_OF, BATCH_ID, DESIGN]
            .iter()
            .filter(|f| flags & **f != 0);
        for _ in 0..2 + optional.count() {
            r.str()?;
        }
        let mut region = Reader { b, at: region_at };
        for _ in 0..3 {
            region.str()?;
        }
        if r.at != region_at || region.at != members_at {
            return Err(PackError::Truncated {
                at: r.at.min(region.at),
            });
        }
        // A reference must be to an address written in full before it;
        // canonical bytes refer to the latest one, wherever they can.
        let mut at = v.first_member;
        let mut full: Option<(usize, [&str; 4])> = None;
        let mut written_in_full = Vec::new();
        let mut canonical = true;
        for _ in 0..v.member_count {
            let tag = b.get(at).copied().unwrap_or_default();
            let bad = PackError::BadTag {
                what: "member",
                tag,
                at,
            };
            if tag & !(ID_TYPE | NAME | PHONE | ADDRESS | SAME_ADDRESS | SAME_UNIT) != 0 {
                return Err(bad);
            }
            let (m, address) = self.member_and_address(at)?;
            match address {
                AddressAt::Same(from) | AddressAt::Unit(from)
                    if !written_in_full.contains(&from) =>
                {
                    return Err(bad)
                }
                _ => {}
            }
            canonical &= match reference(m.address, full) {
                Some((SAME_ADDRESS, from)) => address == AddressAt::Same(from),
                Some((_, from)) => address == AddressAt::Unit(from),
                None => matches!(address, AddressAt::None | AddressAt::Full(_)),
            };
            if let (AddressAt::Full(from), Some(a)) = (address, m.address) {
                full = Some((from, a));
                written_in_full.push(from);
            }
            at = m.end;
        }
        if at != b.len() {
            return Err(PackError::Truncated { at });
        }
        Ok(canonical)
    }
}

/// In binary formats (snapshots, the repartition topic) a packed manifest
/// is its bytes (a MessagePack `bin`), checked when read back; in
/// human-readable ones, the [`Manifest`] it packs.
impl Serialize for PackedManifest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            self.unpack()
                .map_err(serde::ser::Error::custom)?
                .serialize(s)
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for PackedManifest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            Ok(PackedManifest::pack(&Manifest::deserialize(d)?))
        } else {
            let ReadBytes(bytes) = ReadBytes::deserialize(d)?;
            PackedManifest::from_bytes(bytes.into_owned()).map_err(serde::de::Error::custom)
        }
    }
}

/// A byte offset in a packed manifest. Manifests are far below 4 GiB (20
/// members of bounded strings from one JSON line); saturating keeps a
/// pathological one from wrapping (its reads then fail, never panic).
fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Packs a manifest (or, with `m` `None`, a one-member contact) into `b`.
fn write_into(b: &mut Vec<u8>, m: Option<&Manifest>, region: &Region, members: &[Member]) {
    b.extend_from_slice(&[0; 8]);
    b.push(m.map_or(0, |m| kind_byte(m.kind)));
    let flags = m.map_or(0, |m| {
        flag(m.retest_of.is_some(), RETEST_OF)
            | flag(m.batch_id.is_some(), BATCH_ID)
            | flag(m.design.is_some(), DESIGN)
            | flag(m.pool_index.is_some(), POOL_INDEX)
    });
    b.push(flags);
    put_time(
        b,
        m.map_or(Timestamp::from_millis(0, 0), |m| m.collected_at),
    );
    if let Some(i) = m.and_then(|m| m.pool_index) {
        b.extend_from_slice(&i.to_le_bytes());
    }
    put_str(b, m.map_or("", |m| &m.tube_id));
    put_str(b, m.map_or("", |m| &m.site_id));
    if let Some(m) = m {
        for s in [&m.retest_of, &m.batch_id, &m.design].into_iter().flatten() {
            put_str(b, s);
        }
    }
    let region_at = offset(b.len());
    put_str(b, &region.district);
    put_str(b, &region.street);
    put_str(b, &region.community);
    let members_at = offset(b.len());
    put_len(b, members.len());
    let mut full: Option<(usize, [&str; 4])> = None;
    for member in members {
        let view = MemberView {
            person_id: &member.person_id,
            id_type: member.id_type,
            name: member.name.as_deref(),
            phone: member.phone.as_deref(),
            address: member
                .address
                .as_ref()
                .map(|a| [&*a.compound, &*a.building, &*a.unit, &*a.room]),
            end: 0,
        };
        if let Some(written) = put_member_view(b, &view, full) {
            full = Some(written);
        }
    }
    b[0..4].copy_from_slice(&region_at.to_le_bytes());
    b[4..8].copy_from_slice(&members_at.to_le_bytes());
}

/// How the writer stores `address` after `full`, the latest address written
/// in full (its byte offset and parts): a reference to it (the tag bit and
/// the offset) when it is the same address or differs only in the room,
/// else `None` (in full, or no address).
fn reference(address: Option<[&str; 4]>, full: Option<(usize, [&str; 4])>) -> Option<(u8, usize)> {
    match (address, full) {
        (Some(a), Some((from, f))) if a == f => Some((SAME_ADDRESS, from)),
        (Some(a), Some((from, f))) if a[..3] == f[..3] => Some((SAME_UNIT, from)),
        _ => None,
    }
}

/// Packs one member. `full` is the latest address written in full before
/// it (its byte offset and parts): the member's address refers to it when
/// it can. Returns the member's own address when it was written in full.
fn put_member_view<'m>(
    b: &mut Vec<u8>,
    m: &MemberView<'m>,
    full: Option<(usize, [&str; 4])>,
) -> Option<(usize, [&'m str; 4])> {
    let id_type = match m.id_type {
        IdType::ResidentId => 0,
        IdType::Passport => 1,
        IdType::Other => 2,
    };
    let start = b.len();
    let reference = reference(m.address, full);
    b.push(
        id_type
            | flag(m.name.is_some(), NAME)
            | flag(m.phone.is_some(), PHONE)
            | flag(m.address.is_some(), ADDRESS)
            | reference.map_or(0, |(bit, _)| bit),
    );
    put_str(b, m.person_id);
    for s in [m.name, m.phone].into_iter().flatten() {
        put_str(b, s);
    }
    let a = m.address?;
    match reference {
        Some((bit, from)) => {
            put_len(b, start - from);
            if bit == SAME_UNIT {
                put_str(b, a[3]);
            }
            None
        }
        None => {
            let from = b.len();
            for s in a {
                put_str(b, s);
            }
            Some((from, a))
        }
    }
}

#[cfg(test)]
#[path = "packed_tests.rs"]
mod tests;
