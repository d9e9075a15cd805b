//! `pooltrace run --brokers` against a real broker: a simulated city
//! published to Kafka gives the same alerts as the file run on the same
//! files, with one instance or two sharing the partitions, across `kill -9`
//! crashes, with poison messages mixed in, and with its checkpoints in an
//! S3 bucket (`s3s-fs` on 127.0.0.1).

mod support;

use std::time::{Duration, Instant};

use pooltrace_kafka::rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use pooltrace_kafka::rdkafka::ClientConfig;
use support::broker::Broker;
use support::kafka_run::*;

const SETTLE: Duration = Duration::from_secs(120);

fn deployment<'a>(
    broker: &'a Broker,
    dir: &std::path::Path,
    name: &str,
    partitions: u32,
) -> (Deployment<'a>, pooltrace_kafka::TopicNames) {
    let topics = broker.create_topics(name, partitions);
    let config = broker.config_file(dir, &topics);
    (
        Deployment {
            broker,
            static_partitions: None,
            config,
            group: format!("{name}-group"),
            checkpoints: dir.join("checkpoints"),
            out: dir.join("out"),
        },
        topics,
    )
}

#[test]
fn a_city_through_kafka_gives_the_file_runs_alerts() {
    let broker = Broker::start();
    let city = City::simulate(3000, 7);
    let expected = city.file_mode_alerts();
    assert!(
        expected.len() > 50,
        "the city must raise alerts: {}",
        expected.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let (d, topics) = deployment(&broker, dir.path(), "e2e", 4);
    city.produce(&broker, &d.config);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let instance = d.start_with(
        "one",
        &[(
            "POOLTRACE__KAFKA__METRICS_LISTEN",
            &format!("127.0.0.1:{port}"),
        )],
    );
    let got = wait_for_alerts(&broker, &topics, &expected, SETTLE);
    wait_for_rows(&d.out, &city.file_mode_out(), SETTLE);
    let metrics = scrape(port);
    instance.stop();
    assert_same_alerts(&expected, &got);
    // The Prometheus endpoint counts what happened.
    let records: f64 = metric_sum(&metrics, "pooltrace_records_in_total");
    assert!(records >= 6000.0, "records in: {records}\n{metrics}");
    let alerts: f64 = metric_sum(&metrics, "pooltrace_alerts_total");
    assert!(alerts >= expected.len() as f64, "alerts: {alerts}");
    for name in [
        "pooltrace_checkpoint_seconds",
        "pooltrace_state_tubes",
        "pooltrace_result_to_alert_seconds",
        "pooltrace_consumer_lag",
        "pooltrace_event_time_seconds",
    ] {
        assert!(metrics.contains(name), "{name} missing:\n{metrics}");
    }
    // Every source read to its end: no record is left waiting.
    assert!(
        metrics.contains("pooltrace_pending_inputs"),
        "pooltrace_pending_inputs missing:\n{metrics}"
    );
    assert_eq!(
        metric_sum(&metrics, "pooltrace_pending_inputs"),
        0.0,
        "{metrics}"
    );
    // The analysts' rows are the file run's rows.
    for table in ["tube_results", "person_outcomes"] {
        assert_same_rows(&d.out, &city.file_mode_out(), table);
    }
}

/// A manifest published behind manifests with later times, for a tube
/// whose result had passed its orphan deadline by then (seed 13 holds
/// one): the file run raises an `orphan_result` and resolves it when the
/// manifest comes. Kafka must do the same whatever order the broker hands
/// the topics' records out in: records are processed in order of their
/// source's time, not their own.
#[test]
fn a_manifest_published_late_is_processed_where_the_file_run_processes_it() {
    let broker = Broker::start();
    let city = City::simulate(3000, 13);
    let expected = city.file_mode_alerts();
    let resolved_orphans = expected
        .values()
        .filter(|a| a["kind"] == "orphan_result" && a["state"] == "resolved")
        .count();
    assert!(
        resolved_orphans > 0,
        "the city must hold a manifest that comes after its result's orphan deadline"
    );
    let dir = tempfile::tempdir().unwrap();
    let (d, topics) = deployment(&broker, dir.path(), "late", 4);
    city.produce(&broker, &d.config);
    let instance = d.start("one");
    let got = wait_for_alerts(&broker, &topics, &expected, SETTLE);
    wait_for_rows(&d.out, &city.file_mode_out(), SETTLE);
    instance.stop();
    assert_same_alerts(&expected, &got);
    for table in ["tube_results", "person_outcomes"] {
        assert_same_rows(&d.out, &city.file_mode_out(), table);
    }
    // Where the ingest stopped, kept for a restart: after every record of
    // each input partition, with its greatest event time (ticks included).
    for (topic, kind, field) in [
        (&topics.manifests, "manifest", "collected_at"),
        (&topics.results, "result", "reported_at"),
        (&topics.receipts, "receipt", "received_at"),
    ] {
        let mut ends: std::collections::BTreeMap<i32, (i64, i64)> = Default::default();
        for m in broker.read_all(topic) {
            let v: serde_json::Value = serde_json::from_slice(&m.value).unwrap();
            let field = if v.get("tick_event_time").is_some() {
                "tick_event_time"
            } else {
                field
            };
            let t = pooltrace_model::Timestamp::parse(v[field].as_str().unwrap())
                .unwrap()
                .millis();
            let e = ends.entry(m.partition).or_insert((0, i64::MIN));
            *e = (e.0.max(m.offset + 1), e.1.max(t));
        }
        assert!(!ends.is_empty(), "{topic} holds records");
        for (p, (next, max)) in ends {
            let path = d
                .checkpoints
                .join(&d.group)
                .join(format!("src-{kind}-{p:04}.json"));
            let mark: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            assert_eq!(mark["next_offset"], next, "{}", path.display());
            assert_eq!(mark["max"][0], max, "{}", path.display());
        }
    }
}

/// GET /metrics from 127.0.0.1:port.
fn scrape(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics endpoint");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    body
}

/// The sum of every sample of a metric (all label sets).
fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter(|l| l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn two_instances_share_the_partitions_and_agree_with_one() {
    let broker = Broker::start();
    let city = City::simulate(3000, 11);
    let expected = city.file_mode_alerts();
    let dir = tempfile::tempdir().unwrap();
    let (d, topics) = deployment(&broker, dir.path(), "scale", 4);
    let a = d.start("a");
    let b = d.start("b");
    // Both in the group before the city comes (the work takes about a
    // second: a late joiner would find it done).
    let logs = [&a.log, &b.log];
    let deadline = Instant::now() + Duration::from_secs(60);
    while !logs
        .iter()
        .all(|log| std::fs::read_to_string(log).is_ok_and(|t| t.contains("partition opened")))
    {
        assert!(
            Instant::now() < deadline,
            "both instances hold partitions within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    city.produce(&broker, &d.config);
    let got = wait_for_alerts(&broker, &topics, &expected, SETTLE);
    let logs = [a.log.clone(), b.log.clone()];
    a.stop();
    b.stop();
    assert_same_alerts(&expected, &got);
    // Both did part of the work: each checkpointed a partition that had
    // processed input records.
    for log in logs {
        let text = std::fs::read_to_string(&log).unwrap();
        let worked = text.lines().any(|l| {
            l.split("TaskCounts { inputs: ")
                .nth(1)
                .and_then(|r| r.split(',').next())
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|n| n > 0)
        });
        assert!(
            worked,
            "{} processed no input record: {text}",
            log.display()
        );
    }
}

#[test]
fn kill_9_at_random_moments_loses_and_duplicates_nothing() {
    let broker = Broker::start();
    let city = City::simulate(60_000, 23);
    let expected = city.file_mode_alerts();
    let dir = tempfile::tempdir().unwrap();
    let (mut d, topics) = deployment(&broker, dir.path(), "crash", 4);
    // Crash and restart of one instance holding every partition: static
    // assignment, because the test broker's group coordinator does not
    // expire a killed member (the group would wait for it forever). What
    // is under test is the recovery from checkpoints, the same either way.
    d.static_partitions = Some("[0, 1, 2, 3]".into());
    city.produce(&broker, &d.config);
    // Kill moments from a fixed seed, each after the instance has made
    // progress (checkpointed past offset 0): reproducible, during the run.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut after_first_crash = None;
    for round in 0..3 {
        let instance = d.start(&format!("crash{round}"));
        instance.wait_for_progress(Duration::from_secs(90));
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis((seed >> 33) % 400));
        instance.kill();
        after_first_crash.get_or_insert_with(|| topic_alerts(&broker, &topics));
    }
    // The first crash came before the work was done.
    let before = after_first_crash.unwrap_or_default();
    assert!(
        before != expected,
        "all alerts were out before the first crash: kill earlier or use a bigger city"
    );
    let last = d.start("last");
    let got = wait_for_alerts(&broker, &topics, &expected, SETTLE);
    wait_for_rows(&d.out, &city.file_mode_out(), SETTLE);
    let log = std::fs::read_to_string(&last.log).unwrap();
    last.stop();
    assert_same_alerts(&expected, &got);
    assert!(
        log.lines()
            .any(|l| l.contains("partition opened") && !l.trim_end().ends_with("next_offset=0")),
        "the restarted instance restored checkpoints: {log}"
    );
    eprintln!(
        "alerts after the first crash: {} of {}",
        before.len(),
        expected.len()
    );
    for table in ["tube_results", "person_outcomes"] {
        assert_same_rows(&d.out, &city.file_mode_out(), table);
    }
}

#[test]
fn poison_messages_go_to_the_dead_letters_and_the_rest_is_processed() {
    let broker = Broker::start();
    let city = City::simulate(1000, 5);
    let expected = city.file_mode_alerts();
    let dir = tempfile::tempdir().unwrap();
    let (d, topics) = deployment(&broker, dir.path(), "poison", 2);
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.addr())
        .create()
        .unwrap();
    let poison: [(&str, &[u8]); 5] = [
        (&topics.results, b"{not json"),
        // Routable (tube id and event time read), rejected by the task's
        // full validation: the same origin and original key.
        (
            &topics.results,
            br#"{"tube_id":"T-CT","lab_id":"L","reported_at":"2000-01-01T00:00:00Z","ct":{"N":99}}"#,
        ),
        (&topics.manifests, br#"{"tube_id":"BAD 1","kind":"single"}"#),
        (&topics.results, &[0xff, 0xfe, 0x00]),
        (
            &topics.receipts,
            br#"{"tube_id":"T-X","lab_id":"L","received_at":"yesterday"}"#,
        ),
    ];
    for (topic, value) in poison {
        producer
            .send(
                BaseRecord::<[u8], [u8]>::to(topic)
                    .key(b"k")
                    .payload(value)
                    .partition(0),
            )
            .unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();
    city.produce(&broker, &d.config);
    let instance = d.start("one");
    let got = wait_for_alerts(&broker, &topics, &expected, SETTLE);
    instance.stop();
    assert_same_alerts(&expected, &got);
    let dead = broker.read_all(&topics.dead_letters);
    assert_eq!(dead.len(), poison.len(), "every poison message, once");
    for (m, (topic, value)) in dead.iter().zip(poison.iter()) {
        let _ = m;
        let found = dead
            .iter()
            .find(|m| m.value == *value)
            .unwrap_or_else(|| panic!("{topic}: {value:?} not dead-lettered"));
        assert_eq!(
            found.header("pooltrace-source-topic"),
            Some(topic.as_bytes())
        );
        assert_eq!(found.header("pooltrace-source-partition"), Some(&b"0"[..]));
        assert_eq!(found.key.as_deref(), Some(&b"k"[..]), "the original key");
        let reason = String::from_utf8_lossy(found.header("pooltrace-reason").unwrap()).to_string();
        assert!(!reason.is_empty());
        assert!(found.header("pooltrace-source-offset").is_some());
    }
    let reasons: Vec<String> = dead
        .iter()
        .map(|m| String::from_utf8_lossy(m.header("pooltrace-reason").unwrap()).to_string())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("received_at")),
        "the bad field is named: {reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("ct.N") && r.contains("99")),
        "the bad Ct is named: {reasons:?}"
    );
}

#[test]
fn checkpoints_in_an_s3_bucket_carry_an_instance_across_a_restart() {
    let broker = Broker::start();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("ckpt")).unwrap(); // the bucket
    let s3 = support::s3::S3Server::start(root.path());
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The end-to-end test's city: the checkpoint store must not change
    // what the run raises.
    let city = City::simulate(3000, 7);
    let expected = city.file_mode_alerts();
    let dir = tempfile::tempdir().unwrap();
    let (mut d, topics) = deployment(&broker, dir.path(), "s3ckpt", 4);
    d.checkpoints = "s3://ckpt/pooltrace".into();
    d.static_partitions = Some("[0, 1, 2, 3]".into());
    city.produce(&broker, &d.config);
    let first = d.start_with("first", &env);
    let got = wait_for_alerts(&broker, &topics, &expected, SETTLE);
    first.stop();
    assert_same_alerts(&expected, &got);
    // Each partition's checkpoint is an object in the bucket.
    for p in 0..4 {
        let object = root
            .path()
            .join(format!("ckpt/pooltrace/s3ckpt-group/p{p:04}.ckpt"));
        assert!(object.is_file(), "{} missing", object.display());
    }
    // A new instance resumes every partition from its object, past offset 0.
    let second = d.start_with("second", &env);
    let deadline = Instant::now() + Duration::from_secs(60);
    let resumed = |log: &str| {
        log.lines()
            .filter(|l| l.contains("partition opened"))
            .filter(|l| {
                l.split("next_offset=")
                    .nth(1)
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|n| n.parse::<i64>().ok())
                    .is_some_and(|n| n > 0)
            })
            .count()
    };
    loop {
        let log = std::fs::read_to_string(&second.log).unwrap_or_default();
        if resumed(&log) == 4 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted instance did not resume 4 partitions from S3: {log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    second.stop();
    // Nothing new or changed on the alert topic after the restart.
    assert_same_alerts(&expected, &topic_alerts(&broker, &topics));
}
