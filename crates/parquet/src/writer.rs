//! One table's partitions: buffering, row groups, rolling and atomic files.
//!
//! Rows of a partition collect in Arrow builders; every `row_group_rows`
//! rows are encoded, zstd-compressed and written to the partition's open
//! file, so memory holds at most one row group per partition (and
//! `row_group_rows` rows across a table's partitions) whatever the size of
//! the files. The encoded row groups not yet finished, across the open
//! files, are kept under `row_group_memory_mb`: past it the largest is
//! finished early (on 1 M people in twelve districts they held 140 MB).
//! A file is opened on disk as `.{stem}-{seq:05}.parquet.tmp`
//! (hidden, and no `*.parquet` glob matches it), named by the stem in effect
//! when it was opened. It is closed when it reaches `max_rows_per_file`
//! rows, on flush and on finish: synced, then renamed to
//! `{stem}-{seq:05}.parquet`, replacing a file of that name. A reader never
//! sees a partial file.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use pooltrace_model::Timestamp;

use crate::files::{publish, writer_properties};
use crate::partition::{local_day, partition_dir};
use crate::tables::RowBuffer;
use crate::{ParquetConfig, ParquetError, TableStats};

/// Builders start this small and grow: thousands of partitions may be open.
const INITIAL_ROWS: usize = 1024;

struct Partition<B> {
    /// Relative to the output directory.
    dir: PathBuf,
    /// Local day number (when it has one) and district: for the one-entry cache.
    day: Option<i64>,
    district: Option<String>,
    rows: B,
    file: Option<OpenFile>,
    rows_in_file: usize,
}

/// A file being written aside under its hidden temporary name.
struct OpenFile {
    writer: ArrowWriter<BufWriter<File>>,
    /// The final name, `{stem}-{seq:05}.parquet`.
    name: String,
}

/// Write buffer of an open file: a row group reaches the disk in a few
/// large writes.
const FILE_BUFFER: usize = 256 * 1024;

#[derive(Default)]
struct Districts {
    named: HashMap<String, usize>,
    null: Option<usize>,
}

pub(crate) struct TableWriter<B: RowBuffer> {
    out_dir: PathBuf,
    schema: SchemaRef,
    props: WriterProperties,
    max_rows_per_file: usize,
    row_group_rows: usize,
    /// Bound of the open files' unfinished row groups, encoded, in bytes.
    row_group_memory: usize,
    /// Local day number -> index into `dates`: the per-row fast path.
    days: HashMap<i64, usize>,
    /// Date string -> index into `dates`.
    date_index: HashMap<String, usize>,
    /// (date, districts of that date) by index.
    dates: Vec<(String, Districts)>,
    partitions: Vec<Partition<B>>,
    /// The partition of the previous row: consecutive rows (members of one
    /// tube) usually share it, and a hit skips both hash lookups.
    last: Option<usize>,
    /// Next file number per partition directory under the current stem.
    next_seq: HashMap<PathBuf, u32>,
    stats: TableStats,
    /// Rows in builders across all partitions: kept under `row_group_rows`,
    /// so memory stays flat however many partitions are open.
    buffered: usize,
    /// The newest local day seen: files of days two or more before it are
    /// closed, so a long run does not keep every day's files open.
    newest_day: Option<i64>,
}

impl<B: RowBuffer> TableWriter<B> {
    pub(crate) fn new(out_dir: &Path, config: &ParquetConfig) -> Result<Self, ParquetError> {
        Ok(TableWriter {
            out_dir: out_dir.to_path_buf(),
            schema: B::schema(),
            props: writer_properties::<B>(config)?,
            max_rows_per_file: config.max_rows_per_file,
            row_group_rows: config.row_group_rows,
            row_group_memory: config.row_group_memory_mb.saturating_mul(1 << 20),
            days: HashMap::new(),
            date_index: HashMap::new(),
            dates: Vec::new(),
            partitions: Vec::new(),
            last: None,
            next_seq: HashMap::new(),
            stats: TableStats::default(),
            buffered: 0,
            newest_day: None,
        })
    }

