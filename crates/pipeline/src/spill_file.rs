//! The engine's spill store on disk ([`pooltrace_engine::spill`]): one
//! append-only file per operator in a folder of its own, written through
//! a buffer and read back at random. The folder is the config's
//! `engine.spill_dir`, or `.spill` in the output directory; it is removed
//! when the pipeline ends (and by the next run if a crash left it).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

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

/// An append-only file with a write buffer.
#[derive(Debug)]
pub struct FileSpill {
    file: File,
    path: PathBuf,
    /// Bytes in the file (before `buf`).
    written: u64,
    buf: Vec<u8>,
}

impl FileSpill {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: &Path) -> Result<FileSpill, SpillError> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|source| SpillError::Io {
                what: format!("creating {}", path.display()),
                source,
            })?;
        Ok(FileSpill {
            file,
            path: path.to_path_buf(),
            written: 0,
            buf: Vec::with_capacity(BUFFER),
        })
    }

    fn err(&self, what: &str, source: std::io::Error) -> SpillError {
        SpillError::Io {
            what: format!("{what} {}", self.path.display()),
            source,
        }
    }

    fn flush(&mut self) -> Result<(), SpillError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let sought = self.file.seek(SeekFrom::Start(self.written));
        if let Err(e) = sought.and_then(|_| self.file.write_all(&self.buf)) {
            return Err(self.err("writing", e));
        }
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

impl SpillStore for FileSpill {
    fn append(&mut self, bytes: &[u8]) -> Result<u64, SpillError> {
        if self.buf.len() + bytes.len() > BUFFER {
            self.flush()?;
        }
        let at = self.written + self.buf.len() as u64;
        if bytes.len() > BUFFER {
            self.buf.extend_from_slice(bytes);
            self.flush()?;
        } else {
            self.buf.extend_from_slice(bytes);
        }
        Ok(at)
    }

    fn read(&mut self, offset: u64, len: usize, buf: &mut Vec<u8>) -> Result<(), SpillError> {
        let end = offset.saturating_add(len as u64);
        if end > self.written + self.buf.len() as u64 {
            return Err(self.err(
                &format!("reading {len} bytes at {offset} past the end of"),
                std::io::ErrorKind::UnexpectedEof.into(),
            ));
        }
        buf.clear();
        if offset >= self.written {
            let at = (offset - self.written) as usize;
            buf.extend_from_slice(&self.buf[at..at + len]);
            return Ok(());
        }
        // Unbuffered bytes first: the extent may straddle the buffer.
        self.flush()?;
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
}
