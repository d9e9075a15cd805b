//! A tube's lab result and receipt packed into byte buffers, as the tube
//! operator keeps them (see [`crate::packed`] for the manifest): a
//! [`LabResult`] is about 180 bytes plus three strings on the heap, packed
//! about 40; a [`Receipt`] 64 bytes plus two strings, packed about 25.
//!
//! Layout (integers little-endian, `str` as in [`crate::packed`]):
//!
//! ```text
//! result:  u8 flags (1 received_at, 2 kit, 4 call, 8 corrected, 16/32/64/128 ct ORF1ab/N/E/IC)
//!          i64 reported_at millis, i32 offset, [i64 + i32 received_at], [u8 call],
//!          [f64 for each ct value present], str tube_id, str lab_id, [str kit]
//! receipt: i64 received_at millis, i32 offset, str tube_id, str lab_id
//! ```
//!
//! Unlike a packed manifest these are not compared as bytes (a Ct is an
//! `f64`): compare what [`PackedResult::unpack`] returns.

use pooltrace_model::{Call, Ct, LabResult, Receipt, ResultStatus, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::packed::{get_time as time, put_str, put_time, str_len, PackError, Reader};

const RECEIVED_AT: u8 = 1;
const KIT: u8 = 2;
const CALL: u8 = 4;
const CORRECTED: u8 = 8;
const CT: [u8; 4] = [16, 32, 64, 128];

/// A [`LabResult`], packed.
#[derive(Clone)]
pub struct PackedResult(Box<[u8]>);

/// A [`Receipt`], packed.
#[derive(Clone)]
pub struct PackedReceipt(Box<[u8]>);

/// A Ct's four values in their fixed order (ORF1ab, N, E, IC).
pub(crate) fn cts(ct: &Ct) -> [Option<f64>; 4] {
    [ct.orf1ab, ct.n, ct.e, ct.ic]
}

impl PackedResult {
    pub fn pack(r: &LabResult) -> Self {
        let cts = cts(&r.ct);
        let mut flags = 0;
        for (bit, set) in [
            (RECEIVED_AT, r.received_at.is_some()),
            (KIT, r.kit.is_some()),
            (CALL, r.call.is_some()),
            (CORRECTED, r.status == ResultStatus::Corrected),
        ] {
            if set {
                flags |= bit;
            }
        }
        for (bit, v) in CT.iter().zip(&cts) {
            if v.is_some() {
                flags |= bit;
            }
        }
        let len = 1
            + 12
            + r.received_at.map_or(0, |_| 12)
            + usize::from(r.call.is_some())
            + 8 * cts.iter().flatten().count()
            + str_len(&r.tube_id)
            + str_len(&r.lab_id)
            + r.kit.as_deref().map_or(0, str_len);
        let mut b = Vec::with_capacity(len);
        b.push(flags);
        put_time(&mut b, r.reported_at);
        if let Some(t) = r.received_at {
            put_time(&mut b, t);
        }
        if let Some(c) = r.call {
            b.push(match c {
                Call::Positive => 0,
                Call::Negative => 1,
                Call::Inconclusive => 2,
                Call::Invalid => 3,
            });
        }
        for v in cts.iter().flatten() {
            b.extend_from_slice(&v.to_le_bytes());
        }
        put_str(&mut b, &r.tube_id);
        put_str(&mut b, &r.lab_id);
        if let Some(kit) = &r.kit {
            put_str(&mut b, kit);
        }
        debug_assert_eq!(b.len(), len, "the packed length is exact");
        PackedResult(b.into_boxed_slice())
    }

    /// When the result was reported (read without unpacking the rest).
    pub fn reported_at(&self) -> Result<Timestamp, PackError> {
        time(&mut Reader { b: &self.0, at: 1 })
    }

    pub fn unpack(&self) -> Result<LabResult, PackError> {
        let mut r = Reader { b: &self.0, at: 0 };
        let flags = r.u8()?;
        let reported_at = time(&mut r)?;
        let received_at = if flags & RECEIVED_AT != 0 {
            Some(time(&mut r)?)
        } else {
            None
        };
        let call = if flags & CALL != 0 {
            let at = r.at;
            Some(match r.u8()? {
                0 => Call::Positive,
                1 => Call::Negative,
                2 => Call::Inconclusive,
                3 => Call::Invalid,
                tag => {
                    return Err(PackError::BadTag {
                        what: "call",
                        tag,
                        at,
                    })
                }
            })
        } else {
            None
        };
        let mut cts = [None; 4];
        for (bit, v) in CT.iter().zip(&mut cts) {
            if flags & bit != 0 {
                *v = Some(f64::from_le_bytes(r.array()?));
            }
        }
        let [orf1ab, n, e, ic] = cts;
        let tube_id = r.str()?.to_string();
        let lab_id = r.str()?.to_string();
        let kit = r.str_if(flags & KIT != 0)?.map(String::from);
        if r.at != self.0.len() {
            return Err(PackError::Truncated { at: r.at });
        }
        Ok(LabResult {
            tube_id,
            lab_id,
            reported_at,
            received_at,
            kit,
            ct: Ct { orf1ab, n, e, ic },
            call,
            status: if flags & CORRECTED != 0 {
                ResultStatus::Corrected
            } else {
                ResultStatus::Final
            },
        })
    }
}

impl PackedReceipt {
    pub fn pack(r: &Receipt) -> Self {
        let len = 12 + str_len(&r.tube_id) + str_len(&r.lab_id);
        let mut b = Vec::with_capacity(len);
        put_time(&mut b, r.received_at);
        put_str(&mut b, &r.tube_id);
        put_str(&mut b, &r.lab_id);
        debug_assert_eq!(b.len(), len, "the packed length is exact");
        PackedReceipt(b.into_boxed_slice())
    }

    /// When the lab received the tube (read without unpacking the rest).
    pub fn received_at(&self) -> Result<Timestamp, PackError> {
        time(&mut Reader { b: &self.0, at: 0 })
    }

    pub fn unpack(&self) -> Result<Receipt, PackError> {
        let mut r = Reader { b: &self.0, at: 0 };
        let received_at = time(&mut r)?;
        let tube_id = r.str()?.to_string();
        let lab_id = r.str()?.to_string();
        if r.at != self.0.len() {
            return Err(PackError::Truncated { at: r.at });
        }
        Ok(Receipt {
            tube_id,
            lab_id,
            received_at,
        })
    }
}

/// Debug, Serialize and Deserialize go through the unpacked value: in
/// snapshots a packed result is the [`LabResult`] it packs.
macro_rules! as_unpacked {
    ($packed:ty, $plain:ty) => {
        impl std::fmt::Debug for $packed {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.unpack() {
                    Ok(v) => v.fmt(f),
                    Err(e) => write!(f, "{}({e})", stringify!($packed)),
                }
            }
        }

        impl Serialize for $packed {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.unpack()
                    .map_err(serde::ser::Error::custom)?
                    .serialize(s)
            }
        }

        impl<'de> Deserialize<'de> for $packed {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Self::pack(&<$plain>::deserialize(d)?))
            }
        }
    };
}

