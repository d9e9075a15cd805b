//! A Kafka broker for the end-to-end tests.
//!
//! [`Broker::start`] uses the broker at `POOLTRACE_TEST_BROKER` (HOST:PORT;
//! `scripts/test.sh` starts one for the whole suite) when set; otherwise it
//! starts `tansu` (found in PATH or `~/.cargo/bin`) on a free 127.0.0.1 port
//! with the in-memory storage engine, shared by the tests of one binary that
//! run at the same time and stopped when the last of them drops it. Neither
//! possible: the test panics saying how to get one (never a silent skip).
//!
//! Tests share a broker: each creates its own topics under a unique prefix
//! ([`Broker::create_topics`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use pooltrace_kafka::rdkafka::admin::AdminClient;
use pooltrace_kafka::rdkafka::client::DefaultClientContext;
use pooltrace_kafka::rdkafka::consumer::{BaseConsumer, Consumer};
use pooltrace_kafka::rdkafka::error::KafkaError;
use pooltrace_kafka::rdkafka::message::{Headers, Message};
use pooltrace_kafka::rdkafka::{ClientConfig, Offset, TopicPartitionList};
use pooltrace_kafka::topics::ensure_topics;
use pooltrace_kafka::{KafkaConfig, TopicNames};

const HOW_TO_GET_ONE: &str = "the Kafka tests need a broker: install tansu with \
`scripts/broker.sh install` (cargo install tansu --locked --features dynostore, about 10 min), \
or point POOLTRACE_TEST_BROKER=HOST:PORT at a running broker (`scripts/broker.sh start PORT`)";

/// A broker the tests can use; a started one is stopped when the last
/// handle is dropped.
#[derive(Clone)]
pub struct Broker(Arc<Inner>);

struct Inner {
    addr: String,
    /// The `sh` that runs tansu (its process group holds tansu), if we started it.
    child: Mutex<Option<Child>>,
    log: Option<PathBuf>,
}

static SHARED: Mutex<Weak<Inner>> = Mutex::new(Weak::new());
static TOPIC_SETS: AtomicU32 = AtomicU32::new(0);

