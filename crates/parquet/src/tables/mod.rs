//! The three tables: one module per table with its Arrow schema and the
//! builder that buffers its rows, plus the column helpers they share.
//!
//! `date` and `district` are partition keys: they are in the path only, not
//! in the files (pyarrow's `read_table` refuses a column that is also a hive
//! key, and a percent-encoded path value would disagree with the column).

pub(crate) mod alerts;
pub(crate) mod person_outcomes;
pub(crate) mod tube_results;

use std::fmt;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, SchemaRef, TimeUnit};
use pooltrace_model::Ct;

/// One of the tables the sink writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// `tube_results`: one row per decided tube revision.
    TubeResults,
    /// `person_outcomes`: one row per person per tube revision.
    PersonOutcomes,
    /// `alerts`: one row per alert version.
    Alerts,
}

impl Table {
    /// Every table, in a fixed order.
    pub const ALL: [Table; 3] = [Table::TubeResults, Table::PersonOutcomes, Table::Alerts];

    /// The table's directory name under the output directory.
    pub fn name(self) -> &'static str {
        match self {
            Table::TubeResults => "tube_results",
            Table::PersonOutcomes => "person_outcomes",
            Table::Alerts => "alerts",
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Rows of one table buffered in Arrow builders.
pub(crate) trait RowBuffer {
    /// The table these rows belong to.
    const TABLE: Table;
    /// Columns with (nearly) one distinct value per row: Parquet dictionary
    /// encoding is turned off for them; every other column keeps it.
    const PLAIN_COLUMNS: &'static [&'static str];
    /// Pseudonym key columns (random hex, no repeats to find): zstd level 1,
    /// which is faster than higher levels and no larger on such data.
    const KEY_COLUMNS: &'static [&'static str];
    /// The table's Arrow schema.
    fn schema() -> SchemaRef;
    /// An empty buffer with room for `rows` rows.
    fn with_capacity(rows: usize) -> Self;
    /// Rows buffered.
    fn len(&self) -> usize;
    /// Takes the buffered rows as a batch of `schema`, leaving the buffer empty.
    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch, ArrowError>;
}

/// The type of every timestamp column: milliseconds, UTC.
pub(crate) fn utc_millis() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

pub(crate) fn field(name: &str, data_type: DataType, nullable: bool) -> Field {
    Field::new(name, data_type, nullable)
}

pub(crate) fn ts_builder(rows: usize) -> TimestampMillisecondBuilder {
    TimestampMillisecondBuilder::with_capacity(rows).with_timezone("UTC")
}

pub(crate) fn str_builder(rows: usize, avg_len: usize) -> StringBuilder {
    StringBuilder::with_capacity(rows, rows * avg_len)
}

pub(crate) fn arr<A: arrow_array::Array + 'static>(a: A) -> ArrayRef {
    Arc::new(a)
}

/// `ct_orf1ab`, `ct_n`, `ct_e`, `ct_ic`: nullable Float64 (null = not detected).
pub(crate) struct CtColumns {
    orf1ab: Float64Builder,
    n: Float64Builder,
    e: Float64Builder,
    ic: Float64Builder,
}

impl CtColumns {
    pub(crate) fn fields() -> [Field; 4] {
        ["ct_orf1ab", "ct_n", "ct_e", "ct_ic"].map(|n| field(n, DataType::Float64, true))
    }

    pub(crate) fn with_capacity(rows: usize) -> Self {
        CtColumns {
            orf1ab: Float64Builder::with_capacity(rows),
            n: Float64Builder::with_capacity(rows),
            e: Float64Builder::with_capacity(rows),
            ic: Float64Builder::with_capacity(rows),
        }
    }

    pub(crate) fn append(&mut self, ct: Option<&Ct>) {
        self.orf1ab.append_option(ct.and_then(|c| c.orf1ab));
        self.n.append_option(ct.and_then(|c| c.n));
        self.e.append_option(ct.and_then(|c| c.e));
        self.ic.append_option(ct.and_then(|c| c.ic));
    }

    pub(crate) fn finish(&mut self) -> [ArrayRef; 4] {
        [
            arr(self.orf1ab.finish()),
            arr(self.n.finish()),
            arr(self.e.finish()),
            arr(self.ic.finish()),
        ]
    }
}
