//! The engine with its sinks: what `run` and `demo` drive. Effects are
//! written on two sink threads, in batches through bounded channels, each
//! table in the engine's order:
//!
//! ```text
//! engine ──batch──> sink thread: alerts.ndjson, dead letters, ──batch──> outcomes thread:
//!   ^               tube_results and alerts Parquet, person keys         person_outcomes Parquet
//!   └──────────────────────── the emptied batch, to be filled again ────────┘
//! ```
//!
//! `person_outcomes` (a row per person) is most of the Parquet work; on its
//! own thread it runs beside the rest, so the sinks keep up with the
//! engine and finish soon after it instead of writing a backlog alone. The
//! sink thread, which has less to do, computes each row's person key (the
//! HMAC) and sends the keys with the batch.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;
use std::time::Instant;

use pooltrace_engine::{Disposition, Effect, Engine, Expected};
use pooltrace_model::{Record, Timestamp};
use pooltrace_parquet::{ParquetSink, PersonKey, PseudonymKey, SinkStats, Table};

use crate::run::{prepare_out_dir, RunError};
use crate::sink::{DeadLetter, NdjsonWriter, Origin};
use crate::spill_file::SpillDir;
use crate::{Config, RunReport};

/// The spill folder in the output directory, unless `engine.spill_dir`
/// names another.
pub(crate) const SPILL_DIR: &str = ".spill";

/// Effects per batch handed to the sink thread.
const BATCH: usize = 4096;

/// A batch for the outcomes thread: the effects, and the person key of
/// each person outcome among them, in order.
struct OutcomeBatch {
    effects: Vec<Effect>,
    keys: Vec<PersonKey>,
}

enum ToSink {
    Effects(Vec<Effect>),
    Dead(DeadLetter),
}

