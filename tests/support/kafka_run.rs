//! Running `pooltrace run --brokers` instances in the Kafka tests: a
//! simulated city, its file-mode reference, producing it, starting,
//! killing and stopping instances, and reading their alerts and Parquet.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pooltrace_kafka::TopicNames;
use serde_json::Value;

use super::broker::Broker;
use super::{bin, run};

/// A simulated city's input files and the file-mode run on them.
pub struct City {
    pub dir: tempfile::TempDir,
    pub manifests: PathBuf,
    pub results: PathBuf,
    pub receipts: PathBuf,
}

impl City {
    pub fn simulate(people: u32, seed: u64) -> City {
        let dir = tempfile::tempdir().unwrap();
        let city = dir.path().join("city");
        let o = bin()
            .args(["simulate", "--people", &people.to_string(), "--rounds", "1"])
            .args(["--seed", &seed.to_string(), "--out"])
            .arg(&city)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        City {
            manifests: city.join("manifests.ndjson"),
            results: city.join("results.ndjson"),
            receipts: city.join("receipts.ndjson"),
            dir,
        }
    }

    /// Final alert states of `pooltrace run` on the files.
    pub fn file_mode_alerts(&self) -> BTreeMap<String, Value> {
        let out = self.dir.path().join("file-run");
        run(
            &[
                ("manifests", &self.manifests),
                ("results", &self.results),
                ("receipts", &self.receipts),
            ],
            &out,
        );
        let lines = std::fs::read_to_string(out.join("alerts.ndjson")).unwrap();
        finals(lines.lines().map(|l| serde_json::from_str(l).unwrap()))
    }

    pub fn file_mode_out(&self) -> PathBuf {
        self.dir.path().join("file-run")
    }

    /// Publishes the city with `pooltrace produce`.
    pub fn produce(&self, broker: &Broker, config: &Path) {
        let o = bin()
            .args(["produce", "--brokers", broker.addr(), "--config"])
            .arg(config)
            .arg("--manifests")
            .arg(&self.manifests)
            .arg("--results")
            .arg(&self.results)
            .arg("--receipts")
            .arg(&self.receipts)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "produce: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// The final state of every alert (last version by alert id), without its
/// version count and update time: with records arriving through several
/// partitions in any interleaving, an alert can pass through a different
/// number of intermediate versions; where it ends, and everything a
/// tracing team reads in it, must be the same.
pub fn finals(alerts: impl IntoIterator<Item = Value>) -> BTreeMap<String, Value> {
    let mut m: BTreeMap<String, (u64, Value)> = BTreeMap::new();
    for mut a in alerts {
        let id = a["alert_id"].as_str().unwrap().to_string();
        let v = a["version"].as_u64().unwrap();
        let obj = a.as_object_mut().unwrap();
        obj.remove("version");
        obj.remove("updated_at");
        match m.get(&id) {
            Some((old, _)) if *old >= v => {}
            _ => {
                m.insert(id, (v, a));
            }
        }
    }
    m.into_iter().map(|(k, (_, a))| (k, a)).collect()
}

/// Final alert states on the alert topic now.
pub fn topic_alerts(broker: &Broker, topics: &TopicNames) -> BTreeMap<String, Value> {
    finals(
        broker
            .read_all(&topics.alerts)
            .into_iter()
            .map(|m| serde_json::from_slice(&m.value).unwrap()),
    )
}

/// Waits until the alert topic's final states equal `expected` (or the
/// timeout passes) and returns the last states read.
pub fn wait_for_alerts(
    broker: &Broker,
    topics: &TopicNames,
    expected: &BTreeMap<String, Value>,
    timeout: Duration,
) -> BTreeMap<String, Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let got = topic_alerts(broker, topics);
        if &got == expected || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Asserts two final alert sets are equal, naming the first difference.
pub fn assert_same_alerts(expected: &BTreeMap<String, Value>, got: &BTreeMap<String, Value>) {
    for (id, a) in expected {
        match got.get(id) {
            None => panic!("alert {id} missing from Kafka: {a}"),
            Some(b) => assert_eq!(a, b, "alert {id} differs"),
        }
    }
    for (id, b) in got {
        assert!(expected.contains_key(id), "alert {id} only in Kafka: {b}");
    }
}

/// One `pooltrace run --brokers` process.
pub struct Instance {
    pub child: Child,
    pub log: PathBuf,
}

/// Where an instance keeps its state and writes Parquet.
pub struct Deployment<'a> {
    pub broker: &'a Broker,
    /// Static assignment (`[kafka] static_partitions`, TOML list) for every
    /// instance started; `None`: the consumer group shares the partitions.
    pub static_partitions: Option<String>,
    pub config: PathBuf,
    pub group: String,
    pub checkpoints: PathBuf,
    pub out: PathBuf,
}

impl Deployment<'_> {
    pub fn start(&self, name: &str) -> Instance {
        self.start_with(name, &[])
    }

