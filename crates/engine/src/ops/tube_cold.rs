//! Tubes out of memory: a decided tube (manifest and result both in, so
//! none of its own timers can fire any more) that no record has touched
//! for a while is written to the engine's spill store ([`crate::spill`])
//! and read back by the next record about it (a correction, a replay, a
//! late receipt). A spilled tube is its snapshot form, MessagePack with
//! named fields, under a 64-bit hash of its id; the id is in the record,
//! and a tube whose hash another tube has spilled already stays in memory.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use super::tube::TubeOp;
use super::tube_state::TubeState;
use crate::spill::{Cold, SpillError, SpillStore};

/// What a tube in memory costs besides its packed manifest: its map entry
/// (64-byte state, 24-byte id), result and receipt, measured with
/// heaptrack on the demo (benches/README.md, session 17).
pub(crate) const TUBE_BYTES: usize = 160;

#[derive(Serialize)]
struct SpilledRef<'a> {
    tube_id: &'a str,
    state: &'a TubeState,
}

#[derive(Deserialize)]
struct Spilled {
    tube_id: CompactString,
    state: TubeState,
}

fn tube_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

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
        let key = tube_hash(id);
        if !cold.contains(&key) || self.tubes.contains_key(id) {
            return;
        }
        let back = cold.take(&key, |bytes| {
            let s: Spilled = rmp_serde::from_slice(bytes).map_err(|e| e.to_string())?;
            Ok((s.tube_id == id).then_some(s))
        });
        if let Some(s) = back {
            self.manifest_bytes += s.state.manifest.as_ref().map_or(0, |m| m.as_bytes().len());
            self.oldest.note(s.state.last_at);
            self.tubes.insert(s.tube_id, s.state);
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
            buf.clear();
            let record = SpilledRef {
                tube_id: id,
                state: st,
            };
            if rmp_serde::encode::write_named(&mut buf, &record).is_err()
                || !cold.put(tube_hash(id), &buf, st.last_at)
            {
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
