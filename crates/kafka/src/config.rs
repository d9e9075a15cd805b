//! Typed Kafka settings: the `[kafka]` section of `pooltrace.toml`.
//!
//! Every librdkafka property pooltrace knows of is a typed field (a typo is
//! an error naming it, a wrong type is an error naming the key); anything
//! else goes through [`KafkaConfig::extra`] verbatim. The same struct builds
//! the producer, consumer and admin [`ClientConfig`]s, so every client of
//! one process talks to the cluster the same way.
//!
//! ```toml
//! [kafka]
//! brokers = "127.0.0.1:9092"
//! group_id = "pooltrace"
//! compression_type = "lz4"
//! linger_ms = 5
//!
//! [kafka.topics]
//! manifests = "pooltrace.manifests.v1"
//!
//! [kafka.checkpoint]
//! store = "s3://bucket/pooltrace"
//! interval_ms = 5000
//! max_share_percent = 10
//!
//! [kafka.extra]
//! "socket.keepalive.enable" = "true"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use pooltrace_pipeline::{parse_env_value, set_path};
use rdkafka::ClientConfig;
use serde::{Deserialize, Deserializer};

use crate::error::ConfigError;

/// The topics pooltrace reads and writes. Manifests, results, receipts and
/// internal must have the same number of partitions (they are co-partitioned
/// by tube: [`crate::topics::check_copartitioned`]).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopicNames {
    /// Tube manifests from sampling points (input, keyed by tube_id).
    pub manifests: String,
    /// Lab results (input, keyed by tube_id).
    pub results: String,
    /// Lab receipts (input, keyed by tube_id).
    pub receipts: String,
    /// Alert state changes (output; JSON of `pooltrace_model::Alert`).
    pub alerts: String,
    /// Rejected input records (output).
    pub dead_letters: String,
    /// Repartitioned events between the engine's keyed operators (internal).
    pub internal: String,
}

impl Default for TopicNames {
    fn default() -> Self {
        TopicNames::with_prefix("")
    }
}

impl TopicNames {
    /// The default names with `prefix` in front (`""`: the defaults;
    /// `"t1."`: `t1.pooltrace.manifests.v1`, ...).
    pub fn with_prefix(prefix: &str) -> Self {
        let n = |s: &str| format!("{prefix}pooltrace.{s}.v1");
        TopicNames {
            manifests: n("manifests"),
            results: n("results"),
            receipts: n("receipts"),
            alerts: n("alerts"),
            dead_letters: n("dead-letters"),
            internal: n("internal"),
        }
    }

    /// The input topic carrying records of `kind`.
    pub fn input(&self, kind: pooltrace_model::RecordKind) -> &str {
        match kind {
            pooltrace_model::RecordKind::Manifest => &self.manifests,
            pooltrace_model::RecordKind::Result => &self.results,
            pooltrace_model::RecordKind::Receipt => &self.receipts,
        }
    }

    /// The three input topics: manifests, results, receipts.
    pub fn inputs(&self) -> [&str; 3] {
        [&self.manifests, &self.results, &self.receipts]
    }

    /// The topics that must share one partition count: the inputs and internal.
    pub fn copartitioned(&self) -> [&str; 4] {
        [
            &self.manifests,
            &self.results,
            &self.receipts,
            &self.internal,
        ]
    }

    /// All six topics.
    pub fn all(&self) -> [&str; 6] {
        [
            &self.manifests,
            &self.results,
            &self.receipts,
            &self.alerts,
            &self.dead_letters,
            &self.internal,
        ]
    }
}

/// A secret setting (a password): deserialized like a string, never printed
/// by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for handing to librdkafka.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Secret(Scalar::deserialize(d)?.0))
    }
}

/// A string setting that may be written as a number or boolean too
/// (`linger.ms = 5`, or an environment override of `12345`).
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Any {
            S(String),
            I(i64),
            F(f64),
            B(bool),
        }
        Ok(Scalar(
            match Any::deserialize(d)
                .map_err(|_| serde::de::Error::custom("expected a string, number or boolean"))?
            {
                Any::S(s) => s,
                Any::I(i) => i.to_string(),
                Any::F(f) => f.to_string(),
                Any::B(b) => b.to_string(),
            },
        ))
    }
}

