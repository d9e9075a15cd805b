//! The Kafka runtime (`pooltrace run --brokers`): the same sans-IO engine,
//! split over the partitions of the internal topic and spread over every
//! instance of the consumer group.
//!
//! ```text
//!  manifests ─┐   ingest: validate,        internal topic          partition task p:
//!  results  ──┼─> re-key by tube id ──>  (N partitions, one  ──>  Engine::partitioned(p)
//!  receipts ──┘   dead-letter the bad    ordered stream each)      │  messages for keys of
//!                 ticks: source progress        ^                  │  other partitions
//!                                               └──────────────────┘
//!                                          alerts topic, dead letters, Parquet
//! ```
//!
//! Every event a partition's engine sees (input records, messages from
//! other partitions' operators, event-time ticks) comes through its
//! partition of the internal topic, one totally ordered stream: that makes
//! the engine's work replayable. A partition's state is checkpointed with
//! the offset it reflects ([`checkpoint`]); a restarted or reassigned
//! partition restores it and re-consumes from there ([`task`]). Duplicates
//! that at-least-once delivery creates are dropped by the receiver: input
//! records by (source partition, offset), messages by (sender, sequence).
//!
//! Threads: the main thread polls the consumer, runs the ingest and hands
//! each internal record to the worker thread holding its partition
//! ([`workers`], `kafka.workers`, default one per core); a partition's
//! records are processed in offset order on its worker, so outputs are the
//! same as on one thread.
//!
//! Checkpoints happen every `checkpoint.interval_ms`, before partitions are
//! revoked in a rebalance, and at shutdown (SIGINT/SIGTERM): the producer is
//! flushed first (everything the checkpoint reflects is in Kafka), then
//! each partition writes its Parquet files and its checkpoint (the workers
//! at once, each after every record dispatched before), then the
//! consumer group's offsets are committed.

pub mod checkpoint;
pub mod envelope;
pub mod ingest;
pub mod outputs;
pub mod sources;
pub mod task;
pub mod workers;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::Message;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use crate::KafkaConfig;
use checkpoint::{CheckpointError, CheckpointStore};
use envelope::Source;
use ingest::{kind_of_topic, Ingest};
use outputs::Outputs;
use task::{PartitionTask, TaskSettings};
use workers::{Shared, Workers};

/// How long a stopping instance waits for the group to take its partitions
/// back before it closes the consumer anyway (see [`leave_group`]).
const LEAVE_WAIT: Duration = Duration::from_secs(10);

/// Why the runtime stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("kafka: {0}")]
    Kafka(String),
    #[error("config: {0}")]
    Config(String),
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error(transparent)]
    Store(#[from] CheckpointError),
    #[error("parquet: {0}")]
    Parquet(#[from] pooltrace_parquet::ParquetError),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Topics(#[from] crate::TopicsError),
}

/// What `run` needs.
pub struct RunOptions {
    pub kafka: KafkaConfig,
    pub pipeline: pooltrace_pipeline::Config,
    /// Parquet output directory.
    pub out: PathBuf,
}

/// What this instance did, for the summary on stderr.
#[derive(Debug, Default)]
pub struct RunReport {
    pub partitions: u32,
    pub records_in: u64,
    pub checkpoints: u64,
    /// Engine counters of the partitions this instance held at the end.
    pub summaries: BTreeMap<u32, pooltrace_engine::Summary>,
}

struct State {
    settings: Arc<TaskSettings>,
    store: Arc<CheckpointStore>,
    out: Arc<Outputs>,
    /// The partitions' engines, on their worker threads.
    workers: Workers,
    ingest: Ingest,
    inputs: BTreeSet<Source>,
    fatal: Option<RuntimeError>,
    report: RunReport,
    /// Partitions re-read from their beginning because the broker resumed
    /// them past the offset asked for (see [`gap`]).
    rewound: BTreeSet<(String, i32)>,
}

struct Ctx {
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl ClientContext for Ctx {}

impl ConsumerContext for Ctx {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            let mut st = lock(&self.state);
            let revoked: Vec<(String, i32)> = tpl
                .elements()
                .iter()
                .map(|e| (e.topic().to_string(), e.partition()))
                .collect();
            if let Err(e) = checkpoint(&mut st, consumer, Some(&revoked)) {
                st.fatal.get_or_insert(e);
            }
            let internal = st.out.topics.internal.clone();
            let mut closed = Vec::new();
            for (topic, p) in revoked {
                if topic == internal {
                    closed.push(p as u32);
                } else if let Some(kind) = kind_of_topic(&st.out.topics, &topic) {
                    let src = Source { kind, partition: p };
                    st.ingest.sources.remove(&src);
                    st.inputs.remove(&src);
                }
            }
            if let Err(e) = st.workers.close(&closed) {
                st.fatal.get_or_insert(e);
            }
            tracing::info!(
                partitions = tpl.count(),
                "partitions revoked (checkpointed)"
            );
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let mut st = lock(&self.state);
            let taken: Vec<(String, i32)> = tpl
                .elements()
                .iter()
                .map(|e| (e.topic().to_string(), e.partition()))
                .collect();
            if let Err(err) = take(&mut st, &taken) {
                st.fatal.get_or_insert(err);
            }
            let committed = consumer
                .committed_offsets((*tpl).clone(), Duration::from_secs(10))
                .ok();
            expect_committed(&mut st, committed.as_ref());
            tracing::info!(partitions = tpl.count(), "partitions assigned");
        }
    }
}

