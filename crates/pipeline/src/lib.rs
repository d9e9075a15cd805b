//! # pooltrace-pipeline: the engine on files
//!
//! The runtime around [`pooltrace_engine::Engine`] for one process: NDJSON
//! sources ([`source`]) merged into event-time order, the engine, and the
//! sinks ([`sink`]): `alerts.ndjson`, `dead_letters.ndjson` and the Parquet
//! tables. Every input line ends as exactly one of processed, duplicate,
//! stale or dead letter, and the [`RunReport`] counts them.
//!
//! Configuration ([`Config`]) comes from a TOML file, then environment
//! overrides, then command-line flags; it is shared with the Kafka runtime.

mod config;
mod pipeline;
mod report;
mod run;
pub mod sink;
pub mod source;
pub mod spill_file;

pub use config::{parse_env_value, set_path, Config, ConfigError, InputConfig, PrivacyConfig};
pub use pipeline::Pipeline;
pub use pooltrace_engine::Expected;
pub use report::RunReport;
pub use run::{prepare_out_dir, run_files, Inputs, RunError};
