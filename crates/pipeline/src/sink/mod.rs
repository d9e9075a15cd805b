//! Output sinks: alerts and dead letters as NDJSON (Parquet lives in
//! `pooltrace-parquet`).

mod alerts;
mod dead_letters;

pub use alerts::AlertWriter;
pub use dead_letters::{DeadLetter, DeadLetterWriter, Origin};