/// Where the ingest of each input partition resumes: the group's
/// committed offset (records before it were forwarded already).
fn expect_committed(st: &mut State, committed: Option<&TopicPartitionList>) {
    let Some(committed) = committed else { return };
    for e in committed.elements() {
        let Some(kind) = kind_of_topic(&st.out.topics, e.topic()) else {
            continue;
        };
        if let Offset::Offset(n) = e.offset() {
            if n >= 0 {
                st.ingest.resume_at(
                    Source {
                        kind,
                        partition: e.partition(),
                    },
                    n,
                );
            }
        }
    }
}

/// The broker delivered a partition's records from `got` although `want`
/// was asked for (the test broker does this when a resume offset falls
/// inside a record batch): re-read that partition from its beginning,
/// since records before `want` are skipped anyway. If it happens again
/// after re-reading, records are gone from the broker: stop loudly
/// rather than lose them silently.
fn gap(
    st: &mut State,
    consumer: &BaseConsumer<Ctx>,
    topic: &str,
    partition: i32,
    want: i64,
    got: i64,
) -> Result<(), RuntimeError> {
    if !st.rewound.insert((topic.to_string(), partition)) {
        return Err(RuntimeError::Kafka(format!(
            "{topic}/{partition}: records {want}..{got} are missing on the broker even from the beginning (deleted by retention?); they cannot be processed"
        )));
    }
    tracing::warn!(
        topic,
        partition,
        want,
        got,
        "broker resumed past the asked offset: re-reading the partition from its beginning"
    );
    consumer
        .seek(topic, partition, Offset::Beginning, Duration::from_secs(10))
        .map_err(|e| RuntimeError::Kafka(format!("seek {topic}/{partition}: {e}")))
}

/// Takes over partitions: restores internal partitions' tasks from their
/// checkpoints and starts reading input partitions.
fn take(st: &mut State, partitions: &[(String, i32)]) -> Result<(), RuntimeError> {
    for (topic, partition) in partitions {
        if *topic == st.out.topics.internal {
            let p = *partition as u32;
            let task = PartitionTask::open(p, &st.settings, &st.store)?;
            st.workers.open(task)?;
        } else if let Some(kind) = kind_of_topic(&st.out.topics, topic) {
            let src = Source {
                kind,
                partition: *partition,
            };
            st.inputs.insert(src);
            if let Some(mark) = st.store.load_source(src)? {
                st.ingest.restore(src, &mark);
            }
            st.ingest.assigned(src);
        }
    }
    Ok(())
}

/// Flushes the producer, checkpoints the partitions (all, or those in
/// `only`) and commits the group's offsets for them.
fn checkpoint(
    st: &mut State,
    consumer: &BaseConsumer<Ctx>,
    only: Option<&[(String, i32)]>,
) -> Result<(), RuntimeError> {
    let wanted =
        |topic: &str, p: i32| only.is_none_or(|o| o.iter().any(|(t, q)| t == topic && *q == p));
    st.workers.send_msgs()?;
    st.out.flush()?;
    let mut tpl = TopicPartitionList::new();
    let internal = st.out.topics.internal.clone();
    let held: Vec<u32> = st
        .workers
        .partitions()
        .filter(|p| wanted(&internal, *p as i32))
        .collect();
    for (p, next) in st.workers.checkpoint(Some(&held))? {
        tpl.add_partition_offset(&internal, p as i32, Offset::Offset(next))
            .map_err(|e| RuntimeError::Kafka(e.to_string()))?;
    }
    // What the ingest forwarded is in Kafka (flushed above): its marks
    // may move on.
    for (src, mark) in st.ingest.marks_to_save() {
        if wanted(st.out.topics.input(src.kind), src.partition) {
            st.store.save_source(src, &mark)?;
            st.ingest.saved(src, mark.next_offset);
        }
    }
    for (src, s) in &st.ingest.sources {
        let topic = st.out.topics.input(src.kind);
        if let (Some(next), true) = (s.next_offset, wanted(topic, src.partition)) {
            tpl.add_partition_offset(topic, src.partition, Offset::Offset(next))
                .map_err(|e| RuntimeError::Kafka(e.to_string()))?;
        }
    }
    if tpl.count() > 0 {
        // The checkpoints are the truth; committed offsets only spare
        // re-reading (records before a checkpoint's offsets are skipped).
        // A commit refused during a rebalance is therefore harmless.
        if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
            tracing::warn!(error = %e, "offsets not committed (they will be next time)");
        }
    }
    st.report.checkpoints += 1;
    tracing::debug!(sources = ?st.ingest.progress(), "ingest");
    Ok(())
}

