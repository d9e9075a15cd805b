//! `run` on files: a reader thread parses and merges the inputs in event
//! time, the calling thread drives the [`Pipeline`].

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use pooltrace_model::RecordKind;
use pooltrace_parquet::{ParquetError, Table};
use thiserror::Error;

use crate::source::{EventTimeMerge, Item, NdjsonSource};
use crate::{Config, Pipeline, RunReport};

/// Items per batch handed from the reader thread to the engine.
const BATCH: usize = 1024;

/// Records whose state the engine reads ahead at a time ([`Pipeline::warm`]):
/// enough for the reads of memory to overlap, few enough that what they
/// bring stays in the cache until used.
const WARM: usize = 64;

/// Marks a directory as pooltrace output, so a later run may replace it.
const OUT_MARKER: &str = ".pooltrace-out";

/// Why a run could not go on. Bad input is never one of these: it goes to
/// the dead letters.
#[derive(Debug, Error)]
pub enum RunError {
    #[error("no pseudonym key: set POOLTRACE_PSEUDONYM_KEY (at least 16 bytes) or [privacy] pseudonym_key in the config; analyst Parquet never holds raw person ids")]
    MissingPseudonymKey,
    #[error("pseudonym key: {0}")]
    BadPseudonymKey(ParquetError),
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("output directory {path} is not empty and was not written by pooltrace; choose an empty or new directory")]
    ForeignOutDir { path: String },
    #[error("parquet: {0}")]
    Parquet(#[from] ParquetError),
    #[error("only one input may be read from stdin (`-`)")]
    StdinTwice,
    #[error("the {0} thread stopped unexpectedly")]
    Thread(&'static str),
    /// The engine's spill store failed (the disk of `engine.spill_dir` is
    /// full or gone): the run stops, as state it cannot read back would
    /// be taken for state never seen.
    #[error("spilling cold state to disk: {0} (free space there, set engine.spill_dir elsewhere, or raise engine.state_memory_mb)")]
    Spill(#[from] pooltrace_engine::spill::SpillError),
}

/// The input files of `run`; `-` reads stdin.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub manifests: Option<PathBuf>,
    pub results: Option<PathBuf>,
    pub receipts: Option<PathBuf>,
}

/// Creates `out` or empties a previous pooltrace output there.
pub fn prepare_out_dir(out: &Path) -> Result<(), RunError> {
    let werr = |source| RunError::Write {
        path: out.display().to_string(),
        source,
    };
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(werr)?;
        if entries.next().is_some() && !out.join(OUT_MARKER).exists() {
            return Err(RunError::ForeignOutDir {
                path: out.display().to_string(),
            });
        }
        for t in Table::ALL {
            let dir = out.join(t.name());
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(werr)?;
            }
        }
        // A crashed run's spill files.
        let spill = out.join(crate::pipeline::SPILL_DIR);
        if spill.exists() {
            std::fs::remove_dir_all(&spill).map_err(werr)?;
        }
    }
    std::fs::create_dir_all(out).map_err(werr)?;
    std::fs::write(
        out.join(OUT_MARKER),
        "written by pooltrace; a new run replaces this directory's outputs\n",
    )
    .map_err(werr)
}

fn open(path: &Path, stdin_used: &mut bool) -> Result<Box<dyn BufRead + Send>, RunError> {
    if path == Path::new("-") {
        if *stdin_used {
            return Err(RunError::StdinTwice);
        }
        *stdin_used = true;
        return Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            std::io::stdin(),
        )));
    }
    let f = File::open(path).map_err(|source| RunError::Open {
        path: path.display().to_string(),
        source,
    })?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, f)))
}

/// `pooltrace run` on files: merges the inputs in event time, runs the
/// engine, writes every output into `out`.
pub fn run_files(cfg: &Config, inputs: &Inputs, out: &Path) -> Result<RunReport, RunError> {
    let mut stdin_used = false;
    let mut sources = Vec::new();
    for (kind, path) in [
        (RecordKind::Manifest, &inputs.manifests),
        (RecordKind::Result, &inputs.results),
        (RecordKind::Receipt, &inputs.receipts),
    ] {
        if let Some(p) = path {
            let reader = open(p, &mut stdin_used)?;
            sources.push(NdjsonSource::new(
                kind,
                p.display().to_string(),
                reader,
                cfg.input.max_record_bytes,
            ));
        }
    }
    let mut pipeline = Pipeline::create(cfg, out)?;
    // Parsing is a third of the work: it runs on its own thread, ahead of
    // the engine, through a bounded channel (memory stays flat).
    let (tx, rx) = sync_channel::<Vec<Item>>(16);
    let reader = std::thread::Builder::new()
        .name("pooltrace-read".into())
        .spawn(move || -> std::io::Result<Vec<(&'static str, u64, u64)>> {
            let mut merge = EventTimeMerge::new(sources);
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(item) = merge.next_item()? {
                batch.push(item);
                if batch.len() == BATCH
                    && tx
                        .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                        .is_err()
                {
                    break;
                }
            }
            let _ = tx.send(batch);
            Ok(merge
                .sources()
                .iter()
                .map(|s| (s.kind().as_str(), s.lines_read, s.blank_lines))
                .collect())
        })
        .map_err(|_| RunError::Thread("reader"))?;
    for batch in rx {
        let mut items = batch.into_iter();
        while !items.as_slice().is_empty() {
            // The engine reads ahead the state the next records touch.
            let ahead = &items.as_slice()[..items.len().min(WARM)];
            let n = ahead.len();
            pipeline.warm(ahead.iter().filter_map(|i| match i {
                Item::Record(p) => Some(&p.record),
                Item::Dead(_) => None,
            }));
            for item in items.by_ref().take(n) {
                match item {
                    Item::Dead(d) => pipeline.dead_letter(d)?,
                    Item::Record(p) => {
                        pipeline.push(p.record, p.origin)?;
                    }
                }
            }
        }
    }
    let counts = reader
        .join()
        .map_err(|_| RunError::Thread("reader"))?
        .map_err(|source| RunError::Read {
            path: "input".into(),
            source,
        })?;
    for (stream, lines, blank) in counts {
        pipeline.count_lines(stream, lines, blank);
    }
    pipeline.finish()
}
