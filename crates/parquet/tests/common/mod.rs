//! Shared fixtures for the integration tests: rows, a scratch directory,
//! and a reader for what the sink wrote.
#![allow(dead_code)]

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use arrow_array::{Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData};
use pooltrace_model::{
    Address, Alert, AlertKind, AlertState, Ct, Evidence, Interpretation, PersonOutcome,
    PersonOutcomeRow, Region, Timestamp, TubeKind, TubeResultRow,
};
use pooltrace_parquet::{ParquetConfig, ParquetSink, PseudonymKey};

pub const SECRET: &[u8] = b"test-secret-0123456789abcdef";

/// An empty scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("pooltrace-parquet")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

pub fn sink(dir: &Path, config: ParquetConfig) -> ParquetSink {
    ParquetSink::create(dir, PseudonymKey::new(SECRET).expect("key"), config).expect("sink")
}

pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).expect("timestamp")
}

pub fn region(district: &str) -> Region {
    Region {
        district: district.into(),
        street: "Nanhu".into(),
        community: "Yuanyi".into(),
    }
}

pub fn outcome(person_id: &str, district: &str, decided_at: &str) -> PersonOutcomeRow {
    PersonOutcomeRow {
        person_id: person_id.into(),
        tube_id: "EX1-POOL".into(),
        tube_kind: TubeKind::Pool,
        revision: 1,
        outcome: PersonOutcome::ClearedByPool,
        decided_by: "pool".into(),
        region: region(district).into(),
        collected_at: ts("2022-05-09T20:00:00+08:00"),
        decided_at: ts(decided_at),
        retest_of: None,
        decoded: None,
    }
}

pub fn tube(tube_id: &str, district: &str, reported_at: &str) -> TubeResultRow {
    TubeResultRow {
        tube_id: tube_id.into(),
        tube_kind: TubeKind::Pool,
        revision: 2,
        interpretation: Interpretation::Positive,
        member_count: 10,
        lab_id: "LAB-1".into(),
        kit: Some("KIT-A".into()),
        ct: Ct {
            orf1ab: Some(31.5),
            n: Some(30.25),
            e: None,
            ic: Some(27.0),
        },
        corrected: true,
        site_id: "SITE-7".into(),
        region: region(district),
        collected_at: ts("2022-05-09T20:00:00+08:00"),
        received_at: None,
        reported_at: ts(reported_at),
        retest_of: None,
        batch_id: Some("B-1".into()),
    }
}

/// An isolation alert carrying everything the sink must drop.
pub fn alert(
    person_id: &str,
    positive_id: &str,
    region: Option<Region>,
    updated_at: &str,
) -> Alert {
    Alert {
        alert_id: pooltrace_model::alert_id(AlertKind::IsolationTransfer, person_id, "EX1-S1"),
        version: 2,
        kind: AlertKind::IsolationTransfer,
        state: AlertState::Open,
        person_id: Some(person_id.into()),
        tube_id: "EX1-S1".into(),
        raised_at: ts("2022-05-10T09:00:00+08:00"),
        due_at: Some(ts("2022-05-10T17:00:00+08:00")),
        updated_at: ts(updated_at),
        region,
        name: Some("Zhang Sanfeng".into()),
        phone: Some("13800138000".into()),
        address: Some(Address {
            compound: "Lakeside Garden".into(),
            building: "7".into(),
            unit: "2".into(),
            room: "Room-1203".into(),
        }),
        reason: "co-resident of a confirmed positive: central isolation".into(),
        evidence: Evidence {
            tube_kind: Some(TubeKind::Single),
            interpretation: Some(Interpretation::Positive),
            ct: Some(Ct {
                orf1ab: Some(22.0),
                n: Some(23.5),
                e: None,
                ic: None,
            }),
            lab_id: Some("LAB-1".into()),
            kit: Some("KIT-A".into()),
            pool_tube_id: Some("EX1-POOL".into()),
            positive_person_id: Some(positive_id.into()),
            batch_id: None,
            decoder: None,
            ..Evidence::default()
        },
        superseded_by: None,
        resolved_reason: None,
    }
}

/// Every file under `dir`, relative to it, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).expect("under root").to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A file's batches and its metadata, page index included.
pub fn read(path: &Path) -> (Vec<RecordBatch>, ParquetMetaData) {
    let file = File::open(path).expect("open parquet file");
    let options = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Optional);
    let builder =
        ParquetRecordBatchReaderBuilder::try_new_with_options(file, options).expect("reader");
    let meta = builder.metadata().as_ref().clone();
    let batches = builder
        .build()
        .expect("build reader")
        .collect::<Result<Vec<_>, _>>()
        .expect("read batches");
    (batches, meta)
}

pub fn rows(path: &Path) -> usize {
    read(path).0.iter().map(RecordBatch::num_rows).sum()
}

/// One string column over all batches.
pub fn strings(batches: &[RecordBatch], column: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for b in batches {
        let col = b
            .column_by_name(column)
            .unwrap_or_else(|| panic!("no column {column}"));
        let col = col
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("utf8 column");
        out.extend((0..col.len()).map(|i| col.is_valid(i).then(|| col.value(i).to_owned())));
    }
    out
}
