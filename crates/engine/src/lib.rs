//! # pooltrace-engine: the deconvolution engine, sans-IO
//!
//! A pure, deterministic state machine in the style of quinn-proto: it takes
//! validated input records ([`pooltrace_model::Record`]) with their event
//! times and returns effects ([`Effect`]): alert state changes for tracing
//! teams and rows for analysts. It reads no files, opens no sockets and never
//! looks at a clock: time is the event time in the data, and timers fire when
//! the watermark (greatest event time seen minus the allowed lateness) passes
//! them. The same engine runs embedded, on files and on Kafka.
//!
//! Inside, state is split into keyed operators (see `ops/`), each owning the
//! state of one key and talking to the others only through messages
//! ([`msg::Msg`]), so that a distributed runtime can route each message to the
//! instance that owns its key:
//!
//! | operator   | key            | decides                                                      |
//! |------------|----------------|--------------------------------------------------------------|
//! | tube       | tube id        | joins manifest + result + receipt; orphan / overdue / missing timers |
//! | person     | person id      | the person's alerts (pool retest, hospital, isolation, ...)  |
//! | pool       | pool tube id   | `discordant_pool` when every member re-tests negative        |
//! | household  | address        | co-residents of a confirmed positive -> isolation            |
//! | batch      | batch id       | decodes a non-adaptive batch once every pool has a result    |
//!
//! State is kept compact, as it grows with every person seen: a tube's
//! manifest, result and receipt are held packed in byte buffers
//! ([`packed`]), and a [`msg::Contact`] is a handle on one member of a packed
//! manifest, read in place.
//!
//! Every operator derives the alerts it *should* have from its state and
//! reconciles them with the alerts it has emitted ([`alert_book`]): this makes
//! duplicates, out-of-order arrival and corrected results all converge to the
//! same final alert states, and a replay emit nothing new.
//!
//! Cold state can leave memory: with stores attached
//! ([`Engine::attach_spill`]), tubes, households and people (with no open
//! alert) untouched for a while are written out once those in memory pass
//! a budget, and read back when touched ([`spill`]). Outputs do not
//! change; the store is the one door to I/O, a trait the runtime
//! implements over a file.
//!
//! For Kafka mode, [`Engine::snapshot`] writes the whole state (operators,
//! timers, clock, summary) to versioned bytes and [`Engine::restore`] loads
//! them into a newly built engine, which then behaves exactly as the one
//! snapshotted; [`encode_msg`] / [`decode_msg`] carry a [`msg::Msg`] between
//! instances over the repartition topic. Both are MessagePack with named
//! fields (self-describing: the model's types omit empty fields); see
//! `snapshot.rs` for the layout.

pub mod alert_book;
mod config;
mod contact;
mod effect;
mod engine;
pub mod msg;
mod msg_wire;
mod observation;
pub mod ops;
pub mod packed;
mod packed_bytes;
mod packed_result;
pub mod partition;
mod snapshot;
pub mod spill;
mod summary;
mod timers;

pub use config::{BatchConfig, Deadlines, EngineConfig};
pub use effect::{Disposition, Effect, Rejection};
pub use engine::{Engine, Expected, SpillStats};
pub use partition::Partition;
pub use snapshot::{decode_msg, encode_msg, SnapshotError, MSG_FORMAT, SNAPSHOT_VERSION};
pub use summary::Summary;
