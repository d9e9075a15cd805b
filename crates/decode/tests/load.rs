//! CSV / JSON loading: round trips and errors that name where and why.

use pooltrace_decode::{
    builtin_names, design_from_csv, design_from_json, design_to_csv, design_to_json, Design,
    DesignError, LoadError,
};

#[test]
fn builtins_round_trip_through_csv_and_json() {
    for name in builtin_names() {
        let d = Design::builtin(name).unwrap();
        let csv = design_to_csv(&d);
        assert_eq!(csv.lines().count(), d.pool_count());
        let back = design_from_csv(name, &csv).unwrap();
        assert_eq!(back, d, "{name} via CSV");
        let back = design_from_json(&design_to_json(&d)).unwrap();
        assert_eq!(back, d, "{name} via JSON");
    }
}

#[test]
fn csv_tolerates_trailing_commas_whitespace_and_comments() {
    let text = "# 3 pools x 4 samples\n1,1,0,0,\n 0, 0 ,1,1 ,, \n\n1 0 1 0\r\n";
    let d = design_from_csv("t", text).unwrap();
    assert_eq!(d.samples(), 4);
    assert_eq!(d.pools(), &[vec![0, 1], vec![2, 3], vec![0, 2]]);
}

#[test]
fn csv_errors_name_line_and_column() {
    let e = design_from_csv("t", "1,0,1\n0,1,x\n").unwrap_err();
    assert_eq!(
        e,
        LoadError::BadCell {
            line: 2,
            column: 3,
            cell: "x".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "CSV line 2, column 3: cell `x` is not 0 or 1"
    );
    // An empty cell in the middle is a bad cell, not a skipped one.
    let e = design_from_csv("t", "1,,1\n").unwrap_err();
    assert_eq!(
        e,
        LoadError::BadCell {
            line: 1,
            column: 2,
            cell: "".into()
        }
    );
    let e = design_from_csv("t", "# c\n1,0,1\n\n0,1\n").unwrap_err();
    assert_eq!(
        e,
        LoadError::RaggedRow {
            line: 4,
            found: 2,
            first_line: 2,
            expected: 3
        }
    );
    assert_eq!(
        design_from_csv("t", "\n# nothing\n").unwrap_err(),
        LoadError::EmptyCsv
    );
    // Parses, but sample 2 (third column) is in no pool.
    let e = design_from_csv("t", "1,1,0\n0,1,0\n").unwrap_err();
    assert_eq!(
        e,
        LoadError::Design(DesignError::SampleInNoPool {
            name: "t".into(),
            sample: 2,
            count: 1
        })
    );
}

#[test]
fn json_errors_name_line_column_and_field() {
    let e = design_from_json("{\"name\": \"a\",\n \"pools\": [[0]]}").unwrap_err();
    match &e {
        LoadError::Json { line, why, .. } => {
            assert_eq!(*line, 2);
            assert!(why.contains("missing field `samples`"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    let e = design_from_json("{\"name\": \"a\", \"samples\": 2,\n\"pools\": [[0, \"1\"]]}")
        .unwrap_err();
    assert!(matches!(e, LoadError::Json { line: 2, .. }), "{e}");
    let e = design_from_json("{\"name\": \"a\", \"samples\": 2, \"pools\": [[0], [1, 7]]}")
        .unwrap_err();
    assert_eq!(
        e,
        LoadError::Design(DesignError::SampleOutOfRange {
            name: "a".into(),
            pool: 1,
            sample: 7,
            samples: 2
        })
    );
    let e = design_from_json("{\"name\": \"a\", \"samples\": 1, \"pools\": [[0]], \"extra\": 1}")
        .unwrap_err();
    assert!(e.to_string().contains("unknown field `extra`"), "{e}");
    let e =
        design_from_json("{\"name\": \"a\", \"samples\": 2, \"pools\": [[0, 1, 1]]}").unwrap_err();
    assert_eq!(
        e,
        LoadError::Design(DesignError::DuplicateInPool {
            name: "a".into(),
            pool: 0,
            sample: 1
        })
    );
}
