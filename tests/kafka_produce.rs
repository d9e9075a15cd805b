//! `pooltrace produce` and `pooltrace topics` against a real broker
//! (tests/support/broker.rs): every good line arrives exactly once, on its
//! kind's topic and its tube's partition, in event-time order; bad lines are
//! reported and not sent; every partition gets one end-of-input tick.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use pooltrace_kafka::partitioner::tube_partition;
use pooltrace_kafka::produce::{Tick, TICK_HEADER, TICK_KEY};
use pooltrace_model::{decode_record, RecordKind, Timestamp};
use support::broker::{Broker, Msg};
use support::*;

/// Inserts `line` so that it becomes line `at` (1-based) of `path`.
fn insert_line(path: &Path, at: usize, line: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(at - 1, line);
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn simulate(dir: &Path) -> std::path::PathBuf {
    let sim = dir.join("sim");
    let o = bin()
        .args([
            "simulate", "--people", "2000", "--rounds", "1", "--seed", "7",
        ])
        .arg("--out")
        .arg(&sim)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    sim
}

#[test]
fn produced_city_arrives_once_on_its_tube_partition_with_ticks() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulate(dir.path());
    let manifests = sim.join("manifests.ndjson");
    let results = sim.join("results.ndjson");
    let receipts = sim.join("receipts.ndjson");
    // Malformed lines (file, line number): not JSON, a wrong field, a
    // truncated record, an empty object. A blank line is skipped, not rejected.
    insert_line(&manifests, 3, "this is not json");
    insert_line(
        &results,
        10,
        r#"{"tube_id":"T-BAD","lab_id":"L","reported_at":"2022-04-04T09:00:00+08:00","ct":{"N":51}}"#,
    );
    insert_line(&receipts, 5, r#"{"tube_id":"T00-00000009","lab_id":"#);
    insert_line(&receipts, 7, "");
    insert_line(&receipts, 100, "{}");
    let bad: Vec<(&Path, usize)> = vec![
        (&manifests, 3),
        (&results, 10),
        (&receipts, 5),
        (&receipts, 100),
    ];

    let broker = Broker::start();
    let partitions = 3;
    let topics = broker.create_topics("produce", partitions);
    let config = broker.config_file(dir.path(), &topics);
    let o = bin()
        .arg("produce")
        .arg("--config")
        .arg(&config)
        .arg("--manifests")
        .arg(&manifests)
        .arg("--results")
        .arg(&results)
        .arg("--receipts")
        .arg(&receipts)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");

    // Bad lines: reported with file and line number, counted.
    for (path, line) in &bad {
        let needle = format!("rejected {}:{line}: ", path.display());
        assert!(stderr.contains(&needle), "{needle} in {stderr}");
    }
    assert_eq!(stderr.matches("rejected ").count(), bad.len(), "{stderr}");
    assert!(
        stderr.contains(&format!("{} lines rejected", bad.len())),
        "{stderr}"
    );
    assert!(
        stderr.contains("field `ct.N`") || stderr.contains("ct.N"),
        "{stderr}"
    );

    // What should have arrived: every other non-blank line, by topic; the
    // ticks carry the greatest event time of them all.
    let inputs = [
        (RecordKind::Manifest, &manifests, &topics.manifests),
        (RecordKind::Result, &results, &topics.results),
        (RecordKind::Receipt, &receipts, &topics.receipts),
    ];
    let mut max_time: Option<Timestamp> = None;
    let mut good: Vec<Vec<String>> = Vec::new();
    for (kind, path, _) in &inputs {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() || bad.contains(&(path.as_path(), i + 1)) {
                continue;
            }
            let r = decode_record(*kind, line.as_bytes(), 1 << 20)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1));
            let t = r.event_time();
            max_time = Some(max_time.map_or(t, |m| m.max_instant(t)));
            lines.push(line.to_string());
        }
        good.push(lines);
    }

    for ((kind, _, topic), expected) in inputs.into_iter().zip(good) {
        let msgs = broker.read_all(topic);
        let (ticks, records): (Vec<&Msg>, Vec<&Msg>) =
            msgs.iter().partition(|m| m.header(TICK_HEADER).is_some());
        // Each partition holds its tubes' lines in file order (the merge
        // never reorders one file), each once, key = tube id.
        let mut want: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
        for line in &expected {
            let r = decode_record(kind, line.as_bytes(), 1 << 20).unwrap();
            let p = tube_partition(r.tube_id(), partitions) as i32;
            want.entry(p).or_default().push(line);
        }
        let mut have: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
        for m in &records {
            let line = std::str::from_utf8(&m.value).unwrap();
            let r = decode_record(kind, line.as_bytes(), 1 << 20).unwrap();
            assert_eq!(m.key.as_deref(), Some(r.tube_id().as_bytes()), "{line}");
            have.entry(m.partition).or_default().push(line);
        }
        assert_eq!(
            want.len(),
            partitions as usize,
            "{topic}: tubes on every partition"
        );
        for (p, lines) in &want {
            let got = have.get(p).map(Vec::as_slice).unwrap_or_default();
            assert_eq!(
                got.len(),
                lines.len(),
                "{topic} partition {p}: every good line exactly once"
            );
            assert!(
                got == lines.as_slice(),
                "{topic} partition {p}: the original lines, in order"
            );
        }
        assert_eq!(records.len(), expected.len(), "{topic}: nothing else");
        assert!(
            stderr.contains(&format!("sent {} records to {topic}", expected.len())),
            "{stderr}"
        );

        // One tick per partition, after that partition's records.
        assert_eq!(ticks.len(), partitions as usize, "{topic}: {ticks:?}");
        for p in 0..partitions as i32 {
            let in_p: Vec<&Msg> = msgs.iter().filter(|m| m.partition == p).collect();
            assert!(
                in_p.len() > 1,
                "{topic} partition {p} has records and a tick"
            );
            let tick = in_p.last().unwrap();
            assert_eq!(tick.header(TICK_HEADER), Some(&b"1"[..]));
            assert_eq!(tick.key.as_deref(), Some(TICK_KEY));
            let value: Tick = serde_json::from_slice(&tick.value).unwrap();
            assert_eq!(Some(value.tick_event_time), max_time);
            let raw: serde_json::Value = serde_json::from_slice(&tick.value).unwrap();
            assert_eq!(
                raw,
                serde_json::json!({"tick_event_time": max_time.unwrap().to_string()})
            );
        }
    }
    assert!(
        stderr.contains(&format!("{} end-of-input ticks", 3 * partitions)),
        "{stderr}"
    );
}

