//! Output sinks: alerts and dead letters as NDJSON (Parquet lives in
//! `pooltrace-parquet`).

mod dead_letters;
mod ndjson;

pub use dead_letters::{DeadLetter, Origin};
pub use ndjson::NdjsonWriter;
