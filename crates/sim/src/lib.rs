//! # pooltrace-sim: a synthetic city for screening
//!
//! A seeded, reproducible city of any size (tested to the 25.7 million people
//! of Shanghai's April 2022 rounds) with the records a whole-area screening
//! produces and the ground truth to check a pipeline against.
//!
//! - **City** ([`City::generate`] from a [`SimConfig`]): districts -> streets
//!   -> communities -> compounds -> buildings -> units -> rooms, one household
//!   of 1-6 people per room; residents with valid, unique 18-digit resident
//!   ids, names and phones (derived from the person's index when needed, not
//!   stored: a few bytes per person).
//! - **Zones and tubes**: each community is a lockdown (single or household
//!   tubes), control (10-in-1) or precaution (20-in-1) zone; pools fill in
//!   queue order, building by building.
//! - **Infections** at the configured prevalence, clustered in households and
//!   buildings, each with a true Ct.
//! - **Rounds** ([`City::round`]): manifests, receipts and lab results in the
//!   order they enter their streams, with Ct values from a dilution-aware
//!   assay model, lab delays (one slow lab), lost tubes and early results.
//! - **Closed loop** ([`City::respond`]): the retest a pipeline's alert
//!   triggers, as more records; [`ClosedLoop`] merges every round with the
//!   retests in entry-time order and explains who was missed
//!   ([`ClosedLoop::why_missed`]).
//! - **Truth** ([`City::truth`]): who is infected, their tubes, who was
//!   undetectable after dilution, lost tubes; [`Truth::write_ndjson`].
//! - **Writers** ([`write_ndjson`]): records as NDJSON, one writer per stream.
//!
//! The crate is a pure library: no files, no clock, no threads. Time is event
//! time in the data; output goes to the `Write` a caller passes. Every random
//! draw comes from a PCG stream keyed by the seed and what is drawn, so the
//! same seed and config give byte-identical records on every run and machine.
//!
//! ```
//! use pooltrace_sim::{City, SimConfig};
//! let city = City::generate(&SimConfig { people: 5_000, ..SimConfig::default() }).unwrap();
//! let records: Vec<_> = city.round(0).collect();
//! assert!(records.len() >= 2 * city.tubes_per_round());
//! assert!(records.windows(2).all(|w| w[0].emit_at <= w[1].emit_at));
//! ```

mod assay;
mod city;
mod closed_loop;
mod config;
mod geography;
mod infection;
mod labs;
mod missed;
mod ndjson;
mod people;
mod retest;
mod rng;
mod round;
mod truth;
mod zones;

pub use city::{parse_tube_id, tube_id, City, Person};
pub use closed_loop::{ClosedLoop, LoopRecord, LoopSource, LoopStats, RoundRecords};
pub use config::{AssayConfig, GeoConfig, LabConfig, SimConfig, ZoneMix};
pub use labs::lab_id;
pub use missed::MissReason;
pub use ndjson::{write_ndjson, write_record, StreamCounts};
pub use retest::retest_tube_id;
pub use round::{Screening, SimRecord};
pub use truth::{InfectedPerson, InfectedTube, RoundTruth, Truth, TubeOutcome};
pub use zones::Zone;

/// Why the simulator could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A configuration value is out of range; the message names the field.
    #[error("invalid simulation config: {0}")]
    Config(String),
    /// Writing output failed.
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    /// Serialising a record failed.
    #[error("JSON serialisation failed: {0}")]
    Json(#[from] serde_json::Error),
}