fn scalar_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(BTreeMap::<String, Scalar>::deserialize(d)?
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect())
}

/// `security.protocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    /// librdkafka's value.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslPlaintext => "sasl_plaintext",
            SecurityProtocol::SaslSsl => "sasl_ssl",
        }
    }
}

/// `sasl.mechanism` (written as librdkafka spells it: `"SCRAM-SHA-512"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum SaslMechanism {
    #[serde(rename = "PLAIN")]
    Plain,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
    #[serde(rename = "GSSAPI")]
    Gssapi,
    #[serde(rename = "OAUTHBEARER")]
    OauthBearer,
}

impl SaslMechanism {
    /// librdkafka's value.
    pub fn as_str(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
            SaslMechanism::Gssapi => "GSSAPI",
            SaslMechanism::OauthBearer => "OAUTHBEARER",
        }
    }
}

/// `compression.type` of the producers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    /// The default: on the test broker lz4 makes consumers read ~20x more
    /// records per second than uncompressed batches.
    #[default]
    Lz4,
    Zstd,
}

impl Compression {
    /// librdkafka's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// Where and how often the Kafka runtime snapshots operator state.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckpointConfig {
    /// A local directory path, or an object-store URL (`s3://bucket/prefix`).
    /// Default `pooltrace-checkpoints` (relative to the working directory).
    pub store: String,
    /// Milliseconds of wall-clock time between checkpoints (default 5000).
    pub interval_ms: u64,
    /// The greatest share of the runtime's time, in percent, that
    /// checkpoints may take (default 10). A checkpoint snapshots whole
    /// partition states, so it takes longer as the state grows through a
    /// day; after one that took `d`, the next waits at least
    /// `d * (100 - p) / p` (and at least `interval_ms`). 100 turns the
    /// pacing off. A longer pause means more to re-process after a crash,
    /// never anything lost.
    pub max_share_percent: u8,
}

impl Default for CheckpointConfig {
    fn default() -> Self {
        CheckpointConfig {
            store: "pooltrace-checkpoints".into(),
            interval_ms: 5000,
            max_share_percent: 10,
        }
    }
}

