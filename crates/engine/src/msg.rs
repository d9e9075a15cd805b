//! Messages between the keyed operators. Each names the key of the operator
//! that must receive it ([`Msg::route`]): in one process they go through a
//! queue, across instances through a repartition topic.

use pooltrace_model::{Address, Ct, Interpretation, Member, Region, Timestamp, TubeKind};

/// A person's contact details as last seen in a manifest: what a tracing
/// team needs to find them.
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    pub person_id: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<Address>,
    pub region: Region,
}

impl Contact {
    /// The contact of a manifest member in the manifest's region.
    pub fn of(member: &Member, region: &Region) -> Self {
        Contact {
            person_id: member.person_id.clone(),
            name: member.name.clone(),
            phone: member.phone.clone(),
            address: member.address.clone(),
            region: region.clone(),
        }
    }

    /// The household this person lives in: region + full address down to the
    /// room. `None` without an address.
    pub fn household_key(&self) -> Option<String> {
        let a = self.address.as_ref()?;
        let r = &self.region;
        Some(
            [
                &r.district,
                &r.street,
                &r.community,
                &a.compound,
                &a.building,
                &a.unit,
                &a.room,
            ]
            .map(|s| s.as_str())
            .join("\u{1f}"),
        )
    }
}

/// One decided tube as one member sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub tube_id: String,
    pub tube_kind: TubeKind,
    pub revision: u32,
    pub interpretation: Interpretation,
    pub collected_at: Timestamp,
    pub reported_at: Timestamp,
    pub retest_of: Option<String>,
    pub ct: Ct,
    pub lab_id: String,
    pub kit: Option<String>,
    /// Set when a non-adaptive batch decoder decided this (issue: decoding).
    pub decided_by: Option<String>,
}

/// Where a person's retest for a flagged pool stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetestStatus {
    Pending,
    Negative,
    Positive,
}

/// An internal message; `at` on each is the event time of the input that caused it.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    /// tube -> person: a tube with this person in it was decided (or re-decided).
    Observed {
        contact: Contact,
        obs: Observation,
        at: Timestamp,
    },
    /// tube -> household: this person was seen living at this address.
    Resident {
        household: String,
        contact: Contact,
        seen_at: Timestamp,
    },
    /// person -> household: this resident is confirmed positive since `since`
    /// (`None`: no longer, after a correction).
    Positive {
        household: String,
        person_id: String,
        since: Option<(Timestamp, String)>,
        at: Timestamp,
    },
    /// household -> person: exposed at home to a confirmed positive
    /// (`source: None` withdraws the exposure).
    Exposure {
        household: String,
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

/// Who a person was exposed to, and from when.
#[derive(Clone, Debug, PartialEq)]
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
    Household(&'a str),
    Pool(&'a str),
}

impl Msg {
    /// The operator and key that own this message.
    pub fn route(&self) -> Route<'_> {
        match self {
            Msg::Observed { contact, .. } | Msg::Exposure { contact, .. } => {
                Route::Person(&contact.person_id)
            }
            Msg::Resident { household, .. } | Msg::Positive { household, .. } => {
                Route::Household(household)
            }
            Msg::PoolDecided { pool_tube_id, .. } | Msg::Retest { pool_tube_id, .. } => {
                Route::Pool(pool_tube_id)
            }
        }
    }
}
