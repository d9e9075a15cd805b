//! Cold state out of memory: the tubes, households and people nobody has
//! touched for a while, written to a [`SpillStore`] and read back when a
//! record or message needs them again.
//!
//! Most state is cold soon after it is made: a negative pool's tube and its
//! members' households are needed again only for a correction, a replay, a
//! later sighting at the same address or a positive co-resident. Kept in
//! memory they made the engine grow about 110 bytes a person cleared (the
//! packed manifest, the tube, the residents). A person with a tube of
//! their own, or whose alerts are all resolved, is needed again only if
//! another tube or an exposure concerns them. Spilled, a tube, household or
//! person costs one entry of an index in memory (16 bytes and its key) and
//! its bytes in the store.
//!
//! The store is the only thing here that is not pure: a trait the driver
//! implements over a file (`pooltrace_pipeline::spill_file`); tests use
//! [`MemorySpill`]. The engine stays deterministic: what is spilled, and
//! when, depends only on the records and their event times, and spilling
//! changes no output (proptested against an engine that never spills).
//! A store that fails (disk full) is kept as an error the driver reads
//! ([`crate::Engine::take_spill_error`]) and ends the run with: state that
//! cannot be read back must not be taken for state that never existed.
//!
//! Spilled state is not in [`crate::Engine::snapshot`]s: an engine with a
//! store refuses to snapshot ([`crate::SnapshotError::Spilled`]). Kafka
//! mode, which checkpoints, keeps its state in memory.

use rustc_hash::FxHashMap as HashMap;
use thiserror::Error;

use crate::ops::oldest::Oldest;

/// An error of a spill store, with what it was doing.
#[derive(Debug, Error)]
pub enum SpillError {
    #[error("spill store {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("spilled {kind} at offset {offset} cannot be read back: {why}")]
    Corrupt {
        kind: &'static str,
        offset: u64,
        why: String,
    },
}

/// The stores of an engine's cold state, one for each operator that spills
/// ([`crate::Engine::attach_spill`]).
#[derive(Debug)]
pub struct SpillStores {
    pub tubes: Box<dyn SpillStore>,
    pub households: Box<dyn SpillStore>,
    pub people: Box<dyn SpillStore>,
}

impl SpillStores {
    /// Three stores in memory (tests).
    pub fn in_memory() -> Self {
        SpillStores {
            tubes: Box::<MemorySpill>::default(),
            households: Box::<MemorySpill>::default(),
            people: Box::<MemorySpill>::default(),
        }
    }
}

/// Where cold state goes: an append-only byte store read at random.
pub trait SpillStore: Send + std::fmt::Debug {
    /// Appends `bytes`; returns the offset they start at.
    fn append(&mut self, bytes: &[u8]) -> Result<u64, SpillError>;
    /// Reads `len` bytes at `offset` (an extent [`SpillStore::append`]
    /// returned) into `buf`, replacing its contents.
    fn read(&mut self, offset: u64, len: usize, buf: &mut Vec<u8>) -> Result<(), SpillError>;
}

/// A store in memory (tests, and callers with no disk to spare).
#[derive(Debug, Default)]
pub struct MemorySpill {
    bytes: Vec<u8>,
}

impl MemorySpill {
    /// Bytes appended so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl SpillStore for MemorySpill {
    fn append(&mut self, bytes: &[u8]) -> Result<u64, SpillError> {
        let at = self.bytes.len() as u64;
        self.bytes.extend_from_slice(bytes);
        Ok(at)
    }

    fn read(&mut self, offset: u64, len: usize, buf: &mut Vec<u8>) -> Result<(), SpillError> {
        let range = usize::try_from(offset)
            .ok()
            .and_then(|o| Some(o..o.checked_add(len)?))
            .filter(|r| r.end <= self.bytes.len());
        let Some(range) = range else {
            return Err(SpillError::Io {
                what: format!("read of {len} bytes at {offset}"),
                source: std::io::ErrorKind::UnexpectedEof.into(),
            });
        };
        buf.clear();
        buf.extend_from_slice(&self.bytes[range]);
        Ok(())
    }
}

/// Longest record a [`ColdEntry`] can point at (24 bits of length); a
/// longer one stays in memory.
const MAX_LEN: usize = (1 << 24) - 1;
/// Largest offset (40 bits: a terabyte of spilled state).
const MAX_OFFSET: u64 = (1 << 40) - 1;

/// A value spilled under a string id (a tube's, a person's), with the id:
/// two ids that share a 64-bit hash are told apart by it.
#[derive(serde::Serialize)]
struct ByIdRef<'a, T> {
    id: &'a str,
    value: &'a T,
}

#[derive(serde::Deserialize)]
struct ById<T> {
    id: compact_str::CompactString,
    value: T,
}

