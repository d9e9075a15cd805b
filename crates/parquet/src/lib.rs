//! # pooltrace-parquet: the analyst-facing Parquet sink
//!
//! Writes what the pipeline decides as three Parquet tables that analysts
//! query with DuckDB, pyarrow or Spark, without ever seeing who was tested:
//!
//! - `tube_results` ([`TubeResultRow`](pooltrace_model::TubeResultRow)),
//! - `person_outcomes` ([`PersonOutcomeRow`](pooltrace_model::PersonOutcomeRow)),
//! - `alerts` ([`Alert`](pooltrace_model::Alert)).
//!
//! **Privacy.** Person ids are replaced by `person_key`, a keyed hash
//! ([`PseudonymKey`]); names, phones and addresses are never written.
//! Geography is kept to district, street and community. An alert's
//! `reason` is copied as is: the engine generates it from templates and
//! guarantees it holds no person id, name, phone or address.
//!
//! **Layout.** `OUT/TABLE/date=YYYY-MM-DD/district=<district>/part-00000.parquet`:
//! hive partitions by the local date of the row's event time (in the offset
//! it was written with, so 01:00 at +08:00 on 10 May is `date=2022-05-10`)
//! and by district (percent-encoded where unsafe in a path, see
//! [`hive_value`]; `__HIVE_DEFAULT_PARTITION__` when an alert has none).
//! `date` and `district` are in the path only, not file columns. Read with
//! e.g. `read_parquet('OUT/person_outcomes/**/*.parquet', hive_partitioning = true)`.
//!
//! **Files.** zstd, page-level statistics, dictionary encoding except on id
//! columns, timestamps as UTC milliseconds. Files roll at
//! [`ParquetConfig::max_rows_per_file`] and appear atomically (temp name,
//! then rename), named by (stem, sequence number) only, so a replay under
//! the same stem replaces rather than duplicates (see
//! [`ParquetSink::set_file_stem`]).
//!
//! ```no_run
//! # fn main() -> Result<(), pooltrace_parquet::ParquetError> {
//! use pooltrace_parquet::{ParquetConfig, ParquetSink, PseudonymKey};
//! let key = PseudonymKey::new(b"a secret of at least 16 bytes")?;
//! let mut sink = ParquetSink::create("out".as_ref(), key, ParquetConfig::default())?;
//! // sink.write_person_outcome(&row)?; ...
//! let stats = sink.finish()?;
//! println!("{} files", stats.files());
//! # Ok(()) }
//! ```

mod config;
mod error;
mod files;
mod partition;
mod pseudonym;
mod sink;
mod tables;
mod writer;

pub use config::ParquetConfig;
pub use error::ParquetError;
pub use partition::{hive_value, partition_dir, NULL_PARTITION};
pub use pseudonym::{PersonKey, PseudonymKey, MIN_KEY_LEN, PERSON_KEY_LEN};
pub use sink::{ParquetSink, SinkStats, TableStats, DEFAULT_FILE_STEM};
pub use tables::Table;