/// Runs until `stop` is set (then checkpoints and returns) or an error.
pub fn run(opts: RunOptions, stop: Arc<AtomicBool>) -> Result<RunReport, RuntimeError> {
    let k = &opts.kafka;
    let topics = k.topics.clone();
    let partitions =
        crate::topics::copartitioned_count(&k.admin_config(), &topics, Duration::from_secs(10))?;
    if partitions == 0 {
        return Err(RuntimeError::Config(
            "the input topics have no partitions".into(),
        ));
    }
    if let Some(addr) = &k.metrics_listen {
        let addr: std::net::SocketAddr = addr
            .parse()
            .map_err(|e| RuntimeError::Config(format!("metrics_listen `{addr}`: {e}")))?;
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(addr)
            .install()
            .map_err(|e| RuntimeError::Config(format!("metrics endpoint {addr}: {e}")))?;
        tracing::info!(%addr, "Prometheus metrics at /metrics");
    }
    let pseudonym_key = opts.pipeline.privacy.pseudonym_key.clone().ok_or_else(|| {
        RuntimeError::Config(
            "no pseudonym key: set POOLTRACE_PSEUDONYM_KEY (or [privacy] pseudonym_key) so analyst Parquet holds keyed-hash ids".into(),
        )
    })?;
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| RuntimeError::Io(format!("cannot create {}: {e}", opts.out.display())))?;
    let settings = Arc::new(TaskSettings {
        engine: opts.pipeline.engine.clone(),
        parquet: opts.pipeline.parquet.clone(),
        pseudonym_key,
        out: opts.out.clone(),
        partitions,
        sources: 3 * partitions as usize,
        max_record_bytes: opts.pipeline.input.max_record_bytes,
    });
    let store = Arc::new(CheckpointStore::open(&k.checkpoint.store, &k.group_id)?);
    let out = Outputs::new(&k.producer_config(), topics.clone())?;
    let workers = Workers::start(
        k.worker_threads(partitions),
        Shared {
            settings: Arc::clone(&settings),
            store: Arc::clone(&store),
            out: Arc::clone(&out),
        },
    )?;
    let state = Arc::new(Mutex::new(State {
        settings,
        store,
        out: Arc::clone(&out),
        workers,
        ingest: Ingest::default(),
        inputs: BTreeSet::new(),
        fatal: None,
        rewound: BTreeSet::new(),
        report: RunReport {
            partitions,
            ..RunReport::default()
        },
    }));
    let mut consumer_config = k.consumer_config();
    consumer_config.set("enable.partition.eof", "false");
    let consumer: BaseConsumer<Ctx> = consumer_config
        .create_with_context(Ctx {
            state: Arc::clone(&state),
        })
        .map_err(|e| RuntimeError::Kafka(format!("cannot create the consumer: {e}")))?;
    let subscribed = [
        topics.manifests.as_str(),
        topics.results.as_str(),
        topics.receipts.as_str(),
        topics.internal.as_str(),
    ];
    match &k.static_partitions {
        None => consumer
            .subscribe(&subscribed)
            .map_err(|e| RuntimeError::Kafka(format!("subscribe: {e}")))?,
        Some(list) => assign_static(&state, &consumer, &subscribed, list, partitions)?,
    }
    tracing::info!(partitions, group = %k.group_id, "running");
    let interval = Duration::from_millis(k.checkpoint.interval_ms.max(100));
    let share = k.checkpoint.max_share_percent;
    let mut pause = interval;
    let mut last_checkpoint = Instant::now();
    let mut last_idle_check = Instant::now();
    let idle_after = Duration::from_millis(k.source_idle_ms);
    let result = (|| -> Result<(), RuntimeError> {
        while !stop.load(Ordering::Relaxed) {
            let polled = consumer.poll(Duration::from_millis(100));
            let mut st = lock(&state);
            if let Some(e) = st.fatal.take().or_else(|| st.workers.take_fatal()) {
                return Err(e);
            }
            match polled {
                None => {}
                Some(Ok(msg)) => {
                    st.report.records_in += 1;
                    if let Some((want, got)) = resumed_past(&st, &msg) {
                        gap(&mut st, &consumer, msg.topic(), msg.partition(), want, got)?;
                    } else {
                        on_message(&mut st, &msg)?;
                    }
                }
                Some(Err(e)) => tracing::warn!(error = %e, "consumer"),
            }
            if last_idle_check.elapsed() >= Duration::from_secs(1) {
                check_idle(&mut st, idle_after)?;
                last_idle_check = Instant::now();
            }
            if last_checkpoint.elapsed() >= pause {
                let started = Instant::now();
                checkpoint(&mut st, &consumer, None)?;
                record_lag(&consumer);
                pause = checkpoint_pause(interval, started.elapsed(), share);
                last_checkpoint = Instant::now();
            }
        }
        let mut st = lock(&state);
        checkpoint(&mut st, &consumer, None)?;
        st.report.summaries = st.workers.summaries()?;
        Ok(())
    })();
    // After an error: no checkpoint; a restart resumes from the last good one.
    result?;
    if k.static_partitions.is_some() {
        consumer.unsubscribe();
    } else {
        leave_group(&consumer);
    }
    drop(consumer);
    let mut st = lock(&state);
    if let Some(e) = st.fatal.take() {
        return Err(e);
    }
    Ok(std::mem::take(&mut st.report))
}

