//! `pooltrace simulate`: valid files that `pooltrace run` takes whole, and
//! clear errors for bad flags.

mod support;

use pooltrace_sim::SimConfig;
use support::*;

fn lines(path: &std::path::Path) -> u64 {
    std::fs::read_to_string(path).unwrap().lines().count() as u64
}

#[test]
fn simulated_files_run_with_zero_dead_letters() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    let o = bin()
        .args([
            "simulate", "--people", "20000", "--rounds", "2", "--seed", "3",
        ])
        .args(["--prevalence", "0.01", "--out"])
        .arg(&sim)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);

    let cfg: SimConfig =
        serde_json::from_str(&std::fs::read_to_string(sim.join("sim_config.json")).unwrap())
            .unwrap();
    assert_eq!((cfg.people, cfg.rounds, cfg.seed), (20_000, 2, 3));
    let city = pooltrace_sim::City::generate(&cfg).unwrap();
    let tubes = city.tubes_per_round() as u64;
    let [m, r, c] =
        ["manifests", "results", "receipts"].map(|s| lines(&sim.join(format!("{s}.ndjson"))));
    // First-round records of both rounds: every tube's manifest and receipt,
    // a result for every tube the lab did not lose.
    let lost: u64 = city
        .truth()
        .rounds()
        .iter()
        .map(|r| r.lost_tubes.len() as u64)
        .sum();
    assert_eq!((m, c, r), (2 * tubes, 2 * tubes, 2 * tubes - lost));
    assert!(stdout.contains(&format!("manifests {m}")), "{stdout}");
    let truth = read_ndjson(&sim.join("truth.ndjson"));
    let infected = truth.iter().filter(|t| t["type"] == "infected").count();
    assert_eq!(infected, 2 * city.truth().infected().len());
    assert!(infected > 200, "{infected}");

    let out = dir.path().join("out");
    run(
        &[
            ("manifests", &sim.join("manifests.ndjson")),
            ("results", &sim.join("results.ndjson")),
            ("receipts", &sim.join("receipts.ndjson")),
        ],
        &out,
    );
    let s = summary(&out);
    assert_eq!(s["dead_letters"], serde_json::json!({}), "{s}");
    assert_eq!(s["records_valid"].as_u64(), Some(m + r + c));
    assert!(read_ndjson(&out.join("dead_letters.ndjson")).is_empty());
    let e = &s["engine"];
    assert_eq!(e["records_processed"].as_u64(), Some(m + r + c));
    // Without the retest loop, positive pools leave their members pending.
    assert!(
        e["alerts_raised"]["pool_retest"].as_u64().unwrap() > 0,
        "{s}"
    );
}

#[test]
fn bad_flags_are_named() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (vec!["--rounds", "0"], "--rounds"),
        (vec!["--prevalence", "1.5"], "prevalence"),
        (vec!["--people", "0"], "people"),
    ] {
        let o = bin()
            .arg("simulate")
            .args(&args)
            .arg("--out")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let bad = dir.path().join("sim.json");
    std::fs::write(&bad, r#"{"poeple": 5}"#).unwrap();
    let o = bin()
        .args(["simulate", "--sim-config"])
        .arg(&bad)
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("poeple"));
}