as_unpacked!(PackedResult, LabResult);
as_unpacked!(PackedReceipt, Receipt);

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> LabResult {
        LabResult {
            tube_id: "P-0001".into(),
            lab_id: "实验室-A".into(),
            reported_at: Timestamp::from_millis(1_652_140_800_250, 8 * 3600),
            received_at: Some(Timestamp::from_millis(1_652_130_000_000, 0)),
            kit: Some("KIT-1".into()),
            ct: Ct {
                orf1ab: Some(31.25),
                n: None,
                e: Some(50.0),
                ic: Some(27.0),
            },
            call: Some(Call::Invalid),
            status: ResultStatus::Corrected,
        }
    }

    #[test]
    fn results_round_trip_with_and_without_optionals() {
        let full = result();
        let bare = LabResult {
            received_at: None,
            kit: None,
            ct: Ct::default(),
            call: None,
            status: ResultStatus::Final,
            ..result()
        };
        for r in [full, bare] {
            let p = PackedResult::pack(&r);
            assert_eq!(p.unpack(), Ok(r.clone()));
            assert_eq!(p.reported_at(), Ok(r.reported_at));
            assert_eq!(
                rmp_serde::to_vec_named(&p).unwrap(),
                rmp_serde::to_vec_named(&r).unwrap()
            );
        }
        for call in [Call::Positive, Call::Negative, Call::Inconclusive] {
            let r = LabResult {
                call: Some(call),
                ..result()
            };
            assert_eq!(PackedResult::pack(&r).unpack(), Ok(r));
        }
    }

    #[test]
    fn receipts_round_trip() {
        let r = Receipt {
            tube_id: "P-0001".into(),
            lab_id: "LAB-A".into(),
            received_at: Timestamp::from_millis(-5, -3600),
        };
        let p = PackedReceipt::pack(&r);
        assert_eq!(p.unpack(), Ok(r.clone()));
        assert_eq!(p.received_at(), Ok(r.received_at));
        let back: PackedReceipt =
            rmp_serde::from_slice(&rmp_serde::to_vec_named(&r).unwrap()).unwrap();
        assert_eq!(back.unpack(), Ok(r));
    }

    #[test]
    fn damaged_bytes_are_errors() {
        let p = PackedResult::pack(&result());
        for len in 0..p.0.len() {
            assert!(PackedResult(p.0[..len].into()).unpack().is_err());
        }
        let r = PackedReceipt::pack(&Receipt {
            tube_id: "T".into(),
            lab_id: "L".into(),
            received_at: Timestamp::from_millis(0, 0),
        });
        for len in 0..r.0.len() {
            assert!(PackedReceipt(r.0[..len].into()).unpack().is_err());
        }
    }
}