    /// Adds one row (`push` appends it) to the partition of (`when`'s local
    /// date, `district`), writing a row group or closing a file when full.
    pub(crate) fn append(
        &mut self,
        when: Timestamp,
        district: Option<&str>,
        stem: &str,
        push: impl FnOnce(&mut B),
    ) -> Result<(), ParquetError> {
        let idx = self.partition(when, district);
        if let Some(day) = self.partitions[idx].day {
            if self.newest_day.is_none_or(|n| day > n) {
                self.newest_day = Some(day);
                self.close_days_before(day - 1, stem)?;
            }
        }
        let part = &mut self.partitions[idx];
        push(&mut part.rows);
        part.rows_in_file += 1;
        self.buffered += 1;
        if part.rows.len() >= self.row_group_rows {
            self.encode_buffered(idx, stem)?;
        } else if self.buffered >= self.row_group_rows {
            // Many partitions, none full: encode the biggest buffer.
            let biggest = (0..self.partitions.len())
                .max_by_key(|&i| self.partitions[i].rows.len())
                .unwrap_or(idx);
            self.encode_buffered(biggest, stem)?;
        }
        if self.partitions[idx].rows_in_file >= self.max_rows_per_file {
            self.close_file(idx, stem)?;
        }
        Ok(())
    }

    /// Closes the open files of partitions whose day is before `day` (a late
    /// row for such a day opens its next file).
    fn close_days_before(&mut self, day: i64, stem: &str) -> Result<(), ParquetError> {
        for idx in 0..self.partitions.len() {
            let p = &self.partitions[idx];
            if p.day.is_some_and(|d| d < day) && p.rows_in_file > 0 {
                self.close_file(idx, stem)?;
            }
        }
        Ok(())
    }

    /// Closes every partition's file, then forgets the partitions.
    pub(crate) fn flush(&mut self, stem: &str) -> Result<(), ParquetError> {
        for idx in 0..self.partitions.len() {
            self.close_file(idx, stem)?;
        }
        self.partitions.clear();
        self.last = None;
        self.dates.clear();
        self.date_index.clear();
        self.days.clear();
        Ok(())
    }

    /// A new stem starts file numbers at 0 again in every partition.
    pub(crate) fn reset_sequence(&mut self) {
        self.next_seq.clear();
    }

    pub(crate) fn stats(&self) -> TableStats {
        self.stats.clone()
    }

    /// Rows accepted but not yet in a visible file.
    pub(crate) fn pending_rows(&self) -> u64 {
        self.partitions.iter().map(|p| p.rows_in_file as u64).sum()
    }

    fn date_slot(&mut self, date: String) -> usize {
        if let Some(&i) = self.date_index.get(&date) {
            return i;
        }
        let i = self.dates.len();
        self.date_index.insert(date.clone(), i);
        self.dates.push((date, Districts::default()));
        i
    }

    fn partition(&mut self, when: Timestamp, district: Option<&str>) -> usize {
        let day = local_day(when);
        if let Some(i) = self.last {
            let p = &self.partitions[i];
            if day.is_some() && p.day == day && p.district.as_deref() == district {
                return i;
            }
        }
        let idx = self.lookup(when, day, district);
        self.last = Some(idx);
        idx
    }

    fn lookup(&mut self, when: Timestamp, day: Option<i64>, district: Option<&str>) -> usize {
        let date = match day {
            Some(day) => match self.days.get(&day) {
                Some(&i) => i,
                None => {
                    let i = self.date_slot(when.local_date());
                    self.days.insert(day, i);
                    i
                }
            },
            None => self.date_slot(when.local_date()),
        };
        let (date_str, districts) = &mut self.dates[date];
        let found = match district {
            Some(d) => districts.named.get(d).copied(),
            None => districts.null,
        };
        if let Some(idx) = found {
            return idx;
        }
        let idx = self.partitions.len();
        self.partitions.push(Partition {
            dir: partition_dir(B::TABLE, date_str, district),
            day,
            district: district.map(str::to_owned),
            rows: B::with_capacity(INITIAL_ROWS.min(self.row_group_rows)),
            file: None,
            rows_in_file: 0,
        });
        match district {
            Some(d) => {
                districts.named.insert(d.to_owned(), idx);
            }
            None => districts.null = Some(idx),
        }
        idx
    }

