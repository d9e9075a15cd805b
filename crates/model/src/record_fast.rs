//! The fast path of [`crate::decode_record`]: a scanner for the plain JSON
//! that publishers send, building the same values serde would.
//!
//! It takes only a strict subset of JSON: strings without escapes or
//! control characters, known fields each at most once, `null` only where
//! the field is optional, numbers parsed by serde_json itself, JSON
//! whitespace. Anything else (an escape, an unknown or repeated field, a
//! missing required field, another type, any syntax error, trailing text)
//! answers `None`, and the record is parsed by serde_json, which gives the
//! same value or the precise error. So this path never decides whether a
//! record is valid; it only skips serde's generic machinery (the scanner
//! took about 0.6 of serde's time on the bench's manifests) for records
//! serde would take as they are.
//! The differential tests below check that it accepts nothing serde
//! refuses and builds exactly what serde builds.

use compact_str::CompactString;
use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeOwned, IntoDeserializer};

use crate::{
    Address, Ct, IdType, LabResult, Manifest, Member, Receipt, Region, ResultStatus, Timestamp,
};

/// A cursor over one record's text.
struct Scan<'a> {
    s: &'a str,
    i: usize,
}

/// Fields seen so far in one object (a bit each): a repeated field is left to serde.
#[derive(Default)]
struct Seen(u32);

impl Seen {
    /// Stores a field's value, the first time the field is seen.
    fn put<T>(&mut self, bit: u32, slot: &mut T, value: Option<T>) -> Option<()> {
        let mask = 1 << bit;
        if self.0 & mask != 0 {
            return None;
        }
        self.0 |= mask;
        *slot = value?;
        Some(())
    }
}

impl<'a> Scan<'a> {
    fn new(s: &'a str) -> Self {
        Scan { s, i: 0 }
    }

    fn rest(&self) -> &'a [u8] {
        &self.s.as_bytes()[self.i..]
    }

    /// The next byte after JSON whitespace.
    fn peek(&mut self) -> Option<u8> {
        // Publishers rarely put whitespace between tokens: no iterator to
        // set up for the common case of none.
        let b = self.s.as_bytes();
        while let Some(&c) = b.get(self.i) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string with no escape and no control character, borrowed.
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let len = string_end(self.rest())?;
        if self.rest()[len] != b'"' {
            return None;
        }
        self.i += len + 1;
        // Both ends are next to an ASCII quote: char boundaries.
        Some(&self.s[start..start + len])
    }

    /// `null` (consumed) or not (nothing consumed).
    fn null(&mut self) -> bool {
        if self.peek() == Some(b'n') && self.rest().starts_with(b"null") {
            self.i += 4;
            return true;
        }
        false
    }

    fn opt<T>(&mut self, value: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.null() {
            return Some(None);
        }
        value(self).map(Some)
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    fn compact(&mut self) -> Option<CompactString> {
        self.str().map(CompactString::from)
    }

    fn time(&mut self) -> Option<Timestamp> {
        Timestamp::parse(self.str()?).ok()
    }

    /// The text of a number token (its grammar is serde_json's to check).
    fn number(&mut self) -> Option<&'a str> {
        self.peek()?;
        let len = self
            .rest()
            .iter()
            .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .unwrap_or(self.rest().len());
        if len == 0 {
            return None;
        }
        let start = self.i;
        self.i += len;
        Some(&self.s[start..start + len])
    }

    /// A number as serde_json reads an `f64` (the same parser, so the same bits).
    fn f64(&mut self) -> Option<f64> {
        serde_json::from_str(self.number()?).ok()
    }

    /// Plain decimal digits that fit a `u32` (other forms are left to serde).
    fn u32(&mut self) -> Option<u32> {
        let n = self.number()?;
        if !n.bytes().all(|b| b.is_ascii_digit()) || (n.len() > 1 && n.starts_with('0')) {
            return None;
        }
        n.parse().ok()
    }

    /// Calls `item` for each comma-separated item between `open` and `close`.
    fn items(
        &mut self,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.eat(open)?;
        if self.eat(close).is_some() {
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                c if c == close => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Calls `field` with each key of an object, the cursor on its value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.items(b'{', b'}', |sc| {
            let key = sc.str()?;
            sc.eat(b':')?;
            field(sc, key)
        })
    }

    /// A unit variant of an enum by its wire name, as serde's derive names it.
    fn named<T: DeserializeOwned>(&mut self) -> Option<T> {
        let name: StrDeserializer<'_, de::value::Error> = self.str()?.into_deserializer();
        T::deserialize(name).ok()
    }

    /// Nothing but whitespace left.
    fn end(&mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }
}

