//! The household directory in snapshots, in the form it has always had:
//! per household its residents (contact, first and last sighting, what
//! they were told) and its positives. In memory what residents were told
//! and the positives live apart ([`super::household::Exposed`]).

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use pooltrace_model::Timestamp;

use super::household::{id_tag, Exposed, HouseholdOp, Positive, Resident};
use crate::msg::{Contact, ExposureSource, HouseholdKey};

/// A resident as snapshots have always written it.
#[derive(Serialize, Deserialize)]
struct ResidentWire {
    contact: Contact,
    first_seen: Timestamp,
    last_seen: i64,
    told: Option<Box<ExposureSource>>,
}

#[derive(Serialize, Deserialize)]
struct HouseholdWire<R, P> {
    residents: R,
    positives: P,
}

#[derive(Serialize, Deserialize)]
struct OpWire<H> {
    households: H,
}

/// One household as written: its residents with what each was told.
fn household_wire<'a>(
    residents: &'a [Resident],
    exposed: Option<&'a Exposed>,
) -> HouseholdWire<Vec<ResidentWire>, &'a [Positive]> {
    HouseholdWire {
        residents: residents
            .iter()
            .map(|r| {
                let contact = r.contact();
                let told = exposed
                    .and_then(|e| e.told(contact.person_id()))
                    .map(|s| Box::new(s.clone()));
                ResidentWire {
                    contact,
                    first_seen: r.first_seen(),
                    last_seen: r.last_seen,
                    told,
                }
            })
            .collect(),
        positives: exposed.map_or(&[][..], |e| &e.positives[..]),
    }
}

/// Every household, with residents or only exposed.
struct Households<'a>(&'a HouseholdOp);

impl Serialize for Households<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let op = self.0;
        let with_residents = op
            .households
            .iter()
            .map(|(k, r)| (k, household_wire(r, op.exposed.get(k))));
        let only_exposed = op
            .exposed
            .iter()
            .filter(|(k, _)| !op.households.contains_key(*k))
            .map(|(k, e)| (k, household_wire(&[], Some(e))));
        s.collect_map(with_residents.chain(only_exposed))
    }
}

impl Serialize for HouseholdOp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        OpWire {
            households: Households(self),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for HouseholdOp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        type Wire = HouseholdWire<Vec<ResidentWire>, Vec<Positive>>;
        let wire = OpWire::<HashMap<HouseholdKey, Wire>>::deserialize(d)?;
        let mut op = HouseholdOp::default();
        for (key, h) in wire.households {
            let mut exposed = Exposed {
                positives: h.positives,
                told: Vec::new(),
            };
            let residents: Box<[Resident]> = h
                .residents
                .into_iter()
                .map(|w| {
                    if let Some(told) = w.told {
                        exposed
                            .told
                            .push((w.contact.person_id().to_string(), *told));
                    }
                    let tag = id_tag(w.contact.parts());
                    Resident::new(w.contact, tag, w.first_seen, w.last_seen)
                })
                .collect();
            if !residents.is_empty() {
                op.hot_residents += residents.len();
                op.households.insert(key, residents);
            }
            if !exposed.positives.is_empty() || !exposed.told.is_empty() {
                op.exposed.insert(key, exposed);
            }
        }
        Ok(op)
    }
}
