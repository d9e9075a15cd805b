//! Partition layout, column values and file metadata, read back with the
//! `parquet` crate's Arrow reader.

mod common;

use std::path::PathBuf;

use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMillisecondType, UInt32Type};
use arrow_array::Array;
use arrow_schema::{DataType, TimeUnit};
use common::*;
use parquet::basic::Compression;
use pooltrace_parquet::{ParquetConfig, PseudonymKey};

#[test]
fn rows_land_in_local_date_and_district_partitions() {
    let dir = scratch("partitions");
    let mut sink = sink(&dir, ParquetConfig::default());
    // 01:00 at +08:00 on 10 May is 17:00 UTC on 9 May: the local date wins.
    for id in [
        "22010219610708001X",
        "220102196107090023",
        "11010519491231002X",
    ] {
        sink.write_person_outcome(&outcome(id, "Chaoyang", "2022-05-10T01:00:00+08:00"))
            .unwrap();
    }
    sink.write_person_outcome(&outcome(
        "440524188001010014",
        "Chaoyang",
        "2022-05-09T23:30:00+08:00",
    ))
    .unwrap();
    // Same instant as 00:30 on 10 May at +08:00, but written in UTC: 9 May.
    sink.write_person_outcome(&outcome(
        "440524188001010014",
        "Chaoyang",
        "2022-05-09T16:30:00Z",
    ))
    .unwrap();
    sink.write_person_outcome(&outcome(
        "22010219610708001X",
        "Xi/cheng",
        "2022-05-10T01:00:00+08:00",
    ))
    .unwrap();
    sink.write_person_outcome(&outcome(
        "220102196107090023",
        "朝阳区",
        "2022-05-10T09:00:00+08:00",
    ))
    .unwrap();
    let stats = sink.finish().unwrap();
    assert_eq!(stats.person_outcomes.rows, 7);
    assert_eq!(stats.person_outcomes.files, 4);
    assert_eq!(stats.files(), 4);

    let expected: Vec<(PathBuf, usize)> = vec![
        (
            "person_outcomes/date=2022-05-09/district=Chaoyang/part-00000.parquet".into(),
            2,
        ),
        (
            "person_outcomes/date=2022-05-10/district=Chaoyang/part-00000.parquet".into(),
            3,
        ),
        (
            "person_outcomes/date=2022-05-10/district=Xi%2Fcheng/part-00000.parquet".into(),
            1,
        ),
        (
            "person_outcomes/date=2022-05-10/district=朝阳区/part-00000.parquet".into(),
            1,
        ),
    ];
    let found: Vec<(PathBuf, usize)> = files(&dir)
        .into_iter()
        .map(|f| (f.clone(), rows(&dir.join(f))))
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn person_outcome_columns_and_metadata() {
    let dir = scratch("person_columns");
    let mut sink = sink(&dir, ParquetConfig::default());
    let mut row = outcome(
        "22010219610708001X",
        "Chaoyang",
        "2022-05-10T01:00:00+08:00",
    );
    row.retest_of = Some("EX0-POOL".into());
    sink.write_person_outcome(&row).unwrap();
    sink.write_person_outcome(&outcome(
        "220102196107090023",
        "Chaoyang",
        "2022-05-10T02:00:00+08:00",
    ))
    .unwrap();
    sink.finish().unwrap();

    let path = dir.join("person_outcomes/date=2022-05-10/district=Chaoyang/part-00000.parquet");
    let (batches, meta) = read(&path);
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "person_key",
            "tube_id",
            "tube_kind",
            "revision",
            "outcome",
            "decided_by",
            "street",
            "community",
            "collected_at",
            "decided_at",
            "retest_of",
            "decoded_p_positive",
            "decoded_pools_positive",
            "decoded_pools_negative"
        ]
    );
    let key = PseudonymKey::new(SECRET).unwrap();
    assert_eq!(
        strings(&batches, "person_key"),
        [
            Some(key.person_key("22010219610708001X")),
            Some(key.person_key("220102196107090023"))
        ]
    );
    assert_eq!(
        strings(&batches, "outcome"),
        [
            Some("cleared_by_pool".into()),
            Some("cleared_by_pool".into())
        ]
    );
    assert_eq!(strings(&batches, "tube_kind")[0].as_deref(), Some("pool"));
    assert_eq!(strings(&batches, "street")[1].as_deref(), Some("Nanhu"));
    assert_eq!(
        strings(&batches, "retest_of"),
        [Some("EX0-POOL".into()), None]
    );
    let decided = batches[0].column_by_name("decided_at").unwrap();
    assert_eq!(
        decided.data_type(),
        &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
    );
    let decided = decided.as_primitive::<TimestampMillisecondType>();
    assert_eq!(decided.value(0), ts("2022-05-09T17:00:00Z").millis());
    assert_eq!(decided.value(1), ts("2022-05-09T18:00:00Z").millis());
    let revision = batches[0]
        .column_by_name("revision")
        .unwrap()
        .as_primitive::<UInt32Type>();
    assert_eq!(revision.value(0), 1);

    // zstd everywhere, chunk statistics everywhere, page index written.
    let rg = meta.row_group(0);
    for col in rg.columns() {
        assert!(
            matches!(col.compression(), Compression::ZSTD(_)),
            "{:?}",
            col.column_path()
        );
        let stats = col
            .statistics()
            .unwrap_or_else(|| panic!("no stats on {:?}", col.column_path()));
        assert!(stats.null_count_opt().is_some(), "{:?}", col.column_path());
        assert!(
            col.column_index_offset().is_some(),
            "no page index on {:?}",
            col.column_path()
        );
    }
    let decided_stats = rg.column(9).statistics().unwrap();
    assert_eq!(
        decided_stats.min_bytes_opt(),
        Some(&ts("2022-05-09T17:00:00Z").millis().to_le_bytes()[..])
    );
    assert!(
        meta.column_index().is_some(),
        "page-level column index missing"
    );
    // Low-cardinality strings have a dictionary page, ids do not.
    assert!(rg.column(2).dictionary_page_offset().is_some(), "tube_kind");
    assert!(
        rg.column(0).dictionary_page_offset().is_none(),
        "person_key"
    );
    let kv = meta.file_metadata().key_value_metadata().unwrap();
    assert!(kv
        .iter()
        .any(|k| k.key == "pooltrace.table" && k.value.as_deref() == Some("person_outcomes")));
}