/// Leaves the consumer group before the consumer is closed: unsubscribes,
/// then polls until the revocation that raises has been served (its
/// callback checkpoints the partitions and closes their tasks) while the
/// group is still up, for at most [`LEAVE_WAIT`]. A rebalance event served
/// only inside the consumer's close can hang librdkafka for good (its
/// rebalance callback asks the group for the rebalance protocol after the
/// group has terminated: confluentinc/librdkafka#4041); seen in the
/// scale-out test as an instance that never exited after SIGTERM. Records
/// fetched meanwhile are dropped: the next owner of their partitions reads
/// them again from its checkpoints and the committed offsets.
fn leave_group(consumer: &BaseConsumer<Ctx>) {
    consumer.unsubscribe();
    let deadline = Instant::now() + LEAVE_WAIT;
    while Instant::now() < deadline {
        let _dropped = consumer.poll(Duration::from_millis(100));
        if consumer.assignment().map_or(true, |a| a.count() == 0) {
            return;
        }
    }
    tracing::warn!("partitions still assigned after unsubscribing; closing anyway");
}

/// How long to wait after a checkpoint that took `took` before the next:
/// at least `interval`, and long enough that checkpoints take at most
/// `share` percent of the time.
fn checkpoint_pause(interval: Duration, took: Duration, share: u8) -> Duration {
    let share = u32::from(share.clamp(1, 100));
    interval.max(took * (100 - share) / share)
}

/// Static assignment: this instance reads the given partitions of every
/// topic without group rebalancing: internal partitions from their
/// checkpoints' offsets, input partitions from the group's committed
/// offsets (or their beginning; duplicates are dropped downstream).
fn assign_static(
    state: &Mutex<State>,
    consumer: &BaseConsumer<Ctx>,
    topics: &[&str],
    list: &[u32],
    partitions: u32,
) -> Result<(), RuntimeError> {
    let mut st = lock(state);
    let wanted: Vec<(String, i32)> = topics
        .iter()
        .flat_map(|t| list.iter().map(move |p| (t.to_string(), *p as i32)))
        .collect();
    if let Some(bad) = list.iter().find(|p| **p >= partitions) {
        return Err(RuntimeError::Config(format!(
            "static_partitions names partition {bad}, but the topics have {partitions}"
        )));
    }
    take(&mut st, &wanted)?;
    let mut committed_query = TopicPartitionList::new();
    for (t, p) in &wanted {
        committed_query.add_partition(t, *p);
    }
    let committed = consumer
        .committed_offsets(committed_query, Duration::from_secs(10))
        .ok();
    expect_committed(&mut st, committed.as_ref());
    let mut tpl = TopicPartitionList::new();
    for (t, p) in &wanted {
        let offset = if *t == st.out.topics.internal {
            Offset::Offset(st.workers.expected(*p as u32).unwrap_or(0))
        } else {
            committed
                .as_ref()
                .and_then(|c| c.find_partition(t, *p))
                .map(|e| e.offset())
                .filter(|o| matches!(o, Offset::Offset(n) if *n >= 0))
                .unwrap_or(Offset::Beginning)
        };
        tpl.add_partition_offset(t, *p, offset)
            .map_err(|e| RuntimeError::Kafka(e.to_string()))?;
    }
    consumer
        .assign(&tpl)
        .map_err(|e| RuntimeError::Kafka(format!("assign: {e}")))?;
    tracing::info!(partitions = ?list, "partitions assigned (static)");
    Ok(())
}

