//! The engine's spill store on disk ([`pooltrace_engine::spill`]): one
//! append-only file per operator in a folder of its own, written through
//! a buffer (by a thread of each store's own) and read back at random. The folder is the config's
//! `engine.spill_dir`, or `.spill` in the output directory; it is removed
//! when the pipeline ends (and by the next run if a crash left it).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use pooltrace_engine::spill::{SpillError, SpillStore};

/// Bytes gathered before a write.
const BUFFER: usize = 1 << 20;

/// The folder of a run's spill files, removed on drop.
#[derive(Debug)]
pub struct SpillDir {
    path: PathBuf,
}

impl SpillDir {
    /// Creates `path` (removing what an earlier run left there).
    pub fn create(path: &Path) -> Result<SpillDir, SpillError> {
        if path.exists() {
            std::fs::remove_dir_all(path).map_err(|source| SpillError::Io {
                what: format!("removing the old spill folder {}", path.display()),
                source,
            })?;
        }
        std::fs::create_dir_all(path).map_err(|source| SpillError::Io {
            what: format!("creating the spill folder {}", path.display()),
            source,
        })?;
        Ok(SpillDir {
            path: path.to_path_buf(),
        })
    }

    /// A new store in a file `name` of this folder.
    pub fn store(&self, name: &str) -> Result<FileSpill, SpillError> {
        FileSpill::create(&self.path.join(name))
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Chunks handed to the writer thread that may wait for it: with the one
/// it is writing and the one being filled, at most this many plus two
/// buffers of memory a store.
const QUEUED: usize = 4;

/// An append-only file with a write buffer. Full buffers are written by a
/// thread of the store's own, so the engine does not wait on the kernel's
/// copy into the page cache (on the 25.7 M-people demo some 7 GB, 9 % of
/// all CPU, on the engine's thread); a chunk stays in memory until the
/// writer has written it, so every extent reads back at any moment.
#[derive(Debug)]
pub struct FileSpill {
    /// For reads (the writer has a handle of its own, with its own offset).
    file: File,
    path: PathBuf,
    /// Bytes handed to the writer (the file's length once it has caught up).
    sent: u64,
    buf: Vec<u8>,
    /// Chunks handed to the writer and not yet seen written, oldest first.
    in_flight: VecDeque<(u64, Arc<Vec<u8>>)>,
    /// A written chunk's buffer, kept for the next fill.
    spare: Option<Vec<u8>>,
    writer: Option<Writer>,
}

#[derive(Debug)]
struct Writer {
    tx: SyncSender<Arc<Vec<u8>>>,
    shared: Arc<WriterShared>,
    thread: JoinHandle<()>,
}

/// What the writer thread tells the store.
#[derive(Debug, Default)]
struct WriterShared {
    /// Bytes in the file (all chunks before this offset are written).
    written: AtomicU64,
    /// The write that failed; the writer stops at it.
    failed: Mutex<Option<std::io::Error>>,
    /// Signalled after each chunk (for [`FileSpill::sync`]).
    progress: Condvar,
}

fn writer_loop(mut file: File, rx: Receiver<Arc<Vec<u8>>>, shared: &WriterShared) {
    for chunk in rx {
        if let Err(e) = file.write_all(&chunk) {
            *lock(&shared.failed) = Some(e);
            shared.progress.notify_all();
            return;
        }
        shared
            .written
            .fetch_add(chunk.len() as u64, Ordering::Release);
        let _guard = lock(&shared.failed);
        shared.progress.notify_all();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FileSpill {
    /// Creates (or truncates) the file at `path` and starts its writer.
    pub fn create(path: &Path) -> Result<FileSpill, SpillError> {
        let io = |what: &str, source| SpillError::Io {
            what: format!("{what} {}", path.display()),
            source,
        };
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| io("creating", e))?;
        let out = File::options()
            .write(true)
            .open(path)
            .map_err(|e| io("opening for the writer", e))?;
        let shared = Arc::new(WriterShared::default());
        let (tx, rx) = sync_channel(QUEUED);
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("pooltrace-spill".into())
            .spawn(move || writer_loop(out, rx, &theirs))
            .map_err(|e| io("starting the writer of", e))?;
        Ok(FileSpill {
            file,
            path: path.to_path_buf(),
            sent: 0,
            buf: Vec::with_capacity(BUFFER),
            in_flight: VecDeque::new(),
            spare: None,
            writer: Some(Writer { tx, shared, thread }),
        })
    }

    fn err(&self, what: &str, source: std::io::Error) -> SpillError {
        SpillError::Io {
            what: format!("{what} {}", self.path.display()),
            source,
        }
    }

    /// The writer's failure, as an error of this store.
    fn failure(&self) -> SpillError {
        let e = self
            .writer
            .as_ref()
            .and_then(|w| lock(&w.shared.failed).take())
            .unwrap_or_else(|| std::io::Error::other("the writer thread stopped"));
        self.err("writing", e)
    }

    /// Bytes the writer has put in the file.
    fn written(&self) -> u64 {
        self.writer
            .as_ref()
            .map_or(0, |w| w.shared.written.load(Ordering::Acquire))
    }

    /// Forgets the chunks the writer has written (keeping one buffer).
    fn retire(&mut self) {
        let written = self.written();
        while let Some((at, chunk)) = self.in_flight.front() {
            if at + chunk.len() as u64 > written {
                break;
            }
            let Some((_, chunk)) = self.in_flight.pop_front() else {
                break;
            };
            if self.spare.is_none() {
                self.spare = Arc::try_unwrap(chunk).ok();
            }
        }
    }

    /// Hands the buffer to the writer.
    fn send(&mut self) -> Result<(), SpillError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.retire();
        let next = match self.spare.take() {
            Some(mut v) => {
                v.clear();
                v
            }
            None => Vec::with_capacity(BUFFER),
        };
        let chunk = Arc::new(std::mem::replace(&mut self.buf, next));
        let at = self.sent;
        let Some(w) = &self.writer else {
            return Err(self.failure());
        };
        if w.tx.send(Arc::clone(&chunk)).is_err() {
            return Err(self.failure());
        }
        self.sent += chunk.len() as u64;
        self.in_flight.push_back((at, chunk));
        Ok(())
    }

    /// Hands the buffer over and waits until the file holds everything.
    fn sync(&mut self) -> Result<(), SpillError> {
        self.send()?;
        let Some(w) = &self.writer else {
            return Err(self.failure());
        };
        let mut failed = lock(&w.shared.failed);
        while w.shared.written.load(Ordering::Acquire) < self.sent {
            if failed.is_some() || w.thread.is_finished() {
                drop(failed);
                return Err(self.failure());
            }
            failed = w
                .shared
                .progress
                .wait_timeout(failed, std::time::Duration::from_millis(50))
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        drop(failed);
        self.retire();
        Ok(())
    }
}

impl Drop for FileSpill {
    fn drop(&mut self) {
        if let Some(Writer { tx, thread, .. }) = self.writer.take() {
            drop(tx);
            let _ = thread.join();
        }
    }
}

impl SpillStore for FileSpill {
    fn append(&mut self, bytes: &[u8]) -> Result<u64, SpillError> {
        if self.buf.len() + bytes.len() > BUFFER {
            self.send()?;
        }
        let at = self.sent + self.buf.len() as u64;
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= BUFFER {
            self.send()?;
        }
        Ok(at)
    }

    fn read(&mut self, offset: u64, len: usize, buf: &mut Vec<u8>) -> Result<(), SpillError> {
        let end = offset.saturating_add(len as u64);
        if end > self.sent + self.buf.len() as u64 {
            return Err(self.err(
                &format!("reading {len} bytes at {offset} past the end of"),
                std::io::ErrorKind::UnexpectedEof.into(),
            ));
        }
        buf.clear();
        if offset >= self.sent {
            let at = (offset - self.sent) as usize;
            buf.extend_from_slice(&self.buf[at..at + len]);
            return Ok(());
        }
        self.retire();
        // A chunk not yet written: from memory (an extent lies in one chunk).
        for (at, chunk) in &self.in_flight {
            let chunk_end = at + chunk.len() as u64;
            if offset >= *at && end <= chunk_end {
                let from = (offset - at) as usize;
                buf.extend_from_slice(&chunk[from..from + len]);
                return Ok(());
            }
        }
        if end > self.written() {
            // Straddles chunks (not an extent `append` returned): wait.
            self.sync()?;
        }
        buf.resize(len, 0);
        let sought = self.file.seek(SeekFrom::Start(offset));
        sought
            .and_then(|_| self.file.read_exact(buf))
            .map_err(|e| self.err("reading", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_appended_reads_back_from_the_buffer_and_from_the_file() {
        let tmp = std::env::temp_dir().join(format!("pooltrace-spill-test-{}", std::process::id()));
        let dir = SpillDir::create(&tmp).unwrap();
        let mut s = dir.store("t.spill").unwrap();
        let mut extents = Vec::new();
        // Past the buffer several times, with a record longer than it.
        for i in 0..3000u32 {
            let len = if i == 1500 {
                BUFFER + 10
            } else {
                (i % 900) as usize + 1
            };
            let bytes: Vec<u8> = (0..len).map(|j| (i as usize + j) as u8).collect();
            extents.push((s.append(&bytes).unwrap(), bytes));
        }
        let mut buf = Vec::new();
        for (at, bytes) in extents.iter().rev().step_by(7) {
            s.read(*at, bytes.len(), &mut buf).unwrap();
            assert_eq!(&buf, bytes, "at {at}");
        }
        let end = extents.last().map(|(a, b)| a + b.len() as u64).unwrap();
        let e = s.read(end, 1, &mut buf).unwrap_err();
        assert!(e.to_string().contains("past the end"), "{e}");
        drop(s);
        drop(dir);
        assert!(!tmp.exists(), "the folder goes with the run");
    }

    #[test]
    fn every_extent_reads_back_while_the_writer_is_behind_or_after_it_caught_up() {
        let tmp = std::env::temp_dir().join(format!("pooltrace-spill-race-{}", std::process::id()));
        let dir = SpillDir::create(&tmp).unwrap();
        let mut s = dir.store("t.spill").unwrap();
        let mut extents: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut buf = Vec::new();
        // Some 20 buffers' worth: chunks in the queue, being written and
        // written; each append is followed by reads of recent and old extents.
        for i in 0..40_000u32 {
            let len = (i.wrapping_mul(2654435761) % 1000) as usize + 1;
            let bytes: Vec<u8> = (0..len).map(|j| (i as usize * 31 + j) as u8).collect();
            let at = s.append(&bytes).unwrap();
            if let Some((prev, b)) = extents.last() {
                assert_eq!(at, prev + b.len() as u64, "extents are contiguous");
            }
            extents.push((at, bytes));
            for k in [
                extents.len() - 1,
                extents.len() / 2,
                (i as usize * 7919) % extents.len(),
            ] {
                let (at, bytes) = &extents[k];
                s.read(*at, bytes.len(), &mut buf).unwrap();
                assert_eq!(&buf, bytes, "extent {k} at {at}");
            }
        }
        s.sync().unwrap();
        assert!(s.in_flight.is_empty(), "everything written is retired");
        assert_eq!(
            std::fs::metadata(tmp.join("t.spill")).unwrap().len(),
            s.sent,
            "the file holds every byte sent"
        );
        for (at, bytes) in extents.iter().step_by(13) {
            s.read(*at, bytes.len(), &mut buf).unwrap();
            assert_eq!(&buf, bytes, "at {at}");
        }
        // An extent over two chunks (not one `append` made) still reads.
        let (at, _) = extents[100];
        let (last_at, last) = extents.last().unwrap();
        let span = (last_at + last.len() as u64 - at) as usize;
        s.read(at, span, &mut buf).unwrap();
        let expected: Vec<u8> = extents[100..].iter().flat_map(|(_, b)| b.clone()).collect();
        assert_eq!(buf, expected);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failing_write_is_an_error_of_the_store_and_what_it_held_still_reads() {
        // Every write to /dev/full fails with "no space left on device".
        let mut s = FileSpill::create(Path::new("/dev/full")).unwrap();
        let chunk = vec![7u8; 1000];
        let mut first = None;
        let mut failed = None;
        for _ in 0..(BUFFER * (QUEUED + 4) / chunk.len()) {
            match s.append(&chunk) {
                Ok(at) => {
                    first.get_or_insert(at);
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let e = failed.expect("the writer's failure comes back to the engine");
        assert!(e.to_string().contains("/dev/full"), "{e}");
        assert!(
            e.to_string().to_lowercase().contains("no space"),
            "the cause is kept: {e}"
        );
        let mut buf = Vec::new();
        s.read(first.unwrap(), chunk.len(), &mut buf).unwrap();
        assert_eq!(buf, chunk, "a chunk never written is still in memory");
    }
}