/// The index key of a string id.
fn id_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// Where one spilled value is, and its latest event time (for retention).
#[derive(Clone, Copy, Debug)]
struct ColdEntry {
    /// Offset (high 40 bits) and length (low 24 bits).
    extent: u64,
    last: i64,
}

/// The spilled values of one operator, by a 64-bit key (a hash the
/// operator checks against the value read back), and their store.
#[derive(Debug)]
pub(crate) struct Cold {
    store: Box<dyn SpillStore>,
    index: HashMap<u64, ColdEntry>,
    oldest: Oldest,
    /// The cut-off of the latest retention sweep: parts of a value older
    /// than it are dropped when the value is read back.
    swept_before: i64,
    /// The store's first error, until the driver takes it.
    failed: Option<SpillError>,
    /// Set at the first error: nothing more is spilled.
    broken: bool,
    buf: Vec<u8>,
    kind: &'static str,
}

impl Cold {
    /// An empty index over `store`; `kind` names the values in errors.
    pub(crate) fn new(store: Box<dyn SpillStore>, kind: &'static str) -> Self {
        Cold {
            store,
            index: HashMap::default(),
            oldest: Oldest::default(),
            swept_before: i64::MIN,
            failed: None,
            broken: false,
            buf: Vec::new(),
            kind,
        }
    }

    /// Values spilled.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// True when `key` is spilled.
    pub(crate) fn contains(&self, key: &u64) -> bool {
        self.index.contains_key(key)
    }

    /// The cut-off of the latest retention sweep (see [`Cold::evict`]).
    pub(crate) fn swept_before(&self) -> i64 {
        self.swept_before
    }

    /// The store's first error, if any (taken: reported once).
    pub(crate) fn take_error(&mut self) -> Option<SpillError> {
        self.failed.take()
    }

    /// True when the store has failed (nothing more is spilled).
    pub(crate) fn has_failed(&self) -> bool {
        self.broken
    }

    fn fail(&mut self, e: SpillError) {
        self.broken = true;
        self.failed.get_or_insert(e);
    }

