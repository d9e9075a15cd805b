//! Kafka mode against a running broker, in one session on one machine:
//!
//! 1. a bare rdkafka consumer reading the three input topics from the
//!    beginning and doing nothing else (the ceiling);
//! 2. `pooltrace run --brokers` on the same topics (one instance, all
//!    partitions): time until its last alert, from the Prometheus endpoint;
//! 3. result-to-alert latency (p50, p99) at a steady offered load, from the
//!    runtime's `pooltrace_result_to_alert_seconds` summary.
//!
//! Prints people/s of (1) and (2) and the ratio (2)/(1).
//!
//!     cargo bench --bench kafka -- BROKER [PEOPLE] [TUBES_PER_S]
//!     (e.g. 127.0.0.1:19192 1000000 20000; start one with scripts/broker.sh)
//!
//! PEOPLE defaults to 1,000,000 (255,000 input records): at 200,000 the
//! bare consumer's start-up is most of its time and the ratio flatters
//! (0.55-0.67 there against 0.14-0.18 at 1 M, benches/README.md).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pooltrace_kafka::rdkafka::consumer::{BaseConsumer, Consumer};
use pooltrace_kafka::rdkafka::message::Message;
use pooltrace_kafka::rdkafka::{ClientConfig, Offset, TopicPartitionList};

const KEY: &str = "bench-pseudonym-key-0123456789";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pooltrace"));
    c.env("POOLTRACE_PSEUDONYM_KEY", KEY);
    c
}

fn ok(c: &mut Command) -> String {
    let o = c.output().expect("run pooltrace");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn config(dir: &Path, prefix: &str, broker: &str) -> std::path::PathBuf {
    let p = dir.join(format!("{prefix}.toml"));
    let t = |n: &str| format!("{prefix}.{n}");
    std::fs::write(
        &p,
        format!(
            "[kafka]\nbrokers = \"{broker}\"\ngroup_id = \"{prefix}\"\nstatic_partitions = [0, 1, 2, 3]\n\n[kafka.checkpoint]\nstore = \"{}\"\n\n[kafka.topics]\nmanifests = \"{}\"\nresults = \"{}\"\nreceipts = \"{}\"\nalerts = \"{}\"\ndead_letters = \"{}\"\ninternal = \"{}\"\n",
            dir.join(format!("{prefix}-ckpt")).display(),
            t("manifests"), t("results"), t("receipts"), t("alerts"), t("dead-letters"), t("internal")
        ),
    )
    .unwrap();
    p
}

/// A config for topics named `{prefix}.*`, and those topics (4 partitions).
fn deployment(dir: &Path, prefix: &str, broker: &str) -> std::path::PathBuf {
    let cfg = config(dir, prefix, broker);
    ok(bin()
        .args([
            "topics",
            "--brokers",
            broker,
            "--partitions",
            "4",
            "--config",
        ])
        .arg(&cfg));
    cfg
}

fn produce(broker: &str, cfg: &Path, city: &Path, rate: Option<u64>) -> f64 {
    let mut c = bin();
    c.args(["produce", "--brokers", broker, "--config"])
        .arg(cfg);
    for k in ["manifests", "results", "receipts"] {
        c.arg(format!("--{k}"))
            .arg(city.join(format!("{k}.ndjson")));
    }
    if let Some(r) = rate {
        c.args(["--rate", &r.to_string()]);
    }
    let t = Instant::now();
    ok(&mut c);
    t.elapsed().as_secs_f64()
}

fn scrape(port: u16) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}