/// The engine, feeding a sink thread.
pub struct Pipeline {
    engine: Engine,
    /// Effects not yet handed to the sink thread; the last record's are at the end.
    pending: Vec<Effect>,
    last: usize,
    to_sink: Option<SyncSender<ToSink>>,
    /// Emptied batches coming back from the sink thread, to be filled
    /// again: a batch is a megabyte, and a new one each time had every
    /// batch's pages faulted in afresh.
    spare: Receiver<Vec<Effect>>,
    sink: Option<JoinHandle<Result<SinkStats, RunError>>>,
    report: RunReport,
    out: PathBuf,
    started: Instant,
    /// The engine's spill files (removed when the pipeline is dropped,
    /// after the engine).
    spill: Option<SpillDir>,
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
        // The spill folder first: if it cannot be made, no sink thread
        // has started.
        let mut engine = Engine::new(cfg.engine.clone());
        let spill = if cfg.engine.state_memory_mb > 0 {
            let dir = match &cfg.engine.spill_dir {
                Some(d) => SpillDir::create(&d.join(format!("pooltrace-{}", std::process::id())))?,
                None => SpillDir::create(&out.join(SPILL_DIR))?,
            };
            engine.attach_spill(pooltrace_engine::spill::SpillStores {
                tubes: Box::new(dir.store("tubes.spill")?),
                households: Box::new(dir.store("households.spill")?),
                people: Box::new(dir.store("people.spill")?),
            });
            Some(dir)
        } else {
            None
        };
        let (tx, rx) = sync_channel(8);
        let (to_outcomes, outcomes_rx) = sync_channel(8);
        let (back, spare) = sync_channel(8);
        let (keys_back, spare_keys) = sync_channel(8);
        let outcomes = OutcomeSink {
            parquet: ParquetSink::create(out, key.clone(), cfg.parquet.clone())?,
        };
        let outcomes = std::thread::Builder::new()
            .name("pooltrace-outcomes".into())
            .spawn(move || outcomes.run(outcomes_rx, back, keys_back))
            .map_err(|_| RunError::Thread("outcomes sink"))?;
        let sinks = Sinks {
            alerts: NdjsonWriter::new(create("alerts.ndjson")?),
            dead: NdjsonWriter::new(create("dead_letters.ndjson")?),
            parquet: ParquetSink::create(out, key, cfg.parquet.clone())?,
            spare_keys,
            out: out.to_path_buf(),
        };
        let sink = std::thread::Builder::new()
            .name("pooltrace-sink".into())
            .spawn(move || sinks.run(rx, to_outcomes, outcomes))
            .map_err(|_| RunError::Thread("sink"))?;
        Ok(Pipeline {
            engine,
            spill,
            pending: Vec::with_capacity(BATCH * 2),
            last: 0,
            to_sink: Some(tx),
            spare,
            sink: Some(sink),
            report: RunReport::default(),
            out: out.to_path_buf(),
            started: Instant::now(),
        })
    }

    /// Hands the pending effects to the sink thread if there are enough.
    fn hand_over_full_batch(&mut self) -> Result<(), RunError> {
        if self.pending.len() < BATCH {
            return Ok(());
        }
        let empty = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH * 2));
        let batch = std::mem::replace(&mut self.pending, empty);
        self.send(ToSink::Effects(batch))
    }

    fn send(&mut self, msg: ToSink) -> Result<(), RunError> {
        let sent = self.to_sink.as_ref().is_some_and(|tx| tx.send(msg).is_ok());
        if sent {
            return Ok(());
        }
        // The sink thread stopped: its error says why.
        self.to_sink = None;
        match self.sink.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => Err(e),
            _ => Err(RunError::Thread("sink")),
        }
    }

    /// Feeds one valid record; returns the effects it caused (they are
    /// written in order by the sink thread).
    pub fn push(&mut self, record: Record, origin: Origin) -> Result<&[Effect], RunError> {
        self.report.records_valid += 1;
        if let Record::Manifest(m) = &record {
            self.report.people_in_manifests += m.members.len() as u64;
        }
        self.hand_over_full_batch()?;
        self.last = self.pending.len();
        if let Disposition::Rejected(rejection) = self.engine.handle(record, &mut self.pending) {
            let raw = match self.engine.take_rejected() {
                Some(Record::Manifest(m)) => serde_json::to_vec(&m),
                Some(Record::Result(r)) => serde_json::to_vec(&r),
                Some(Record::Receipt(r)) => serde_json::to_vec(&r),
                None => Ok(Vec::new()),
            }
            .unwrap_or_default();
            self.dead_letter(DeadLetter::from_rejection(origin, &rejection, raw))?;
        }
        if let Some(e) = self.engine.take_spill_error() {
            return Err(e.into());
        }
        Ok(&self.pending[self.last..])
    }

    /// Moves event time to `at` with no record (for a simulation or an idle
    /// stream): the watermark advances and due timers fire. Returns the
    /// effects (written in order by the sink thread).
    pub fn observe_time(&mut self, at: Timestamp) -> Result<&[Effect], RunError> {
        self.hand_over_full_batch()?;
        self.last = self.pending.len();
        self.engine.observe_time(at, &mut self.pending);
        if let Some(e) = self.engine.take_spill_error() {
            return Err(e.into());
        }
        Ok(&self.pending[self.last..])
    }

    /// Records a rejected input record.
    pub fn dead_letter(&mut self, d: DeadLetter) -> Result<(), RunError> {
        *self.report.dead_letters.entry(d.code).or_default() += 1;
        self.send(ToSink::Dead(d))
    }

    /// Tells the engine which records come next ([`Engine::warm`]).
    pub fn warm<'a>(&self, records: impl Iterator<Item = &'a Record> + Clone) {
        self.engine.warm(records);
    }

    /// The engine (for its watermark and summary).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Tells the engine how much is coming ([`Engine::reserve`]).
    pub fn reserve(&mut self, expected: Expected) {
        self.engine.reserve(expected);
    }

    /// Counts lines read by a source (for the summary).
    pub fn count_lines(&mut self, stream: &'static str, lines: u64, blank: u64) {
        *self.report.lines_read.entry(stream).or_default() += lines;
        self.report.blank_lines += blank;
    }

    /// Flushes every sink and returns the report (also written as `summary.json`).
    ///
    /// The engine's state is freed while the sink thread writes its last
    /// batches (on millions of people, freeing it one allocation at a time
    /// takes a noticeable part of a second; the sink is usually behind).
    pub fn finish(mut self) -> Result<RunReport, RunError> {
        let batch = std::mem::take(&mut self.pending);
        self.send(ToSink::Effects(batch))?;
        self.to_sink = None;
        let Pipeline {
            engine,
            sink,
            mut report,
            out,
            started,
            spill,
            ..
        } = self;
        report.engine = engine.summary();
        let spilled = engine.spill_stats();
        report.spilled_tubes = spilled.tubes as u64;
        report.spilled_households = spilled.households as u64;
        report.spilled_people = spilled.people as u64;
        drop(engine);
        drop(spill);
        let stats = sink
            .ok_or(RunError::Thread("sink"))?
            .join()
            .map_err(|_| RunError::Thread("sink"))??;
        for t in Table::ALL {
            report.parquet_rows.insert(t.name(), stats.table(t).rows);
        }
        report.parquet_files = stats.files();
        report.elapsed_secs = started.elapsed().as_secs_f64();
        let path = out.join("summary.json");
        let json = serde_json::to_vec_pretty(&report).unwrap_or_default();
        std::fs::write(&path, json).map_err(|source| RunError::Write {
            path: path.display().to_string(),
            source,
        })?;
        Ok(report)
    }
}

