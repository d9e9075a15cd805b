//! Event-time timers: registered by operators, fired when the watermark passes.
//!
//! Every tube holds a `result_missing` timer for a day, and every record
//! first asks whether its tube has a timer due, so both lookups are cheap:
//! a hash map by key holds each key's live timers, and an ordered set of
//! (due, kind, key) orders them for firing, in the order they fire. Keys
//! are stored inline (ids up to 24 bytes): a timer costs no allocation of
//! its own, and comparing two keys follows no pointer.

use std::collections::BTreeSet;

use compact_str::CompactString;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

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

/// A fired timer: due time, kind, key.
pub type Fired = (EventTime, TimerKind, String);

/// Pending timers; registering the same timer twice is a no-op. Timers due
/// at the same time fire in (kind, key) order, so firing is deterministic.
#[derive(Debug, Default)]
pub struct Timers {
    /// Live timers by key (a key rarely has more than one).
    by_key: HashMap<CompactString, SmallVec<[(EventTime, TimerKind); 1]>>,
    /// The same timers in firing order.
    by_due: BTreeSet<(EventTime, TimerKind, CompactString)>,
}

impl Timers {
    /// Registers a timer for a tube (or pool tube, or batch) id, due at `due`.
    pub fn set(&mut self, due: EventTime, kind: TimerKind, key: &str) {
        let timers = self.by_key.entry(CompactString::from(key)).or_default();
        if timers.contains(&(due, kind)) {
            return;
        }
        timers.push((due, kind));
        self.by_due.insert((due, kind, CompactString::from(key)));
    }

    /// Cancels the live timers of the given kinds for `key` (timers whose
    /// firing can no longer do anything: a tube's `result_missing` once its
    /// result came). Without this every tube held its timers for a day of
    /// event time: a tenth of a one-day demo's heap.
    pub fn cancel(&mut self, key: &str, kinds: &[TimerKind]) {
        self.remove_where(key, |_, kind| kinds.contains(&kind));
    }

    /// Removes the live timers of `key` that `hit` picks, from both orders,
    /// and returns them.
    fn remove_where(
        &mut self,
        key: &str,
        hit: impl Fn(EventTime, TimerKind) -> bool,
    ) -> SmallVec<[(EventTime, TimerKind); 2]> {
        let mut removed = SmallVec::new();
        let Some(timers) = self.by_key.get_mut(key) else {
            return removed;
        };
        timers.retain(|&mut (due, kind)| {
            let h = hit(due, kind);
            if h {
                removed.push((due, kind));
            }
            !h
        });
        if timers.is_empty() {
            self.by_key.remove(key);
        }
        if !removed.is_empty() {
            let owned = CompactString::from(key);
            for &(due, kind) in &removed {
                self.by_due.remove(&(due, kind, owned.clone()));
            }
        }
        removed
    }

    /// Removes a fired timer from the key map.
    fn take(&mut self, key: &str, due: EventTime, kind: TimerKind) {
        let Some(timers) = self.by_key.get_mut(key) else {
            return;
        };
        if let Some(i) = timers.iter().position(|t| *t == (due, kind)) {
            timers.swap_remove(i);
        }
        if timers.is_empty() {
            self.by_key.remove(key);
        }
    }

    /// Removes and returns every timer due at or before `watermark`, in order.
    pub fn due(&mut self, watermark: EventTime) -> Vec<Fired> {
        let mut fired = Vec::new();
        while let Some(first) = self.by_due.first() {
            if first.0 > watermark {
                break;
            }
            let Some((due, kind, key)) = self.by_due.pop_first() else {
                break;
            };
            self.take(&key, due, kind);
            fired.push((due, kind, key.into_string()));
        }
        fired
    }

    /// Removes and returns the tube timers ([`TimerKind::is_tube`]) of one
    /// tube due at or before `at`, in due order: the tube's own next record
    /// shows that time has passed for it.
    pub fn due_for_tube(&mut self, key: &str, at: EventTime) -> Vec<Fired> {
        let mut found = self.remove_where(key, |due, kind| due <= at && kind.is_tube());
        found.sort_unstable();
        found
            .into_iter()
            .map(|(due, kind)| (due, kind, key.to_string()))
            .collect()
    }

    /// Reads, ahead of their records, where these keys' timers live in
    /// memory (see [`crate::Engine::warm`]). Changes nothing.
    pub fn warm<'a>(&self, keys: impl Iterator<Item = &'a str>) {
        for key in keys {
            std::hint::black_box(self.by_key.get(key).map(|t| t.len()));
        }
    }

    /// How many timers are pending.
    pub fn len(&self) -> usize {
        self.by_due.len()
    }

    /// True when no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.by_due.is_empty()
    }

    /// The live timers in (due, kind, key) order.
    fn sorted(&self) -> Vec<(EventTime, TimerKind, &str)> {
        self.by_due
            .iter()
            .map(|(due, kind, key)| (*due, *kind, key.as_str()))
            .collect()
    }
}

/// Snapshots keep the form timers always had: the pending timers in due
/// order, and the same by key.
#[derive(Serialize, Deserialize)]
struct TimersWire<P, K> {
    pending: P,
    by_key: K,
}

