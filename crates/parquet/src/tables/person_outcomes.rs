//! `person_outcomes`: one row per person per tube revision (event time
//! `decided_at`). The person appears only as `person_key`.

use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, Float64Builder, StringBuilder, TimestampMillisecondBuilder, UInt32Builder,
};
use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, DataType, Schema, SchemaRef};
use pooltrace_model::PersonOutcomeRow;

use super::{arr, field, str_builder, ts_builder, utc_millis, RowBuffer, Table};
use crate::pseudonym::PERSON_KEY_LEN;

pub(crate) struct PersonOutcomes {
    person_key: StringBuilder,
    tube_id: StringBuilder,
    tube_kind: StringBuilder,
    revision: UInt32Builder,
    outcome: StringBuilder,
    decided_by: StringBuilder,
    street: StringBuilder,
    community: StringBuilder,
    collected_at: TimestampMillisecondBuilder,
    decided_at: TimestampMillisecondBuilder,
    retest_of: StringBuilder,
    decoded_p_positive: Float64Builder,
    decoded_pools_positive: UInt32Builder,
    decoded_pools_negative: UInt32Builder,
}

impl PersonOutcomes {
    /// One row; `person_key` is the row's [`crate::PseudonymKey::person_key`].
    pub(crate) fn append(&mut self, row: &PersonOutcomeRow, person_key: &str) {
        self.person_key.append_value(person_key);
        self.tube_id.append_value(&row.tube_id);
        self.tube_kind.append_value(row.tube_kind.as_str());
        self.revision.append_value(row.revision);
        self.outcome.append_value(row.outcome.as_str());
        self.decided_by.append_value(&row.decided_by);
        self.street.append_value(&row.region.street);
        self.community.append_value(&row.region.community);
        self.collected_at.append_value(row.collected_at.millis());
        self.decided_at.append_value(row.decided_at.millis());
        self.retest_of.append_option(row.retest_of.as_deref());
        let d = row.decoded.as_ref();
        self.decoded_p_positive
            .append_option(d.map(|d| d.p_positive));
        self.decoded_pools_positive
            .append_option(d.map(|d| d.pools_positive));
        self.decoded_pools_negative
            .append_option(d.map(|d| d.pools_negative));
    }
}

impl RowBuffer for PersonOutcomes {
    const TABLE: Table = Table::PersonOutcomes;
    const PLAIN_COLUMNS: &'static [&'static str] = &["person_key", "tube_id", "retest_of"];
    const KEY_COLUMNS: &'static [&'static str] = &["person_key"];

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            field("person_key", DataType::Utf8, false),
            field("tube_id", DataType::Utf8, false),
            field("tube_kind", DataType::Utf8, false),
            field("revision", DataType::UInt32, false),
            field("outcome", DataType::Utf8, false),
            field("decided_by", DataType::Utf8, false),
            field("street", DataType::Utf8, false),
            field("community", DataType::Utf8, false),
            field("collected_at", utc_millis(), false),
            field("decided_at", utc_millis(), false),
            field("retest_of", DataType::Utf8, true),
            field("decoded_p_positive", DataType::Float64, true),
            field("decoded_pools_positive", DataType::UInt32, true),
            field("decoded_pools_negative", DataType::UInt32, true),
        ]))
    }

    fn with_capacity(rows: usize) -> Self {
        PersonOutcomes {
            person_key: str_builder(rows, PERSON_KEY_LEN),
            tube_id: str_builder(rows, 16),
            tube_kind: str_builder(rows, 6),
            revision: UInt32Builder::with_capacity(rows),
            outcome: str_builder(rows, 16),
            decided_by: str_builder(rows, 8),
            street: str_builder(rows, 12),
            community: str_builder(rows, 12),
            collected_at: ts_builder(rows),
            decided_at: ts_builder(rows),
            retest_of: str_builder(rows, 4),
            decoded_p_positive: Float64Builder::with_capacity(rows),
            decoded_pools_positive: UInt32Builder::with_capacity(rows),
            decoded_pools_negative: UInt32Builder::with_capacity(rows),
        }
    }

    fn len(&self) -> usize {
        self.person_key.len()
    }

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
        RecordBatch::try_new(
            schema.clone(),
            vec![
                arr(self.person_key.finish()),
                arr(self.tube_id.finish()),
                arr(self.tube_kind.finish()),
                arr(self.revision.finish()),
                arr(self.outcome.finish()),
                arr(self.decided_by.finish()),
                arr(self.street.finish()),
                arr(self.community.finish()),
                arr(self.collected_at.finish()),
                arr(self.decided_at.finish()),
                arr(self.retest_of.finish()),
                arr(self.decoded_p_positive.finish()),
                arr(self.decoded_pools_positive.finish()),
                arr(self.decoded_pools_negative.finish()),
            ],
        )
    }
}
