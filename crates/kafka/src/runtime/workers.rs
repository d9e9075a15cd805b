//! The threads that run the partitions' engines.
//!
//! The main thread polls the consumer, runs the ingest and hands each
//! record of the internal topic to the worker that holds its partition;
//! each worker runs its partitions' [`PartitionTask`]s one record at a
//! time, in offset order, exactly as a single thread would. Partitions are
//! independent (they meet only through the internal topic), so running
//! them side by side changes no output: it only uses more than one core.
//!
//! Everything that must happen at one point of every partition's stream
//! goes through the workers' queues behind the records sent before it:
//! writing the outboxes before the producer is flushed, checkpoints,
//! closing revoked partitions, the final counters. The main thread waits
//! for each worker's answer, so a checkpoint still reflects every record
//! dispatched before it and nothing after.
//!
//! Messages for other partitions wait in a task's outbox for at most
//! [`SEND_EVERY`] (or until it holds 256 KiB), as they did on one thread.

use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::checkpoint::CheckpointStore;
use super::outputs::Outputs;
use super::task::{PartitionTask, TaskSettings};
use super::RuntimeError;

/// How long messages between partitions may wait in a busy task's outbox.
pub const SEND_EVERY: Duration = Duration::from_millis(20);

/// Jobs a worker's queue holds before the main thread waits for it (the
/// largest internal record is about 256 KiB: at most 8 MiB a worker).
const QUEUE: usize = 32;

/// The first error of any worker, for the main thread to stop on.
type Fatal = Arc<Mutex<Option<RuntimeError>>>;

enum Job {
    Open(Box<PartitionTask>),
    Record {
        partition: u32,
        offset: i64,
        key: Option<Vec<u8>>,
        value: Vec<u8>,
    },
    SendMsgs(SyncSender<bool>),
    Checkpoint {
        only: Option<Vec<u32>>,
        reply: SyncSender<Option<Vec<(u32, i64)>>>,
    },
    Close {
        partitions: Vec<u32>,
        reply: SyncSender<()>,
    },
    Summaries(SyncSender<Vec<(u32, pooltrace_engine::Summary)>>),
}

/// What the workers share.
#[derive(Clone)]
pub struct Shared {
    pub settings: Arc<TaskSettings>,
    pub store: Arc<CheckpointStore>,
    pub out: Arc<Outputs>,
}

/// The worker threads, as the main thread sees them.
pub struct Workers {
    queues: Vec<SyncSender<Job>>,
    threads: Vec<JoinHandle<()>>,
    /// Partition -> the worker holding it.
    owner: BTreeMap<u32, usize>,
    /// Partition -> the next internal offset it expects.
    expected: BTreeMap<u32, i64>,
    fatal: Fatal,
}

impl Workers {
    /// Starts `n` workers (at least one).
    pub fn start(n: usize, shared: Shared) -> Result<Self, RuntimeError> {
        let fatal: Fatal = Arc::default();
        let mut queues = Vec::new();
        let mut threads = Vec::new();
        for i in 0..n.max(1) {
            let (tx, rx) = sync_channel(QUEUE);
            let (shared, fatal) = (shared.clone(), Arc::clone(&fatal));
            let thread = std::thread::Builder::new()
                .name(format!("pooltrace-worker-{i}"))
                .spawn(move || work(&rx, &shared, &fatal))
                .map_err(|e| RuntimeError::Io(format!("cannot start a worker thread: {e}")))?;
            queues.push(tx);
            threads.push(thread);
        }
        Ok(Workers {
            queues,
            threads,
            owner: BTreeMap::new(),
            expected: BTreeMap::new(),
            fatal,
        })
    }

    /// The first error a worker ran into, if any.
    pub fn take_fatal(&self) -> Option<RuntimeError> {
        self.fatal.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// An error for a worker that did not answer: the error that stopped
    /// it, if it recorded one.
    fn stopped(&self) -> RuntimeError {
        self.take_fatal()
            .unwrap_or_else(|| RuntimeError::Io("a worker thread stopped".into()))
    }

    fn send(&self, worker: usize, job: Job) -> Result<(), RuntimeError> {
        self.queues[worker].send(job).map_err(|_| self.stopped())
    }

    /// Hands an opened partition to the worker holding the fewest.
    pub fn open(&mut self, task: PartitionTask) -> Result<(), RuntimeError> {
        let p = task.partition;
        let mut load = vec![0usize; self.queues.len()];
        for w in self.owner.values() {
            load[*w] += 1;
        }
        let worker = (0..load.len()).min_by_key(|w| load[*w]).unwrap_or(0);
        self.expected.insert(p, task.next_offset());
        self.owner.insert(p, worker);
        self.send(worker, Job::Open(Box::new(task)))
    }

    /// The next internal offset partition `p` expects, if this instance holds it.
    pub fn expected(&self, p: u32) -> Option<i64> {
        self.expected.get(&p).copied()
    }

    /// Partitions held, in order.
    pub fn partitions(&self) -> impl Iterator<Item = u32> + '_ {
        self.owner.keys().copied()
    }

    /// Hands the internal record at `offset` to its partition's worker.
    /// Records the partition's checkpoint already reflects are skipped; a
    /// partition this instance does not hold (fetched before a rebalance
    /// took it away) is ignored: its new owner reads it.
    pub fn dispatch(
        &mut self,
        partition: u32,
        offset: i64,
        key: Option<&[u8]>,
        value: &[u8],
    ) -> Result<(), RuntimeError> {
        let Some(&worker) = self.owner.get(&partition) else {
            return Ok(());
        };
        let next = self.expected.entry(partition).or_insert(0);
        if offset < *next {
            return Ok(());
        }
        *next = offset + 1;
        self.send(
            worker,
            Job::Record {
                partition,
                offset,
                key: key.map(<[u8]>::to_vec),
                value: value.to_vec(),
            },
        )
    }

