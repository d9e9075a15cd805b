//! Event-time timers: registered by operators, fired when the watermark passes.

use std::collections::BTreeSet;

use pooltrace_model::EventTime;

/// What a timer checks when it fires.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum TimerKind {
    /// Result with no manifest: `orphan_result`.
    Orphan,
    /// Receipt with no result: `lab_overdue`.
    LabOverdue,
    /// Manifest with no result: `result_missing`.
    ResultMissing,
    /// Every member of a flagged pool re-tested negative: `discordant_pool`
    /// once the watermark shows no positive is still on its way (keyed by
    /// the pool tube; handled by the pool operator).
    DiscordantPool,
    /// A batch still lacks pool results: `batch_incomplete` (keyed by the
    /// batch id; handled by the batch operator).
    BatchIncomplete,
}

/// Pending timers ordered by due time; registering the same timer twice is a no-op.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Timers {
    pending: BTreeSet<(EventTime, TimerKind, String)>,
}

impl Timers {
    /// Registers a timer for a tube (or pool tube) id, due at `due`.
    pub fn set(&mut self, due: EventTime, kind: TimerKind, tube_id: &str) {
        self.pending.insert((due, kind, tube_id.to_string()));
    }

    /// Removes and returns every timer due at or before `watermark`, in order.
    pub fn due(&mut self, watermark: EventTime) -> Vec<(EventTime, TimerKind, String)> {
        let mut fired = Vec::new();
        while let Some(first) = self.pending.first() {
            if first.0 > watermark {
                break;
            }
            if let Some(t) = self.pending.pop_first() {
                fired.push(t);
            }
        }
        fired
    }

    /// How many timers are pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }
}
