//! Messages between the keyed operators. Each names the key of the operator
//! that must receive it ([`Msg::route`]): in one process they go through a
//! queue, across instances through a repartition topic.

use std::sync::Arc;

use pooltrace_model::{Ct, Interpretation, Manifest, Region, Timestamp};
use serde::{Deserialize, Serialize};

pub use crate::contact::{Contact, HouseholdKey};
pub use crate::observation::{BatchDecision, Observation};

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
    /// `members` (person ids) only when flagged: empty otherwise.
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
        /// The member's negative retest (tube, report time), also once a
        /// later positive decides the status: with it the pool knows when
        /// the member was negative, whatever order messages arrive in.
        /// Absent in messages of earlier builds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        negative: Option<(String, Timestamp)>,
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