/// What the sink thread owns.
struct Sinks {
    alerts: NdjsonWriter<BufWriter<File>>,
    dead: NdjsonWriter<BufWriter<File>>,
    /// Also computes the person keys for the outcomes thread (the two
    /// sinks share the secret).
    parquet: ParquetSink,
    /// Emptied key buffers coming back from the outcomes thread.
    spare_keys: Receiver<Vec<PersonKey>>,
    out: PathBuf,
}

impl Sinks {
    fn io_err(&self, name: &str) -> impl FnOnce(std::io::Error) -> RunError {
        let path = self.out.join(name).display().to_string();
        move |source| RunError::Write { path, source }
    }

    /// Writes everything but person outcomes, then passes each batch on to
    /// the outcomes thread; returns the stats of both.
    fn run(
        self,
        rx: Receiver<ToSink>,
        to_outcomes: SyncSender<OutcomeBatch>,
        outcomes: JoinHandle<Result<SinkStats, RunError>>,
    ) -> Result<SinkStats, RunError> {
        let written = self.write_all(rx, to_outcomes);
        let outcomes = outcomes
            .join()
            .map_err(|_| RunError::Thread("outcomes sink"));
        // This thread's own error first; the outcomes thread stops when its
        // channel closes, and its error (if any) comes next.
        let mut stats = written?;
        stats.person_outcomes = outcomes??.person_outcomes;
        Ok(stats)
    }

    /// Takes the outcomes channel by value: it is closed as soon as the
    /// last batch is passed on, so that the outcomes thread finishes its
    /// files while this one finishes its own (closed only after, the two
    /// finishes ran one after the other: 60 ms of a 1.2 s run on 1 M
    /// people with one core idle, benches/README.md, session 21).
    fn write_all(
        mut self,
        rx: Receiver<ToSink>,
        to_outcomes: SyncSender<OutcomeBatch>,
    ) -> Result<SinkStats, RunError> {
        for msg in rx {
            match msg {
                ToSink::Dead(d) => {
                    let err = self.io_err("dead_letters.ndjson");
                    self.dead.write(&d).map_err(err)?;
                }
                ToSink::Effects(effects) => {
                    let mut keys = self.spare_keys.try_recv().unwrap_or_default();
                    for e in &effects {
                        match e {
                            Effect::Alert(a) => {
                                let err = self.io_err("alerts.ndjson");
                                self.alerts.write(a).map_err(err)?;
                                self.parquet.write_alert(a)?;
                            }
                            Effect::TubeResult(t) => self.parquet.write_tube_result(t)?,
                            Effect::PersonOutcome(p) => {
                                keys.push(self.parquet.person_key(&p.person_id))
                            }
                        }
                    }
                    if to_outcomes.send(OutcomeBatch { effects, keys }).is_err() {
                        // The outcomes thread stopped: its error says why.
                        break;
                    }
                }
            }
        }
        drop(to_outcomes);
        let (alerts_err, dead_err) = (
            self.io_err("alerts.ndjson"),
            self.io_err("dead_letters.ndjson"),
        );
        self.alerts.finish().map_err(alerts_err)?;
        self.dead.finish().map_err(dead_err)?;
        Ok(self.parquet.finish()?)
    }
}

/// What the outcomes thread owns: a sink of its own, of which it writes
/// only `person_outcomes`.
struct OutcomeSink {
    parquet: ParquetSink,
}

impl OutcomeSink {
    fn run(
        mut self,
        rx: Receiver<OutcomeBatch>,
        back: SyncSender<Vec<Effect>>,
        keys_back: SyncSender<Vec<PersonKey>>,
    ) -> Result<SinkStats, RunError> {
        for OutcomeBatch {
            mut effects,
            mut keys,
        } in rx
        {
            let mut row_keys = keys.iter();
            for e in &effects {
                if let Effect::PersonOutcome(p) = e {
                    match row_keys.next() {
                        Some(key) => self.parquet.write_person_outcome_keyed(p, key)?,
                        // Never: the sink thread sends a key per row.
                        None => self.parquet.write_person_outcome(p)?,
                    }
                }
            }
            effects.clear();
            keys.clear();
            // Full, or the pipeline is finishing: the batch is dropped.
            let _ = back.try_send(effects);
            let _ = keys_back.try_send(keys);
        }
        Ok(self.parquet.finish()?)
    }
}
