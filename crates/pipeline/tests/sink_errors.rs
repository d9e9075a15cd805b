//! A table that cannot be written stops the run with an error that names
//! it and its path, whichever sink thread writes it; the other outputs are
//! still closed properly.

use pooltrace_model::{decode_record, RecordKind};
use pooltrace_pipeline::sink::Origin;
use pooltrace_pipeline::{Config, Pipeline, RunError};

const MANIFEST: &str = r#"{"tube_id":"P1","kind":"pool","collected_at":"2022-05-10T08:00:00+08:00","site_id":"S","region":{"district":"D","street":"St","community":"C"},"members":[{"person_id":"p-1","id_type":"other"},{"person_id":"p-2","id_type":"other"}]}"#;
const RESULT: &str =
    r#"{"tube_id":"P1","lab_id":"L","reported_at":"2022-05-10T12:00:00+08:00","ct":{"IC":27.0}}"#;

fn origin(line: u64) -> Origin {
    Origin::File {
        stream: "test",
        path: "test".into(),
        line,
    }
}

/// Runs a negative pool of two (two person outcomes, one tube result)
/// with `table`'s directory taken by a file.
fn run_with_blocked(
    table: &str,
) -> (
    Result<pooltrace_pipeline::RunReport, RunError>,
    std::path::PathBuf,
) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut cfg = Config::default();
    cfg.privacy.pseudonym_key = Some("a-test-key-of-sixteen-bytes-or-more".into());
    let mut p = Pipeline::create(&cfg, &out).unwrap();
    std::fs::write(out.join(table), "in the way").unwrap();
    for (i, (kind, line)) in [
        (RecordKind::Manifest, MANIFEST),
        (RecordKind::Result, RESULT),
    ]
    .into_iter()
    .enumerate()
    {
        let r = decode_record(kind, line.as_bytes(), 1 << 20).unwrap();
        p.push(r, origin(i as u64 + 1)).unwrap();
    }
    let result = p.finish();
    // Keep the directory for the caller's checks.
    (result, dir.keep().join("out"))
}

/// Runs with `table` blocked; checks that the run failed naming the table
/// and the partition. Returns the output directory (removed by the caller).
fn fails_naming(table: &str) -> std::path::PathBuf {
    let (result, out) = run_with_blocked(table);
    let err = result
        .expect_err("the table could not be written")
        .to_string();
    assert!(err.contains(table), "{err}");
    assert!(err.contains("date=2022-05-10"), "{err}");
    out
}

#[test]
fn person_outcomes_that_cannot_be_written_fail_the_run_and_say_where() {
    let out = fails_naming("person_outcomes");
    // The other thread's tables are in place.
    let tube_results = std::fs::read_dir(out.join("tube_results/date=2022-05-10/district=D"))
        .unwrap()
        .count();
    assert_eq!(tube_results, 1);
    std::fs::remove_dir_all(out.parent().unwrap()).unwrap();
}

#[test]
fn tube_results_that_cannot_be_written_fail_the_run_and_say_where() {
    let out = fails_naming("tube_results");
    std::fs::remove_dir_all(out.parent().unwrap()).unwrap();
}
