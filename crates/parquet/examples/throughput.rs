//! Person-outcome throughput on one core:
//! `cargo run --release -p pooltrace-parquet --example throughput [ROWS]`.
//!
//! Rows look like production ones: 10-person pools, 16 districts, three
//! local dates, 18-character resident ids; default settings (zstd 3).

use std::fmt::Write as _;
use std::time::Instant;

use pooltrace_model::{PersonOutcome, PersonOutcomeRow, Region, Timestamp, TubeKind};
use pooltrace_parquet::{ParquetConfig, ParquetSink, PseudonymKey};

const DISTRICTS: [&str; 16] = [
    "Dongcheng", "Xicheng", "Chaoyang", "Fengtai", "Shijingshan", "Haidian", "Mentougou", "Fangshan",
    "Tongzhou", "Shunyi", "Changping", "Daxing", "Huairou", "Pinggu", "Miyun", "Yanqing",
];

/// Rewrites `row` in place as row number `i`.
fn fill(row: &mut PersonOutcomeRow, i: u64, base: Timestamp) {
    let tube = i / 10;
    row.person_id.clear();
    let _ = write!(row.person_id, "1101051949{:07}{}", i * 7919 % 9_999_999, i % 10);
    row.tube_id.clear();
    let _ = write!(row.tube_id, "T{tube:010}");
    row.region.district.clear();
    row.region.district.push_str(DISTRICTS[(tube % 16) as usize]);
    row.region.street.clear();
    let _ = write!(row.region.street, "Street-{}", tube % 97);
    row.region.community.clear();
    let _ = write!(row.region.community, "Community-{}", tube % 997);
    row.outcome = if tube % 200 == 0 { PersonOutcome::PoolPositivePending } else { PersonOutcome::ClearedByPool };
    row.decided_at = base.plus_millis((tube % 3) as i64 * 86_400_000 + (tube % 3600) as i64 * 1000);
    row.collected_at = row.decided_at.plus_millis(-6 * 3_600_000);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(5_000_000);
    let base = Timestamp::parse("2022-05-10T08:00:00+08:00")?;
    let mut row = PersonOutcomeRow {
        person_id: String::new(),
        tube_id: String::new(),
        tube_kind: TubeKind::Pool,
        revision: 1,
        outcome: PersonOutcome::ClearedByPool,
        decided_by: "pool".into(),
        region: Region { district: String::new(), street: String::new(), community: String::new() },
        collected_at: base,
        decided_at: base,
        retest_of: None,
    };

    let start = Instant::now();
    for i in 0..n {
        fill(&mut row, i, base);
        std::hint::black_box(&row);
    }
    let generate = start.elapsed().as_secs_f64();

    let out = std::env::temp_dir().join("pooltrace-parquet-throughput");
    let _ = std::fs::remove_dir_all(&out);
    let key = PseudonymKey::new(b"throughput-secret-0123456789abcdef")?;
    let mut sink = ParquetSink::create(&out, key, ParquetConfig::default())?;
    let start = Instant::now();
    for i in 0..n {
        fill(&mut row, i, base);
        sink.write_person_outcome(&row)?;
    }
    let stats = sink.finish()?;
    let total = start.elapsed().as_secs_f64();
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
        "sink throughput: {:.2} M rows/s (write + encode + zstd + files, generation excluded)",
        n as f64 / sink_only / 1e6
    );
    let _ = std::fs::remove_dir_all(&out);
    Ok(())
}
