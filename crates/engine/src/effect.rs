//! What the engine returns: effects, and what became of each input record.

use pooltrace_model::{Alert, PersonOutcomeRow, TubeResultRow};
use thiserror::Error;

/// Something the outside world must do: publish an alert state, write a row.
///
/// Alerts and tube rows are boxed: effects travel in batches of thousands
/// to a sink thread, and person outcomes (one per member of every tube)
/// outnumber them ten to a hundred to one; unboxed, every effect took an
/// alert's 736 bytes.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// A new alert, or a new state of an existing one (same `alert_id`, higher `version`).
    Alert(Box<Alert>),
    /// A decided tube (or a new revision of it after a correction).
    TubeResult(Box<TubeResultRow>),
    /// What a tube's result means for one of its members.
    PersonOutcome(PersonOutcomeRow),
}

/// What the engine did with one input record. Every record gets exactly one.
#[derive(Clone, Debug, PartialEq)]
pub enum Disposition {
    /// Taken into the state (it may or may not have produced effects).
    Processed,
    /// Byte-for-byte the same as a record already seen: nothing changed.
    Duplicate,
    /// An older result than one already applied (e.g. a final result that
    /// arrives after its correction): kept out of the state, nothing changed.
    Stale,
    /// Valid on its own but contradicts the state: goes to the dead letters.
    Rejected(Rejection),
}

/// Why a well-formed record could not be applied.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum Rejection {
    #[error("tube `{tube_id}` already has a different manifest; a manifest cannot be changed")]
    ConflictingManifest { tube_id: String },
    #[error(
        "tube `{tube_id}` already has a different final result (reported {existing}); send it with \"status\": \"corrected\" to replace it"
    )]
    ConflictingFinalResult { tube_id: String, existing: String },
    #[error(
        "tube `{tube_id}` already has a different correction reported at the same time ({existing}); a later correction must have a later reported_at"
    )]
    ConflictingCorrection { tube_id: String, existing: String },
    #[error(
        "tube `{tube_id}`: batch pools need `design` and `pool_index`, and design `{design}` {why}"
    )]
    BadBatchPool {
        tube_id: String,
        design: String,
        why: String,
    },
}

impl Rejection {
    /// A short, stable code for metrics and dead-letter grouping.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::ConflictingManifest { .. } => "conflicting_manifest",
            Rejection::ConflictingFinalResult { .. } => "conflicting_final_result",
            Rejection::ConflictingCorrection { .. } => "conflicting_correction",
            Rejection::BadBatchPool { .. } => "bad_batch_pool",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_effect_is_a_row_not_an_alert() {
        let (effect, alert) = (
            std::mem::size_of::<super::Effect>(),
            std::mem::size_of::<pooltrace_model::Alert>(),
        );
        assert!(
            effect <= 160 && effect * 3 < alert,
            "effect {effect} bytes, alert {alert}"
        );
    }
}
