//! `tube_results`: one row per decided tube revision (event time `reported_at`).

use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, StringBuilder, TimestampMillisecondBuilder, UInt32Builder,
};
use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, DataType, Schema, SchemaRef};
use pooltrace_model::{Timestamp, TubeResultRow};

use super::{arr, field, str_builder, ts_builder, utc_millis, CtColumns, RowBuffer, Table};

pub(crate) struct TubeResults {
    tube_id: StringBuilder,
    tube_kind: StringBuilder,
    revision: UInt32Builder,
    interpretation: StringBuilder,
    member_count: UInt32Builder,
    lab_id: StringBuilder,
    kit: StringBuilder,
    ct: CtColumns,
    corrected: BooleanBuilder,
    site_id: StringBuilder,
    street: StringBuilder,
    community: StringBuilder,
    collected_at: TimestampMillisecondBuilder,
    received_at: TimestampMillisecondBuilder,
    reported_at: TimestampMillisecondBuilder,
    retest_of: StringBuilder,
    batch_id: StringBuilder,
}

impl TubeResults {
    pub(crate) fn append(&mut self, row: &TubeResultRow) {
        self.tube_id.append_value(&row.tube_id);
        self.tube_kind.append_value(row.tube_kind.as_str());
        self.revision.append_value(row.revision);
        self.interpretation
            .append_value(row.interpretation.as_str());
        self.member_count.append_value(row.member_count);
        self.lab_id.append_value(&row.lab_id);
        self.kit.append_option(row.kit.as_deref());
        self.ct.append(Some(&row.ct));
        self.corrected.append_value(row.corrected);
        self.site_id.append_value(&row.site_id);
        self.street.append_value(&row.region.street);
        self.community.append_value(&row.region.community);
        self.collected_at.append_value(row.collected_at.millis());
        self.received_at
            .append_option(row.received_at.map(Timestamp::millis));
        self.reported_at.append_value(row.reported_at.millis());
        self.retest_of.append_option(row.retest_of.as_deref());
        self.batch_id.append_option(row.batch_id.as_deref());
    }
}

impl RowBuffer for TubeResults {
    const TABLE: Table = Table::TubeResults;
    const PLAIN_COLUMNS: &'static [&'static str] = &["tube_id", "retest_of"];
    const KEY_COLUMNS: &'static [&'static str] = &[];

    fn schema() -> SchemaRef {
        let [ct_orf1ab, ct_n, ct_e, ct_ic] = CtColumns::fields();
        Arc::new(Schema::new(vec![
            field("tube_id", DataType::Utf8, false),
            field("tube_kind", DataType::Utf8, false),
            field("revision", DataType::UInt32, false),
            field("interpretation", DataType::Utf8, false),
            field("member_count", DataType::UInt32, false),
            field("lab_id", DataType::Utf8, false),
            field("kit", DataType::Utf8, true),
            ct_orf1ab,
            ct_n,
            ct_e,
            ct_ic,
            field("corrected", DataType::Boolean, false),
            field("site_id", DataType::Utf8, false),
            field("street", DataType::Utf8, false),
            field("community", DataType::Utf8, false),
            field("collected_at", utc_millis(), false),
            field("received_at", utc_millis(), true),
            field("reported_at", utc_millis(), false),
            field("retest_of", DataType::Utf8, true),
            field("batch_id", DataType::Utf8, true),
        ]))
    }

    fn with_capacity(rows: usize) -> Self {
        TubeResults {
            tube_id: str_builder(rows, 16),
            tube_kind: str_builder(rows, 6),
            revision: UInt32Builder::with_capacity(rows),
            interpretation: str_builder(rows, 8),
            member_count: UInt32Builder::with_capacity(rows),
            lab_id: str_builder(rows, 8),
            kit: str_builder(rows, 8),
            ct: CtColumns::with_capacity(rows),
            corrected: BooleanBuilder::with_capacity(rows),
            site_id: str_builder(rows, 8),
            street: str_builder(rows, 12),
            community: str_builder(rows, 12),
            collected_at: ts_builder(rows),
            received_at: ts_builder(rows),
            reported_at: ts_builder(rows),
            retest_of: str_builder(rows, 4),
            batch_id: str_builder(rows, 4),
        }
    }

    fn len(&self) -> usize {
        self.tube_id.len()
    }

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
        let [ct_orf1ab, ct_n, ct_e, ct_ic] = self.ct.finish();
        RecordBatch::try_new(
            schema.clone(),
            vec![
                arr(self.tube_id.finish()),
                arr(self.tube_kind.finish()),
                arr(self.revision.finish()),
                arr(self.interpretation.finish()),
                arr(self.member_count.finish()),
                arr(self.lab_id.finish()),
                arr(self.kit.finish()),
                ct_orf1ab,
                ct_n,
                ct_e,
                ct_ic,
                arr(self.corrected.finish()),
                arr(self.site_id.finish()),
                arr(self.street.finish()),
                arr(self.community.finish()),
                arr(self.collected_at.finish()),
                arr(self.received_at.finish()),
                arr(self.reported_at.finish()),
                arr(self.retest_of.finish()),
                arr(self.batch_id.finish()),
            ],
        )
    }
}
