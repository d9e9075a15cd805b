//! Input sources: NDJSON files (or stdin), and the event-time merge across them.

mod lines;
mod merge;
mod ndjson;

pub use lines::{Line, LineReader};
pub use merge::{tie_rank, EventTimeMerge, Item};
pub use ndjson::{NdjsonSource, Parsed};
