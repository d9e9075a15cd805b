//! Typed errors: every one names what it was doing (table, file, setting).

use std::io;
use std::path::PathBuf;

use crate::Table;

/// Why the sink could not be created or could not write.
#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    /// The pseudonym key is too short to resist brute force.
    #[error("pseudonym key is {len} bytes long; at least {min} bytes are required")]
    KeyTooShort { len: usize, min: usize },

    /// A `[parquet]` setting is out of range.
    #[error("parquet config: `{field}` {reason}")]
    Config { field: &'static str, reason: String },

    /// A file stem that would escape the partition directory or be hidden.
    #[error("file stem {stem:?}: {reason}")]
    InvalidStem { stem: String, reason: &'static str },

    /// The output directory could not be created.
    #[error("cannot create output directory {}: {source}", path.display())]
    OutDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A partition directory could not be created.
    #[error("{table}: cannot create directory {}: {source}", path.display())]
    CreateDir {
        table: Table,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A file could not be written, synced or renamed into place.
    #[error("{table}: cannot write {}: {source}", path.display())]
    Io {
        table: Table,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// Buffered rows could not be assembled into an Arrow record batch.
    #[error("{table}: cannot build a record batch for {}: {source}", path.display())]
    Arrow {
        table: Table,
        path: PathBuf,
        #[source]
        source: arrow_schema::ArrowError,
    },

    /// The Parquet encoder failed.
    #[error("{table}: cannot encode {}: {source}", path.display())]
    Encode {
        table: Table,
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
}
