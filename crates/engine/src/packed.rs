//! A tube manifest packed into one byte buffer: what the engine keeps of a
//! manifest once it has arrived.
//!
//! A [`Manifest`] costs about 190 bytes per member in memory (every member a
//! struct of inline strings, most of them padding); packed, a member costs
//! its string bytes plus one length byte per string and one tag byte (about
//! 60 bytes for a member with name, phone and address). The tube operator
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
//!   u8 tag (bits 0-1 id_type: resident id, passport, other; 4 name, 8 phone, 16 address)
//!   str person_id, [str name], [str phone], [str compound, building, unit, room]
//! ```
//!
//! The encoding is canonical (one value, one byte string), so two members or
//! two manifests are equal exactly when their bytes are.
//!
//! A packed manifest is only ever built by [`PackedManifest::pack`] or
//! [`PackedManifest::pack_contact`], so its bytes are always well formed;
//! the readers still check every bound and report a [`PackError`] instead
//! of panicking.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use pooltrace_model::{Address, IdType, Manifest, Member, Region, Timestamp, TubeKind};

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

/// Byte offset of the fixed header's fields.
const KIND_AT: usize = 8;
const HEADER_LEN: usize = 22;

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
        let len = packed_len(m, region, members);
        let mut b = Vec::with_capacity(len);
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
            &mut b,
            m.map_or(Timestamp::from_millis(0, 0), |m| m.collected_at),
        );
        if let Some(i) = m.and_then(|m| m.pool_index) {
            b.extend_from_slice(&i.to_le_bytes());
        }
        put_str(&mut b, m.map_or("", |m| &m.tube_id));
        put_str(&mut b, m.map_or("", |m| &m.site_id));
        if let Some(m) = m {
            for s in [&m.retest_of, &m.batch_id, &m.design].into_iter().flatten() {
                put_str(&mut b, s);
            }
        }
        let region_at = offset(b.len());
        put_str(&mut b, &region.district);
        put_str(&mut b, &region.street);
        put_str(&mut b, &region.community);
        let members_at = offset(b.len());
        put_len(&mut b, members.len());
        for member in members {
            put_member(&mut b, member);
        }
        b[0..4].copy_from_slice(&region_at.to_le_bytes());
        b[4..8].copy_from_slice(&members_at.to_le_bytes());
        debug_assert_eq!(b.len(), len, "packed_len is exact");
        PackedManifest(b.into_boxed_slice())
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
        let mut r = Reader { b: &self.0, at };
        let tag = r.u8()?;
        let id_type = match tag & ID_TYPE {
            0 => IdType::ResidentId,
            1 => IdType::Passport,
            2 => IdType::Other,
            _ => {
                return Err(PackError::BadTag {
                    what: "member",
                    tag,
                    at,
                })
            }
        };
        let person_id = r.str()?;
        let name = r.str_if(tag & NAME != 0)?;
        let phone = r.str_if(tag & PHONE != 0)?;
        let address = if tag & ADDRESS != 0 {
            Some([r.str()?, r.str()?, r.str()?, r.str()?])
        } else {
            None
        };
        Ok(MemberView {
            person_id,
            id_type,
            name,
            phone,
            address,
            end: r.at,
        })
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
        let strings = 1
            + usize::from(tag & NAME != 0)
            + usize::from(tag & PHONE != 0)
            + if tag & ADDRESS != 0 { 4 } else { 0 };
        for _ in 0..strings {
            r.raw()?;
        }
        Ok(r.at)
    }

    /// The bytes of the member whose record starts at byte `at` (equal
    /// members have equal bytes).
    pub fn member_bytes(&self, at: usize) -> Result<&[u8], PackError> {
        let end = self.member_end(at)?;
        self.0.get(at..end).ok_or(PackError::Truncated { at })
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
        let mut next = self.view().ok().map(|v| (v.first_member, v.member_count));
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
    /// offset, length, tag and string, nothing before or after. (Lengths
    /// written longer than needed are not refused: only a damaged writer
    /// makes them, and they cost a byte comparison a false "different".)
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, PackError> {
        let p = PackedManifest(bytes.into_boxed_slice());
        p.check()?;
        Ok(p)
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

    fn check(&self) -> Result<(), PackError> {
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
        let mut at = v.first_member;
        for _ in 0..v.member_count {
            let tag = b.get(at).copied().unwrap_or_default();
            if tag & !(ID_TYPE | NAME | PHONE | ADDRESS) != 0 {
                return Err(PackError::BadTag {
                    what: "member",
                    tag,
                    at,
                });
            }
            at = self.member_at(at)?.end;
        }
        if at != b.len() {
            return Err(PackError::Truncated { at });
        }
        Ok(())
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

/// A byte string (MessagePack `bin`) read back: borrowed from the input
/// when the deserializer can lend it (MessagePack read from a slice:
/// messages between partitions, snapshots), copied otherwise.
pub(crate) struct ReadBytes<'de>(pub Cow<'de, [u8]>);

impl<'de> Deserialize<'de> for ReadBytes<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Lend;
        impl<'de> serde::de::Visitor<'de> for Lend {
            type Value = Cow<'de, [u8]>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                v: &'de [u8],
            ) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_bytes(Lend).map(ReadBytes)
    }
}

/// A tube kind's byte in the packed layouts.
pub(crate) fn kind_byte(k: TubeKind) -> u8 {
    match k {
        TubeKind::Single => 0,
        TubeKind::Household => 1,
        TubeKind::Pool => 2,
    }
}