impl Serialize for Timers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let pending = self.sorted();
        let mut by_key: Vec<(&str, EventTime, TimerKind)> =
            pending.iter().map(|&(d, k, key)| (key, d, k)).collect();
        by_key.sort_unstable();
        TimersWire { pending, by_key }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Timers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        type Pending = Vec<(EventTime, TimerKind, String)>;
        let w = TimersWire::<Pending, serde::de::IgnoredAny>::deserialize(d)?;
        let mut t = Timers::default();
        for (due, kind, key) in w.pending {
            t.set(due, kind, &key);
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TimerKind::*;

    #[test]
    fn timers_fire_in_due_then_kind_then_key_order_once() {
        let mut t = Timers::default();
        t.set(30, ResultMissing, "b");
        t.set(10, ResultMissing, "b");
        t.set(30, Orphan, "c");
        t.set(30, ResultMissing, "a");
        t.set(30, ResultMissing, "a"); // twice: once
        t.set(50, LabOverdue, "a");
        assert_eq!(t.len(), 5);
        let fired: Vec<_> = t.due(30);
        let fired: Vec<_> = fired.iter().map(|(d, k, s)| (*d, *k, s.as_str())).collect();
        assert_eq!(
            fired,
            [
                (10, ResultMissing, "b"),
                (30, Orphan, "c"),
                (30, ResultMissing, "a"),
                (30, ResultMissing, "b")
            ]
        );
        assert_eq!(t.len(), 1);
        assert!(t.due(49).is_empty());
        assert_eq!(t.due(50).len(), 1);
        assert!(t.is_empty());
    }

    #[test]
    fn a_tube_fires_its_own_timers_early_and_they_do_not_fire_again() {
        let mut t = Timers::default();
        t.set(20, LabOverdue, "a");
        t.set(10, Orphan, "a");
        t.set(40, ResultMissing, "a");
        t.set(15, DiscordantPool, "a"); // not a tube timer
        t.set(10, Orphan, "b");
        let own: Vec<_> = t.due_for_tube("a", 30);
        assert_eq!(
            own,
            [
                (10, Orphan, "a".to_string()),
                (20, LabOverdue, "a".to_string())
            ]
        );
        assert!(t.due_for_tube("a", 30).is_empty());
        assert!(t.due_for_tube("zz", 30).is_empty());
        // Fired early, they are gone; set again after firing, it fires again.
        t.set(20, LabOverdue, "a");
        let rest: Vec<_> = t.due(100).into_iter().map(|(d, k, _)| (d, k)).collect();
        assert_eq!(
            rest,
            [
                (10, Orphan),
                (15, DiscordantPool),
                (20, LabOverdue),
                (40, ResultMissing)
            ]
        );
        assert!(t.is_empty());
    }

    #[test]
    fn a_cancelled_timer_is_gone_from_both_orders() {
        let mut t = Timers::default();
        t.set(10, ResultMissing, "a");
        t.set(10, ResultMissing, "b"); // same due time, other key
        t.set(20, LabOverdue, "a");
        t.set(30, ResultMissing, "a"); // a second one of the kind
        t.cancel("a", &[ResultMissing]);
        t.cancel("a", &[Orphan]); // none of that kind: nothing happens
        t.cancel("zz", &[ResultMissing]);
        assert_eq!(t.len(), 2);
        // Nothing of it is left to hold memory or to skip later.
        assert_eq!(t.by_due.len(), 2, "{:?}", t.by_due);
        assert_eq!(t.by_key["a"].as_slice(), [(20, LabOverdue)]);
        assert_eq!(
            t.due(100),
            [
                (10, ResultMissing, "b".to_string()),
                (20, LabOverdue, "a".to_string())
            ]
        );
        t.cancel("a", &[LabOverdue]);
        assert!(t.is_empty() && t.by_key.is_empty() && t.by_due.is_empty());
        // Set again after a cancel: live again.
        t.set(40, ResultMissing, "a");
        assert_eq!(t.due(40).len(), 1);
    }

    #[test]
    fn cancelling_some_of_many_timers_due_together_leaves_the_rest_in_order() {
        let mut t = Timers::default();
        let keys: Vec<String> = (0..40).map(|i| format!("tube-{i:02}")).collect();
        for k in keys.iter().rev() {
            t.set(10, ResultMissing, k);
        }
        // Fired early for its tube, then set again.
        assert_eq!(t.due_for_tube("tube-07", 10).len(), 1);
        t.set(10, ResultMissing, "tube-07");
        for k in keys.iter().step_by(3) {
            t.cancel(k, &[ResultMissing]);
        }
        let want: Vec<_> = keys
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 != 0)
            .map(|(_, k)| (10, ResultMissing, k.clone()))
            .collect();
        assert_eq!(t.len(), want.len());
        assert_eq!(
            t.by_due.len(),
            want.len(),
            "nothing left behind: {:?}",
            t.by_due
        );
        assert_eq!(t.due(10), want);
        assert!(t.is_empty() && t.by_due.is_empty());
    }

    #[test]
    fn a_snapshot_keeps_the_live_timers_only() {
        let mut t = Timers::default();
        t.set(10, Orphan, "a");
        t.set(40, ResultMissing, "a");
        t.set(25, ResultMissing, "b");
        t.due_for_tube("a", 20);
        let bytes = rmp_serde::to_vec(&t).unwrap();
        let mut back: Timers = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(rmp_serde::to_vec(&back).unwrap(), bytes);
        let fired: Vec<_> = back.due(100).into_iter().map(|(d, _, k)| (d, k)).collect();
        assert_eq!(fired, [(25, "b".to_string()), (40, "a".to_string())]);
    }
}