/// Waits until a metadata request to `addr` succeeds.
fn wait_ready(addr: &str, deadline: Duration, alive: &mut dyn FnMut() -> Result<(), String>) {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", addr);
    let admin: AdminClient<DefaultClientContext> = cfg.create().expect("admin client");
    let start = Instant::now();
    loop {
        if let Err(why) = alive() {
            panic!("the test broker at {addr} stopped: {why}");
        }
        match admin
            .inner()
            .fetch_metadata(None, Duration::from_millis(1000))
        {
            Ok(_) => return,
            Err(e) if start.elapsed() > deadline => {
                panic!(
                    "no Kafka broker answers at {addr} after {} s ({e}); {HOW_TO_GET_ONE}",
                    deadline.as_secs()
                )
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

impl Broker {
    /// The broker of `POOLTRACE_TEST_BROKER`, or a tansu of our own.
    pub fn start() -> Broker {
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(inner) = shared.upgrade() {
            return Broker(inner);
        }
        let inner = Arc::new(match std::env::var("POOLTRACE_TEST_BROKER") {
            Ok(addr) if !addr.trim().is_empty() => {
                let addr = addr.trim().to_string();
                wait_ready(&addr, Duration::from_secs(30), &mut || Ok(()));
                Inner {
                    addr,
                    child: Mutex::new(None),
                    log: None,
                }
            }
            _ => Self::start_tansu(),
        });
        *shared = Arc::downgrade(&inner);
        Broker(inner)
    }

    fn start_tansu() -> Inner {
        let tansu = super::find_cargo_bin("tansu").unwrap_or_else(|| {
            panic!("POOLTRACE_TEST_BROKER is not set and `tansu` is not in PATH or ~/.cargo/bin; {HOW_TO_GET_ONE}")
        });
        let port = super::free_port();
        let addr = format!("127.0.0.1:{port}");
        let log = std::env::temp_dir().join(format!(
            "pooltrace-test-tansu-{}-{port}.log",
            std::process::id()
        ));
        let log_file = std::fs::File::create(&log).expect("tansu log file");
        // Under a watchdog shell: tansu stops when this test process goes
        // away, even killed; Drop stops both (one process group).
        let mut child = super::spawn_watched(
            r#""$TANSU" broker --listener-url "tcp://$ADDR" --advertised-listener-url "tcp://$ADDR" --storage-engine memory://tansu/"#,
            &[("TANSU", tansu.as_os_str()), ("ADDR", addr.as_ref())],
            Some(log_file),
        )
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", tansu.display()));
        let log_text = |log: &Path| std::fs::read_to_string(log).unwrap_or_default();
        wait_ready(
            &addr,
            Duration::from_secs(30),
            &mut || match child.try_wait() {
                Ok(None) => Ok(()),
                Ok(Some(status)) => Err(format!("{status}; its log:\n{}", log_text(&log))),
                Err(e) => Err(e.to_string()),
            },
        );
        Inner {
            addr,
            child: Mutex::new(Some(child)),
            log: Some(log),
        }
    }

    /// `HOST:PORT` of the broker.
    pub fn addr(&self) -> &str {
        &self.0.addr
    }

    /// A Kafka config for this broker and `topics`.
    pub fn config(&self, topics: &TopicNames) -> KafkaConfig {
        KafkaConfig {
            brokers: self.addr().to_string(),
            topics: topics.clone(),
            ..KafkaConfig::default()
        }
    }

    /// Writes a `pooltrace.toml` with a `[kafka]` section for this broker
    /// and `topics` into `dir`, for the CLI's `--config`.
    pub fn config_file(&self, dir: &Path, topics: &TopicNames) -> PathBuf {
        let path = dir.join("pooltrace.toml");
        let text = format!(
            "[kafka]\nbrokers = \"{}\"\n\n[kafka.topics]\nmanifests = \"{}\"\nresults = \"{}\"\nreceipts = \"{}\"\nalerts = \"{}\"\ndead_letters = \"{}\"\ninternal = \"{}\"\n",
            self.addr(),
            topics.manifests,
            topics.results,
            topics.receipts,
            topics.alerts,
            topics.dead_letters,
            topics.internal
        );
        std::fs::write(&path, text).expect("write pooltrace.toml");
        path
    }

    /// Topic names no other test uses (`<prefix>-<pid>-<n>.pooltrace.*.v1`).
    pub fn fresh_topic_names(&self, prefix: &str) -> TopicNames {
        let n = TOPIC_SETS.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        TopicNames::with_prefix(&format!("{prefix}-{}-{n}-{nanos}.", std::process::id()))
    }

    /// Creates a fresh, uniquely named set of the six topics with
    /// `partitions` partitions each.
    pub fn create_topics(&self, prefix: &str, partitions: u32) -> TopicNames {
        let topics = self.fresh_topic_names(prefix);
        let cfg = self.config(&topics);
        let status = ensure_topics(
            &cfg.admin_config(),
            &topics.all(),
            partitions,
            Duration::from_secs(30),
        )
        .unwrap_or_else(|e| panic!("creating test topics on {}: {e}", self.addr()));
        for s in status {
            assert!(s.created, "{} existed already", s.name);
            assert_eq!(s.partitions, partitions, "{}", s.name);
        }
        topics
    }

    /// Every message now on `topic`, each partition read from its beginning
    /// to its end-of-partition event (no consumer group commits). Not to the
    /// ListOffsets high watermark: tansu 0.6 reports the last batch's base
    /// offset + 1 there.
    pub fn read_all(&self, topic: &str) -> Vec<Msg> {
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", self.addr())
            .set("group.id", format!("test-reader-{}", std::process::id()))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true");
        let consumer: BaseConsumer = cfg.create().expect("consumer");
        let meta = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .expect("metadata");
        let partitions = meta.topics()[0].partitions().len();
        assert!(partitions > 0, "topic {topic} has no partitions");
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions as i32 {
            tpl.add_partition_offset(topic, p, Offset::Beginning)
                .expect("assign");
        }
        consumer.assign(&tpl).expect("assign");
        let mut at_end = vec![false; partitions];
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !at_end.iter().all(|e| *e) {
            assert!(
                Instant::now() < deadline,
                "reading {topic}: no end of partition after 60 s ({at_end:?})"
            );
            let m = match consumer.poll(Duration::from_millis(200)) {
                None => continue,
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    at_end[p as usize] = true;
                    continue;
                }
                Some(m) => m.expect("consume"),
            };
            let headers = m
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|h| (h.key.to_string(), h.value.unwrap_or_default().to_vec()))
                        .collect()
                })
                .unwrap_or_default();
            out.push(Msg {
                partition: m.partition(),
                offset: m.offset(),
                key: m.key().map(<[u8]>::to_vec),
                value: m.payload().unwrap_or_default().to_vec(),
                headers,
            });
        }
        out.sort_by_key(|m| (m.partition, m.offset));
        out
    }
}

/// One message read back by [`Broker::read_all`].
#[derive(Clone, Debug)]
pub struct Msg {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Msg {
    pub fn header(&self, key: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let Some(mut child) = self.child.lock().ok().and_then(|mut c| c.take()) else {
            return;
        };
        // Stop the watchdog shell and tansu (one process group), then reap.
        let group = format!("-{}", child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = child.wait();
        if let Some(log) = &self.log {
            let _ = std::fs::remove_file(log);
        }
    }
}
