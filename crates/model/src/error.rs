//! Why an input record was rejected.

use thiserror::Error;

/// A record that does not meet wire contract v1. Every variant says which
/// field, what value, and why, so a lab can fix its feed from the message alone.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RecordError {
    /// The bytes are not UTF-8 (JSON must be).
    #[error("not valid UTF-8 at byte {at}")]
    NotUtf8 { at: usize },
    /// The line is longer than the configured maximum.
    #[error("record is {len} bytes, over the limit of {limit} bytes")]
    TooLong { len: usize, limit: usize },
    /// The line is empty or only whitespace.
    #[error("empty record")]
    Empty,
    /// Not JSON, or JSON of the wrong shape (missing field, wrong type, unknown field).
    #[error("{0}")]
    Json(String),
    /// A field has a value the contract does not allow.
    #[error("field `{field}` = {value}: {why}")]
    Invalid {
        field: String,
        value: String,
        why: String,
    },
}

impl RecordError {
    /// Shorthand for [`RecordError::Invalid`].
    pub fn invalid(field: impl Into<String>, value: impl ToString, why: impl Into<String>) -> Self {
        let mut value = value.to_string();
        if value.len() > 80 {
            let mut cut = 80;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            value.truncate(cut);
            value.push('…');
        }
        RecordError::Invalid {
            field: field.into(),
            value,
            why: why.into(),
        }
    }

    /// The same error about `field` (a field checked under a short name,
    /// named in full only when it fails).
    pub(crate) fn in_field(self, field: String) -> Self {
        match self {
            RecordError::Invalid { value, why, .. } => RecordError::Invalid { field, value, why },
            other => other,
        }
    }

    /// A short, stable code for metrics and dead-letter grouping.
    pub fn code(&self) -> &'static str {
        match self {
            RecordError::NotUtf8 { .. } => "not_utf8",
            RecordError::TooLong { .. } => "too_long",
            RecordError::Empty => "empty",
            RecordError::Json(_) => "json",
            RecordError::Invalid { .. } => "invalid_field",
        }
    }
}
