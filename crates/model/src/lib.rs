//! # pooltrace-model: the wire contract v1
//!
//! The types every other pooltrace crate speaks: what sampling points publish
//! ([`Manifest`]), what labs publish ([`LabResult`], [`Receipt`]), and what the
//! pipeline produces ([`Alert`], [`TubeResultRow`], [`PersonOutcomeRow`]).
//!
//! This crate does no I/O. It parses one record from bytes
//! ([`decode_record`]: records of the plain shape publishers send take a
//! scanner of their own, anything else serde, with the same result),
//! validates it against the contract (field, value and reason on every
//! error: [`RecordError`]), and interprets Ct values with per-kit rules
//! ([`CtRules`]). The engine, the adapters (files, Kafka, Parquet) and the
//! simulator all share these definitions, so a record means the same thing
//! everywhere.

mod alert;
mod error;
mod ids;
mod interpret;
mod manifest;
mod outputs;
mod record;
mod record_fast;
mod result;
mod time;

pub use alert::{alert_id, Alert, AlertKind, AlertState, Evidence};
pub use error::RecordError;
pub use ids::{resident_id_check_char, validate_resident_id, validate_tube_id};
pub use interpret::{CtRules, Interpretation, KitRule};
pub use manifest::{Address, IdType, Manifest, Member, Region, TubeKind};
pub use outputs::{DecodedEvidence, PersonOutcome, PersonOutcomeRow, TubeResultRow};
pub use record::{decode_record, Record, RecordKind};
pub use result::{Call, Ct, LabResult, Receipt, ResultStatus};
pub use time::{EventTime, Timestamp, HOUR_MS, MINUTE_MS};