/// Everything pooltrace needs to talk to Kafka. All librdkafka settings are
/// optional (librdkafka's default applies) except where a default is named.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// `bootstrap.servers`: comma-separated `host:port` list (default
    /// `127.0.0.1:9092`; prefer `127.0.0.1` to `localhost`, which librdkafka
    /// may resolve to `::1`).
    pub brokers: String,
    /// `group.id` of the runtime's consumers (default `pooltrace`).
    pub group_id: String,
    /// `group.instance.id`: static group membership. An instance restarted
    /// with the same id (e.g. a Kubernetes StatefulSet pod) takes its
    /// partitions back at once instead of waiting for the session timeout.
    pub group_instance_id: Option<String>,
    /// Static assignment instead of the consumer group's: this instance
    /// reads exactly these partitions of every topic (e.g. `[0, 1]`), with
    /// no rebalancing; each partition must be listed by exactly one running
    /// instance. For fixed deployments, and for brokers whose group
    /// coordinator does not expire crashed members (the test broker).
    /// Unset (default): partitions are shared through the group.
    pub static_partitions: Option<Vec<u32>>,
    /// Topic names (defaults: `pooltrace.<name>.v1`).
    pub topics: TopicNames,

    /// `client.id`: how this process names itself in broker logs and quotas.
    pub client_id: Option<String>,
    /// `security.protocol`: `plaintext` (librdkafka's default), `ssl`,
    /// `sasl_plaintext` or `sasl_ssl`.
    pub security_protocol: Option<SecurityProtocol>,
    /// `sasl.mechanism`: `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`, `GSSAPI`, `OAUTHBEARER`.
    pub sasl_mechanism: Option<SaslMechanism>,
    /// `sasl.username`.
    pub sasl_username: Option<String>,
    /// `sasl.password` (never printed; prefer the environment override
    /// `POOLTRACE__KAFKA__SASL_PASSWORD` to keeping it in a file).
    pub sasl_password: Option<Secret>,
    /// `ssl.ca.location`: CA certificate file to verify the brokers with.
    pub ssl_ca_location: Option<String>,
    /// `ssl.certificate.location`: this client's certificate (mutual TLS).
    pub ssl_certificate_location: Option<String>,
    /// `ssl.key.location`: this client's private key file (mutual TLS).
    pub ssl_key_location: Option<String>,
    /// `ssl.key.password`: passphrase of the private key (never printed).
    pub ssl_key_password: Option<Secret>,

    /// `compression.type` of every producer (default `lz4`).
    pub compression_type: Compression,
    /// `enable.idempotence` of every producer (default true: no duplicates
    /// or reordering on retries; implies `acks=all`).
    pub enable_idempotence: bool,
    /// `linger.ms`: how long a producer waits to fill a batch.
    pub linger_ms: Option<u64>,
    /// `batch.num.messages`: most records in one producer batch.
    pub batch_num_messages: Option<u64>,
    /// `batch.size`: most bytes in one producer batch.
    pub batch_size: Option<u64>,
    /// `message.max.bytes`: largest request/batch a client sends (must not
    /// exceed the broker's limit).
    pub message_max_bytes: Option<u64>,
    /// `message.timeout.ms`: how long a producer keeps retrying a record
    /// before reporting it failed.
    pub message_timeout_ms: Option<u64>,
    /// `queue.buffering.max.messages`: most records a producer holds unsent.
    pub queue_buffering_max_messages: Option<u64>,
    /// `queue.buffering.max.kbytes`: most kilobytes a producer holds unsent.
    pub queue_buffering_max_kbytes: Option<u64>,

    /// `session.timeout.ms`: a consumer that sends no heartbeat this long
    /// leaves the group.
    pub session_timeout_ms: Option<u64>,
    /// `heartbeat.interval.ms`.
    pub heartbeat_interval_ms: Option<u64>,
    /// `max.poll.interval.ms`: most time between two polls of a consumer
    /// before it is considered stuck and leaves the group.
    pub max_poll_interval_ms: Option<u64>,
    /// `fetch.max.bytes`: most bytes one fetch response carries.
    pub fetch_max_bytes: Option<u64>,
    /// `max.partition.fetch.bytes`: most bytes per partition in one fetch.
    pub max_partition_fetch_bytes: Option<u64>,
    /// `fetch.wait.max.ms`: how long the broker may wait to fill a fetch
    /// (default 20, not librdkafka's 500). Every message between
    /// partitions takes a trip through the internal topic, and a broker that
    /// holds a fetch the full time even when records arrive (tansu does)
    /// would add that much latency to each trip. Against Apache Kafka, which
    /// answers as soon as there is data, a low value only means more idle
    /// fetch requests.
    pub fetch_wait_max_ms: u64,
    /// `queued.max.messages.kbytes`: most kilobytes a consumer prefetches.
    pub queued_max_messages_kbytes: Option<u64>,
    /// `fetch.queue.backoff.ms`: how long the consumer stops fetching a
    /// partition whose prefetched records exceed the queue thresholds
    /// (default 20, not librdkafka's 1000). The runtime reads its own
    /// internal topic back: while it works through a full queue, fetching
    /// stopped, and with librdkafka's 1 s the instance then sat idle up to
    /// half a second at a time with the queue drained (measured: 0.2-0.5 s
    /// of a 2.2 s run, benches/README.md).
    pub fetch_queue_backoff_ms: u64,

    /// `socket.timeout.ms`: network request timeout.
    pub socket_timeout_ms: Option<u64>,
    /// `statistics.interval.ms`: how often librdkafka emits statistics (0: never).
    pub statistics_interval_ms: Option<u64>,

    /// Any other librdkafka property, passed verbatim to every client (applied
    /// last, so it overrides the typed fields). Values may be strings,
    /// numbers or booleans; properties whose name suggests a secret are not
    /// printed by `Debug`.
    #[serde(deserialize_with = "scalar_map")]
    pub extra: BTreeMap<String, String>,

    /// Operator state snapshots.
    pub checkpoint: CheckpointConfig,
    /// Address of the Prometheus metrics endpoint (`127.0.0.1:9464`); unset: off.
    pub metrics_listen: Option<String>,
    /// An input partition that delivered nothing for this long (wall clock,
    /// milliseconds) stops holding back the event-time watermark, so an
    /// unused partition cannot stop every timer. Default 10000.
    pub source_idle_ms: u64,
    /// Threads running the partitions' engines (`pooltrace run --brokers`),
    /// each partition on one of them. Unset: one per core, at most one per
    /// partition.
    pub workers: Option<usize>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            group_id: "pooltrace".into(),
            group_instance_id: None,
            static_partitions: None,
            topics: TopicNames::default(),
            client_id: None,
            security_protocol: None,
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: None,
            ssl_ca_location: None,
            ssl_certificate_location: None,
            ssl_key_location: None,
            ssl_key_password: None,
            compression_type: Compression::Lz4,
            enable_idempotence: true,
            linger_ms: None,
            batch_num_messages: None,
            batch_size: None,
            message_max_bytes: None,
            message_timeout_ms: None,
            queue_buffering_max_messages: None,
            queue_buffering_max_kbytes: None,
            session_timeout_ms: None,
            heartbeat_interval_ms: None,
            max_poll_interval_ms: None,
            fetch_max_bytes: None,
            max_partition_fetch_bytes: None,
            fetch_wait_max_ms: 20,
            queued_max_messages_kbytes: None,
            fetch_queue_backoff_ms: 20,
            socket_timeout_ms: None,
            statistics_interval_ms: None,
            extra: BTreeMap::new(),
            checkpoint: CheckpointConfig::default(),
            metrics_listen: None,
            source_idle_ms: 10_000,
            workers: None,
        }
    }
}