    /// Every worker writes its tasks' waiting messages to the producer
    /// (call before flushing it for a checkpoint).
    pub fn send_msgs(&self) -> Result<(), RuntimeError> {
        let replies = self.ask_all(Job::SendMsgs)?;
        for r in replies {
            if !r.recv().unwrap_or(false) {
                return Err(self.stopped());
            }
        }
        Ok(())
    }

    /// Checkpoints the partitions (all, or those in `only`), every worker
    /// at once; returns each checkpointed partition's next offset.
    pub fn checkpoint(&self, only: Option<&[u32]>) -> Result<Vec<(u32, i64)>, RuntimeError> {
        let only = only.map(<[u32]>::to_vec);
        let replies = self.ask_all(|reply| Job::Checkpoint {
            only: only.clone(),
            reply,
        })?;
        let mut done = Vec::new();
        for r in replies {
            done.extend(r.recv().ok().flatten().ok_or_else(|| self.stopped())?);
        }
        done.sort_unstable();
        Ok(done)
    }

    /// Closes partitions (after their checkpoint): their tasks are dropped.
    pub fn close(&mut self, partitions: &[u32]) -> Result<(), RuntimeError> {
        let mut by_worker: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        for p in partitions {
            if let Some(w) = self.owner.remove(p) {
                self.expected.remove(p);
                by_worker.entry(w).or_default().push(*p);
            }
        }
        for (w, partitions) in by_worker {
            let (reply, answer) = sync_channel(1);
            self.send(w, Job::Close { partitions, reply })?;
            answer.recv().map_err(|_| self.stopped())?;
        }
        Ok(())
    }

    /// The engine counters of every partition held.
    pub fn summaries(&self) -> Result<BTreeMap<u32, pooltrace_engine::Summary>, RuntimeError> {
        let replies = self.ask_all(Job::Summaries)?;
        let mut all = BTreeMap::new();
        for r in replies {
            all.extend(r.recv().map_err(|_| self.stopped())?);
        }
        Ok(all)
    }

    /// Sends every worker a job carrying a reply channel; returns the
    /// receiving ends, in worker order.
    fn ask_all<T>(
        &self,
        job: impl Fn(SyncSender<T>) -> Job,
    ) -> Result<Vec<Receiver<T>>, RuntimeError> {
        let mut replies = Vec::new();
        for w in 0..self.queues.len() {
            let (reply, answer) = sync_channel(1);
            self.send(w, job(reply))?;
            replies.push(answer);
        }
        Ok(replies)
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.queues.clear(); // closes the queues: each worker returns
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A worker's loop: runs jobs until its queue is closed. After an error it
/// records it (the main thread stops on it) and processes nothing more, so
/// no checkpoint can be written past a failure.
fn work(rx: &Receiver<Job>, shared: &Shared, fatal: &Fatal) {
    let mut tasks: BTreeMap<u32, PartitionTask> = BTreeMap::new();
    let mut failed = false;
    let mut waiting = false; // records processed since the outboxes were written
    let mut last_send = Instant::now();
    let fail = |e: RuntimeError, failed: &mut bool| {
        *failed = true;
        let mut f = fatal.lock().unwrap_or_else(|p| p.into_inner());
        f.get_or_insert(e);
    };
    loop {
        let wait = if waiting {
            SEND_EVERY.saturating_sub(last_send.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        match rx.recv_timeout(wait) {
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
            Ok(job) => match job {
                Job::Open(task) => {
                    tasks.insert(task.partition, *task);
                }
                Job::Record {
                    partition,
                    offset,
                    key,
                    value,
                } => {
                    if failed {
                        continue;
                    }
                    if let Some(task) = tasks.get_mut(&partition) {
                        let done = task.process(
                            offset,
                            key.as_deref(),
                            &value,
                            &shared.settings,
                            &shared.out,
                        );
                        if let Err(e) = done {
                            fail(e, &mut failed);
                        }
                        waiting = true;
                    }
                }
                Job::SendMsgs(reply) => {
                    if !failed {
                        if let Err(e) = send_all(&mut tasks, &shared.out) {
                            fail(e, &mut failed);
                        }
                        waiting = false;
                        last_send = Instant::now();
                    }
                    let _ = reply.send(!failed);
                }
                Job::Checkpoint { only, reply } => {
                    let mut done = Vec::new();
                    for (p, task) in tasks.iter_mut() {
                        if failed || only.as_ref().is_some_and(|o| !o.contains(p)) {
                            continue;
                        }
                        match task.checkpoint(&shared.store) {
                            Ok(()) => done.push((*p, task.next_offset())),
                            Err(e) => fail(e, &mut failed),
                        }
                    }
                    let _ = reply.send((!failed).then_some(done));
                }
                Job::Close { partitions, reply } => {
                    for p in partitions {
                        tasks.remove(&p);
                    }
                    let _ = reply.send(());
                }
                Job::Summaries(reply) => {
                    let _ = reply.send(tasks.iter().map(|(p, t)| (*p, t.summary())).collect());
                }
            },
        }
        if waiting && !failed && last_send.elapsed() >= SEND_EVERY {
            if let Err(e) = send_all(&mut tasks, &shared.out) {
                fail(e, &mut failed);
            }
            waiting = false;
            last_send = Instant::now();
        }
    }
}

fn send_all(tasks: &mut BTreeMap<u32, PartitionTask>, out: &Outputs) -> Result<(), RuntimeError> {
    for task in tasks.values_mut() {
        task.send_msgs(out)?;
    }
    Ok(())
}
