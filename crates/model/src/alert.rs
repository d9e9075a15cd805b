//! Alerts for tracing and transfer teams: kinds, lifecycle, deterministic ids.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Address, Ct, Interpretation, Region, Timestamp, TubeKind};

/// What a team is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Positive or inconclusive pool/household tube: temporary in-place
    /// control and a single-tube resample of this member (due +2 h).
    PoolRetest,
    /// Positive single tube: transfer to a designated hospital (due +2 h).
    HospitalTransfer,
    /// Co-resident of a confirmed positive: central isolation (due +8 h).
    IsolationTransfer,
    /// Inconclusive single tube: retest with a different kit (due +6 h).
    ParallelRetest,
    /// Invalid tube (internal control failed): resample (due +6 h).
    Resample,
    /// Every member of a positive pool re-tested negative: lab quality check.
    DiscordantPool,
    /// The lab received the tube and has not reported within 6 h.
    LabOverdue,
    /// No result 24 h after collection.
    ResultMissing,
    /// A result whose manifest has not arrived 30 min after it was reported.
    OrphanResult,
    /// Non-adaptive design decoded this sample positive: confirm in a single tube.
    PresumptivePositive,
    /// A non-adaptive batch still lacks pool results 6 h after its first one.
    BatchIncomplete,
}

impl AlertKind {
    /// Every kind, in wire order.
    pub const ALL: [AlertKind; 11] = [
        AlertKind::PoolRetest,
        AlertKind::HospitalTransfer,
        AlertKind::IsolationTransfer,
        AlertKind::ParallelRetest,
        AlertKind::Resample,
        AlertKind::DiscordantPool,
        AlertKind::LabOverdue,
        AlertKind::ResultMissing,
        AlertKind::OrphanResult,
        AlertKind::PresumptivePositive,
        AlertKind::BatchIncomplete,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::PoolRetest => "pool_retest",
            AlertKind::HospitalTransfer => "hospital_transfer",
            AlertKind::IsolationTransfer => "isolation_transfer",
            AlertKind::ParallelRetest => "parallel_retest",
            AlertKind::Resample => "resample",
            AlertKind::DiscordantPool => "discordant_pool",
            AlertKind::LabOverdue => "lab_overdue",
            AlertKind::ResultMissing => "result_missing",
            AlertKind::OrphanResult => "orphan_result",
            AlertKind::PresumptivePositive => "presumptive_positive",
            AlertKind::BatchIncomplete => "batch_incomplete",
        }
    }
}

/// Lifecycle: `open` until resolved (no longer needed) or superseded (replaced
/// by a stronger alert, named in `superseded_by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Open,
    Resolved,
    Superseded,
}

impl AlertState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Resolved => "resolved",
            AlertState::Superseded => "superseded",
        }
    }
}

/// Why the alert was raised: the measurements and tubes behind it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tube_kind: Option<TubeKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpretation: Option<Interpretation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ct: Option<Ct>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lab_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kit: Option<String>,
    /// The pool tube a retest belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_tube_id: Option<String>,
    /// For `isolation_transfer`: the confirmed co-resident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive_person_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<Timestamp>,
    /// For `discordant_pool`: the single tubes that re-tested the members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retest_tube_ids: Vec<String>,
    /// For decoded batches: the batch, the design and the decoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoder: Option<String>,
}

/// One state of one alert. Every change is a new record with the same
/// `alert_id` and a higher `version`; the last record is the alert's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// Deterministic: derived from (kind, subject, cause) by [`alert_id`].
    pub alert_id: String,
    /// 1 for the first record of this alert, +1 for each change.
    pub version: u32,
    pub kind: AlertKind,
    pub state: AlertState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    /// The tube that caused the alert.
    pub tube_id: String,
    pub raised_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    /// Event time of this state change.
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    pub reason: String,
    pub evidence: Evidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_reason: Option<String>,
}

impl Alert {
    /// The key that keeps one subject's alerts in order: the person, or the tube.
    pub fn subject(&self) -> &str {
        self.person_id.as_deref().unwrap_or(&self.tube_id)
    }
}

/// The deterministic id of the alert of `kind` about `subject` (a person or
/// tube id) caused by `cause` (usually a tube id): 32 hex characters of
/// SHA-256, the same for the same inputs on every machine and every run.
pub fn alert_id(kind: AlertKind, subject: &str, cause: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"pooltrace.alert.v1\x1f");
    h.update(kind.as_str().as_bytes());
    h.update(b"\x1f");
    h.update(subject.as_bytes());
    h.update(b"\x1f");
    h.update(cause.as_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(32);
    for b in &digest[..16] {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = alert_id(AlertKind::PoolRetest, "220102196107090023", "EX1-POOL");
        assert_eq!(a.len(), 32);
        assert_eq!(
            a,
            alert_id(AlertKind::PoolRetest, "220102196107090023", "EX1-POOL")
        );
        assert_ne!(
            a,
            alert_id(AlertKind::Resample, "220102196107090023", "EX1-POOL")
        );
        assert_ne!(
            a,
            alert_id(AlertKind::PoolRetest, "220102196107090023", "EX1-POOL2")
        );
        // The separator keeps (ab, c) and (a, bc) apart.
        assert_ne!(
            alert_id(AlertKind::PoolRetest, "ab", "c"),
            alert_id(AlertKind::PoolRetest, "a", "bc")
        );
    }
}