    /// Starts an instance with extra environment variables.
    pub fn start_with(&self, name: &str, env: &[(&str, &str)]) -> Instance {
        let log = self.out.with_extension(format!("{name}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut cmd = bin();
        if let Some(list) = &self.static_partitions {
            cmd.env("POOLTRACE__KAFKA__STATIC_PARTITIONS", list);
        }
        cmd.envs(env.iter().copied());
        let child = cmd
            .args(["run", "--brokers", self.broker.addr(), "--config"])
            .arg(&self.config)
            .arg("--out")
            .arg(&self.out)
            .env("POOLTRACE__KAFKA__GROUP_ID", &self.group)
            .env("POOLTRACE__KAFKA__CHECKPOINT__STORE", &self.checkpoints)
            .env("POOLTRACE__KAFKA__CHECKPOINT__INTERVAL_MS", "300")
            // Checkpoint that often however long they take: the tests
            // crash instances between checkpoints, not pace them.
            .env("POOLTRACE__KAFKA__CHECKPOINT__MAX_SHARE_PERCENT", "100")
            // A killed member's partitions move on after this long.
            .env("POOLTRACE__KAFKA__SESSION_TIMEOUT_MS", "6000")
            .env("POOLTRACE__KAFKA__HEARTBEAT_INTERVAL_MS", "500")
            .env("RUST_LOG", "pooltrace_kafka=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        Instance { child, log }
    }
}

impl Instance {
    /// SIGTERM, then waits: the instance must checkpoint and exit 0.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: String = log
                    .lines()
                    .rev()
                    .take(15)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n");
                assert!(
                    status.success(),
                    "instance exited with {status}; its log ends:\n{tail}"
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "instance did not stop within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until this instance has checkpointed a partition past offset 0
    /// (it holds partitions and has done work).
    pub fn wait_for_progress(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let progressed = log.lines().any(|l| {
                l.contains("checkpoint partition=")
                    && l.split("next_offset=")
                        .nth(1)
                        .and_then(|r| r.split_whitespace().next())
                        .and_then(|n| n.parse::<i64>().ok())
                        .is_some_and(|n| n > 0)
            });
            if progressed {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no progress within {timeout:?}: {log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -9`.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Never leave a server running after a test.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every row of a Parquet table under `out` (sorted, as JSON text), read
/// with DuckDB; file names and hive directories do not matter.
pub fn parquet_rows(out: &Path, table: &str) -> Vec<String> {
    let script = r#"
import duckdb, json, sys
con = duckdb.connect()
rows = con.execute(f"SELECT COLUMNS(*)::VARCHAR FROM read_parquet('{sys.argv[1]}/{sys.argv[2]}/**/*.parquet', hive_partitioning = true)").fetchall()
cols = [d[0] for d in con.description]
for r in sorted(json.dumps(dict(zip(cols, r)), default=str, sort_keys=True) for r in rows):
    print(r)
"#;
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(out)
        .arg(table)
        .output()
        .expect("python3 with duckdb (scripts/test.sh installs it)");
    assert!(
        o.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Asserts the Kafka run's rows of `table` under `kafka` are the file
/// run's under `files`, no row missing and none duplicated, naming the
/// rows that differ.
pub fn assert_same_rows(kafka: &Path, files: &Path, table: &str) {
    let got = parquet_rows(kafka, table);
    let want = parquet_rows(files, table);
    if got == want {
        return;
    }
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        let mut b = b.to_vec();
        a.iter()
            .filter(|r| match b.iter().position(|x| x == *r) {
                Some(i) => {
                    b.swap_remove(i);
                    false
                }
                None => true,
            })
            .cloned()
            .collect()
    };
    panic!(
        "{table}: {} rows from Kafka, {} from the file run\nonly from Kafka:\n{}\nonly from the file run:\n{}",
        got.len(),
        want.len(),
        only(&got, &want).join("\n"),
        only(&want, &got).join("\n")
    );
}

/// Waits until the Kafka run's Parquet rows under `kafka` equal the file
/// run's under `files` (or the timeout passes). Rows reach Parquet at
/// checkpoints, and the last records wait until every source is idle: a
/// run can have sent every alert before it has written every row.
pub fn wait_for_rows(kafka: &Path, files: &Path, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let tables = ["tube_results", "person_outcomes"];
    let want: Vec<Vec<String>> = tables.iter().map(|t| parquet_rows(files, t)).collect();
    while Instant::now() < deadline {
        let got: Vec<Vec<String>> = tables.iter().map(|t| parquet_rows(kafka, t)).collect();
        if got == want {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