/// Where a string's text ends: the first `"`, `\` or control character,
/// eight bytes at a time.
fn string_end(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let stops = |w: u64| {
        // A byte's high bit is set where it is zero (after the xor) or below
        // 0x20; the lowest flagged byte is exact (borrows only run upward).
        let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
        zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
    };
    let mut at = 0;
    while let Some(chunk) = b.get(at..at + 8) {
        let w = u64::from_le_bytes(chunk.try_into().ok()?);
        let s = stops(w);
        if s != 0 {
            return Some(at + (s.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b[at..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| at + p)
}

/// A manifest of the plain shape, or `None` (then serde decides).
pub(crate) fn manifest(text: &str) -> Option<Manifest> {
    let mut sc = Scan::new(text);
    let (mut tube_id, mut kind, mut collected_at, mut site_id) = (None, None, None, None);
    let (mut region, mut members) = (None, None);
    let (mut retest_of, mut batch_id, mut design, mut pool_index) = (None, None, None, None);
    let mut seen = Seen::default();
    sc.object(|sc, key| match key {
        "tube_id" => seen.put(0, &mut tube_id, sc.string().map(Some)),
        "kind" => seen.put(1, &mut kind, sc.named().map(Some)),
        "collected_at" => seen.put(2, &mut collected_at, sc.time().map(Some)),
        "site_id" => seen.put(3, &mut site_id, sc.string().map(Some)),
        "region" => seen.put(4, &mut region, self::region(sc).map(Some)),
        "members" => seen.put(5, &mut members, self::members(sc).map(Some)),
        "retest_of" => seen.put(6, &mut retest_of, sc.opt(Scan::string)),
        "batch_id" => seen.put(7, &mut batch_id, sc.opt(Scan::string)),
        "design" => seen.put(8, &mut design, sc.opt(Scan::string)),
        "pool_index" => seen.put(9, &mut pool_index, sc.opt(Scan::u32)),
        _ => None,
    })?;
    sc.end()?;
    Some(Manifest {
        tube_id: tube_id?,
        kind: kind?,
        collected_at: collected_at?,
        site_id: site_id?,
        region: region?,
        members: members?,
        retest_of,
        batch_id,
        design,
        pool_index,
    })
}

fn region(sc: &mut Scan) -> Option<Region> {
    let (mut district, mut street, mut community) = (None, None, None);
    let mut seen = Seen::default();
    sc.object(|sc, key| match key {
        "district" => seen.put(0, &mut district, sc.string().map(Some)),
        "street" => seen.put(1, &mut street, sc.string().map(Some)),
        "community" => seen.put(2, &mut community, sc.string().map(Some)),
        _ => None,
    })?;
    Some(Region {
        district: district?,
        street: street?,
        community: community?,
    })
}

fn members(sc: &mut Scan) -> Option<Vec<Member>> {
    // Room for a 10-in-1 pool at once: growing 4 -> 8 -> 16 moved every
    // member twice (they are 176 bytes each).
    let mut members = Vec::with_capacity(10);
    sc.items(b'[', b']', |sc| {
        members.push(member(sc)?);
        Some(())
    })?;
    Some(members)
}

fn member(sc: &mut Scan) -> Option<Member> {
    let (mut person_id, mut id_type, mut name, mut phone, mut address) =
        (None, IdType::ResidentId, None, None, None);
    let mut seen = Seen::default();
    sc.object(|sc, key| match key {
        "person_id" => seen.put(0, &mut person_id, sc.compact().map(Some)),
        "id_type" => seen.put(1, &mut id_type, sc.named()),
        "name" => seen.put(2, &mut name, sc.opt(Scan::compact)),
        "phone" => seen.put(3, &mut phone, sc.opt(Scan::compact)),
        "address" => seen.put(4, &mut address, sc.opt(self::address)),
        _ => None,
    })?;
    Some(Member {
        person_id: person_id?,
        id_type,
        name,
        phone,
        address,
    })
}

fn address(sc: &mut Scan) -> Option<Address> {
    let (mut compound, mut building, mut unit, mut room) = (None, None, None, None);
    let mut seen = Seen::default();
    sc.object(|sc, key| match key {
        "compound" => seen.put(0, &mut compound, sc.compact().map(Some)),
        "building" => seen.put(1, &mut building, sc.compact().map(Some)),
        "unit" => seen.put(2, &mut unit, sc.compact().map(Some)),
        "room" => seen.put(3, &mut room, sc.compact().map(Some)),
        _ => None,
    })?;
    Some(Address {
        compound: compound?,
        building: building?,
        unit: unit?,
        room: room?,
    })
}

/// A lab result of the plain shape, or `None` (then serde decides).
pub(crate) fn result(text: &str) -> Option<LabResult> {
    let mut sc = Scan::new(text);
    let (mut tube_id, mut lab_id, mut reported_at, mut received_at) = (None, None, None, None);
    let (mut kit, mut ct, mut call, mut status) = (None, Ct::default(), None, ResultStatus::Final);
    let mut seen = Seen::default();
    sc.object(|sc, key| match key {
        "tube_id" => seen.put(0, &mut tube_id, sc.string().map(Some)),
        "lab_id" => seen.put(1, &mut lab_id, sc.string().map(Some)),
        "reported_at" => seen.put(2, &mut reported_at, sc.time().map(Some)),
        "received_at" => seen.put(3, &mut received_at, sc.opt(Scan::time)),
        "kit" => seen.put(4, &mut kit, sc.opt(Scan::string)),
        "ct" => seen.put(5, &mut ct, self::ct(sc)),
        "call" => seen.put(6, &mut call, sc.opt(Scan::named)),
        "status" => seen.put(7, &mut status, sc.named()),
        _ => None,
    })?;
    sc.end()?;
    Some(LabResult {
        tube_id: tube_id?,
        lab_id: lab_id?,
        reported_at: reported_at?,
        received_at,
        kit,
        ct,
        call,
        status,
    })
}

fn ct(sc: &mut Scan) -> Option<Ct> {
    let mut ct = Ct::default();
    let mut seen = Seen::default();
    sc.object(|sc, key| match key {
        "ORF1ab" => seen.put(0, &mut ct.orf1ab, sc.opt(Scan::f64)),
        "N" => seen.put(1, &mut ct.n, sc.opt(Scan::f64)),
        "E" => seen.put(2, &mut ct.e, sc.opt(Scan::f64)),
        "IC" => seen.put(3, &mut ct.ic, sc.opt(Scan::f64)),
        _ => None,
    })?;
    Some(ct)
}

/// A receipt of the plain shape, or `None` (then serde decides).
pub(crate) fn receipt(text: &str) -> Option<Receipt> {
    let mut sc = Scan::new(text);
    let (mut tube_id, mut lab_id, mut received_at) = (None, None, None);
    let mut seen = Seen::default();
    sc.object(|sc, key| match key {
        "tube_id" => seen.put(0, &mut tube_id, sc.string().map(Some)),
        "lab_id" => seen.put(1, &mut lab_id, sc.string().map(Some)),
        "received_at" => seen.put(2, &mut received_at, sc.time().map(Some)),
        _ => None,
    })?;
    sc.end()?;
    Some(Receipt {
        tube_id: tube_id?,
        lab_id: lab_id?,
        received_at: received_at?,
    })
}

#[cfg(test)]
#[path = "record_fast_tests.rs"]
mod tests;