/// librdkafka properties whose values are secrets, by a part of their name.
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "secret",
        "key.pem",
        "jaas",
        "oauthbearer.config",
        "token",
    ]
    .iter()
    .any(|s| k.contains(s))
}

impl fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extra: BTreeMap<&str, &str> = self
            .extra
            .iter()
            .map(|(k, v)| {
                let v = if is_secret_key(k) {
                    "<redacted>"
                } else {
                    v.as_str()
                };
                (k.as_str(), v)
            })
            .collect();
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("group_id", &self.group_id)
            .field("topics", &self.topics)
            .field("client_id", &self.client_id)
            .field("security_protocol", &self.security_protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_username", &self.sasl_username)
            .field("sasl_password", &self.sasl_password)
            .field("ssl_ca_location", &self.ssl_ca_location)
            .field("ssl_certificate_location", &self.ssl_certificate_location)
            .field("ssl_key_location", &self.ssl_key_location)
            .field("ssl_key_password", &self.ssl_key_password)
            .field("compression_type", &self.compression_type)
            .field("enable_idempotence", &self.enable_idempotence)
            .field("linger_ms", &self.linger_ms)
            .field("batch_num_messages", &self.batch_num_messages)
            .field("batch_size", &self.batch_size)
            .field("message_max_bytes", &self.message_max_bytes)
            .field("message_timeout_ms", &self.message_timeout_ms)
            .field(
                "queue_buffering_max_messages",
                &self.queue_buffering_max_messages,
            )
            .field(
                "queue_buffering_max_kbytes",
                &self.queue_buffering_max_kbytes,
            )
            .field("session_timeout_ms", &self.session_timeout_ms)
            .field("heartbeat_interval_ms", &self.heartbeat_interval_ms)
            .field("max_poll_interval_ms", &self.max_poll_interval_ms)
            .field("fetch_max_bytes", &self.fetch_max_bytes)
            .field("max_partition_fetch_bytes", &self.max_partition_fetch_bytes)
            .field("fetch_wait_max_ms", &self.fetch_wait_max_ms)
            .field("fetch_queue_backoff_ms", &self.fetch_queue_backoff_ms)
            .field(
                "queued_max_messages_kbytes",
                &self.queued_max_messages_kbytes,
            )
            .field("socket_timeout_ms", &self.socket_timeout_ms)
            .field("statistics_interval_ms", &self.statistics_interval_ms)
            .field("extra", &extra)
            .field("checkpoint", &self.checkpoint)
            .field("metrics_listen", &self.metrics_listen)
            .field("source_idle_ms", &self.source_idle_ms)
            .field("workers", &self.workers)
            .finish()
    }
}

