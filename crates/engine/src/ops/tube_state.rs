//! What the tube operator keeps per tube: 64 bytes in the map, the manifest,
//! result and receipt packed ([`crate::packed`], [`crate::packed_result`]),
//! the tube's own alert timers and alerts boxed (almost every tube has none).
//! In snapshots it has the same fields as before packing (see
//! [`TubeStateRef`]); the manifest is its packed bytes there.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use pooltrace_model::Timestamp;

use crate::alert_book::AlertBook;
use crate::packed::PackedManifest;
use crate::packed_result::{PackedReceipt, PackedResult};

#[derive(Debug, Default)]
pub(super) struct TubeState {
    pub manifest: Option<Arc<PackedManifest>>,
    pub result: Option<PackedResult>,
    pub receipt: Option<PackedReceipt>,
    /// Decisions emitted so far (a correction adds one).
    pub revision: u32,
    /// Latest event time about this tube (for retention).
    pub last_at: i64,
    /// Set once one of the tube's own alert timers fired.
    pub alerts: Option<Box<TubeAlerts>>,
}

/// The tube's own alerts: when each timer fired, and what was emitted.
#[derive(Debug, Default)]
pub(super) struct TubeAlerts {
    pub orphan_at: Option<Timestamp>,
    pub overdue_at: Option<Timestamp>,
    pub missing_at: Option<Timestamp>,
    pub book: AlertBook,
}

impl TubeState {
    /// The alert part, created on first use.
    pub fn alerts_mut(&mut self) -> &mut TubeAlerts {
        self.alerts.get_or_insert_with(Box::default)
    }

    pub fn orphan_at(&self) -> Option<Timestamp> {
        self.alerts.as_ref().and_then(|a| a.orphan_at)
    }

    pub fn overdue_at(&self) -> Option<Timestamp> {
        self.alerts.as_ref().and_then(|a| a.overdue_at)
    }

    pub fn missing_at(&self) -> Option<Timestamp> {
        self.alerts.as_ref().and_then(|a| a.missing_at)
    }
}

/// A tube's state as snapshots have always written it (same fields, same
/// order; see each packed part's serde for its form).
#[derive(Serialize)]
struct TubeStateRef<'a> {
    manifest: &'a Option<Arc<PackedManifest>>,
    result: &'a Option<PackedResult>,
    receipt: &'a Option<PackedReceipt>,
    revision: u32,
    orphan_at: Option<Timestamp>,
    overdue_at: Option<Timestamp>,
    missing_at: Option<Timestamp>,
    book: &'a AlertBook,
    last_at: i64,
}

#[derive(Deserialize)]
struct TubeStateOwned {
    manifest: Option<Arc<PackedManifest>>,
    result: Option<PackedResult>,
    receipt: Option<PackedReceipt>,
    revision: u32,
    orphan_at: Option<Timestamp>,
    overdue_at: Option<Timestamp>,
    missing_at: Option<Timestamp>,
    book: AlertBook,
    last_at: i64,
}

impl Serialize for TubeState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let none = AlertBook::default();
        TubeStateRef {
            manifest: &self.manifest,
            result: &self.result,
            receipt: &self.receipt,
            revision: self.revision,
            orphan_at: self.orphan_at(),
            overdue_at: self.overdue_at(),
            missing_at: self.missing_at(),
            book: self.alerts.as_ref().map_or(&none, |a| &a.book),
            last_at: self.last_at,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for TubeState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = TubeStateOwned::deserialize(d)?;
        let alerts = TubeAlerts {
            orphan_at: w.orphan_at,
            overdue_at: w.overdue_at,
            missing_at: w.missing_at,
            book: w.book,
        };
        let any = alerts.orphan_at.is_some()
            || alerts.overdue_at.is_some()
            || alerts.missing_at.is_some()
            || !alerts.book.is_empty();
        Ok(TubeState {
            manifest: w.manifest,
            result: w.result,
            receipt: w.receipt,
            revision: w.revision,
            last_at: w.last_at,
            alerts: any.then(|| Box::new(alerts)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tube_is_64_bytes() {
        assert_eq!(std::mem::size_of::<TubeState>(), 64);
    }
}
