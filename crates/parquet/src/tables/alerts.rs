//! `alerts`: one row per alert version (event time `updated_at`).
//!
//! Written: ids, lifecycle, coarse geography and the evidence measurements.
//! Never written: `person_id` (only its `person_key`), `name`, `phone`,
//! `address`, and `evidence.positive_person_id` (only its
//! `positive_person_key`). `reason` is copied as is: the engine generates it
//! from templates and guarantees it never contains a person id, name, phone
//! or address.

use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, StringBuilder, TimestampMillisecondBuilder, UInt32Builder,
};
use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, DataType, Schema, SchemaRef};
use pooltrace_model::{Alert, Interpretation, Timestamp, TubeKind};

use super::{arr, field, str_builder, ts_builder, utc_millis, CtColumns, RowBuffer, Table};
use crate::pseudonym::PERSON_KEY_LEN;
use crate::PseudonymKey;

pub(crate) struct Alerts {
    alert_id: StringBuilder,
    version: UInt32Builder,
    kind: StringBuilder,
    state: StringBuilder,
    person_key: StringBuilder,
    tube_id: StringBuilder,
    raised_at: TimestampMillisecondBuilder,
    due_at: TimestampMillisecondBuilder,
    updated_at: TimestampMillisecondBuilder,
    street: StringBuilder,
    community: StringBuilder,
    reason: StringBuilder,
    superseded_by: StringBuilder,
    resolved_reason: StringBuilder,
    interpretation: StringBuilder,
    tube_kind: StringBuilder,
    ct: CtColumns,
    lab_id: StringBuilder,
    kit: StringBuilder,
    pool_tube_id: StringBuilder,
    positive_person_key: StringBuilder,
    batch_id: StringBuilder,
    decoder: StringBuilder,
}

fn append_key(b: &mut StringBuilder, key: &PseudonymKey, person_id: Option<&str>) {
    match person_id {
        Some(id) => {
            let mut hex = [0u8; PERSON_KEY_LEN];
            b.append_value(key.person_key_into(id, &mut hex));
        }
        None => b.append_null(),
    }
}

impl Alerts {
    pub(crate) fn append(&mut self, a: &Alert, key: &PseudonymKey) {
        let ev = &a.evidence;
        self.alert_id.append_value(&a.alert_id);
        self.version.append_value(a.version);
        self.kind.append_value(a.kind.as_str());
        self.state.append_value(a.state.as_str());
        append_key(&mut self.person_key, key, a.person_id.as_deref());
        self.tube_id.append_value(&a.tube_id);
        self.raised_at.append_value(a.raised_at.millis());
        self.due_at.append_option(a.due_at.map(Timestamp::millis));
        self.updated_at.append_value(a.updated_at.millis());
        self.street
            .append_option(a.region.as_ref().map(|r| &r.street));
        self.community
            .append_option(a.region.as_ref().map(|r| &r.community));
        self.reason.append_value(&a.reason);
        self.superseded_by.append_option(a.superseded_by.as_deref());
        self.resolved_reason
            .append_option(a.resolved_reason.as_deref());
        self.interpretation
            .append_option(ev.interpretation.map(Interpretation::as_str));
        self.tube_kind
            .append_option(ev.tube_kind.map(TubeKind::as_str));
        self.ct.append(ev.ct.as_ref());
        self.lab_id.append_option(ev.lab_id.as_deref());
        self.kit.append_option(ev.kit.as_deref());
        self.pool_tube_id.append_option(ev.pool_tube_id.as_deref());
        append_key(
            &mut self.positive_person_key,
            key,
            ev.positive_person_id.as_deref(),
        );
        self.batch_id.append_option(ev.batch_id.as_deref());
        self.decoder.append_option(ev.decoder.as_deref());
    }
}

impl RowBuffer for Alerts {
    const TABLE: Table = Table::Alerts;
    const PLAIN_COLUMNS: &'static [&'static str] = &[
        "alert_id",
        "person_key",
        "tube_id",
        "superseded_by",
        "pool_tube_id",
        "positive_person_key",
    ];
    const KEY_COLUMNS: &'static [&'static str] = &["person_key", "positive_person_key"];

    fn schema() -> SchemaRef {
        let [ct_orf1ab, ct_n, ct_e, ct_ic] = CtColumns::fields();
        let utf8 = |name: &str, nullable: bool| field(name, DataType::Utf8, nullable);
        Arc::new(Schema::new(vec![
            utf8("alert_id", false),
            field("version", DataType::UInt32, false),
            utf8("kind", false),
            utf8("state", false),
            utf8("person_key", true),
            utf8("tube_id", false),
            field("raised_at", utc_millis(), false),
            field("due_at", utc_millis(), true),
            field("updated_at", utc_millis(), false),
            utf8("street", true),
            utf8("community", true),
            utf8("reason", false),
            utf8("superseded_by", true),
            utf8("resolved_reason", true),
            utf8("interpretation", true),
            utf8("tube_kind", true),
            ct_orf1ab,
            ct_n,
            ct_e,
            ct_ic,
            utf8("lab_id", true),
            utf8("kit", true),
            utf8("pool_tube_id", true),
            utf8("positive_person_key", true),
            utf8("batch_id", true),
            utf8("decoder", true),
        ]))
    }

    fn with_capacity(rows: usize) -> Self {
        Alerts {
            alert_id: str_builder(rows, 32),
            version: UInt32Builder::with_capacity(rows),
            kind: str_builder(rows, 16),
            state: str_builder(rows, 8),
            person_key: str_builder(rows, PERSON_KEY_LEN),
            tube_id: str_builder(rows, 16),
            raised_at: ts_builder(rows),
            due_at: ts_builder(rows),
            updated_at: ts_builder(rows),
            street: str_builder(rows, 12),
            community: str_builder(rows, 12),
            reason: str_builder(rows, 48),
            superseded_by: str_builder(rows, 4),
            resolved_reason: str_builder(rows, 4),
            interpretation: str_builder(rows, 8),
            tube_kind: str_builder(rows, 6),
            ct: CtColumns::with_capacity(rows),
            lab_id: str_builder(rows, 8),
            kit: str_builder(rows, 8),
            pool_tube_id: str_builder(rows, 4),
            positive_person_key: str_builder(rows, 4),
            batch_id: str_builder(rows, 4),
            decoder: str_builder(rows, 4),
        }
    }

    fn len(&self) -> usize {
        self.alert_id.len()
    }

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
        let [ct_orf1ab, ct_n, ct_e, ct_ic] = self.ct.finish();
        RecordBatch::try_new(
            schema.clone(),
            vec![
                arr(self.alert_id.finish()),
                arr(self.version.finish()),
                arr(self.kind.finish()),
                arr(self.state.finish()),
                arr(self.person_key.finish()),
                arr(self.tube_id.finish()),
                arr(self.raised_at.finish()),
                arr(self.due_at.finish()),
                arr(self.updated_at.finish()),
                arr(self.street.finish()),
                arr(self.community.finish()),
                arr(self.reason.finish()),
                arr(self.superseded_by.finish()),
                arr(self.resolved_reason.finish()),
                arr(self.interpretation.finish()),
                arr(self.tube_kind.finish()),
                ct_orf1ab,
                ct_n,
                ct_e,
                ct_ic,
                arr(self.lab_id.finish()),
                arr(self.kit.finish()),
                arr(self.pool_tube_id.finish()),
                arr(self.positive_person_key.finish()),
                arr(self.batch_id.finish()),
                arr(self.decoder.finish()),
            ],
        )
    }
}