#[test]
fn topics_command_creates_six_and_produce_refuses_mixed_partition_counts() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let topics = broker.fresh_topic_names("topics-cmd");
    let config = broker.config_file(dir.path(), &topics);
    let topics_cmd = |partitions: &str| {
        let o = bin()
            .args(["topics", "--partitions", partitions, "--config"])
            .arg(&config)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let out = topics_cmd("2");
    for t in topics.all() {
        assert!(
            out.contains(&format!("created {t} (2 partitions)")),
            "{out}"
        );
    }
    // Existing topics are left as they are.
    let out = topics_cmd("5");
    for t in topics.all() {
        assert!(
            out.contains(&format!("exists  {t} (2 partitions)")),
            "{out}"
        );
    }

    // Inputs with different partition counts: produce says which.
    let mixed = broker.fresh_topic_names("mixed");
    let cfg = broker.config(&mixed);
    let admin = cfg.admin_config();
    let t = std::time::Duration::from_secs(30);
    pooltrace_kafka::topics::ensure_topics(&admin, &[&mixed.manifests, &mixed.receipts], 2, t)
        .unwrap();
    pooltrace_kafka::topics::ensure_topics(&admin, &[&mixed.results], 3, t).unwrap();
    let sim = simulate(dir.path());
    let mixed_dir = dir.path().join("mixed");
    std::fs::create_dir_all(&mixed_dir).unwrap();
    let o = bin()
        .arg("produce")
        .arg("--config")
        .arg(broker.config_file(&mixed_dir, &mixed))
        .arg("--manifests")
        .arg(sim.join("manifests.ndjson"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{stderr}");
    for needle in [
        format!("{} has 2", mixed.manifests),
        format!("{} has 3", mixed.results),
        format!("{} has 2", mixed.receipts),
    ] {
        assert!(stderr.contains(&needle), "{needle} in {stderr}");
    }

    // A missing topic is named, with how to create it.
    let absent = broker.fresh_topic_names("absent");
    let absent_dir = dir.path().join("absent");
    std::fs::create_dir_all(&absent_dir).unwrap();
    let o = bin()
        .arg("produce")
        .arg("--config")
        .arg(broker.config_file(&absent_dir, &absent))
        .arg("--manifests")
        .arg(sim.join("manifests.ndjson"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{stderr}");
    assert!(
        stderr.contains(&absent.manifests) && stderr.contains("pooltrace topics"),
        "{stderr}"
    );
}
