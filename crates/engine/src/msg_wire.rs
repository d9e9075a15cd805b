//! The compact binary form of the two messages that make up nearly all the
//! traffic between partitions: [`Msg::Observed`] (a decided tube, to each
//! member's person operator) and [`Msg::Resident`] (a member's address, to
//! the household operator). Every other message goes as MessagePack with
//! named fields; these two took a quarter of a Kafka worker's time to
//! encode and decode that way (benches/README.md).
//!
//! Layout (little endian; a string is a LEB128 length then UTF-8 bytes; a
//! timestamp is its millis i64 then its UTC offset in seconds i32; a
//! contact is its packed region and its packed member, each as a LEB128
//! length then the bytes, as [`crate::packed`] writes them):
//!
//! | kind | fields |
//! |------|--------|
//! | [`OBSERVED`] | `at`, contact, tube id, region (3 strings), tube kind u8, revision u32, interpretation u8, collected at, reported at, presence flags u8, Ct presence u8, then what is present: retest of, ORF1ab, N, E, IC (f64 each), lab id (always), kit, decided by, batch, decoded evidence (f64, u32, u32) |
//! | [`RESIDENT`] | household key u128, contact, seen at |

use std::borrow::Cow;
use std::sync::Arc;

use pooltrace_model::{Ct, DecodedEvidence, Interpretation, Region, Timestamp};

use crate::contact::Contact;
use crate::msg::{BatchDecision, Msg, Observation};
use crate::packed::{
    flag, get_time, kind_byte, put_bytes, put_str, put_time, tube_kind_of, PackError, Reader,
};
use crate::packed_result::cts;

/// Kind byte: the rest is the message in MessagePack with named fields.
pub(crate) const NAMED: u8 = 0;
/// Kind byte: a [`Msg::Observed`] in the layout above.
pub(crate) const OBSERVED: u8 = 1;
/// Kind byte: a [`Msg::Resident`] in the layout above.
pub(crate) const RESIDENT: u8 = 2;

// Presence flags of an observation's optional fields.
const RETEST_OF: u8 = 1;
const KIT: u8 = 2;
const DECIDED_BY: u8 = 4;
const BATCH: u8 = 8;
const DECODED: u8 = 16;

/// Why compact message bytes could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    #[error(transparent)]
    Packed(#[from] PackError),
    #[error("{what} {value} at byte {at} is not one this build knows")]
    Unknown {
        what: &'static str,
        value: u64,
        at: usize,
    },
    #[error("{0} bytes after the message")]
    Trailing(usize),
}

