//! [`ParquetSink`]: the three tables behind one handle.

use std::fs;
use std::path::{Path, PathBuf};

use pooltrace_model::{Alert, PersonOutcomeRow, TubeResultRow};

use crate::tables::{alerts::Alerts, person_outcomes::PersonOutcomes, tube_results::TubeResults};
use crate::writer::TableWriter;
use crate::{ParquetConfig, ParquetError, PersonKey, PseudonymKey, Table};

/// The default file stem: files are `part-00000.parquet`, `part-00001.parquet`, ...
pub const DEFAULT_FILE_STEM: &str = "part";

/// What one table has written so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Rows in files that are in place (renamed from their temp name).
    pub rows: u64,
    /// Files in place.
    pub files: u64,
    /// Bytes of those files.
    pub bytes: u64,
}

/// What the sink has written, per table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkStats {
    pub tube_results: TableStats,
    pub person_outcomes: TableStats,
    pub alerts: TableStats,
}

impl SinkStats {
    /// One table's numbers.
    pub fn table(&self, table: Table) -> &TableStats {
        match table {
            Table::TubeResults => &self.tube_results,
            Table::PersonOutcomes => &self.person_outcomes,
            Table::Alerts => &self.alerts,
        }
    }

    /// Files written over all tables.
    pub fn files(&self) -> u64 {
        Table::ALL.iter().map(|t| self.table(*t).files).sum()
    }
}

/// Writes pipeline outputs as pseudonymised, hive-partitioned Parquet.
///
/// Rows are buffered per (table, date, district) and become visible only
/// when a file is complete: when a partition reaches `max_rows_per_file`,
/// on [`flush`](Self::flush) and on [`finish`](Self::finish). Rows buffered
/// when the sink is dropped without `finish` are lost (no partial file is
/// left behind). After an error the sink's buffers are in an unknown state:
/// drop it and replay from the last successful flush.
pub struct ParquetSink {
    key: PseudonymKey,
    stem: String,
    tube_results: TableWriter<TubeResults>,
    person_outcomes: TableWriter<PersonOutcomes>,
    alerts: TableWriter<Alerts>,
}

impl ParquetSink {
    /// A sink writing under `out_dir` (created if missing) with person keys
    /// made by `key`. Fails if `config` is out of range.
    pub fn create(
        out_dir: &Path,
        key: PseudonymKey,
        config: ParquetConfig,
    ) -> Result<Self, ParquetError> {
        config.validate()?;
        fs::create_dir_all(out_dir).map_err(|source| ParquetError::OutDir {
            path: out_dir.to_path_buf(),
            source,
        })?;
        Ok(ParquetSink {
            key,
            stem: DEFAULT_FILE_STEM.to_owned(),
            tube_results: TableWriter::new(out_dir, &config)?,
            person_outcomes: TableWriter::new(out_dir, &config)?,
            alerts: TableWriter::new(out_dir, &config)?,
        })
    }

    /// Buffers one tube result, partitioned by the local date of `reported_at`.
    pub fn write_tube_result(&mut self, row: &TubeResultRow) -> Result<(), ParquetError> {
        self.tube_results.append(
            row.reported_at,
            Some(&row.region.district),
            &self.stem,
            |b| b.append(row),
        )
    }

    /// Buffers one person outcome (`person_id` becomes `person_key`),
    /// partitioned by the local date of `decided_at`.
    pub fn write_person_outcome(&mut self, row: &PersonOutcomeRow) -> Result<(), ParquetError> {
        let person_key = self.person_key(&row.person_id);
        self.write_person_outcome_keyed(row, &person_key)
    }

    /// The person key of `person_id` under this sink's secret: what
    /// [`ParquetSink::write_person_outcome_keyed`] takes, computed on any
    /// thread that has a sink with the same secret.
    pub fn person_key(&self, person_id: &str) -> PersonKey {
        self.key.key_of(person_id)
    }

    /// As [`ParquetSink::write_person_outcome`], with the row's person key
    /// computed ahead ([`ParquetSink::person_key`] of `row.person_id`).
    pub fn write_person_outcome_keyed(
        &mut self,
        row: &PersonOutcomeRow,
        person_key: &PersonKey,
    ) -> Result<(), ParquetError> {
        self.person_outcomes.append(
            row.decided_at,
            Some(&row.region.district),
            &self.stem,
            |b| b.append(row, person_key.as_str()),
        )
    }

    /// Buffers one alert version, partitioned by the local date of
    /// `updated_at` (district `__HIVE_DEFAULT_PARTITION__`, read as NULL,
    /// when the alert has no region). Name, phone and address are dropped.
    pub fn write_alert(&mut self, alert: &Alert) -> Result<(), ParquetError> {
        let key = &self.key;
        let district = alert.region.as_ref().map(|r| r.district.as_str());
        self.alerts
            .append(alert.updated_at, district, &self.stem, |b| {
                b.append(alert, key)
            })
    }

    /// Names the files opened from now on `{stem}-{seq:05}.parquet`,
    /// numbering from 0 again in every partition (a file already open keeps
    /// its name: flush first to put every buffered row under the new stem). A file's name depends only on (stem, seq), so writing the
    /// same rows again under the same stem replaces the earlier files
    /// instead of adding duplicates; callers that write different rows into
    /// the same directory (e.g. two runs with the default stem `part`) must
    /// use different stems. Setting the current stem again changes nothing.
    ///
    /// The stem must be 1-200 characters, not start with `.`, and contain
    /// no `/`, `\` or control characters.
    pub fn set_file_stem(&mut self, stem: &str) -> Result<(), ParquetError> {
        let reason = if stem.is_empty() || stem.len() > 200 {
            Some("must be 1-200 bytes long")
        } else if stem.starts_with('.') {
            Some("must not start with '.' (temp files do)")
        } else if stem
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
        {
            Some("must not contain '/', '\\' or control characters")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(ParquetError::InvalidStem {
                stem: stem.to_owned(),
                reason,
            });
        }
        if stem != self.stem {
            self.stem = stem.to_owned();
            self.tube_results.reset_sequence();
            self.person_outcomes.reset_sequence();
            self.alerts.reset_sequence();
        }
        Ok(())
    }

    /// Writes every buffered row into files (one per partition that has
    /// rows) and returns once they are all in place.
    pub fn flush(&mut self) -> Result<(), ParquetError> {
        self.tube_results.flush(&self.stem)?;
        self.person_outcomes.flush(&self.stem)?;
        self.alerts.flush(&self.stem)
    }

    /// Rows accepted but not yet in a file that readers can see.
    pub fn pending_rows(&self) -> u64 {
        self.tube_results.pending_rows()
            + self.person_outcomes.pending_rows()
            + self.alerts.pending_rows()
    }

    /// What has been written so far.
    pub fn stats(&self) -> SinkStats {
        SinkStats {
            tube_results: self.tube_results.stats(),
            person_outcomes: self.person_outcomes.stats(),
            alerts: self.alerts.stats(),
        }
    }

    /// Flushes and returns what was written over the sink's life.
    pub fn finish(mut self) -> Result<SinkStats, ParquetError> {
        self.flush()?;
        Ok(self.stats())
    }

    /// The directory a table's files go under, for callers that list them.
    pub fn table_dir(out_dir: &Path, table: Table) -> PathBuf {
        out_dir.join(table.name())
    }
}