    /// Encodes the partition's buffered rows into its open file, opening
    /// one (named by `stem` and the partition's next number) if needed.
    fn encode_buffered(&mut self, idx: usize, stem: &str) -> Result<(), ParquetError> {
        if self.partitions[idx].rows.len() == 0 {
            return Ok(());
        }
        if self.partitions[idx].file.is_none() {
            let file = self.open_file(idx, stem)?;
            self.partitions[idx].file = Some(file);
        }
        let part = &mut self.partitions[idx];
        self.buffered = self.buffered.saturating_sub(part.rows.len());
        let table = B::TABLE;
        let path = || self.out_dir.join(&part.dir);
        let batch = part
            .rows
            .finish(&self.schema)
            .map_err(|source| ParquetError::Arrow {
                table,
                path: path(),
                source,
            })?;
        let Some(file) = part.file.as_mut() else {
            unreachable!("opened above")
        };
        file.writer
            .write(&batch)
            .map_err(|source| ParquetError::Encode {
                table,
                path: path().join(format!(".{}.tmp", file.name)),
                source,
            })?;
        self.bound_unfinished()
    }

    /// Finishes the largest unfinished row groups until those left, across
    /// the open files, take at most `row_group_memory` bytes.
    fn bound_unfinished(&mut self) -> Result<(), ParquetError> {
        let mut sizes: Vec<(usize, usize)> = self
            .partitions
            .iter()
            .enumerate()
            .filter_map(|(idx, p)| Some((p.file.as_ref()?.writer.memory_size(), idx)))
            .collect();
        let mut total: usize = sizes.iter().map(|(size, _)| size).sum();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        for (size, idx) in sizes {
            if total <= self.row_group_memory {
                break;
            }
            let part = &mut self.partitions[idx];
            if let Some(file) = part.file.as_mut() {
                file.writer.flush().map_err(|source| ParquetError::Encode {
                    table: B::TABLE,
                    path: self
                        .out_dir
                        .join(&part.dir)
                        .join(format!(".{}.tmp", file.name)),
                    source,
                })?;
            }
            total -= size;
        }
        Ok(())
    }

    /// Creates the partition's directory and its next file, hidden.
    fn open_file(&mut self, idx: usize, stem: &str) -> Result<OpenFile, ParquetError> {
        let table = B::TABLE;
        let part = &self.partitions[idx];
        let dir = self.out_dir.join(&part.dir);
        fs::create_dir_all(&dir).map_err(|source| ParquetError::CreateDir {
            table,
            path: dir.clone(),
            source,
        })?;
        let seq = self.next_seq.get(&part.dir).copied().unwrap_or(0);
        let name = format!("{stem}-{seq:05}.parquet");
        let tmp = dir.join(format!(".{name}.tmp"));
        let file = File::create(&tmp).map_err(|source| ParquetError::Io {
            table,
            path: tmp.clone(),
            source,
        })?;
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(FILE_BUFFER, file),
            self.schema.clone(),
            Some(self.props.clone()),
        )
        .map_err(|source| ParquetError::Encode {
            table,
            path: tmp,
            source,
        })?;
        self.next_seq.insert(part.dir.clone(), seq + 1);
        Ok(OpenFile { writer, name })
    }

    /// Closes the partition's file, if it has rows: its footer written,
    /// synced and renamed into place.
    fn close_file(&mut self, idx: usize, stem: &str) -> Result<(), ParquetError> {
        if self.partitions[idx].rows_in_file == 0 {
            return Ok(());
        }
        self.encode_buffered(idx, stem)?;
        let table = B::TABLE;
        let part = &mut self.partitions[idx];
        let Some(OpenFile { writer, name }) = part.file.take() else {
            return Ok(());
        };
        let dir = self.out_dir.join(&part.dir);
        let tmp = dir.join(format!(".{name}.tmp"));
        let file = writer
            .into_inner()
            .map_err(|source| ParquetError::Encode {
                table,
                path: tmp.clone(),
                source,
            })?
            .into_inner()
            .map_err(|e| ParquetError::Io {
                table,
                path: tmp.clone(),
                source: e.into_error(),
            })?;
        let bytes = file.metadata().map_or(0, |m| m.len());
        publish(file, &tmp, &dir, &name).map_err(|(path, source)| ParquetError::Io {
            table,
            path,
            source,
        })?;
        self.stats.rows += part.rows_in_file as u64;
        self.stats.files += 1;
        self.stats.bytes += bytes;
        part.rows_in_file = 0;
        Ok(())
    }
}
