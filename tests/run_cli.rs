//! `pooltrace run` end to end on files: conformance, bad input, stdin,
//! replays, and clear errors.

mod support;

use std::collections::BTreeMap;
use std::io::Write;

use support::*;

/// Last record per alert id.
fn finals(alerts: &[serde_json::Value]) -> BTreeMap<String, serde_json::Value> {
    alerts
        .iter()
        .map(|a| (a["alert_id"].as_str().unwrap().to_string(), a.clone()))
        .collect()
}

#[test]
fn conformance_examples_through_the_binary() {
    for name in ["positive-pool", "invalid-inconclusive"] {
        let out = tempfile::tempdir().unwrap();
        let m = conformance(&format!("{name}.manifests.ndjson"));
        let r = conformance(&format!("{name}.results.ndjson"));
        run(&[("manifests", &m), ("results", &r)], out.path());
        let got = finals(&read_ndjson(&out.path().join("alerts.ndjson")));
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(conformance(&format!("{name}.expected.json"))).unwrap(),
        )
        .unwrap();
        let expected = expected["final_alert_states"].as_array().unwrap();
        assert_eq!(got.len(), expected.len(), "{name}: {got:#?}");
        let instant = |v: &serde_json::Value| {
            pooltrace_model::Timestamp::parse(v.as_str().unwrap())
                .unwrap()
                .millis()
        };
        for e in expected {
            let subject = e.get("person_id").or(e.get("tube_id")).unwrap();
            let a = got
                .values()
                .find(|a| {
                    a["kind"] == e["kind"]
                        && (a.get("person_id") == Some(subject) || a["tube_id"] == *subject)
                })
                .unwrap_or_else(|| panic!("{name}: missing {e}"));
            assert_eq!(a["state"], e["state"], "{name}: {e}");
            assert_eq!(instant(&a["raised_at"]), instant(&e["raised_at"]));
            assert_eq!(instant(&a["due_at"]), instant(&e["due_at"]));
        }
        assert!(read_ndjson(&out.path().join("dead_letters.ndjson")).is_empty());
    }
}

const GOOD_MANIFEST: &str = r#"{"tube_id": "G1", "kind": "pool", "collected_at": "2022-05-10T08:00:00+08:00", "site_id": "S", "region": {"district": "D1", "street": "St", "community": "C"}, "members": [{"person_id": "22010219610708001X"}, {"person_id": "220102196107090023"}]}"#;
const GOOD_RESULT: &str = r#"{"tube_id": "G1", "lab_id": "L", "reported_at": "2022-05-10T09:00:00+08:00", "ct": {"ORF1ab": 30.0, "N": 31.0, "IC": 27.0}}"#;

