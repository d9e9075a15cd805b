//! Generation throughput and memory of a synthetic city.
//!
//! ```text
//! cargo run --release -p pooltrace-sim --example sim_throughput -- [PEOPLE] [--round] [--ids-only]
//! ```
//! Prints people/s of `City::generate` (city, infections and ground truth),
//! the city's heap bytes and the process's peak RSS; with `--round`, also the
//! records/s of round 0 built and serialised to NDJSON (into a byte counter);
//! `--ids-only` leaves names, phones and addresses off the manifests.

use std::io::{self, Write};
use std::time::Instant;

use pooltrace_sim::{write_ndjson, City, SimConfig};

/// Counts bytes written and drops them.
struct Count(u64);

impl Write for Count {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let people = args
        .iter()
        .find_map(|a| a.parse::<u32>().ok())
        .unwrap_or(25_700_000);
    let with_round = args.iter().any(|a| a == "--round");
    let cfg = SimConfig {
        people,
        member_details: !args.iter().any(|a| a == "--ids-only"),
        ..SimConfig::default()
    };
    let t0 = Instant::now();
    let city = City::generate(&cfg).expect("valid config");
    let secs = t0.elapsed().as_secs_f64();
    let (districts, streets) = city.districts_and_streets();
    println!(
        "generated {} people, {} households, {districts} districts, {streets} streets, {} communities, {} tubes/round, {} infected",
        city.people(),
        city.households(),
        city.communities(),
        city.tubes_per_round(),
        city.truth().infected().len()
    );
    println!(
        "generate: {secs:.2} s = {:.1} M people/s; city heap {:.1} MiB; peak RSS {:.1} MiB",
        city.people() as f64 / secs / 1e6,
        city.heap_bytes() as f64 / 1048576.0,
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    if with_round {
        let t1 = Instant::now();
        let round = city.round(0);
        let sorted = t1.elapsed().as_secs_f64();
        let (mut m, mut r, mut c) = (Count(0), Count(0), Count(0));
        let n = write_ndjson(round, &mut m, &mut r, &mut c).expect("in-memory write");
        let secs = t1.elapsed().as_secs_f64();
        println!(
            "round 0: {} records ({} manifests, {} receipts, {} results), {:.2} GB NDJSON; keys sorted in {sorted:.2} s, all in {secs:.2} s = {:.2} M records/s; peak RSS {:.1} MiB",
            n.total(),
            n.manifests,
            n.receipts,
            n.results,
            (m.0 + r.0 + c.0) as f64 / 1e9,
            n.total() as f64 / secs / 1e6,
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    }
}