/// `Some((wanted, got))` when this record lies past the next offset its
/// partition expects (records in between were not delivered).
fn resumed_past(st: &State, msg: &rdkafka::message::BorrowedMessage<'_>) -> Option<(i64, i64)> {
    let topic = msg.topic();
    let want = if topic == st.out.topics.internal {
        Some(st.workers.expected(msg.partition() as u32)?)
    } else {
        let kind = kind_of_topic(&st.out.topics, topic)?;
        st.ingest.expected(Source {
            kind,
            partition: msg.partition(),
        })
    }?;
    (msg.offset() > want).then_some((want, msg.offset()))
}

fn on_message(
    st: &mut State,
    msg: &rdkafka::message::BorrowedMessage<'_>,
) -> Result<(), RuntimeError> {
    let topic = msg.topic();
    let value = msg.payload().unwrap_or(&[]);
    if topic == st.out.topics.internal {
        st.workers
            .dispatch(msg.partition() as u32, msg.offset(), msg.key(), value)
    } else if let Some(kind) = kind_of_topic(&st.out.topics, topic) {
        let source = Source {
            kind,
            partition: msg.partition(),
        };
        if !st.inputs.contains(&source) {
            return Ok(()); // fetched before a rebalance took it away
        }
        let State {
            ingest,
            settings,
            out,
            ..
        } = st;
        ingest.on_record(
            source,
            topic,
            msg.offset(),
            msg.key(),
            value,
            msg.timestamp().to_millis(),
            settings.partitions,
            settings.max_record_bytes,
            out,
        )
    } else {
        Ok(())
    }
}

/// Input sources that sent nothing for `idle_after` become idle: they no
/// longer hold the watermark back (a partition no lab writes to must not
/// stop every timer). This is the one use of wall-clock time in deciding
/// anything, at the edge: records that arrive later from an idle source are
/// still processed, never dropped. (The broker's high watermarks cannot be
/// used for this: the test broker reports them wrong, and librdkafka's
/// end-of-partition events do not name the topic.)
fn check_idle(st: &mut State, idle_after: Duration) -> Result<(), RuntimeError> {
    let sources: Vec<Source> = st.inputs.iter().copied().collect();
    for src in sources {
        if st.ingest.quiet_for(src) >= idle_after {
            let State {
                ingest,
                settings,
                out,
                ..
            } = st;
            ingest.on_idle(src, settings.partitions, out)?;
        }
    }
    Ok(())
}

fn record_lag(consumer: &BaseConsumer<Ctx>) {
    let Ok(position) = consumer.position() else {
        return;
    };
    for e in position.elements() {
        let Some(pos) = e.offset().to_raw().filter(|o| *o >= 0) else {
            continue;
        };
        if let Ok((_, high)) =
            consumer.fetch_watermarks(e.topic(), e.partition(), Duration::from_secs(1))
        {
            metrics::gauge!("pooltrace_consumer_lag", "topic" => e.topic().to_string(), "partition" => e.partition().to_string())
                .set((high - pos).max(0) as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_are_paced_to_their_share_of_the_time() {
        let ms = Duration::from_millis;
        // Fast checkpoints: the interval rules.
        assert_eq!(checkpoint_pause(ms(5000), ms(100), 10), ms(5000));
        // A 2 s checkpoint at 10 %: wait 18 s, so 2 of every 20 s.
        assert_eq!(checkpoint_pause(ms(5000), ms(2000), 10), ms(18000));
        assert_eq!(checkpoint_pause(ms(5000), ms(2000), 50), ms(5000));
        assert_eq!(checkpoint_pause(ms(1000), ms(2000), 50), ms(2000));
        // 100 %: no pacing beyond the interval.
        assert_eq!(checkpoint_pause(ms(5000), ms(60000), 100), ms(5000));
    }
}
