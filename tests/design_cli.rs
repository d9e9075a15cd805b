//! `pooltrace design show|evaluate` and `pooltrace plan` through the binary.

mod support;

use support::bin;

fn json(args: &[&str]) -> serde_json::Value {
    let o = bin().args(args).output().unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn design_show_verifies_builtins_and_files() {
    let p = json(&["design", "show", "kirkman-45x105", "--json"]);
    assert_eq!(
        (p["pools"].as_u64(), p["samples"].as_u64()),
        (Some(45), Some(105))
    );
    assert_eq!(
        (
            p["multiplicity_min"].as_u64(),
            p["max_overlap"].as_u64(),
            p["guaranteed_decodable"].as_u64()
        ),
        (Some(3), Some(1), Some(2))
    );
    // A 2x3 array as a Tapestry-style CSV file: one line per pool, a 0/1 column per sample.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("grid.csv");
    std::fs::write(
        &csv,
        "1,1,1,0,0,0\n0,0,0,1,1,1\n1,0,0,1,0,0\n0,1,0,0,1,0\n0,0,1,0,0,1\n",
    )
    .unwrap();
    let p = json(&["design", "show", csv.to_str().unwrap(), "--json"]);
    assert_eq!(
        (
            p["pools"].as_u64(),
            p["samples"].as_u64(),
            p["max_overlap"].as_u64()
        ),
        (Some(5), Some(6), Some(1))
    );
    let o = bin()
        .args(["design", "show", "no-such-design"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("built-in designs"));
}

#[test]
fn design_evaluate_json_has_the_documented_keys() {
    let e = json(&[
        "design",
        "evaluate",
        "--design",
        "pbest-48x384",
        "--positives",
        "2",
        "--trials",
        "100",
        "--decoder",
        "comp",
        "--json",
    ]);
    let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 6, "{keys:?}");
    for k in [
        "sensitivity",
        "specificity",
        "exact_recovery",
        "mean_false_positives",
        "mean_undetermined",
        "tests_per_sample",
    ] {
        assert!(e.get(k).is_some(), "{k}");
    }
    // P-BEST decodes 2 positives exactly in the noiseless case.
    assert_eq!(e["exact_recovery"], 1.0);
    assert_eq!(e["tests_per_sample"], 48.0 / 384.0);
}

#[test]
fn plan_dorfman_rows_match_the_closed_form() {
    let (p, se, sp) = (0.02f64, 0.99f64, 0.99f64);
    let v = json(&["plan", "--prevalence", "0.02", "--json"]);
    for row in v["dorfman"].as_array().unwrap() {
        let k = row["pool_size"].as_u64().unwrap() as f64;
        let per_pool = 1.0 + k * (se + (1.0 - se - sp) * (1.0 - p).powf(k));
        let per_person = per_pool / k;
        assert!(
            (row["tests_per_person"].as_f64().unwrap() - per_person).abs() < 1e-12,
            "k={k}"
        );
        assert!((row["sensitivity"].as_f64().unwrap() - se * se).abs() < 1e-12);
        let spec = 1.0 - (1.0 - sp) * (se + (1.0 - se - sp) * (1.0 - p).powf(k - 1.0));
        assert!(
            (row["specificity"].as_f64().unwrap() - spec).abs() < 1e-12,
            "k={k}"
        );
    }
    assert!(v["recommendation"]["strategy"].is_string());
}
