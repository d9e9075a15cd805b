//! People out of memory: a person with no open alert whom nothing has
//! touched for a while is written to the engine's spill store
//! ([`crate::spill`]) and read back by the next tube decided about them or
//! the next exposure at their home. Most people the engine remembers are
//! such: cleared by a tube of their own (1.3 million in the 25.7 M demo),
//! or retested negative after a positive pool, their alerts resolved. In
//! memory each kept its state, alert book and observations, and, through
//! its contact, the whole packed manifest it was listed in.
//!
//! A spilled person is their snapshot form (MessagePack with named
//! fields) under a 64-bit hash of their id ([`Cold::put_by_id`]); a person
//! whose hash another has spilled already stays in memory.
//! Retention forgets a spilled person as it would in memory: their latest
//! event time is older than the cut-off and (spilled only then) no alert of
//! theirs is open.

use super::person::{PersonOp, PersonState};
use crate::spill::{Cold, SpillError, SpillStore};

/// What a person in memory costs, estimated: the map entry (id and
/// 112-byte state), an alert book and an observation or two.
pub(crate) const PERSON_BYTES: usize = 400;

impl PersonOp {
    /// From now on, cold people can be spilled to `store`.
    pub(crate) fn attach_store(&mut self, store: Box<dyn SpillStore>) {
        self.cold = Some(Cold::new(store, "person"));
    }

    /// People spilled (out of memory).
    pub(crate) fn spilled(&self) -> usize {
        self.cold.as_ref().map_or(0, Cold::len)
    }

    /// What the people in memory take, estimated (bytes).
    pub(crate) fn hot_bytes(&self) -> usize {
        self.people.len() * PERSON_BYTES
    }

    /// The store's first error, if any (taken: reported once).
    pub(crate) fn take_spill_error(&mut self) -> Option<SpillError> {
        self.cold.as_mut().and_then(Cold::take_error)
    }

    /// Brings person `id` back into memory if they were spilled.
    pub(super) fn thaw(&mut self, id: &str) {
        let Some(cold) = &mut self.cold else { return };
        if cold.len() == 0 || self.people.contains_key(id) {
            return;
        }
        if let Some((id, state)) = cold.take_by_id::<PersonState>(id) {
            self.oldest.note(state.last_at);
            self.people.insert(id, state);
        }
    }

    /// Spills every person with no open alert last touched before
    /// `before`; returns how many.
    pub(crate) fn spill(&mut self, before: i64) -> usize {
        let Some(cold) = &mut self.cold else { return 0 };
        let mut spilled = 0;
        let mut buf = Vec::new();
        self.people.retain(|id, st| {
            if st.last_at >= before || cold.has_failed() || st.has_open_alert() {
                return true;
            }
            if !cold.put_by_id(id, st, st.last_at, &mut buf) {
                return true;
            }
            spilled += 1;
            false
        });
        spilled
    }

    /// Forgets spilled people last touched before `before` (none of them
    /// has an open alert); returns how many.
    pub(super) fn evict_cold(&mut self, before: i64) -> usize {
        self.cold.as_mut().map_or(0, |c| c.evict(before))
    }
}
