//! Tubes out of memory: a decided tube (manifest and result both in, so
//! none of its own timers can fire any more) that no record has touched
//! for a while is written to the engine's spill store ([`crate::spill`])
//! and read back by the next record about it (a correction, a replay, a
//! late receipt). A spilled tube is its snapshot form, MessagePack with
//! named fields, under a 64-bit hash of its id ([`Cold::put_by_id`]); a
//! tube whose hash another tube has spilled already stays in memory.

use super::tube::TubeOp;
use super::tube_state::TubeState;
use crate::spill::{Cold, SpillError, SpillStore};

/// What a tube in memory costs besides its packed manifest: its map entry
/// (64-byte state, 24-byte id), result and receipt, measured with
/// heaptrack on the demo (benches/README.md, session 17).
pub(crate) const TUBE_BYTES: usize = 160;

impl TubeOp {
    /// From now on, cold tubes can be spilled to `store`.
    pub(crate) fn attach_store(&mut self, store: Box<dyn SpillStore>) {
        self.cold = Some(Cold::new(store, "tube"));
    }

    /// True when a store is attached.
    pub(crate) fn spills(&self) -> bool {
        self.cold.is_some()
    }

    /// Tubes spilled (out of memory).
    pub(crate) fn spilled(&self) -> usize {
        self.cold.as_ref().map_or(0, Cold::len)
    }

    /// What the tubes in memory take, estimated (bytes).
    pub(crate) fn hot_bytes(&self) -> usize {
        self.manifest_bytes + self.tubes.len() * TUBE_BYTES
    }

    /// The store's first error, if any (taken: reported once).
    pub(crate) fn take_spill_error(&mut self) -> Option<SpillError> {
        self.cold.as_mut().and_then(Cold::take_error)
    }

    /// Brings tube `id` back into memory if it was spilled.
    pub(super) fn thaw(&mut self, id: &str) {
        let Some(cold) = &mut self.cold else { return };
        if self.tubes.contains_key(id) {
            return;
        }
        if let Some((id, state)) = cold.take_by_id::<TubeState>(id) {
            self.manifest_bytes += state.manifest.as_ref().map_or(0, |m| m.as_bytes().len());
            self.oldest.note(state.last_at);
            self.tubes.insert(id, state);
        }
    }

    /// Spills every decided tube last touched before `before`; returns
    /// how many.
    pub(crate) fn spill(&mut self, before: i64) -> usize {
        let Some(cold) = &mut self.cold else { return 0 };
        let (mut spilled, mut freed) = (0, 0);
        let mut buf = Vec::new();
        self.tubes.retain(|id, st| {
            if st.last_at >= before
                || st.manifest.is_none()
                || st.result.is_none()
                || cold.has_failed()
            {
                return true;
            }
            if !cold.put_by_id(id, st, st.last_at, &mut buf) {
                return true;
            }
            spilled += 1;
            freed += st.manifest.as_ref().map_or(0, |m| m.as_bytes().len());
            false
        });
        self.manifest_bytes -= freed;
        spilled
    }
}