/// Sets `key` when `value` is present.
fn opt<T: ToString>(c: &mut ClientConfig, key: &str, value: &Option<T>) {
    if let Some(v) = value {
        c.set(key, v.to_string());
    }
}

impl KafkaConfig {
    /// Loads the `[kafka]` section of a pooltrace TOML file (other sections
    /// are left to their own loaders), then environment overrides
    /// `POOLTRACE__KAFKA__KEY=value` (`POOLTRACE__KAFKA__TOPICS__ALERTS=x`,
    /// `POOLTRACE__KAFKA__SASL_PASSWORD=...`; values read as TOML literals
    /// when they are one, else as strings). No file: the defaults.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<KafkaConfig, ConfigError> {
        let (mut table, mut origin) = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                let mut doc: toml::Table =
                    toml::from_str(&text).map_err(|e| ConfigError::Invalid {
                        origin: path.display().to_string(),
                        message: e.to_string(),
                    })?;
                let table = match doc.remove("kafka") {
                    None => toml::Table::new(),
                    Some(toml::Value::Table(t)) => t,
                    Some(_) => {
                        return Err(ConfigError::Invalid {
                            origin: path.display().to_string(),
                            message: "`kafka` must be a table ([kafka])".into(),
                        })
                    }
                };
                (table, path.display().to_string())
            }
            None => (toml::Table::new(), "defaults".to_string()),
        };
        let mut overridden = Vec::new();
        for (name, value) in env {
            let Some(rest) = name.strip_prefix("POOLTRACE__KAFKA__") else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
            set_path(&mut table, &path, parse_env_value(&value));
            overridden.push(name);
        }
        if !overridden.is_empty() {
            origin = format!(
                "{origin} with environment overrides {}",
                overridden.join(", ")
            );
        }
        KafkaConfig::from_table(table).map_err(|message| ConfigError::Invalid { origin, message })
    }

    /// The config in a `[kafka]` table already read (environment overrides
    /// applied), e.g. `pooltrace_pipeline::Config::kafka`: deserialized and
    /// validated; the error names the key.
    pub fn from_table(table: toml::Table) -> Result<KafkaConfig, String> {
        let config: KafkaConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| format!("[kafka] {}", e.message()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what librdkafka would only find when a client is created.
    pub fn validate(&self) -> Result<(), String> {
        if self.brokers.trim().is_empty() {
            return Err("kafka.brokers is empty: give host:port[,host:port...]".into());
        }
        if self.group_id.trim().is_empty() {
            return Err("kafka.group_id is empty".into());
        }
        let names = self.topics.all();
        for (i, a) in names.iter().enumerate() {
            if a.is_empty() {
                return Err("kafka.topics: a topic name is empty".into());
            }
            if names[..i].contains(a) {
                return Err(format!(
                    "kafka.topics: `{a}` is named for two different topics"
                ));
            }
        }
        if self.checkpoint.interval_ms == 0 {
            return Err("kafka.checkpoint.interval_ms must be at least 1".into());
        }
        if !(1..=100).contains(&self.checkpoint.max_share_percent) {
            return Err(format!(
                "kafka.checkpoint.max_share_percent is {}: it must be 1 to 100",
                self.checkpoint.max_share_percent
            ));
        }
        Ok(())
    }

    /// The settings every client shares: brokers, identity, security, statistics.
    fn common_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        opt(&mut c, "client.id", &self.client_id);
        opt(
            &mut c,
            "security.protocol",
            &self.security_protocol.map(SecurityProtocol::as_str),
        );
        opt(
            &mut c,
            "sasl.mechanism",
            &self.sasl_mechanism.map(SaslMechanism::as_str),
        );
        opt(&mut c, "sasl.username", &self.sasl_username);
        opt(
            &mut c,
            "sasl.password",
            &self.sasl_password.as_ref().map(Secret::expose),
        );
        opt(&mut c, "ssl.ca.location", &self.ssl_ca_location);
        opt(
            &mut c,
            "ssl.certificate.location",
            &self.ssl_certificate_location,
        );
        opt(&mut c, "ssl.key.location", &self.ssl_key_location);
        opt(
            &mut c,
            "ssl.key.password",
            &self.ssl_key_password.as_ref().map(Secret::expose),
        );
        opt(&mut c, "socket.timeout.ms", &self.socket_timeout_ms);
        opt(
            &mut c,
            "statistics.interval.ms",
            &self.statistics_interval_ms,
        );
        c
    }

    fn with_extra(&self, mut c: ClientConfig) -> ClientConfig {
        for (k, v) in &self.extra {
            c.set(k, v);
        }
        c
    }

    /// A producer's settings (no transactions: the test broker does not
    /// support them reliably, and pooltrace's outputs are idempotent by
    /// `(alert_id, version)` instead).
    pub fn producer_config(&self) -> ClientConfig {
        let mut c = self.common_config();
        c.set("compression.type", self.compression_type.as_str());
        c.set("enable.idempotence", self.enable_idempotence.to_string());
        // Producer id within milliseconds of start: see `producer_start`.
        c.set("enable.sparse.connections", "false");
        opt(&mut c, "linger.ms", &self.linger_ms);
        opt(&mut c, "batch.num.messages", &self.batch_num_messages);
        opt(&mut c, "batch.size", &self.batch_size);
        opt(&mut c, "message.max.bytes", &self.message_max_bytes);
        opt(&mut c, "message.timeout.ms", &self.message_timeout_ms);
        opt(
            &mut c,
            "queue.buffering.max.messages",
            &self.queue_buffering_max_messages,
        );
        opt(
            &mut c,
            "queue.buffering.max.kbytes",
            &self.queue_buffering_max_kbytes,
        );
        self.with_extra(c)
    }

    /// A consumer's settings: group `group_id`, offsets committed by the
    /// runtime only (with its checkpoints), from the earliest offset when the
    /// group has none, range assignment (co-partitioned topics' partition i
    /// go to the same member). No end-of-partition events: they do not name
    /// the topic and stall fetching on some brokers (tansu).
    pub fn consumer_config(&self) -> ClientConfig {
        let mut c = self.common_config();
        c.set("group.id", &self.group_id);
        opt(&mut c, "group.instance.id", &self.group_instance_id);
        c.set("enable.auto.commit", "false");
        c.set("auto.offset.reset", "earliest");
        c.set("partition.assignment.strategy", "range");
        c.set("enable.partition.eof", "false");
        opt(&mut c, "session.timeout.ms", &self.session_timeout_ms);
        opt(&mut c, "heartbeat.interval.ms", &self.heartbeat_interval_ms);
        opt(&mut c, "max.poll.interval.ms", &self.max_poll_interval_ms);
        opt(&mut c, "fetch.max.bytes", &self.fetch_max_bytes);
        opt(
            &mut c,
            "max.partition.fetch.bytes",
            &self.max_partition_fetch_bytes,
        );
        c.set("fetch.wait.max.ms", self.fetch_wait_max_ms.to_string());
        opt(
            &mut c,
            "queued.max.messages.kbytes",
            &self.queued_max_messages_kbytes,
        );
        c.set(
            "fetch.queue.backoff.ms",
            self.fetch_queue_backoff_ms.to_string(),
        );
        self.with_extra(c)
    }

    /// How many worker threads the runtime starts for topics of
    /// `partitions` partitions: [`KafkaConfig::workers`], else one per
    /// core; at least one, at most one per partition.
    pub fn worker_threads(&self, partitions: u32) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.workers
            .unwrap_or(cores)
            .clamp(1, partitions.max(1) as usize)
    }

    /// An admin client's settings (creating topics, reading metadata).
    pub fn admin_config(&self) -> ClientConfig {
        let c = self.common_config();
        self.with_extra(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(s: &str) -> Result<KafkaConfig, String> {
        toml::from_str::<KafkaConfig>(s).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let c = KafkaConfig::default();
        assert_eq!(from_toml("").unwrap(), c);
        assert_eq!(c.brokers, "127.0.0.1:9092");
        assert_eq!(c.group_id, "pooltrace");
        assert_eq!(c.topics.manifests, "pooltrace.manifests.v1");
        assert_eq!(c.topics.dead_letters, "pooltrace.dead-letters.v1");
        assert_eq!(c.topics.internal, "pooltrace.internal.v1");
        assert_eq!(c.checkpoint.store, "pooltrace-checkpoints");
        assert_eq!(c.checkpoint.interval_ms, 5000);
        assert_eq!(c.checkpoint.max_share_percent, 10);
        assert_eq!(c.consumer_config().get("fetch.wait.max.ms"), Some("20"));
        assert_eq!(
            c.consumer_config().get("fetch.queue.backoff.ms"),
            Some("20")
        );
        assert_eq!(
            from_toml("fetch_queue_backoff_ms = 5")
                .unwrap()
                .consumer_config()
                .get("fetch.queue.backoff.ms"),
            Some("5")
        );
        assert_eq!(c.metrics_listen, None);
        assert_eq!(c.workers, None);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(c.worker_threads(64), cores.min(64));
        assert_eq!(c.worker_threads(1), 1, "never more than the partitions");
        let w = |toml: &str, partitions| from_toml(toml).unwrap().worker_threads(partitions);
        assert_eq!(w("workers = 3", 8), 3);
        assert_eq!(w("workers = 3", 2), 2);
        assert_eq!(w("workers = 0", 8), 1, "at least one");
        let p = c.producer_config();
        assert_eq!(p.get("bootstrap.servers"), Some("127.0.0.1:9092"));
        assert_eq!(p.get("compression.type"), Some("lz4"));
        assert_eq!(p.get("enable.idempotence"), Some("true"));
        assert_eq!(p.get("enable.sparse.connections"), Some("false"));
        assert_eq!(p.get("linger.ms"), None);
        assert_eq!(p.get("group.id"), None);
        assert_eq!(p.get("transactional.id"), None);
    }

    #[test]
    fn consumer_keys() {
        let c = from_toml(
            "brokers = \"10.0.0.1:9092,10.0.0.2:9092\"\ngroup_id = \"g7\"\nsession_timeout_ms = 30000\nmax_poll_interval_ms = 600000\nfetch_max_bytes = 52428800\nqueued_max_messages_kbytes = 65536\nstatistics_interval_ms = 1000\nlinger_ms = 5\n",
        )
        .unwrap();
        let k = c.consumer_config();
        for (key, value) in [
            ("bootstrap.servers", "10.0.0.1:9092,10.0.0.2:9092"),
            ("group.id", "g7"),
            ("enable.auto.commit", "false"),
            ("auto.offset.reset", "earliest"),
            ("partition.assignment.strategy", "range"),
            ("enable.partition.eof", "false"),
            ("session.timeout.ms", "30000"),
            ("max.poll.interval.ms", "600000"),
            ("fetch.max.bytes", "52428800"),
            ("queued.max.messages.kbytes", "65536"),
            ("statistics.interval.ms", "1000"),
        ] {
            assert_eq!(k.get(key), Some(value), "{key}");
        }
        // Producer settings stay on producers.
        assert_eq!(k.get("linger.ms"), None);
        assert_eq!(k.get("compression.type"), None);
        assert_eq!(c.producer_config().get("linger.ms"), Some("5"));
        assert_eq!(
            c.producer_config().get("statistics.interval.ms"),
            Some("1000")
        );
        let a = c.admin_config();
        assert_eq!(
            a.get("bootstrap.servers"),
            Some("10.0.0.1:9092,10.0.0.2:9092")
        );
        assert_eq!(a.get("group.id"), None);
    }

    #[test]
    fn security_and_extra() {
        let c = from_toml(
            r#"
security_protocol = "sasl_ssl"
sasl_mechanism = "SCRAM-SHA-512"
sasl_username = "alice"
sasl_password = "hunter2-secret"
ssl_ca_location = "/etc/ca.pem"
client_id = "pooltrace-7"
compression_type = "zstd"
batch_num_messages = 10000
message_max_bytes = 2000000
[extra]
"socket.keepalive.enable" = true
"linger.ms" = 20
"sasl.oauthbearer.client.secret" = "s3cr3t-oauth"
[topics]
alerts = "city.alerts"
[checkpoint]
store = "s3://bucket/prefix"
interval_ms = 1000
"#,
        )
        .unwrap();
        for cfg in [c.producer_config(), c.consumer_config(), c.admin_config()] {
            assert_eq!(cfg.get("security.protocol"), Some("sasl_ssl"));
            assert_eq!(cfg.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
            assert_eq!(cfg.get("sasl.username"), Some("alice"));
            assert_eq!(cfg.get("sasl.password"), Some("hunter2-secret"));
            assert_eq!(cfg.get("ssl.ca.location"), Some("/etc/ca.pem"));
            assert_eq!(cfg.get("client.id"), Some("pooltrace-7"));
            assert_eq!(cfg.get("socket.keepalive.enable"), Some("true"));
        }
        let p = c.producer_config();
        assert_eq!(p.get("compression.type"), Some("zstd"));
        assert_eq!(p.get("batch.num.messages"), Some("10000"));
        assert_eq!(p.get("message.max.bytes"), Some("2000000"));
        assert_eq!(p.get("linger.ms"), Some("20"), "extra overrides");
        assert_eq!(c.topics.alerts, "city.alerts");
        assert_eq!(c.topics.results, "pooltrace.results.v1");
        assert_eq!(c.checkpoint.store, "s3://bucket/prefix");
        let debug = format!("{c:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(
            debug.contains("alice") && debug.contains("<redacted>"),
            "{debug}"
        );
    }

    #[test]
    fn typos_and_bad_values_are_named() {
        let e = from_toml("broker = \"x:1\"").unwrap_err();
        assert!(e.contains("unknown field `broker`"), "{e}");
        let e = from_toml("[topics]\nalert = \"x\"").unwrap_err();
        assert!(e.contains("unknown field `alert`"), "{e}");
        let e = from_toml("compression_type = \"lz5\"").unwrap_err();
        assert!(e.contains("lz5"), "{e}");
        let e = from_toml("linger_ms = \"soon\"").unwrap_err();
        assert!(e.contains("linger_ms") || e.contains("soon"), "{e}");
        for bad in [0, 101] {
            let c = from_toml(&format!("[checkpoint]\nmax_share_percent = {bad}")).unwrap();
            let e = c.validate().unwrap_err();
            assert!(
                e.contains(&format!("max_share_percent is {bad}: it must be 1 to 100")),
                "{e}"
            );
        }
    }

    #[test]
    fn load_reads_the_kafka_section_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pooltrace.toml");
        std::fs::write(
            &path,
            "[engine]\nallowed_lateness_min = 10\n[kafka]\nbrokers = \"127.0.0.1:19092\"\nlinger_ms = 5\n[kafka.topics]\nalerts = \"a\"\n",
        )
        .unwrap();
        let env = [
            ("POOLTRACE__KAFKA__GROUP_ID", "g2"),
            ("POOLTRACE__KAFKA__LINGER_MS", "7"),
            ("POOLTRACE__KAFKA__SASL_PASSWORD", "12345"),
            ("POOLTRACE__KAFKA__TOPICS__RESULTS", "r"),
            ("POOLTRACE__ENGINE__ALLOWED_LATENESS_MIN", "3"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let c = KafkaConfig::load(Some(&path), env).unwrap();
        assert_eq!(c.brokers, "127.0.0.1:19092");
        assert_eq!(c.group_id, "g2");
        assert_eq!(c.linger_ms, Some(7));
        assert_eq!(c.sasl_password.as_ref().map(Secret::expose), Some("12345"));
        assert_eq!(
            (c.topics.alerts.as_str(), c.topics.results.as_str()),
            ("a", "r")
        );

        std::fs::write(&path, "[kafka]\nlinger = 5\n").unwrap();
        let e = KafkaConfig::load(Some(&path), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown field `linger`") && e.contains("pooltrace.toml"),
            "{e}"
        );
        std::fs::write(&path, "[kafka.topics]\nalerts = \"pooltrace.results.v1\"\n").unwrap();
        let e = KafkaConfig::load(Some(&path), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("two different topics"), "{e}");
        assert_eq!(
            KafkaConfig::load(None, Vec::new()).unwrap(),
            KafkaConfig::default()
        );
        let table: toml::Table = toml::from_str("group_id = \"g3\"").unwrap();
        assert_eq!(KafkaConfig::from_table(table).unwrap().group_id, "g3");
        let table: toml::Table = toml::from_str("groupid = \"g3\"").unwrap();
        let e = KafkaConfig::from_table(table).unwrap_err();
        assert!(e.contains("unknown field `groupid`"), "{e}");
    }
}
