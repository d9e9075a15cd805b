//! The `[parquet]` section of the configuration.

use serde::Deserialize;

use crate::ParquetError;

/// How the Parquet sink sizes and compresses its files.
///
/// ```toml
/// [parquet]
/// max_rows_per_file = 1000000
/// row_group_rows = 131072
/// row_group_memory_mb = 16
/// zstd_level = 3
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ParquetConfig {
    /// A partition's file is closed and a new one started once it holds this
    /// many rows (default 1,000,000). Rows of one partition are also
    /// written out on every flush, so files can be smaller.
    pub max_rows_per_file: usize,
    /// Rows per Parquet row group (default 131,072): the unit readers skip
    /// by statistics. Rows are encoded and compressed one row group at a
    /// time and written to the partition's file (hidden until it is
    /// closed), so this also bounds the rows held in memory per partition.
    pub row_group_rows: usize,
    /// Encoded rows of unfinished row groups, across a table's open files,
    /// are kept under this many MiB (default 16). Past it the largest
    /// unfinished row group is written out early, smaller than
    /// `row_group_rows`. With many partitions open (every district of a
    /// day) this is what bounds memory: each open file would otherwise
    /// hold up to a whole row group, encoded.
    pub row_group_memory_mb: usize,
    /// zstd compression level, 1 (fastest) to 22 (smallest); default 3.
    /// Pseudonym key columns always use level 1: they are random hex, where
    /// higher levels cost time and find nothing more to compress.
    pub zstd_level: i32,
}

impl Default for ParquetConfig {
    fn default() -> Self {
        ParquetConfig {
            max_rows_per_file: 1_000_000,
            row_group_rows: 131_072,
            row_group_memory_mb: 16,
            zstd_level: 3,
        }
    }
}

impl ParquetConfig {
    /// Checks every setting; the error names the one that is out of range.
    pub fn validate(&self) -> Result<(), ParquetError> {
        if self.max_rows_per_file == 0 {
            return Err(ParquetError::Config {
                field: "max_rows_per_file",
                reason: "must be at least 1".into(),
            });
        }
        if self.row_group_rows == 0 {
            return Err(ParquetError::Config {
                field: "row_group_rows",
                reason: "must be at least 1".into(),
            });
        }
        if self.row_group_memory_mb == 0 {
            return Err(ParquetError::Config {
                field: "row_group_memory_mb",
                reason: "must be at least 1".into(),
            });
        }
        if !(1..=22).contains(&self.zstd_level) {
            return Err(ParquetError::Config {
                field: "zstd_level",
                reason: format!("must be in 1..=22, is {}", self.zstd_level),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_checked() {
        ParquetConfig::default().validate().unwrap();
        let zero_rows = ParquetConfig {
            max_rows_per_file: 0,
            ..ParquetConfig::default()
        };
        assert!(zero_rows
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_rows_per_file"));
        let zero_group = ParquetConfig {
            row_group_rows: 0,
            ..ParquetConfig::default()
        };
        assert!(zero_group
            .validate()
            .unwrap_err()
            .to_string()
            .contains("row_group_rows"));
        let zero_memory = ParquetConfig {
            row_group_memory_mb: 0,
            ..ParquetConfig::default()
        };
        assert!(zero_memory
            .validate()
            .unwrap_err()
            .to_string()
            .contains("row_group_memory_mb"));
        let level = ParquetConfig {
            zstd_level: 23,
            ..ParquetConfig::default()
        };
        assert!(level.validate().unwrap_err().to_string().contains("is 23"));
    }
}
