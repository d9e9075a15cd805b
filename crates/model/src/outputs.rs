//! Rows the pipeline writes for analysts (the Parquet adapter pseudonymises
//! person ids before anything leaves the process).

use std::borrow::Cow;
use std::sync::Arc;

use compact_str::CompactString;

use serde::{Deserialize, Serialize};

use crate::{Ct, Interpretation, Region, Timestamp, TubeKind};

/// One decided tube: its interpreted result. Written again, with a higher
/// `revision`, when a corrected result replaces it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TubeResultRow {
    pub tube_id: String,
    pub tube_kind: TubeKind,
    /// 1 for the first decision, +1 for each correction.
    pub revision: u32,
    pub interpretation: Interpretation,
    pub member_count: u32,
    pub lab_id: String,
    pub kit: Option<String>,
    pub ct: Ct,
    pub corrected: bool,
    pub site_id: String,
    pub region: Region,
    pub collected_at: Timestamp,
    pub received_at: Option<Timestamp>,
    pub reported_at: Timestamp,
    pub retest_of: Option<String>,
    pub batch_id: Option<String>,
}

/// What one tube's result means for one person. A pool result is never a
/// person's result: it is `cleared_by_pool` or `pool_positive_pending`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonOutcome {
    /// A negative pool or household tube cleared this person.
    ClearedByPool,
    /// A positive or inconclusive pool/household tube: single-tube retest pending.
    PoolPositivePending,
    /// The person's own single tube (or a decoded design) is positive.
    Positive,
    /// The person's own single tube is negative.
    Negative,
    /// The person's own single tube is inconclusive: parallel retest.
    Inconclusive,
    /// The tube was invalid: resample.
    Invalid,
}

impl PersonOutcome {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PersonOutcome::ClearedByPool => "cleared_by_pool",
            PersonOutcome::PoolPositivePending => "pool_positive_pending",
            PersonOutcome::Positive => "positive",
            PersonOutcome::Negative => "negative",
            PersonOutcome::Inconclusive => "inconclusive",
            PersonOutcome::Invalid => "invalid",
        }
    }

    /// The outcome of a tube of `kind` with interpretation `i` for a member.
    pub fn of(kind: TubeKind, i: Interpretation) -> Self {
        match (kind, i) {
            (_, Interpretation::Invalid) => PersonOutcome::Invalid,
            (TubeKind::Single, Interpretation::Positive) => PersonOutcome::Positive,
            (TubeKind::Single, Interpretation::Negative) => PersonOutcome::Negative,
            (TubeKind::Single, Interpretation::Inconclusive) => PersonOutcome::Inconclusive,
            (_, Interpretation::Negative) => PersonOutcome::ClearedByPool,
            (_, Interpretation::Positive | Interpretation::Inconclusive) => {
                PersonOutcome::PoolPositivePending
            }
        }
    }
}

/// One person's outcome from one tube (raw `person_id`: the Parquet adapter
/// writes only its keyed hash).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
///
/// One row per member of every decided tube: the fields shared by a tube's
/// members (`tube_id`, `region`, `retest_of`) are reference-counted and
/// `person_id` is inline up to 24 bytes, so a row costs no allocation for
/// a resident id (it is made on the engine's thread and dropped on the
/// sink's: a million of them a second).
pub struct PersonOutcomeRow {
    pub person_id: CompactString,
    pub tube_id: Arc<str>,
    pub tube_kind: TubeKind,
    /// The tube's revision this row reflects.
    pub revision: u32,
    pub outcome: PersonOutcome,
    /// How it was decided: `pool`, `household`, `single`, or a decoder name.
    pub decided_by: Cow<'static, str>,
    pub region: Arc<Region>,
    pub collected_at: Timestamp,
    pub decided_at: Timestamp,
    /// For a single retest: the pool tube it re-tests.
    pub retest_of: Option<Arc<str>>,
    /// For a sample of a decoded non-adaptive batch: the decoder's evidence.
    pub decoded: Option<DecodedEvidence>,
}

/// What a batch decoder saw for one sample.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecodedEvidence {
    /// Posterior probability that the sample is positive (0 or 1 where a
    /// perfect assay forces the call).
    pub p_positive: f64,
    /// How many of the sample's pools were positive (or invalid).
    pub pools_positive: u32,
    /// How many of the sample's pools were negative.
    pub pools_negative: u32,
}
