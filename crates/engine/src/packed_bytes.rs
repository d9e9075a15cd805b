//! The byte-level pieces of the packed layouts ([`crate::packed`],
//! [`crate::packed_result`], [`crate::msg_wire`]): LEB128 lengths, strings,
//! timestamps, tube kinds, and a reader that checks every bound.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};

use pooltrace_model::{Timestamp, TubeKind};

use crate::packed::PackError;

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

/// Bytes of a LEB128 length.
fn len_len(n: usize) -> usize {
    (usize::BITS - (n | 1).leading_zeros()).div_ceil(7) as usize
}

/// Bytes of a packed string.
pub(crate) fn str_len(s: &str) -> usize {
    len_len(s.len()) + s.len()
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

    pub(crate) fn u32(&mut self) -> Result<u32, PackError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    #[inline]
    pub(crate) fn len(&mut self) -> Result<usize, PackError> {
        let start = self.at;
        // Almost every length is under 128: one byte.
        if let Some(&byte) = self.b.get(start) {
            if byte & 0x80 == 0 {
                self.at += 1;
                return Ok(usize::from(byte));
            }
        }
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