    /// Spills `bytes` as the value of `key`, last touched at `last`.
    /// False (the caller keeps the value) when the key is spilled already
    /// (a hash shared by two keys), the value is too long, or the store
    /// fails or has failed.
    pub(crate) fn put(&mut self, key: u64, bytes: &[u8], last: i64) -> bool {
        if self.broken || bytes.len() > MAX_LEN || self.index.contains_key(&key) {
            return false;
        }
        match self.store.append(bytes) {
            Ok(offset) if offset <= MAX_OFFSET => {
                let extent = (offset << 24) | bytes.len() as u64;
                self.index.insert(key, ColdEntry { extent, last });
                self.oldest.note(last);
                true
            }
            Ok(offset) => {
                self.fail(SpillError::Io {
                    what: format!("offset {offset}"),
                    source: std::io::Error::other("past the terabyte a cold index can address"),
                });
                false
            }
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    /// Reads the value of `key` and hands its bytes to `f`, which decodes
    /// it: `Some` takes it out of the store (it is no longer spilled),
    /// `None` leaves it there (it is another key's, whose hash `key` is).
    /// None too when `key` is not spilled or cannot be read (the error is
    /// kept for [`Cold::take_error`]).
    pub(crate) fn take<T>(
        &mut self,
        key: &u64,
        f: impl FnOnce(&[u8]) -> Result<Option<T>, String>,
    ) -> Option<T> {
        let entry = *self.index.get(key)?;
        let (offset, len) = (entry.extent >> 24, (entry.extent & MAX_LEN as u64) as usize);
        if let Err(e) = self.store.read(offset, len, &mut self.buf) {
            self.index.remove(key);
            self.fail(e);
            return None;
        }
        match f(&self.buf) {
            Ok(Some(v)) => {
                self.index.remove(key);
                Some(v)
            }
            Ok(None) => None,
            Err(why) => {
                self.index.remove(key);
                let kind = self.kind;
                self.fail(SpillError::Corrupt { kind, offset, why });
                None
            }
        }
    }

    /// Spills `value` under `id` (MessagePack with named fields, encoded
    /// in `buf`), last touched at `last`; false as [`Cold::put`].
    pub(crate) fn put_by_id<T: serde::Serialize>(
        &mut self,
        id: &str,
        value: &T,
        last: i64,
        buf: &mut Vec<u8>,
    ) -> bool {
        buf.clear();
        rmp_serde::encode::write_named(buf, &ByIdRef { id, value }).is_ok()
            && self.put(id_hash(id), buf, last)
    }

    /// Takes back the value spilled under `id` (with the id, as stored),
    /// if there is one.
    pub(crate) fn take_by_id<T: serde::de::DeserializeOwned>(
        &mut self,
        id: &str,
    ) -> Option<(compact_str::CompactString, T)> {
        self.take(&id_hash(id), |bytes| {
            let s: ById<T> = rmp_serde::from_slice(bytes).map_err(|e| e.to_string())?;
            Ok((s.id == id).then_some((s.id, s.value)))
        })
    }

    /// Forgets values last touched before `before`; returns how many. The
    /// cut-off is kept: what a value holds from before it is dropped when
    /// the value is read back, as a sweep in memory would have dropped it.
    pub(crate) fn evict(&mut self, before: i64) -> usize {
        self.swept_before = self.swept_before.max(before);
        self.oldest.sweep(&mut self.index, before, |e| {
            (e.last >= before).then_some(e.last)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cold() -> Cold {
        Cold::new(Box::<MemorySpill>::default(), "test value")
    }

    #[test]
    fn a_value_comes_back_once_and_is_then_no_longer_spilled() {
        let mut c = cold();
        assert!(c.put(1, b"one", 10));
        assert!(c.put(2, b"two!", 20));
        assert!(c.contains(&1) && c.len() == 2);
        let got = c.take(&2, |b| Ok(Some(b.to_vec())));
        assert_eq!(got.as_deref(), Some(&b"two!"[..]));
        assert!(!c.contains(&2));
        assert_eq!(c.take(&2, |b| Ok(Some(b.to_vec()))), None);
        assert_eq!(
            c.take(&1, |b| Ok(Some(b.to_vec()))).as_deref(),
            Some(&b"one"[..])
        );
        assert!(c.take_error().is_none());
    }

    #[test]
    fn a_value_its_decoder_disowns_stays_spilled() {
        let mut c = cold();
        assert!(c.put(5, b"other key's", 0));
        assert_eq!(c.take(&5, |_| Ok(None::<()>)), None);
        assert!(c.contains(&5));
        assert!(c.take_error().is_none());
    }

    #[test]
    fn a_key_spilled_already_is_refused_not_overwritten() {
        let mut c = cold();
        assert!(c.put(7, b"first", 0));
        assert!(!c.put(7, b"second", 0));
        assert_eq!(
            c.take(&7, |b| Ok(Some(b.to_vec()))).as_deref(),
            Some(&b"first"[..])
        );
    }

    #[test]
    fn retention_forgets_old_values_and_remembers_the_cut_off() {
        let mut c = cold();
        for (k, t) in [(1, 100), (2, 200), (3, 300)] {
            assert!(c.put(k, b"x", t));
        }
        assert_eq!(c.evict(250), 2);
        assert_eq!(c.len(), 1);
        assert!(c.contains(&3));
        assert_eq!(c.swept_before(), 250);
        assert_eq!(c.evict(100), 0, "an earlier cut-off forgets nothing more");
        assert_eq!(c.swept_before(), 250);
    }

    #[test]
    fn a_value_that_does_not_decode_is_an_error_not_an_absence_passed_over() {
        let mut c = cold();
        assert!(c.put(1, b"junk", 0));
        assert_eq!(c.take(&1, |_| Err::<Option<()>, _>("bad tag".into())), None);
        let e = c.take_error().expect("kept");
        assert!(e.to_string().contains("bad tag"), "{e}");
    }

    #[derive(Debug)]
    struct Full;
    impl SpillStore for Full {
        fn append(&mut self, _: &[u8]) -> Result<u64, SpillError> {
            Err(SpillError::Io {
                what: "append".into(),
                source: std::io::Error::other("no space left"),
            })
        }
        fn read(&mut self, _: u64, _: usize, _: &mut Vec<u8>) -> Result<(), SpillError> {
            unreachable!("nothing was written")
        }
    }

    #[test]
    fn a_failing_store_keeps_the_value_in_memory_and_reports_once() {
        let mut c = Cold::new(Box::new(Full), "test value");
        assert!(!c.put(1, b"x", 0), "the caller keeps it");
        assert!(c.has_failed());
        assert!(!c.contains(&1));
        let e = c.take_error().expect("reported");
        assert!(e.to_string().contains("no space left"), "{e}");
        assert!(c.take_error().is_none());
        assert!(c.has_failed(), "and stays failed");
    }

    #[test]
    fn memory_spill_reads_what_was_appended_and_refuses_past_its_end() {
        let mut s = MemorySpill::default();
        let a = s.append(b"abc").unwrap();
        let b = s.append(b"de").unwrap();
        let mut buf = Vec::new();
        s.read(b, 2, &mut buf).unwrap();
        assert_eq!(buf, b"de");
        s.read(a, 3, &mut buf).unwrap();
        assert_eq!(buf, b"abc");
        assert!(s.read(4, 2, &mut buf).is_err());
    }
}