#[test]
fn bad_lines_are_dead_lettered_with_specific_reasons_and_good_lines_processed() {
    let dir = tempfile::tempdir().unwrap();
    let pool21: Vec<String> = (0..21)
        .map(|i| format!(r#"{{"person_id":"X{i}","id_type":"other"}}"#))
        .collect();
    let pool21 = GOOD_MANIFEST.replace("\"G1\"", "\"G21\"").replace(
        r#"[{"person_id": "22010219610708001X"}, {"person_id": "220102196107090023"}]"#,
        &format!("[{}]", pool21.join(",")),
    );
    let mut manifests: Vec<(Vec<u8>, &str)> = vec![
        (b"{\"tube_id\": \"broken".to_vec(), "EOF while parsing"),
        (GOOD_MANIFEST.replace("\"pool\"", "3").into_bytes(), "kind"),
        (
            GOOD_MANIFEST
                .replace(r#""site_id": "S", "#, "")
                .into_bytes(),
            "missing field `site_id`",
        ),
        (
            GOOD_MANIFEST
                .replace("08:00:00+08:00", "08:00")
                .into_bytes(),
            "collected_at",
        ),
        (
            GOOD_MANIFEST
                .replace("220102196107090023", "220102196107090024")
                .into_bytes(),
            "check digit",
        ),
        (pool21.into_bytes(), "21 members"),
        (b"{\"tube_id\": \"\xff\xfe\"}".to_vec(), "not valid UTF-8"),
        (
            [
                b"{\"x\": \"".to_vec(),
                vec![b'a'; 10 << 20],
                b"\"}".to_vec(),
            ]
            .concat(),
            "over the limit",
        ),
        (GOOD_MANIFEST.as_bytes().to_vec(), ""),
    ];
    manifests.insert(4, (b"[1, 2, 3]".to_vec(), "JSON object"));
    let results: Vec<(Vec<u8>, &str)> = vec![
        (GOOD_RESULT.replace("31.0", "51.0").into_bytes(), "ct.N"),
        (
            GOOD_RESULT.replace("31.0", "\"high\"").into_bytes(),
            "ct.N: invalid type",
        ),
        (GOOD_RESULT.as_bytes().to_vec(), ""),
        (
            GOOD_RESULT.replace("30.0", "20.0").into_bytes(),
            "different final result",
        ),
    ];
    let write = |name: &str, lines: &[(Vec<u8>, &str)]| {
        let p = dir.path().join(name);
        let mut f = std::fs::File::create(&p).unwrap();
        for (l, _) in lines {
            f.write_all(l).unwrap();
            f.write_all(b"\n").unwrap();
        }
        p
    };
    let m = write("m.ndjson", &manifests);
    let r = write("r.ndjson", &results);
    let out = dir.path().join("out");
    let o = run(&[("manifests", &m), ("results", &r)], &out);
    let dead = read_ndjson(&out.join("dead_letters.ndjson"));
    let expected_dead: Vec<(&str, usize, &str)> = manifests
        .iter()
        .enumerate()
        .filter(|(_, (_, why))| !why.is_empty())
        .map(|(i, (_, why))| ("m.ndjson", i + 1, *why))
        .chain(
            results
                .iter()
                .enumerate()
                .filter(|(_, (_, why))| !why.is_empty())
                .map(|(i, (_, why))| ("r.ndjson", i + 1, *why)),
        )
        .collect();
    assert_eq!(dead.len(), expected_dead.len(), "{dead:#?}");
    for (file, line, why) in expected_dead {
        let d = dead
            .iter()
            .find(|d| {
                d["origin"]["path"].as_str().unwrap().ends_with(file) && d["origin"]["line"] == line
            })
            .unwrap_or_else(|| panic!("no dead letter for {file}:{line}"));
        assert!(
            d["reason"].as_str().unwrap().contains(why),
            "{file}:{line}: {} should mention {why}",
            d["reason"]
        );
        assert!(d["raw"].as_str().unwrap().len() <= 10 << 20);
    }
    let big = dead.iter().find(|d| d["code"] == "too_long").unwrap();
    assert_eq!(big["raw_truncated"], true);
    assert!(dead.iter().any(|d| d["raw_lossy"] == true));
    // The good pool was decided: both members got a pool retest.
    let alerts = read_ndjson(&out.join("alerts.ndjson"));
    assert_eq!(alerts.len(), 2);
    assert!(alerts
        .iter()
        .all(|a| a["kind"] == "pool_retest" && a["tube_id"] == "G1"));
    // Every line accounted for: valid + rejected = read.
    let s = summary(&out);
    let read: u64 = s["lines_read"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let dead_n: u64 = s["dead_letters"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(read, (manifests.len() + results.len()) as u64);
    assert_eq!(dead_n, dead.len() as u64);
    let e = &s["engine"];
    let engine_total = [
        "records_processed",
        "records_duplicate",
        "records_stale",
        "records_rejected",
    ]
    .iter()
    .map(|k| e[k].as_u64().unwrap())
    .sum::<u64>();
    assert_eq!(s["records_valid"].as_u64().unwrap(), engine_total);
    assert_eq!(
        read,
        engine_total + dead_n - e["records_rejected"].as_u64().unwrap()
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("rejected"));
}

#[test]
fn stdin_input_and_replayed_input_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let m = std::fs::read_to_string(conformance("positive-pool.manifests.ndjson")).unwrap();
    let r = std::fs::read_to_string(conformance("positive-pool.results.ndjson")).unwrap();
    let once = dir.path().join("once");
    run(
        &[
            ("manifests", &conformance("positive-pool.manifests.ndjson")),
            ("results", &conformance("positive-pool.results.ndjson")),
        ],
        &once,
    );
    // The same input twice, results through stdin.
    let m2 = dir.path().join("m2.ndjson");
    std::fs::write(&m2, format!("{m}{m}")).unwrap();
    let twice = dir.path().join("twice");
    let mut child = bin()
        .args(["run", "--results", "-", "--manifests"])
        .arg(&m2)
        .arg("--out")
        .arg(&twice)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{r}{r}").as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(once.join("alerts.ndjson")).unwrap(),
        std::fs::read(twice.join("alerts.ndjson")).unwrap()
    );
    let (s1, s2) = (summary(&once), summary(&twice));
    assert_eq!(s1["parquet_rows"], s2["parquet_rows"]);
    assert_eq!(s2["engine"]["records_duplicate"], 14);
}

#[test]
fn clear_errors_for_missing_key_and_foreign_out_dir() {
    let dir = tempfile::tempdir().unwrap();
    let m = conformance("positive-pool.manifests.ndjson");
    let o = bin()
        .env_remove("POOLTRACE_PSEUDONYM_KEY")
        .args(["run", "--manifests"])
        .arg(&m)
        .arg("--out")
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("POOLTRACE_PSEUDONYM_KEY"));
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let o = bin()
        .args(["run", "--manifests"])
        .arg(&m)
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not written by pooltrace"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("precious.txt")).unwrap(),
        "keep me"
    );
}

/// `THP_enabled` of a running `pooltrace run` (Linux's /proc status), read
/// while it waits on its stdin; `None` where the kernel does not report it.
#[cfg(target_os = "linux")]
fn huge_pages_of_run(env: &[(&str, &str)]) -> Option<String> {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin()
        .args(["run", "--results", "-", "--out"])
        .arg(dir.path().join("out"))
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The setting is made before the input is read: wait until a thread of
    // the process is blocked reading its (still open, empty) stdin pipe.
    let proc = format!("/proc/{}", child.id());
    let reading = || {
        std::fs::read_dir(format!("{proc}/task"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|t| {
                std::fs::read_to_string(t.path().join("wchan")).is_ok_and(|w| w.contains("pipe"))
            })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !reading() {
        assert!(Instant::now() < deadline, "run never read its stdin");
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = std::fs::read_to_string(format!("{proc}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .map(|v| v.trim().to_string());
    drop(child.stdin.take()); // end of input: the run finishes
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    seen
}

#[cfg(target_os = "linux")]
#[test]
fn run_turns_transparent_huge_pages_off_unless_the_environment_decides() {
    let Some(default) = huge_pages_of_run(&[]) else {
        return; // a kernel without THP_enabled in /proc: nothing to read
    };
    assert_eq!(default, "0", "run should start with huge pages off");
    let allowed = huge_pages_of_run(&[("MIMALLOC_ALLOW_THP", "1")]);
    assert_eq!(
        allowed.as_deref(),
        Some("1"),
        "MIMALLOC_ALLOW_THP=1 should win"
    );
}
