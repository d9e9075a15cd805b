//! What every file gets: writer properties, and the atomic write.
//!
//! A file is written as `.{name}.tmp` beside its final name, then synced,
//! renamed over `{name}` and the directory synced. A crash can leave a `.tmp` file
//! behind: readers ignore it (hidden, and `*.parquet` does not match it)
//! and the next write of the same name overwrites it.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::tables::RowBuffer;
use crate::{ParquetConfig, ParquetError};

/// zstd, page-level statistics, dictionaries except on the id columns;
/// pseudonym key columns at zstd level 1 (see [`RowBuffer::KEY_COLUMNS`]).
pub(crate) fn writer_properties<B: RowBuffer>(
    config: &ParquetConfig,
) -> Result<WriterProperties, ParquetError> {
    let level = ZstdLevel::try_new(config.zstd_level).map_err(|e| ParquetError::Config {
        field: "zstd_level",
        reason: e.to_string(),
    })?;
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_dictionary_enabled(true)
        .set_max_row_group_row_count(Some(config.row_group_rows))
        .set_key_value_metadata(Some(vec![
            KeyValue::new("pooltrace.table".into(), B::TABLE.name().to_owned()),
            KeyValue::new(
                "pooltrace.person_key".into(),
                "hex of the first 16 bytes of HMAC-SHA256(secret, person_id)".to_owned(),
            ),
        ]));
    for column in B::PLAIN_COLUMNS {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(*column), false);
    }
    if !B::KEY_COLUMNS.is_empty() {
        let fastest = ZstdLevel::try_new(1).map_err(|e| ParquetError::Config {
            field: "zstd_level",
            reason: e.to_string(),
        })?;
        for column in B::KEY_COLUMNS {
            builder = builder
                .set_column_compression(ColumnPath::from(*column), Compression::ZSTD(fastest));
        }
    }
    Ok(builder.build())
}

/// Makes a file written aside as `tmp` (in `dir`) visible as `dir/name`:
/// syncs it, renames it over `name` and syncs the directory. On error, the
/// path involved and the cause; the temporary file is removed.
pub(crate) fn publish(
    file: File,
    tmp: &Path,
    dir: &Path,
    name: &str,
) -> Result<(), (PathBuf, std::io::Error)> {
    let dst = dir.join(name);
    let published = file
        .sync_all()
        .map_err(|e| (tmp.to_path_buf(), e))
        .and_then(|()| fs::rename(tmp, &dst).map_err(|e| (dst.clone(), e)));
    if let Err(e) = published {
        let _ = fs::remove_file(tmp);
        return Err(e);
    }
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| (dir.to_path_buf(), e))?;
    Ok(())
}
