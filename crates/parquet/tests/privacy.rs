//! No raw person id, name, phone or address leaves the process: not in the
//! file bytes, not in any string column once decompressed, not in the schema.

mod common;

use arrow_array::RecordBatch;
use arrow_schema::DataType;
use common::*;
use hmac::{Hmac, Mac};
use pooltrace_parquet::ParquetConfig;
use sha2::Sha256;

const IDS: [&str; 4] = [
    "22010219610708001X",
    "220102196107090023",
    "11010519491231002X",
    "440524188001010014",
];
const SECRETS: [&str; 4] = [
    "Zhang Sanfeng",
    "13800138000",
    "Lakeside Garden",
    "Room-1203",
];

/// HMAC-SHA256 computed here with the `hmac` crate, not through the sink.
fn expected_key(id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(id.as_bytes());
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_everything(dir: &std::path::Path) {
    // Tiny row groups and files so there are many files and pages to scan;
    // zstd level 1 compresses least.
    let config = ParquetConfig {
        max_rows_per_file: 7,
        row_group_rows: 3,
        row_group_memory_mb: 16,
        zstd_level: 1,
    };
    let mut sink = sink(dir, config);
    for round in 0..5 {
        for (i, id) in IDS.iter().enumerate() {
            let district = if i % 2 == 0 { "Chaoyang" } else { "Xi/cheng" };
            let mut row = outcome(id, district, "2022-05-10T09:00:00+08:00");
            row.revision = round;
            sink.write_person_outcome(&row).unwrap();
            let positive = IDS[(i + 1) % IDS.len()];
            sink.write_alert(&alert(
                id,
                positive,
                Some(region(district)),
                "2022-05-10T10:00:00+08:00",
            ))
            .unwrap();
            sink.write_alert(&alert(id, positive, None, "2022-05-11T10:00:00+08:00"))
                .unwrap();
        }
        sink.write_tube_result(&tube("EX1-POOL", "Chaoyang", "2022-05-10T08:00:00+08:00"))
            .unwrap();
    }
    let stats = sink.finish().unwrap();
    assert_eq!(stats.person_outcomes.rows, 20);
    assert_eq!(stats.alerts.rows, 40);
}

fn all_batches(dir: &std::path::Path) -> Vec<(String, Vec<RecordBatch>)> {
    files(dir)
        .into_iter()
        .map(|f| (f.display().to_string(), read(&dir.join(&f)).0))
        .collect()
}

#[test]
fn raw_identifiers_are_not_in_any_file_byte() {
    let dir = scratch("privacy_bytes");
    write_everything(&dir);
    let files = files(&dir);
    assert!(files.len() >= 10, "{files:?}");
    for f in &files {
        let bytes = std::fs::read(dir.join(f)).unwrap();
        for needle in IDS.iter().chain(SECRETS.iter()) {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} found in {}",
                f.display()
            );
        }
    }
}

#[test]
fn raw_identifiers_are_not_in_any_string_value() {
    let dir = scratch("privacy_values");
    write_everything(&dir);
    let mut checked = 0;
    for (file, batches) in all_batches(&dir) {
        let schema = batches[0].schema();
        for field in schema.fields() {
            assert!(
                ![
                    "person_id",
                    "name",
                    "phone",
                    "address",
                    "room",
                    "positive_person_id"
                ]
                .contains(&field.name().as_str()),
                "{file}: column {}",
                field.name()
            );
            if field.data_type() != &DataType::Utf8 {
                continue;
            }
            for value in strings(&batches, field.name()).into_iter().flatten() {
                checked += 1;
                for needle in IDS.iter().chain(SECRETS.iter()) {
                    assert!(
                        !value.contains(needle),
                        "{file}: {}={value:?} holds {needle}",
                        field.name()
                    );
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} values checked");
}

#[test]
fn person_keys_are_the_keyed_hmac_of_the_id() {
    let dir = scratch("privacy_keys");
    write_everything(&dir);
    let expected: Vec<String> = IDS.iter().map(|id| expected_key(id)).collect();
    let (mut outcomes, mut alerts) = (0, 0);
    for (file, batches) in all_batches(&dir) {
        let column = if file.starts_with("person_outcomes") {
            outcomes += batches.iter().map(RecordBatch::num_rows).sum::<usize>();
            "person_key"
        } else if file.starts_with("alerts") {
            alerts += batches.iter().map(RecordBatch::num_rows).sum::<usize>();
            for key in strings(&batches, "positive_person_key") {
                assert!(
                    expected.contains(&key.expect("positive_person_key set")),
                    "{file}"
                );
            }
            "person_key"
        } else {
            continue;
        };
        for key in strings(&batches, column) {
            let key = key.expect("person_key set");
            assert!(
                expected.contains(&key),
                "{file}: {key} is no HMAC of a test id"
            );
        }
    }
    assert_eq!((outcomes, alerts), (20, 40));
    // Chaoyang rows hold ids 0 and 2 only: the key is per person, not per row.
    let (batches, _) =
        read(&dir.join("person_outcomes/date=2022-05-10/district=Chaoyang/part-00000.parquet"));
    let keys = strings(&batches, "person_key");
    assert_eq!(keys[0].as_deref(), Some(expected[0].as_str()));
    assert_eq!(keys[1].as_deref(), Some(expected[2].as_str()));
}
