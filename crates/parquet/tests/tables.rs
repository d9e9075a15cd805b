//! Column values of `tube_results` and `alerts`, read back with the
//! `parquet` crate's Arrow reader.

mod common;

use std::path::PathBuf;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMillisecondType, UInt32Type};
use arrow_array::Array;
use common::*;
use pooltrace_parquet::{ParquetConfig, PseudonymKey};

#[test]
fn tube_results_partition_by_reported_at() {
    let dir = scratch("tube_results");
    let mut sink = sink(&dir, ParquetConfig::default());
    sink.write_tube_result(&tube("EX1-POOL", "Chaoyang", "2022-05-10T01:00:00+08:00"))
        .unwrap();
    let mut second = tube("EX2-POOL", "Haidian", "2022-05-09T23:30:00+08:00");
    second.kit = None;
    second.received_at = Some(ts("2022-05-09T22:00:00+08:00"));
    sink.write_tube_result(&second).unwrap();
    sink.finish().unwrap();

    assert_eq!(
        files(&dir),
        [
            PathBuf::from("tube_results/date=2022-05-09/district=Haidian/part-00000.parquet"),
            PathBuf::from("tube_results/date=2022-05-10/district=Chaoyang/part-00000.parquet"),
        ]
    );
    let (batches, _) =
        read(&dir.join("tube_results/date=2022-05-10/district=Chaoyang/part-00000.parquet"));
    let b = &batches[0];
    assert!(
        b.column_by_name("district").is_none(),
        "district is a partition key only"
    );
    assert_eq!(
        strings(&batches, "interpretation"),
        [Some("positive".into())]
    );
    assert_eq!(strings(&batches, "kit"), [Some("KIT-A".into())]);
    let ct = |name: &str| {
        b.column_by_name(name)
            .unwrap()
            .as_primitive::<Float64Type>()
            .clone()
    };
    assert_eq!(ct("ct_orf1ab").value(0), 31.5);
    assert_eq!(ct("ct_n").value(0), 30.25);
    assert!(ct("ct_e").is_null(0));
    assert_eq!(ct("ct_ic").value(0), 27.0);
    assert!(b.column_by_name("corrected").unwrap().as_boolean().value(0));
    assert!(b.column_by_name("received_at").unwrap().is_null(0));
    assert_eq!(
        b.column_by_name("member_count")
            .unwrap()
            .as_primitive::<UInt32Type>()
            .value(0),
        10
    );

    let (batches, _) =
        read(&dir.join("tube_results/date=2022-05-09/district=Haidian/part-00000.parquet"));
    assert_eq!(strings(&batches, "kit"), [None]);
    let received = batches[0].column_by_name("received_at").unwrap();
    let received = received.as_primitive::<TimestampMillisecondType>();
    assert_eq!(received.value(0), ts("2022-05-09T22:00:00+08:00").millis());
}

#[test]
fn alerts_without_region_go_to_the_null_partition() {
    let dir = scratch("alerts");
    let mut sink = sink(&dir, ParquetConfig::default());
    sink.write_alert(&alert(
        "22010219610708001X",
        "220102196107090023",
        Some(region("Chaoyang")),
        "2022-05-10T09:30:00+08:00",
    ))
    .unwrap();
    sink.write_alert(&alert(
        "11010519491231002X",
        "220102196107090023",
        None,
        "2022-05-10T09:30:00+08:00",
    ))
    .unwrap();
    sink.finish().unwrap();

    assert_eq!(
        files(&dir),
        [
            PathBuf::from("alerts/date=2022-05-10/district=Chaoyang/part-00000.parquet"),
            PathBuf::from(
                "alerts/date=2022-05-10/district=__HIVE_DEFAULT_PARTITION__/part-00000.parquet"
            ),
        ]
    );
    let (batches, _) =
        read(&dir.join("alerts/date=2022-05-10/district=Chaoyang/part-00000.parquet"));
    let key = PseudonymKey::new(SECRET).unwrap();
    assert_eq!(
        strings(&batches, "kind"),
        [Some("isolation_transfer".into())]
    );
    assert_eq!(strings(&batches, "state"), [Some("open".into())]);
    assert_eq!(
        strings(&batches, "person_key"),
        [Some(key.person_key("22010219610708001X"))]
    );
    assert_eq!(
        strings(&batches, "positive_person_key"),
        [Some(key.person_key("220102196107090023"))]
    );
    assert_eq!(strings(&batches, "pool_tube_id"), [Some("EX1-POOL".into())]);
    assert_eq!(
        strings(&batches, "interpretation"),
        [Some("positive".into())]
    );
    assert_eq!(strings(&batches, "decoder"), [None]);
    let due = batches[0]
        .column_by_name("due_at")
        .unwrap()
        .as_primitive::<TimestampMillisecondType>();
    assert_eq!(due.value(0), ts("2022-05-10T17:00:00+08:00").millis());
    let ct_n = batches[0]
        .column_by_name("ct_n")
        .unwrap()
        .as_primitive::<Float64Type>();
    assert_eq!(ct_n.value(0), 23.5);

    let (batches, _) = read(
        &dir.join("alerts/date=2022-05-10/district=__HIVE_DEFAULT_PARTITION__/part-00000.parquet"),
    );
    assert_eq!(strings(&batches, "street"), [None]);
    assert_eq!(strings(&batches, "community"), [None]);
}
