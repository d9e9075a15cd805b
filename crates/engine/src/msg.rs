//! Messages between the keyed operators. Each names the key of the operator
//! that must receive it ([`Msg::route`]): in one process they go through a
//! queue, across instances through a repartition topic.

use std::borrow::Cow;
use std::sync::Arc;

use pooltrace_model::{
    Address, Ct, DecodedEvidence, Interpretation, Manifest, Member, Region, Timestamp, TubeKind,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A person's contact details as last seen in a manifest: what a tracing
/// team needs to find them. A view into the shared manifest (one member of
/// it), so passing a contact between operators copies nothing. Serialized
/// (snapshots, the repartition topic), it is just the member and the region;
/// deserialized, a one-member manifest (see its `Deserialize`).
#[derive(Clone, Debug)]
pub struct Contact {
    manifest: Arc<Manifest>,
    member: usize,
}

impl PartialEq for Contact {
    fn eq(&self, other: &Self) -> bool {
        self.member() == other.member() && self.region() == other.region()
    }
}

/// A household: a hash of region + address down to the room (128 bits of
/// XXH3, stable across runs and machines).
pub type HouseholdKey = u128;

impl Contact {
    /// Member `member` of `manifest` (callers pass an index that exists).
    pub fn of(manifest: &Arc<Manifest>, member: usize) -> Self {
        debug_assert!(member < manifest.members.len());
        Contact {
            manifest: Arc::clone(manifest),
            member,
        }
    }

    /// The member's entry in the manifest.
    pub fn member(&self) -> &Member {
        &self.manifest.members[self.member]
    }

    pub fn person_id(&self) -> &str {
        &self.member().person_id
    }

    pub fn name(&self) -> Option<&str> {
        self.member().name.as_deref()
    }

    pub fn phone(&self) -> Option<&str> {
        self.member().phone.as_deref()
    }

    pub fn address(&self) -> Option<&Address> {
        self.member().address.as_ref()
    }

    pub fn region(&self) -> &Region {
        &self.manifest.region
    }

    /// The household this person lives in: region + full address down to the
    /// room. `None` without an address.
    pub fn household_key(&self) -> Option<HouseholdKey> {
        let a = self.address()?;
        let r = self.region();
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for part in [
            r.district.as_str(),
            &r.street,
            &r.community,
            &a.compound,
            &a.building,
            &a.unit,
            &a.room,
        ] {
            h.update(part.as_bytes());
            h.update(&[0x1f]);
        }
        Some(h.digest128())
    }
}

/// On the wire (snapshots, the repartition topic) a contact is only what its
/// methods read: the member and the manifest's region, not the whole manifest.
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

impl Serialize for Contact {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ContactRef {
            member: self.member(),
            region: self.region(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Contact {
    /// Rebuilds a one-member manifest around the member (index 0) with the
    /// region. Every [`Contact`] method reads only the member and the region,
    /// so they (and `==`, and [`Contact::household_key`]) answer exactly as
    /// before the round trip. The manifest's other fields are placeholders
    /// that nothing reads through a contact: empty `tube_id` and `site_id`,
    /// kind `single`, `collected_at` at the epoch (UTC), no retest or batch.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ContactOwned { member, region } = ContactOwned::deserialize(d)?;
        let manifest = Manifest {
            tube_id: String::new(),
            kind: TubeKind::Single,
            collected_at: Timestamp::from_millis(0, 0),
            site_id: String::new(),
            region,
            members: vec![member],
            retest_of: None,
            batch_id: None,
            design: None,
            pool_index: None,
        };
        Ok(Contact {
            manifest: Arc::new(manifest),
            member: 0,
        })
    }
}

/// One decided tube as one member sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub tube_id: Arc<str>,
    /// The tube's region (shared by the rows of all its members).
    pub region: Arc<Region>,
    pub tube_kind: TubeKind,
    pub revision: u32,
    pub interpretation: Interpretation,
    pub collected_at: Timestamp,
    pub reported_at: Timestamp,
    pub retest_of: Option<Arc<str>>,
    pub ct: Ct,
    pub lab_id: String,
    pub kit: Option<String>,
    /// Set when a non-adaptive batch decoder decided this: the decoder.
    pub decided_by: Option<Cow<'static, str>>,
    /// The batch, for a decoded sample (then `tube_id` is the batch id and
    /// `interpretation` the decoder's call: positive, negative, or
    /// inconclusive for undetermined).
    pub batch: Option<Arc<str>>,
    /// For a decoded sample: the decoder's evidence.
    pub decoded: Option<DecodedEvidence>,
}

/// Where a person's retest for a flagged pool stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RetestStatus {
    Pending,
    Negative,
    Positive,
}

/// An internal message; `at` on each is the event time of the input that caused it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Msg {
    /// tube -> person: a tube with this person in it was decided (or re-decided).
    Observed {
        contact: Contact,
        obs: Arc<Observation>,
        at: Timestamp,
    },
    /// tube -> household: this person was seen living at this address.
    Resident {
        household: HouseholdKey,
        contact: Contact,
        seen_at: Timestamp,
    },
    /// person -> household: this resident is confirmed positive since `since`
    /// (`None`: no longer, after a correction).
    Positive {
        household: HouseholdKey,
        person_id: String,
        since: Option<(Timestamp, String)>,
        at: Timestamp,
    },
    /// household -> person: exposed at home to a confirmed positive
    /// (`source: None` withdraws the exposure).
    Exposure {
        household: HouseholdKey,
        contact: Contact,
        source: Option<ExposureSource>,
        at: Timestamp,
    },
    /// tube -> pool: a pool or household tube was decided; `flagged` when
    /// positive or inconclusive (its members need single-tube retests).
    PoolDecided {
        pool_tube_id: String,
        members: Vec<String>,
        flagged: bool,
        region: Region,
        at: Timestamp,
    },
    /// tube -> batch: a pool of a non-adaptive batch was decided.
    BatchPool { pool: Box<BatchPool>, at: Timestamp },
    /// person -> pool: where this member's retest for the pool stands.
    Retest {
        pool_tube_id: String,
        person_id: String,
        status: RetestStatus,
        retest_tube_id: Option<String>,
        reported_at: Option<Timestamp>,
        at: Timestamp,
    },
}

/// One pool of a non-adaptive batch, decided (tube -> batch).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchPool {
    pub batch_id: String,
    pub design: String,
    pub pool_index: u32,
    pub manifest: Arc<Manifest>,
    pub interpretation: Interpretation,
    pub ct: Ct,
    pub lab_id: String,
    pub kit: Option<String>,
    pub reported_at: Timestamp,
}

/// Who a person was exposed to, and from when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExposureSource {
    pub person_id: String,
    pub tube_id: String,
    /// max(the source's confirmation, the person's first sighting there).
    pub since: Timestamp,
}

/// Which operator receives a message, and its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    Person(&'a str),
    Household(HouseholdKey),
    Pool(&'a str),
    Batch(&'a str),
}

impl Msg {
    /// The operator and key that own this message.
    pub fn route(&self) -> Route<'_> {
        match self {
            Msg::Observed { contact, .. } | Msg::Exposure { contact, .. } => {
                Route::Person(contact.person_id())
            }
            Msg::Resident { household, .. } | Msg::Positive { household, .. } => {
                Route::Household(*household)
            }
            Msg::PoolDecided { pool_tube_id, .. } | Msg::Retest { pool_tube_id, .. } => {
                Route::Pool(pool_tube_id)
            }
            Msg::BatchPool { pool, .. } => Route::Batch(&pool.batch_id),
        }
    }
}