/// The tube kind of a byte [`kind_byte`] wrote.
pub(crate) fn tube_kind_of(tag: u8) -> Option<TubeKind> {
    Some(match tag {
        0 => TubeKind::Single,
        1 => TubeKind::Household,
        2 => TubeKind::Pool,
        _ => return None,
    })
}

/// A timestamp in the packed layouts: millis i64, then UTC offset i32.
pub(crate) fn put_time(b: &mut Vec<u8>, t: Timestamp) {
    b.extend_from_slice(&t.millis().to_le_bytes());
    b.extend_from_slice(&t.offset_secs().to_le_bytes());
}

/// A timestamp [`put_time`] wrote.
pub(crate) fn get_time(r: &mut Reader<'_>) -> Result<Timestamp, PackError> {
    let millis = i64::from_le_bytes(r.array()?);
    let offset = i32::from_le_bytes(r.array()?);
    Ok(Timestamp::from_millis(millis, offset))
}

/// `bit` when `set`, else 0 (presence flags).
pub(crate) fn flag(set: bool, bit: u8) -> u8 {
    if set {
        bit
    } else {
        0
    }
}

/// A byte offset in a packed manifest. Manifests are far below 4 GiB (20
/// members of bounded strings from one JSON line); saturating keeps a
/// pathological one from wrapping (its reads then fail, never panic).
fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The exact packed length, so the buffer is allocated once.
fn packed_len(m: Option<&Manifest>, region: &Region, members: &[Member]) -> usize {
    let header = m.map_or(2, |m| {
        str_len(&m.tube_id)
            + str_len(&m.site_id)
            + [&m.retest_of, &m.batch_id, &m.design]
                .into_iter()
                .flatten()
                .map(|s| str_len(s))
                .sum::<usize>()
            + if m.pool_index.is_some() { 4 } else { 0 }
    });
    let region = str_len(&region.district) + str_len(&region.street) + str_len(&region.community);
    let members_len: usize = members
        .iter()
        .map(|p| {
            1 + str_len(&p.person_id)
                + p.name.as_deref().map_or(0, str_len)
                + p.phone.as_deref().map_or(0, str_len)
                + p.address.as_ref().map_or(0, |a| {
                    str_len(&a.compound)
                        + str_len(&a.building)
                        + str_len(&a.unit)
                        + str_len(&a.room)
                })
        })
        .sum();
    HEADER_LEN + header + region + len_len(members.len()) + members_len
}

/// Bytes of a LEB128 length.
fn len_len(n: usize) -> usize {
    (usize::BITS - (n | 1).leading_zeros()).div_ceil(7) as usize
}

/// Bytes of a packed string.
pub(crate) fn str_len(s: &str) -> usize {
    len_len(s.len()) + s.len()
}

fn put_member(b: &mut Vec<u8>, m: &Member) {
    let id_type = match m.id_type {
        IdType::ResidentId => 0,
        IdType::Passport => 1,
        IdType::Other => 2,
    };
    b.push(
        id_type
            | flag(m.name.is_some(), NAME)
            | flag(m.phone.is_some(), PHONE)
            | flag(m.address.is_some(), ADDRESS),
    );
    put_str(b, &m.person_id);
    for s in [&m.name, &m.phone].into_iter().flatten() {
        put_str(b, s);
    }
    if let Some(a) = &m.address {
        for s in [&a.compound, &a.building, &a.unit, &a.room] {
            put_str(b, s);
        }
    }
}

pub(crate) fn put_len(b: &mut Vec<u8>, mut n: usize) {
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            b.push(low);
            return;
        }
        b.push(low | 0x80);
    }
}

pub(crate) fn put_str(b: &mut Vec<u8>, s: &str) {
    put_bytes(b, s.as_bytes());
}

/// A byte string: its LEB128 length, then the bytes (what
/// [`Reader::raw`] reads).
pub(crate) fn put_bytes(b: &mut Vec<u8>, s: &[u8]) {
    put_len(b, s.len());
    b.extend_from_slice(s);
}

/// Reads a packed buffer from a position, checking every bound.
pub(crate) struct Reader<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) at: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], PackError> {
        let end = self
            .at
            .checked_add(n)
            .ok_or(PackError::Truncated { at: self.at })?;
        let s = self
            .b
            .get(self.at..end)
            .ok_or(PackError::Truncated { at: self.at })?;
        self.at = end;
        Ok(s)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], PackError> {
        let at = self.at;
        self.bytes(N)?
            .try_into()
            .map_err(|_| PackError::Truncated { at })
    }

    pub(crate) fn u8(&mut self) -> Result<u8, PackError> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, PackError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn len(&mut self) -> Result<usize, PackError> {
        let start = self.at;
        let mut n = 0usize;
        for shift in (0..usize::BITS).step_by(7) {
            let byte = self.u8()?;
            n |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(PackError::Truncated { at: start })
    }

    /// A string's bytes, not checked for UTF-8.
    pub(crate) fn raw(&mut self) -> Result<&'a [u8], PackError> {
        let n = self.len()?;
        self.bytes(n)
    }

    pub(crate) fn str(&mut self) -> Result<&'a str, PackError> {
        let at = self.at;
        std::str::from_utf8(self.raw()?).map_err(|_| PackError::Utf8 { at })
    }

    pub(crate) fn str_if(&mut self, present: bool) -> Result<Option<&'a str>, PackError> {
        if present {
            self.str().map(Some)
        } else {
            Ok(None)
        }
    }
}

#[cfg(test)]
#[path = "packed_tests.rs"]
mod tests;
