//! Engine settings: deadlines, lateness, Ct rules.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use pooltrace_decode::Design;
use pooltrace_model::{CtRules, MINUTE_MS};
use serde::Deserialize;

/// Deadlines and grace windows, in minutes of event time.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Deadlines {
    /// `pool_retest` due after the pool result (default 120).
    pub pool_retest_min: i64,
    /// `hospital_transfer` due after the positive single-tube result (default 120).
    pub hospital_transfer_min: i64,
    /// `isolation_transfer` due after the co-resident's confirmation (default 480).
    pub isolation_transfer_min: i64,
    /// `parallel_retest` due after the inconclusive result (default 360).
    pub parallel_retest_min: i64,
    /// `resample` due after the invalid result (default 360).
    pub resample_min: i64,
    /// `presumptive_positive` due after the batch is decoded (default 120).
    pub presumptive_positive_min: i64,
    /// `lab_overdue` raised this long after a receipt with no result (default 360).
    pub lab_overdue_after_min: i64,
    /// `result_missing` raised this long after collection with no result (default 1440).
    pub result_missing_after_min: i64,
    /// `orphan_result` raised this long after a result with no manifest (default 30).
    pub orphan_result_after_min: i64,
    /// `batch_incomplete` raised this long after a batch's first result (default 360).
    pub batch_incomplete_after_min: i64,
    /// `discordant_pool` raised once the watermark is this long past the
    /// last negative retest of the pool (default 0: as soon as the watermark
    /// passes it, i.e. after the allowed lateness).
    pub discordant_pool_after_min: i64,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            pool_retest_min: 120,
            hospital_transfer_min: 120,
            isolation_transfer_min: 480,
            parallel_retest_min: 360,
            resample_min: 360,
            presumptive_positive_min: 120,
            lab_overdue_after_min: 360,
            result_missing_after_min: 1440,
            orphan_result_after_min: 30,
            batch_incomplete_after_min: 360,
            discordant_pool_after_min: 0,
        }
    }
}

/// Non-adaptive batches (several pools per sample, decoded in one round).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchConfig {
    /// Decoder: `comp`, `dd` (default), `scomp` or `ct` (Ct-aware). Whatever
    /// it cannot decide is `undetermined` and gets a `pool_retest`.
    pub decoder: String,
    /// Assay sensitivity the decoder assumes (default 1.0: perfect).
    pub sensitivity: f64,
    /// Assay specificity the decoder assumes (default 1.0: perfect).
    pub specificity: f64,
    /// Send decoded positives straight to `hospital_transfer` instead of
    /// `presumptive_positive` (only for a program that validated its design).
    pub positives_to_hospital: bool,
    /// Designs from files, by the name manifests use in `design`: a CSV
    /// (one line per pool, a 0/1 column per sample, as Tapestry publishes)
    /// or a JSON file. The runtime loads and verifies them into `designs`
    /// (the engine reads no files).
    pub design_files: BTreeMap<String, PathBuf>,
    /// Loaded designs (filled by the runtime from `design_files`; a name
    /// here wins over a built-in one).
    #[serde(skip)]
    pub designs: Vec<Arc<Design>>,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            decoder: "dd".into(),
            sensitivity: 1.0,
            specificity: 1.0,
            positives_to_hospital: false,
            design_files: BTreeMap::new(),
            designs: Vec::new(),
        }
    }
}

/// Everything the engine can be told.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    pub deadlines: Deadlines,
    /// How far behind the greatest event time seen the watermark trails, in
    /// minutes (default 5). Records behind the watermark are still processed.
    pub allowed_lateness_min: i64,
    /// Ct interpretation per kit.
    pub ct_rules: CtRules,
    /// Non-adaptive batch decoding.
    pub batch: BatchConfig,
    /// Event-time hours a key's state is kept after its last event (default
    /// 72; 0 keeps everything). Bounds memory in a service that runs for
    /// weeks: settled tubes, pools, batches, household sightings and people
    /// with no open alert are forgotten once the watermark is this far past
    /// them. People with an open alert are kept. A record about a forgotten
    /// key is treated as new (a late correction becomes an orphan result).
    pub retention_hours: i64,
    /// Estimated memory of tubes, households and people above which the
    /// cold ones (people: those with no open alert) are spilled to disk,
    /// in MiB (default 256; 0: never spill). Only with a store:
    /// `pooltrace run` and `demo` give the engine a file (`[spill]` in the
    /// runtime's config); Kafka mode, which checkpoints its state, keeps it
    /// all in memory. See [`crate::spill`].
    pub state_memory_mb: u64,
    /// Minutes of event time a tube, household or person must go untouched
    /// before it may be spilled (default 60): what is recent is likely needed
    /// again soon (a pool's retests, its members' later sightings).
    pub spill_after_min: i64,
    /// Folder of the spill files (default: `.spill` in the output
    /// directory). Read by the file runtime, which creates it and removes
    /// it at the end; the engine itself opens no file.
    pub spill_dir: Option<PathBuf>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            deadlines: Deadlines::default(),
            allowed_lateness_min: 5,
            ct_rules: CtRules::default(),
            batch: BatchConfig::default(),
            retention_hours: 72,
            state_memory_mb: 256,
            spill_after_min: 60,
            spill_dir: None,
        }
    }
}

impl EngineConfig {
    /// Checks what the types alone do not: the decoder name and the assay.
    pub fn validate(&self) -> Result<(), String> {
        pooltrace_decode::Decoder::from_name(&self.batch.decoder)
            .map_err(|e| format!("engine.batch.decoder = {:?}: {e}", self.batch.decoder))?;
        pooltrace_decode::Assay::new(self.batch.sensitivity, self.batch.specificity).map_err(
            |e| {
                format!(
                    "engine.batch.sensitivity / specificity = {} / {}: {e}",
                    self.batch.sensitivity, self.batch.specificity
                )
            },
        )?;
        let longest = [
            self.deadlines.result_missing_after_min,
            self.deadlines.lab_overdue_after_min,
            self.deadlines.batch_incomplete_after_min,
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        if self.retention_hours != 0
            && self.retention_hours * 60 < longest + self.allowed_lateness_min
        {
            return Err(format!(
                "engine.retention_hours = {}: must be 0 (keep everything) or cover the longest timer ({longest} min + lateness)",
                self.retention_hours
            ));
        }
        if self.spill_after_min < 0 {
            return Err(format!(
                "engine.spill_after_min = {}: must not be negative",
                self.spill_after_min
            ));
        }
        if self.allowed_lateness_min < 0 {
            return Err(format!(
                "engine.allowed_lateness_min = {}: must not be negative",
                self.allowed_lateness_min
            ));
        }
        Ok(())
    }
}

pub(crate) fn minutes(m: i64) -> i64 {
    m * MINUTE_MS
}