/// Writes the kind byte and the body of `msg` when it has a compact form;
/// `false` (nothing written) otherwise.
pub(crate) fn encode(msg: &Msg, b: &mut Vec<u8>) -> Result<bool, PackError> {
    match msg {
        Msg::Observed { contact, obs, at } => {
            b.push(OBSERVED);
            put_time(b, *at);
            put_contact(b, contact)?;
            put_observation(b, obs);
        }
        Msg::Resident {
            household,
            contact,
            seen_at,
        } => {
            b.push(RESIDENT);
            b.extend_from_slice(&household.to_le_bytes());
            put_contact(b, contact)?;
            put_time(b, *seen_at);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Reads a message of kind [`OBSERVED`] or [`RESIDENT`] from `body` (the
/// bytes after the kind byte).
pub(crate) fn decode(kind: u8, body: &[u8]) -> Result<Msg, WireError> {
    let mut r = Reader { b: body, at: 0 };
    let msg = match kind {
        OBSERVED => {
            let at = time(&mut r)?;
            let contact = contact(&mut r)?;
            let obs = Arc::new(observation(&mut r)?);
            Msg::Observed { contact, obs, at }
        }
        RESIDENT => Msg::Resident {
            household: u128::from_le_bytes(r.array()?),
            contact: contact(&mut r)?,
            seen_at: time(&mut r)?,
        },
        _ => {
            return Err(WireError::Unknown {
                what: "message kind",
                value: u64::from(kind),
                at: 0,
            })
        }
    };
    match body.len() - r.at {
        0 => Ok(msg),
        n => Err(WireError::Trailing(n)),
    }
}

/// A timestamp, with the check the MessagePack form makes: a UTC offset
/// chrono can represent (`FixedOffset::east_opt`: strictly within a day).
fn time(r: &mut Reader<'_>) -> Result<Timestamp, WireError> {
    let at = r.at;
    let t = get_time(r)?;
    if t.offset_secs().unsigned_abs() >= 86_400 {
        return Err(WireError::Unknown {
            what: "UTC offset",
            value: u64::from(t.offset_secs().unsigned_abs()),
            at: at + 8,
        });
    }
    Ok(t)
}

fn put_contact(b: &mut Vec<u8>, c: &Contact) -> Result<(), PackError> {
    let (region, member) = c.packed_parts()?;
    put_bytes(b, region);
    put_bytes(b, &member);
    Ok(())
}

fn contact(r: &mut Reader<'_>) -> Result<Contact, WireError> {
    let region = r.raw()?;
    let member = r.raw()?;
    Ok(Contact::from_packed_parts(region, member)?)
}

fn put_observation(b: &mut Vec<u8>, o: &Observation) {
    put_str(b, &o.tube_id);
    for s in [&o.region.district, &o.region.street, &o.region.community] {
        put_str(b, s);
    }
    b.push(kind_byte(o.tube_kind));
    b.extend_from_slice(&o.revision.to_le_bytes());
    b.push(interpretation_code(o.interpretation));
    put_time(b, o.collected_at);
    put_time(b, o.reported_at);
    b.push(
        flag(o.retest_of.is_some(), RETEST_OF)
            | flag(o.kit.is_some(), KIT)
            | flag(o.decided_by().is_some(), DECIDED_BY)
            | flag(o.batch_id().is_some(), BATCH)
            | flag(o.decoded().is_some(), DECODED),
    );
    let cts = cts(&o.ct);
    b.push(
        cts.iter()
            .enumerate()
            .fold(0, |bits, (i, v)| bits | flag(v.is_some(), 1 << i)),
    );
    if let Some(s) = &o.retest_of {
        put_str(b, s);
    }
    for v in cts.into_iter().flatten() {
        b.extend_from_slice(&v.to_le_bytes());
    }
    put_str(b, &o.lab_id);
    for s in [
        o.kit.as_deref(),
        o.decided_by().map(|d| &**d),
        o.batch_id().map(|b| &**b),
    ]
    .into_iter()
    .flatten()
    {
        put_str(b, s);
    }
    if let Some(d) = &o.decoded() {
        b.extend_from_slice(&d.p_positive.to_le_bytes());
        b.extend_from_slice(&d.pools_positive.to_le_bytes());
        b.extend_from_slice(&d.pools_negative.to_le_bytes());
    }
}

fn observation(r: &mut Reader<'_>) -> Result<Observation, WireError> {
    let tube_id: Arc<str> = r.str()?.into();
    let region = Arc::new(Region {
        district: r.str()?.into(),
        street: r.str()?.into(),
        community: r.str()?.into(),
    });
    let at = r.at;
    let tag = r.u8()?;
    let tube_kind = tube_kind_of(tag).ok_or_else(|| unknown("tube kind", tag, at))?;
    let revision = u32::from_le_bytes(r.array()?);
    let at = r.at;
    let tag = r.u8()?;
    let interpretation =
        interpretation_of(tag).ok_or_else(|| unknown("interpretation", tag, at))?;
    let collected_at = time(r)?;
    let reported_at = time(r)?;
    let at = r.at;
    let flags = r.u8()?;
    if flags & !(RETEST_OF | KIT | DECIDED_BY | BATCH | DECODED) != 0 {
        return Err(unknown("observation flags", flags, at));
    }
    let at = r.at;
    let ct_flags = r.u8()?;
    if ct_flags & !0b1111 != 0 {
        return Err(unknown("Ct flags", ct_flags, at));
    }
    let retest_of = (flags & RETEST_OF != 0)
        .then(|| r.str().map(Arc::from))
        .transpose()?;
    let mut ct = [None; 4];
    for (i, v) in ct.iter_mut().enumerate() {
        if ct_flags & (1 << i) != 0 {
            *v = Some(f64::from_le_bytes(r.array()?));
        }
    }
    let lab_id = r.str()?.to_string();
    let kit = r.str_if(flags & KIT != 0)?.map(str::to_string);
    let decided_by = r
        .str_if(flags & DECIDED_BY != 0)?
        .map(|s| Cow::Owned(s.to_string()));
    let batch = r.str_if(flags & BATCH != 0)?.map(Arc::from);
    let decoded = if flags & DECODED != 0 {
        Some(DecodedEvidence {
            p_positive: f64::from_le_bytes(r.array()?),
            pools_positive: u32::from_le_bytes(r.array()?),
            pools_negative: u32::from_le_bytes(r.array()?),
        })
    } else {
        None
    };
    let [orf1ab, n, e, ic] = ct;
    Ok(Observation {
        tube_id,
        region,
        tube_kind,
        revision,
        interpretation,
        collected_at,
        reported_at,
        retest_of,
        ct: Ct { orf1ab, n, e, ic },
        lab_id,
        kit,
        batch: BatchDecision::boxed(decided_by, batch, decoded),
    })
}

fn unknown(what: &'static str, value: u8, at: usize) -> WireError {
    WireError::Unknown {
        what,
        value: u64::from(value),
        at,
    }
}

fn interpretation_code(i: Interpretation) -> u8 {
    match i {
        Interpretation::Negative => 0,
        Interpretation::Positive => 1,
        Interpretation::Inconclusive => 2,
        Interpretation::Invalid => 3,
    }
}

fn interpretation_of(code: u8) -> Option<Interpretation> {
    Some(match code {
        0 => Interpretation::Negative,
        1 => Interpretation::Positive,
        2 => Interpretation::Inconclusive,
        3 => Interpretation::Invalid,
        _ => return None,
    })
}