fn sum(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(label) && !l.starts_with('#'))
        .filter(|l| l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Runs `pooltrace run` until its alert count has not moved for `quiet`;
/// returns (seconds to the last alert, the last metrics text).
fn run_until_quiet(
    broker: &str,
    cfg: &Path,
    out: &Path,
    quiet: Duration,
    during: impl FnOnce(),
) -> (f64, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = bin()
        .args(["run", "--brokers", broker, "--config"])
        .arg(cfg)
        .arg("--out")
        .arg(out)
        .env(
            "POOLTRACE__KAFKA__METRICS_LISTEN",
            format!("127.0.0.1:{port}"),
        )
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    during();
    let (mut last_alerts, mut last_change) = (-1.0, Instant::now());
    let text = loop {
        std::thread::sleep(Duration::from_millis(100));
        let Some(t) = scrape(port) else { continue };
        let alerts = sum(&t, "pooltrace_alerts_total", "");
        if alerts != last_alerts {
            last_alerts = alerts;
            last_change = Instant::now();
        }
        if alerts > 0.0 && last_change.elapsed() >= quiet {
            break t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1800),
            "no end in 30 min"
        );
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    ((last_change - start).as_secs_f64(), text)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let broker = args.first().cloned().unwrap_or_else(|| {
        eprintln!("usage: cargo bench --bench kafka -- BROKER [PEOPLE] [TUBES_PER_S]");
        std::process::exit(2)
    });
    let people: u64 = args
        .get(1)
        .map_or(1_000_000, |a| a.parse().expect("PEOPLE"));
    let tubes_per_s: u64 = args
        .get(2)
        .map_or(20_000, |a| a.parse().expect("TUBES_PER_S"));
    let dir = tempfile::tempdir().unwrap();
    let city = dir.path().join("city");
    ok(bin()
        .args([
            "simulate",
            "--people",
            &people.to_string(),
            "--rounds",
            "1",
            "--seed",
            "1",
            "--out",
        ])
        .arg(&city));
    let records: u64 = ["manifests", "results", "receipts"]
        .iter()
        .map(|k| {
            std::fs::read_to_string(city.join(format!("{k}.ndjson")))
                .unwrap()
                .lines()
                .count() as u64
        })
        .sum();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();

    // Throughput: everything published first, then read.
    let prefix = format!("bench{stamp}");
    let cfg = deployment(dir.path(), &prefix, &broker);
    produce(&broker, &cfg, &city, None);

    // (1) bare consumer.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &broker)
        .set("group.id", format!("{prefix}-bare"))
        .set("enable.auto.commit", "false")
        // As `pooltrace run` (its default `fetch_wait_max_ms`): the same
        // broker behaviour for both.
        .set(
            "fetch.wait.max.ms",
            pooltrace_kafka::KafkaConfig::default()
                .fetch_wait_max_ms
                .to_string(),
        )
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for t in ["manifests", "results", "receipts"] {
        for p in 0..4 {
            tpl.add_partition_offset(&format!("{prefix}.{t}"), p, Offset::Beginning)
                .unwrap();
        }
    }
    consumer.assign(&tpl).unwrap();
    let t = Instant::now();
    let (mut n, mut bytes) = (0u64, 0usize);
    while n < records {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            if m.key() != Some(pooltrace_kafka::produce::TICK_KEY) {
                n += 1;
                bytes +=
                    pooltrace_kafka::rdkafka::message::Message::payload(&m).map_or(0, |p| p.len());
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(600),
            "bare consumer stuck at {n}/{records}"
        );
    }
    let bare = t.elapsed().as_secs_f64();
    drop(consumer);

    // (2) pooltrace run.
    let (run, _) = run_until_quiet(
        &broker,
        &cfg,
        &dir.path().join("out"),
        Duration::from_secs(3),
        || {},
    );

    // (3) latency at a steady offered load (3 records per tube).
    let prefix2 = format!("lat{stamp}");
    let cfg2 = deployment(dir.path(), &prefix2, &broker);
    let rate = tubes_per_s * 3;
    let mut produce_secs = 0.0;
    let (_, metrics) = run_until_quiet(
        &broker,
        &cfg2,
        &dir.path().join("out2"),
        Duration::from_secs(5),
        || {
            std::thread::sleep(Duration::from_secs(2));
            produce_secs = produce(&broker, &cfg2, &city, Some(rate));
        },
    );
    let q = |quantile: &str| {
        metrics
            .lines()
            .find(|l| {
                l.starts_with("pooltrace_result_to_alert_seconds{")
                    && l.contains(&format!("quantile=\"{quantile}\""))
            })
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    println!(
        "people {people}, input records {records} ({:.1} MB), 4 partitions, broker {broker}",
        bytes as f64 / 1e6
    );
    println!(
        "(1) bare consumer   {bare:.2} s  {:.0} people/s  {:.0} records/s",
        people as f64 / bare,
        records as f64 / bare
    );
    println!(
        "(2) pooltrace run   {run:.2} s  {:.0} people/s  {:.0} records/s",
        people as f64 / run,
        records as f64 / run
    );
    println!("ratio (2)/(1)       {:.3}", bare / run);
    println!(
        "(3) offered {tubes_per_s} tubes/s ({rate} records/s; achieved {:.0} records/s): result->alert p50 {:.3} s, p99 {:.3} s",
        records as f64 / produce_secs,
        q("0.5"),
        q("0.99")
    );
}
