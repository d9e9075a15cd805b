//! NDJSON: every line decodes back, through the model's own decoder, to the
//! record that was written; the truth file is one object per line.

mod common;

use pooltrace_model::{decode_record, RecordKind};
use pooltrace_sim::write_ndjson;

#[test]
fn records_round_trip_through_the_wire_decoder() {
    let city = common::city(10_000, 21);
    let records: Vec<_> = city.round(0).collect();
    let (mut m, mut r, mut c) = (Vec::new(), Vec::new(), Vec::new());
    let counts = write_ndjson(&records, &mut m, &mut r, &mut c).unwrap();
    assert_eq!(counts.total() as usize, records.len());
    let mut decoded = Vec::new();
    for (kind, buf) in [
        (RecordKind::Manifest, &m),
        (RecordKind::Result, &r),
        (RecordKind::Receipt, &c),
    ] {
        for line in buf.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            decoded.push(decode_record(kind, line, 1 << 20).unwrap());
        }
    }
    assert_eq!(decoded.len(), records.len());
    for kind in [
        RecordKind::Manifest,
        RecordKind::Result,
        RecordKind::Receipt,
    ] {
        let ours: Vec<_> = records
            .iter()
            .map(|x| &x.record)
            .filter(|x| x.kind() == kind)
            .collect();
        let theirs: Vec<_> = decoded.iter().filter(|x| x.kind() == kind).collect();
        assert_eq!(ours, theirs, "{kind:?}");
    }
    let first = std::str::from_utf8(&m).unwrap().lines().next().unwrap();
    assert!(
        first.contains("\"collected_at\":\"2022-04-04T") && first.contains("+08:00"),
        "{first}"
    );
}

#[test]
fn truth_is_one_object_per_line() {
    let city = common::city(50_000, 22);
    let mut out = Vec::new();
    let lines = city.truth().write_ndjson(&mut out).unwrap();
    let rows: Vec<serde_json::Value> = std::str::from_utf8(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), lines);
    let infected: Vec<_> = rows.iter().filter(|r| r["type"] == "infected").collect();
    assert_eq!(infected.len(), city.truth().infected().len());
    let lost = rows.iter().filter(|r| r["type"] == "lost_tube").count();
    assert_eq!(lost, city.truth().rounds()[0].lost_tubes.len());
    let row = infected[0];
    for field in [
        "person_id",
        "ct",
        "household",
        "tube_id",
        "undetectable_after_dilution",
        "tube_outcome",
    ] {
        assert!(!row[field].is_null(), "{field} missing in {row}");
    }
    assert!(city.truth().is_infected(row["person_id"].as_str().unwrap()));
}
