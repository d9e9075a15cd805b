//! `pooltrace alerts` against a real broker (tests/support/broker.rs):
//! filters by street and kind, prints each (alert_id, version) once, stops
//! at the end of the topic without `--follow` and keeps waiting with it.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pooltrace_kafka::rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use pooltrace_kafka::TopicNames;
use pooltrace_model::Alert;
use support::broker::Broker;
use support::*;

/// An alert as the runtime writes it.
fn alert(id: &str, version: u32, kind: &str, state: &str, street: &str, name: &str) -> Alert {
    serde_json::from_value(serde_json::json!({
        "alert_id": id, "version": version, "kind": kind, "state": state,
        "person_id": format!("P-{name}"), "tube_id": format!("T-{id}"),
        "raised_at": "2022-04-04T09:00:00+08:00",
        "due_at": "2022-04-04T11:00:00+08:00",
        "updated_at": format!("2022-04-04T09:{:02}:00+08:00", version * 10),
        "region": {"district": "Tianwan District", "street": street, "community": "Jiaxin Community"},
        "name": name, "phone": "15174388652",
        "address": {"compound": "Huarui Garden", "building": "Building 1", "unit": "Unit 1", "room": "101"},
        "reason": format!("{kind} for {name}"), "evidence": {}
    }))
    .unwrap()
}

/// Writes `alerts` to the alert topic: (partition, alert).
fn publish(broker: &Broker, topics: &TopicNames, alerts: &[(i32, &Alert)]) {
    let producer: BaseProducer = broker.config(topics).producer_config().create().unwrap();
    for (p, a) in alerts {
        let value = serde_json::to_vec(a).unwrap();
        producer
            .send(
                BaseRecord::to(&topics.alerts)
                    .key(a.subject())
                    .payload(&value)
                    .partition(*p),
            )
            .map_err(|(e, _)| e)
            .unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

/// Runs `pooltrace alerts` and waits for it to end by itself (60 s at most).
fn alerts(config: &Path, args: &[&str]) -> Output {
    let mut child = bin()
        .arg("alerts")
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("`pooltrace alerts {args:?}` did not stop at the end of the topic");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn lines(o: &Output) -> Vec<String> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn filters_dedups_and_stops_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let topics = broker.create_topics("alerts", 2);
    let config = broker.config_file(dir.path(), &topics);

    let nanhu = "Nanhu Subdistrict";
    let a1v1 = alert("a1", 1, "hospital_transfer", "open", nanhu, "Wei Haobin");
    let a1v2 = alert(
        "a1",
        2,
        "hospital_transfer",
        "resolved",
        nanhu,
        "Wei Haobin",
    );
    let a2 = alert("a2", 1, "pool_retest", "open", nanhu, "Sun Nagang");
    let a3 = alert(
        "a3",
        1,
        "hospital_transfer",
        "open",
        "Beihu Subdistrict",
        "Li Lei",
    );
    let a4 = alert("a4", 1, "hospital_transfer", "open", nanhu, "Zhang Wei");
    publish(
        &broker,
        &topics,
        &[
            (0, &a1v1),
            (0, &a1v2),
            (1, &a2),
            (1, &a3),
            // The same state written twice (a replay): shown once.
            (0, &a1v2),
            (1, &a4),
            (1, &a4),
        ],
    );

    let o = alerts(&config, &["--street", nanhu, "--kind", "hospital_transfer"]);
    let got = lines(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(got.len(), 3, "{got:#?}\n{stderr}");
    let a1: Vec<&String> = got.iter().filter(|l| l.contains("Wei Haobin")).collect();
    assert_eq!(a1.len(), 2, "{got:#?}");
    assert!(a1[0].contains("hospital_transfer open v1"), "{got:#?}");
    assert!(a1[1].contains("hospital_transfer resolved v2"), "{got:#?}");
    assert!(got.iter().any(|l| l.contains("Zhang Wei")), "{got:#?}");
    for l in &got {
        for field in [
            "person P-",
            "tube T-a",
            "phone 15174388652",
            "Nanhu Subdistrict",
            "Huarui Garden",
            "due 2022-04-04T11:00:00+08:00",
            "hospital_transfer for ",
        ] {
            assert!(l.contains(field), "{field} in {l}");
        }
    }
    assert!(!got
        .iter()
        .any(|l| l.contains("Li Lei") || l.contains("Sun Nagang")));
    assert!(
        stderr.contains("2 duplicate records skipped (of 7 records)"),
        "{stderr}"
    );

    // No filter: every distinct state once.
    let all = lines(&alerts(&config, &[]));
    assert_eq!(all.len(), 5, "{all:#?}");
    assert_eq!(lines(&alerts(&config, &["--kind", "pool_retest"])).len(), 1);
    assert!(lines(&alerts(&config, &["--street", "Nowhere"])).is_empty());

    // A kind that does not exist is refused, naming the kinds there are.
    let o = bin()
        .args(["alerts", "--kind", "hospital"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(stderr.contains("hospital_transfer"), "{stderr}");
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn follow_keeps_waiting_for_new_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let topics = broker.create_topics("follow", 1);
    let config = broker.config_file(dir.path(), &topics);
    let first = alert("f1", 1, "isolation_transfer", "open", "S", "First Person");
    publish(&broker, &topics, &[(0, &first)]);

    let mut child = KillOnDrop(
        bin()
            .arg("alerts")
            .arg("--follow")
            .arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(line.contains("First Person"), "{line}");
    // At the end of the topic it keeps running...
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "--follow stopped at the end"
    );
    // ...and shows what comes next.
    let second = alert("f2", 1, "isolation_transfer", "open", "S", "Second Person");
    publish(&broker, &topics, &[(0, &second)]);
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(line.contains("Second Person"), "{line}");
}
