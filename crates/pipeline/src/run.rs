//! Wiring for one process: records -> engine -> sinks, and `run` on files.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::time::Instant;

use pooltrace_engine::{Disposition, Effect, Engine};
use pooltrace_model::{Record, RecordKind};
use pooltrace_parquet::{ParquetError, ParquetSink, PseudonymKey, Table};
use thiserror::Error;

use crate::sink::{DeadLetter, NdjsonWriter, Origin};
use crate::source::{EventTimeMerge, Item, NdjsonSource};
use crate::{Config, RunReport};

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
    }
    std::fs::create_dir_all(out).map_err(werr)?;
    std::fs::write(
        out.join(OUT_MARKER),
        "written by pooltrace; a new run replaces this directory's outputs\n",
    )
    .map_err(werr)
}

/// The engine with its sinks: what `run` and `demo` drive.
pub struct Pipeline {
    engine: Engine,
    alerts: NdjsonWriter<BufWriter<File>>,
    dead: NdjsonWriter<BufWriter<File>>,
    parquet: ParquetSink,
    effects: Vec<Effect>,
    report: RunReport,
    out: PathBuf,
    started: Instant,
}

impl Pipeline {
    /// Opens the sinks in `out` (see [`prepare_out_dir`]).
    pub fn create(cfg: &Config, out: &Path) -> Result<Self, RunError> {
        let key = cfg
            .privacy
            .pseudonym_key
            .as_deref()
            .ok_or(RunError::MissingPseudonymKey)?;
        let key = PseudonymKey::new(key.as_bytes()).map_err(RunError::BadPseudonymKey)?;
        prepare_out_dir(out)?;
        let create = |name: &str| {
            let path = out.join(name);
            File::create(&path)
                .map(BufWriter::new)
                .map_err(|source| RunError::Write {
                    path: path.display().to_string(),
                    source,
                })
        };
        Ok(Pipeline {
            engine: Engine::new(cfg.engine.clone()),
            alerts: NdjsonWriter::new(create("alerts.ndjson")?),
            dead: NdjsonWriter::new(create("dead_letters.ndjson")?),
            parquet: ParquetSink::create(out, key, cfg.parquet.clone())?,
            effects: Vec::new(),
            report: RunReport::default(),
            out: out.to_path_buf(),
            started: Instant::now(),
        })
    }

    fn write_err(&self, name: &str) -> impl FnOnce(std::io::Error) -> RunError {
        let path = self.out.join(name).display().to_string();
        move |source| RunError::Write { path, source }
    }

    /// Feeds one valid record; returns the effects it caused (already written).
    pub fn push(&mut self, record: Record, origin: Origin) -> Result<&[Effect], RunError> {
        self.report.records_valid += 1;
        if let Record::Manifest(m) = &record {
            self.report.people_in_manifests += m.members.len() as u64;
        }
        self.effects.clear();
        if let Disposition::Rejected(rejection) = self.engine.handle(record, &mut self.effects) {
            let raw = match self.engine.take_rejected() {
                Some(Record::Manifest(m)) => serde_json::to_vec(&m),
                Some(Record::Result(r)) => serde_json::to_vec(&r),
                Some(Record::Receipt(r)) => serde_json::to_vec(&r),
                None => Ok(Vec::new()),
            }
            .unwrap_or_default();
            self.dead_letter(DeadLetter::from_rejection(origin, &rejection, raw))?;
        }
        for e in &self.effects {
            match e {
                Effect::Alert(a) => {
                    let path = self.out.join("alerts.ndjson").display().to_string();
                    self.alerts
                        .write(a)
                        .map_err(|source| RunError::Write { path, source })?;
                    self.parquet.write_alert(a)?;
                }
                Effect::TubeResult(t) => self.parquet.write_tube_result(t)?,
                Effect::PersonOutcome(p) => self.parquet.write_person_outcome(p)?,
            }
        }
        Ok(&self.effects)
    }

    /// Records a rejected input record.
    pub fn dead_letter(&mut self, d: DeadLetter) -> Result<(), RunError> {
        *self.report.dead_letters.entry(d.code).or_default() += 1;
        let err = self.write_err("dead_letters.ndjson");
        self.dead.write(&d).map_err(err)
    }

    /// The engine (for its watermark and summary).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Counts lines read by a source (for the summary).
    pub fn count_lines(&mut self, stream: &'static str, lines: u64, blank: u64) {
        *self.report.lines_read.entry(stream).or_default() += lines;
        self.report.blank_lines += blank;
    }

    /// Flushes every sink and returns the report (also written as `summary.json`).
    pub fn finish(self) -> Result<RunReport, RunError> {
        let mut report = self.report;
        for (name, w) in [
            ("alerts.ndjson", self.alerts),
            ("dead_letters.ndjson", self.dead),
        ] {
            w.finish().map_err(|source| RunError::Write {
                path: self.out.join(name).display().to_string(),
                source,
            })?;
        }
        let stats = self.parquet.finish()?;
        for t in Table::ALL {
            report.parquet_rows.insert(t.name(), stats.table(t).rows);
        }
        report.parquet_files = stats.files();
        report.engine = self.engine.summary();
        report.elapsed_secs = self.started.elapsed().as_secs_f64();
        let path = self.out.join("summary.json");
        let json = serde_json::to_vec_pretty(&report).unwrap_or_default();
        std::fs::write(&path, json).map_err(|source| RunError::Write {
            path: path.display().to_string(),
            source,
        })?;
        Ok(report)
    }
}

fn open(path: &Path, stdin_used: &mut bool) -> Result<Box<dyn BufRead>, RunError> {
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
    let mut merge = EventTimeMerge::new(sources);
    loop {
        let item = merge.next_item().map_err(|source| RunError::Read {
            path: "input".into(),
            source,
        })?;
        match item {
            None => break,
            Some(Item::Dead(d)) => pipeline.dead_letter(d)?,
            Some(Item::Record(p)) => {
                pipeline.push(p.record, p.origin)?;
            }
        }
    }
    for s in merge.sources() {
        pipeline.count_lines(s.kind().as_str(), s.lines_read, s.blank_lines);
    }
    pipeline.finish()
}
