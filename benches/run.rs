//! `pooltrace run` throughput on NDJSON: N people in 10-in-1 pools (1 % of
//! pools positive, each re-tested in single tubes), end to end in this
//! process: read, merge, validate, engine, alerts, dead letters, Parquet.
//!
//! Baseline in the same process: reading and validating the same files
//! (decode only). Prints people/s for both, the ratio, and peak RSS.
//!
//!     cargo bench --bench run -- [PEOPLE] [DAYS]   (default 1000000 people, 1 day)
//!     cargo bench --bench run -- [PEOPLE] [DAYS] --repeat N   (N runs of each, alternated)
//!     cargo bench --bench run -- [PEOPLE] [DAYS] --write-inputs DIR   (only write the inputs)
//!
//! With `--repeat N` both are run N times, alternated, and the median and
//! best of each are printed with every run's time: on a shared machine one
//! run can be a quarter slower than the next.
//!
//! With DAYS > 1 the same people are screened once a day (new tubes daily):
//! the state held at the end shows what retention keeps.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use pooltrace_model::{decode_record, resident_id_check_char, RecordKind};
use pooltrace_pipeline::{run_files, Config, Inputs};

/// The binary's allocator and its settings (mimalloc, the purge delay,
/// small pages for `run`): the bench measures the process `pooltrace run`
/// is, not a default mimalloc (which purges freed memory after 1 s and
/// backs faults with huge pages). Its unit test is compiled here too and
/// left unused: a bench has no test harness.
#[path = "../src/allocator.rs"]
#[allow(dead_code, unused_imports)]
mod allocator;

fn rid(n: u64) -> String {
    let first17 = format!("3101041980{:07}", n);
    let c = resident_id_check_char(first17.as_bytes()).expect("17 digits");
    format!("{first17}{}", c as char)
}

/// Writes the inputs line by line (the generator must not hold them in
/// memory: peak RSS is part of what this bench measures).
/// `days` screening rounds of the same `people`, one a day (new tubes each day).
fn generate(dir: &Path, people: u64, days: u64) {
    let mut mf = BufWriter::new(std::fs::File::create(dir.join("manifests.ndjson")).unwrap());
    let mut rf = BufWriter::new(std::fs::File::create(dir.join("results.ndjson")).unwrap());
    let (mut m, mut r) = (String::new(), String::new());
    let pools = people / 10;
    for (day, p) in (0..days).flat_map(|d| (0..pools).map(move |p| (d, p))) {
        let minute = p * 600 / pools;
        let at = format!(
            "2022-04-{:02}T{:02}:{:02}:00+08:00",
            4 + day,
            6 + minute / 60,
            minute % 60
        );
        let rep = format!(
            "2022-04-{:02}T{:02}:{:02}:00+08:00",
            4 + day,
            10 + minute / 60,
            minute % 60
        );
        m.push_str(&format!(r#"{{"tube_id":"P{day}-{p:08}","kind":"pool","collected_at":"{at}","site_id":"SITE-{}","region":{{"district":"D{}","street":"S{}","community":"C{}"}},"members":["#, p % 500, p % 16, p % 200, p % 5000));
        for i in 0..10 {
            let n = p * 10 + i;
            if i > 0 {
                m.push(',');
            }
            write!(m, r#"{{"person_id":"{}","name":"Person {n}","phone":"138{:08}","address":{{"compound":"C{}","building":"{}","unit":"1","room":"{}"}}}}"#, rid(n), n, p % 5000, p % 50, n % 1000).unwrap();
        }
        m.push_str("]}\n");
        let positive = p % 100 == 7;
        let ct = if positive {
            r#"{"ORF1ab":30.1,"N":31.2,"IC":27.0}"#
        } else {
            r#"{"IC":27.4}"#
        };
        writeln!(r, r#"{{"tube_id":"P{day}-{p:08}","lab_id":"LAB-{}","reported_at":"{rep}","kit":"KIT-1","ct":{ct}}}"#, p % 8).unwrap();
        mf.write_all(m.as_bytes()).unwrap();
        rf.write_all(r.as_bytes()).unwrap();
        m.clear();
        r.clear();
    }
    mf.flush().unwrap();
    rf.flush().unwrap();
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU seconds (user + system, all threads) this process has used: steadier
/// than wall time on a shared machine.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the ")" closing the command name; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        f.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn decode_only(dir: &Path) -> u64 {
    let mut n = 0;
    for (file, kind) in [
        ("manifests.ndjson", RecordKind::Manifest),
        ("results.ndjson", RecordKind::Result),
    ] {
        let f = BufReader::with_capacity(1 << 20, std::fs::File::open(dir.join(file)).unwrap());
        for line in f.split(b'\n') {
            let line = line.unwrap();
            if decode_record(kind, &line, 1 << 20).is_ok() {
                n += 1;
            }
        }
    }
    n
}

/// The command line: positional PEOPLE and DAYS, `--repeat N`,
/// `--write-inputs DIR` (a flag's value is not taken for a positional).
struct Args {
    people: u64,
    days: u64,
    repeat: usize,
    write_inputs: Option<String>,
}

fn args() -> Args {
    let (mut numbers, mut repeat, mut write_inputs) = (Vec::new(), 1, None);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--repeat" => repeat = it.next().and_then(|n| n.parse().ok()).unwrap_or(1),
            "--write-inputs" => write_inputs = it.next(),
            _ => numbers.extend(a.parse::<u64>().ok()),
        }
    }
    Args {
        people: numbers.first().copied().unwrap_or(1_000_000),
        days: numbers.get(1).copied().unwrap_or(1).max(1),
        repeat: repeat.max(1),
        write_inputs,
    }
}

/// Wall and CPU seconds of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (t, c) = (Instant::now(), cpu_secs());
    let out = f();
    (out, t.elapsed().as_secs_f64(), cpu_secs() - c)
}

/// (median, best) of wall times.
fn median_best(times: &[f64]) -> (f64, f64) {
    let mut v = times.to_vec();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0])
}

