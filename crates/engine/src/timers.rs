//! Event-time timers: registered by operators, fired when the watermark passes.

use std::collections::BTreeSet;
use std::sync::Arc;

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

impl TimerKind {
    /// Timers of the tube operator, keyed by a tube id.
    pub fn is_tube(self) -> bool {
        matches!(
            self,
            TimerKind::Orphan | TimerKind::LabOverdue | TimerKind::ResultMissing
        )
    }
}

/// Pending timers ordered by due time, with an index by key so a key's own
/// timers can fire before its next record; registering the same timer twice
/// is a no-op.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Timers {
    pending: BTreeSet<(EventTime, TimerKind, Arc<str>)>,
    by_key: BTreeSet<(Arc<str>, EventTime, TimerKind)>,
}

impl Timers {
    /// Registers a timer for a tube (or pool tube, or batch) id, due at `due`.
    pub fn set(&mut self, due: EventTime, kind: TimerKind, key: &str) {
        let key: Arc<str> = Arc::from(key);
        if self.pending.insert((due, kind, Arc::clone(&key))) {
            self.by_key.insert((key, due, kind));
        }
    }

    /// Removes and returns every timer due at or before `watermark`, in order.
    pub fn due(&mut self, watermark: EventTime) -> Vec<(EventTime, TimerKind, String)> {
        let mut fired = Vec::new();
        while let Some(first) = self.pending.first() {
            if first.0 > watermark {
                break;
            }
            if let Some((due, kind, key)) = self.pending.pop_first() {
                self.by_key.remove(&(Arc::clone(&key), due, kind));
                fired.push((due, kind, key.to_string()));
            }
        }
        fired
    }

    /// Removes and returns the tube timers ([`TimerKind::is_tube`]) of one
    /// tube due at or before `at`, in due order: the tube's own next record
    /// shows that time has passed for it.
    pub fn due_for_tube(
        &mut self,
        key: &str,
        at: EventTime,
    ) -> Vec<(EventTime, TimerKind, String)> {
        let probe: Arc<str> = Arc::from(key);
        let lo = (Arc::clone(&probe), EventTime::MIN, TimerKind::Orphan);
        let found: Vec<(Arc<str>, EventTime, TimerKind)> = self
            .by_key
            .range(lo..)
            .take_while(|(k, due, _)| **k == *key && *due <= at)
            .filter(|(_, _, kind)| kind.is_tube())
            .cloned()
            .collect();
        found
            .into_iter()
            .map(|(k, due, kind)| {
                self.by_key.remove(&(Arc::clone(&k), due, kind));
                self.pending.remove(&(due, kind, Arc::clone(&k)));
                (due, kind, k.to_string())
            })
            .collect()
    }

    /// How many timers are pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }
}
