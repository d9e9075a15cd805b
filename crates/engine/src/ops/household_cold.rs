//! Households out of memory: a household with no confirmed positive and
//! no resident told of one, none of whose residents has been seen for a
//! while, is written to the engine's spill store ([`crate::spill`]) and
//! read back by the next sighting at the address or the next positive
//! there. A spilled household is its residents (contact, first and last
//! sighting), MessagePack with named fields; each contact comes back as a
//! manifest of its own (the tube it was listed in may be spilled too).
//!
//! Retention: a spilled household is forgotten when its latest sighting
//! falls out of the window; residents seen only before the latest sweep's
//! cut-off are dropped when it is read back, as that sweep would have
//! dropped them in memory.

use serde::{Deserialize, Serialize};

use pooltrace_model::Timestamp;

use super::household::{id_tag, HouseholdOp, Resident};
use crate::msg::{Contact, HouseholdKey};
use crate::spill::{Cold, SpillError, SpillStore};

/// What a resident in memory costs (32 bytes, its share of the household's
/// map entry and box), measured with heaptrack on the demo (benches/README.md,
/// session 17).
pub(crate) const RESIDENT_BYTES: usize = 48;

#[derive(Serialize, Deserialize)]
struct SpilledResident {
    contact: Contact,
    first_seen: Timestamp,
    last_seen: i64,
}

#[derive(Serialize, Deserialize)]
struct Spilled {
    household: HouseholdKey,
    residents: Vec<SpilledResident>,
}

/// The index key of a household: 64 of its 128 bits (the index entry is
/// then 24 bytes, not 32). Two households that share it are told apart by
/// the full key in the record; the second of them stays in memory.
fn short_key(household: HouseholdKey) -> u64 {
    (household as u64) ^ ((household >> 64) as u64)
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
        let back = cold.take(&key, |bytes| {
            let spilled: Spilled = rmp_serde::from_slice(bytes).map_err(|e| e.to_string())?;
            Ok((spilled.household == household).then_some(spilled.residents))
        });
        let residents: Box<[Resident]> = back
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.last_seen >= cut_off)
            .map(|s| {
                let tag = id_tag(s.contact.parts());
                Resident::new(s.contact, tag, s.first_seen, s.last_seen)
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
            let record = Spilled {
                household: *key,
                residents: residents
                    .iter()
                    .map(|r| SpilledResident {
                        contact: r.contact(),
                        first_seen: r.first_seen(),
                        last_seen: r.last_seen,
                    })
                    .collect(),
            };
            buf.clear();
            if rmp_serde::encode::write_named(&mut buf, &record).is_err()
                || !cold.put(short_key(*key), &buf, last)
            {
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
