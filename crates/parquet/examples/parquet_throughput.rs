//! Person-outcome throughput on one core:
//! `cargo run --release -p pooltrace-parquet --example parquet_throughput [ROWS] [OUT_DIR]`.
//!
//! Rows look like production ones: 10-person pools, 16 districts, three
//! local dates, 18-character resident ids; default settings (zstd 3). The
//! files go to a temp directory that is removed afterwards, or to OUT_DIR
//! (kept). Reports wall time and, on Linux, CPU time: the difference is
//! mostly waiting for the disk (every file is fsynced before its rename).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use pooltrace_model::{PersonOutcome, PersonOutcomeRow, Region, Timestamp, TubeKind};
use pooltrace_parquet::{ParquetConfig, ParquetSink, PseudonymKey};

const DISTRICTS: [&str; 16] = [
    "Dongcheng",
    "Xicheng",
    "Chaoyang",
    "Fengtai",
    "Shijingshan",
    "Haidian",
    "Mentougou",
    "Fangshan",
    "Tongzhou",
    "Shunyi",
    "Changping",
    "Daxing",
    "Huairou",
    "Pinggu",
    "Miyun",
    "Yanqing",
];

/// Rewrites `row` in place as row number `i`.
fn fill(row: &mut PersonOutcomeRow, i: u64, base: Timestamp) {
    let tube = i / 10;
    row.person_id.clear();
    let _ = write!(
        row.person_id,
        "1101051949{:07}{}",
        i * 7919 % 9_999_999,
        i % 10
    );
    // A new tube every 10 rows: its id and region are shared by its members,
    // as the engine shares them.
    if i.is_multiple_of(10) {
        row.tube_id = format!("T{tube:010}").into();
        row.region = Arc::new(Region {
            district: DISTRICTS[(tube % 16) as usize].to_string(),
            street: format!("Street-{}", tube % 97),
            community: format!("Community-{}", tube % 997),
        });
    }
    row.outcome = if tube % 200 == 199 {
        PersonOutcome::PoolPositivePending
    } else {
        PersonOutcome::ClearedByPool
    };
    row.decided_at = base.plus_millis((tube % 3) as i64 * 86_400_000 + (tube % 3600) as i64 * 1000);
    row.collected_at = row.decided_at.plus_millis(-6 * 3_600_000);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(5_000_000);
    let base = Timestamp::parse("2022-05-10T08:00:00+08:00")?;
    let mut row = PersonOutcomeRow {
        person_id: Default::default(),
        tube_id: "".into(),
        tube_kind: TubeKind::Pool,
        revision: 1,
        outcome: PersonOutcome::ClearedByPool,
        decided_by: "pool".into(),
        region: Region {
            district: String::new(),
            street: String::new(),
            community: String::new(),
        }
        .into(),
        collected_at: base,
        decided_at: base,
        retest_of: None,
        decoded: None,
    };

    let start = Instant::now();
    let cpu_start = cpu_seconds();
    for i in 0..n {
        fill(&mut row, i, base);
        std::hint::black_box(&row);
    }
    let generate = start.elapsed().as_secs_f64();
    let generate_cpu = cpu_seconds().zip(cpu_start).map(|(end, start)| end - start);

    let keep = std::env::args().nth(2).map(std::path::PathBuf::from);
    let out = keep
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("pooltrace-parquet-throughput"));
    let _ = std::fs::remove_dir_all(&out);
    let key = PseudonymKey::new(b"throughput-secret-0123456789abcdef")?;
    let mut sink = ParquetSink::create(&out, key, ParquetConfig::default())?;
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    for i in 0..n {
        fill(&mut row, i, base);
        sink.write_person_outcome(&row)?;
    }
    let stats = sink.finish()?;
    let total = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds()
        .zip(cpu_start)
        .zip(generate_cpu)
        .map(|((end, start), generate)| end - start - generate);
    let sink_only = total - generate;
    println!(
        "{n} person_outcome rows: {:.2} s total ({:.2} s generating rows), {} files, {:.1} MB, {:.1} bytes/row",
        total,
        generate,
        stats.files(),
        stats.person_outcomes.bytes as f64 / 1e6,
        stats.person_outcomes.bytes as f64 / n as f64,
    );
    println!(
        "sink throughput, wall: {:.2} M rows/s (write + encode + zstd + fsync + rename, generation excluded)",
        n as f64 / sink_only / 1e6
    );
    if let Some(cpu) = cpu {
        println!(
            "sink throughput, CPU: {:.2} M rows/s ({:.2} s CPU, generation excluded)",
            n as f64 / cpu / 1e6,
            cpu
        );
    }
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&out);
    }
    Ok(())
}

/// User + system CPU time of this process, from `/proc/self/stat` (Linux).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
