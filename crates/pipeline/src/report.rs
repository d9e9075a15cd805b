//! The run summary: what was read, rejected, decided and raised.

use std::collections::BTreeMap;
use std::fmt;

use pooltrace_engine::Summary;
use serde::Serialize;

/// Everything a run did, for stderr and `summary.json`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunReport {
    /// Lines holding a record, per stream (`manifest`, `result`, `receipt`).
    pub lines_read: BTreeMap<&'static str, u64>,
    /// Blank lines skipped (they hold no record).
    pub blank_lines: u64,
    /// Records that reached the engine.
    pub records_valid: u64,
    /// Dead letters written, by code.
    pub dead_letters: BTreeMap<&'static str, u64>,
    /// People listed in valid manifests (a person in two tubes counts twice).
    pub people_in_manifests: u64,
    /// The engine's counters.
    pub engine: Summary,
    /// Rows written per Parquet table.
    pub parquet_rows: BTreeMap<&'static str, u64>,
    /// Parquet files written.
    pub parquet_files: u64,
    /// Tubes, households and people out of memory at the end (spilled to
    /// disk, see `engine.state_memory_mb`).
    pub spilled_tubes: u64,
    pub spilled_households: u64,
    pub spilled_people: u64,
    /// Wall-clock seconds the run took.
    pub elapsed_secs: f64,
}

impl RunReport {
    /// Every record read: valid ones plus dead letters from decoding.
    pub fn lines_total(&self) -> u64 {
        self.lines_read.values().sum()
    }

    /// All dead letters.
    pub fn dead_total(&self) -> u64 {
        self.dead_letters.values().sum()
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.engine;
        let secs = self.elapsed_secs.max(1e-9);
        writeln!(f, "pooltrace run summary")?;
        let reads: Vec<String> = self
            .lines_read
            .iter()
            .map(|(k, v)| format!("{k}s {v}"))
            .collect();
        writeln!(
            f,
            "  records read      {} ({})",
            self.lines_total(),
            reads.join(", ")
        )?;
        let dead: Vec<String> = self
            .dead_letters
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(
            f,
            "  rejected          {}{}",
            self.dead_total(),
            if dead.is_empty() {
                String::new()
            } else {
                format!(" ({})", dead.join(", "))
            }
        )?;
        writeln!(
            f,
            "  processed         {} (duplicates {}, stale {})",
            e.records_processed, e.records_duplicate, e.records_stale
        )?;
        writeln!(f, "  tubes decided     {}", e.tubes_decided)?;
        let o = |k: &str| e.outcomes.get(k).copied().unwrap_or(0);
        writeln!(
            f,
            "  people            cleared {} (by pool {}, own tube {}), pending {}, positive {}",
            o("cleared_by_pool") + o("negative"),
            o("cleared_by_pool"),
            o("negative"),
            e.people_pending,
            e.people_positive
        )?;
        let alerts: Vec<String> = e
            .alerts_raised
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(
            f,
            "  alerts raised     {}{}",
            e.alerts_raised.values().sum::<u64>(),
            if alerts.is_empty() {
                String::new()
            } else {
                format!(" ({})", alerts.join(", "))
            }
        )?;
        writeln!(f, "  alert records     {}", e.alert_records)?;
        let rows: Vec<String> = self
            .parquet_rows
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(
            f,
            "  parquet           {} files ({})",
            self.parquet_files,
            rows.join(", ")
        )?;
        if self.spilled_tubes + self.spilled_households + self.spilled_people > 0 {
            writeln!(
                f,
                "  spilled to disk   {} tubes, {} households, {} people (cold state past engine.state_memory_mb)",
                self.spilled_tubes, self.spilled_households, self.spilled_people
            )?;
        }
        write!(
            f,
            "  throughput        {:.2} s, {:.0} records/s, {:.0} people/s",
            self.elapsed_secs,
            self.lines_total() as f64 / secs,
            self.people_in_manifests as f64 / secs
        )
    }
}