fn main() {
    let Args {
        people,
        days,
        repeat,
        write_inputs,
    } = args();
    allocator::configure();
    allocator::small_pages_for_run();
    // `--write-inputs DIR`: only write the inputs there (to profile `pooltrace run` on them).
    if let Some(dir) = write_inputs {
        std::fs::create_dir_all(&dir).unwrap();
        generate(Path::new(&dir), people, days);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    generate(dir.path(), people, days);
    eprintln!(
        "generated {people} people in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut cfg = Config::default();
    cfg.privacy.pseudonym_key = Some("bench-key-0123456789abcdef".into());
    let inputs = Inputs {
        manifests: Some(dir.path().join("manifests.ndjson")),
        results: Some(dir.path().join("results.ndjson")),
        receipts: None,
    };
    let (mut baselines, mut fulls) = (Vec::new(), Vec::new());
    let (mut decoded, mut baseline_cpu, mut full_cpu, mut report) = (0, 0.0, 0.0, None);
    for i in 0..repeat {
        let (n, wall, cpu) = timed(|| decode_only(dir.path()));
        (decoded, baseline_cpu) = (n, cpu);
        baselines.push(wall);
        let out = dir.path().join(format!("out-{i}"));
        let (r, wall, cpu) = timed(|| run_files(&cfg, &inputs, &out).unwrap());
        assert_eq!(r.people_in_manifests, people * days);
        full_cpu = cpu;
        fulls.push(wall);
        report = Some(r);
        std::fs::remove_dir_all(&out).unwrap();
    }
    let Some(report) = report else { return };
    let people = people * days;
    let (baseline, baseline_best) = median_best(&baselines);
    let (full, full_best) = median_best(&fulls);
    let list = |v: &[f64]| {
        v.iter()
            .map(|t| format!("{t:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("people                 {people}");
    if repeat > 1 {
        println!("runs (alternated)      {repeat}: each run, then medians (cpu: last run)");
        println!("decode only, each      {} s", list(&baselines));
        println!("run end to end, each   {} s", list(&fulls));
    }
    println!(
        "decode only (baseline) {:.2} s  {:>10.0} people/s  cpu {:.2} s  ({decoded} records)  best {:.0}/s",
        baseline,
        people as f64 / baseline,
        baseline_cpu,
        people as f64 / baseline_best
    );
    println!(
        "run end to end         {:.2} s  {:>10.0} people/s  cpu {:.2} s  best {:.0}/s",
        full,
        people as f64 / full,
        full_cpu,
        people as f64 / full_best
    );
    println!("ratio run/baseline     {:.2}", baseline / full);
    println!("peak RSS               {:.0} MiB", peak_rss_mib());
    println!(
        "state held at end      tubes {}, people {}, pools {}, households {}",
        report.engine.state_sizes.0,
        report.engine.state_sizes.1,
        report.engine.state_sizes.2,
        report.engine.state_sizes.3
    );
    println!(
        "forgotten (retention)  tubes {}, people {}, households {}",
        report.engine.evicted_tubes, report.engine.evicted_people, report.engine.evicted_households
    );
}
