//! One input record from bytes: size and UTF-8 checks, JSON, contract rules.

use serde::de::DeserializeOwned;

use crate::{record_fast, LabResult, Manifest, Receipt, RecordError, Timestamp};

/// Which stream a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    Manifest,
    Result,
    Receipt,
}

impl RecordKind {
    /// The stream's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Manifest => "manifest",
            RecordKind::Result => "result",
            RecordKind::Receipt => "receipt",
        }
    }
}

/// A validated input record.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Manifest(Manifest),
    Result(LabResult),
    Receipt(Receipt),
}

impl Record {
    /// The record's event time: `collected_at`, `reported_at` or `received_at`.
    pub fn event_time(&self) -> Timestamp {
        match self {
            Record::Manifest(m) => m.collected_at,
            Record::Result(r) => r.reported_at,
            Record::Receipt(r) => r.received_at,
        }
    }

    /// The tube the record is about (the partitioning key).
    pub fn tube_id(&self) -> &str {
        match self {
            Record::Manifest(m) => &m.tube_id,
            Record::Result(r) => &r.tube_id,
            Record::Receipt(r) => &r.tube_id,
        }
    }

    /// Which stream the record belongs to.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Manifest(_) => RecordKind::Manifest,
            Record::Result(_) => RecordKind::Result,
            Record::Receipt(_) => RecordKind::Receipt,
        }
    }
}

/// Decodes and validates one record of `kind` from `bytes` (one NDJSON line
/// or one Kafka message value). `max_len` bounds the record size.
pub fn decode_record(
    kind: RecordKind,
    bytes: &[u8],
    max_len: usize,
) -> Result<Record, RecordError> {
    if bytes.len() > max_len {
        return Err(RecordError::TooLong {
            len: bytes.len(),
            limit: max_len,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| RecordError::NotUtf8 {
        at: e.valid_up_to(),
    })?;
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(RecordError::Empty);
    }
    if !trimmed.starts_with('{') {
        return Err(RecordError::Json(
            "a record must be a JSON object (`{...}`), one per line".to_string(),
        ));
    }
    Ok(match kind {
        RecordKind::Manifest => {
            let m: Manifest = record_fast::manifest(text).map_or_else(|| parse(text), Ok)?;
            m.validate()?;
            Record::Manifest(m)
        }
        RecordKind::Result => {
            let r: LabResult = record_fast::result(text).map_or_else(|| parse(text), Ok)?;
            r.validate()?;
            Record::Result(r)
        }
        RecordKind::Receipt => {
            let r: Receipt = record_fast::receipt(text).map_or_else(|| parse(text), Ok)?;
            r.validate()?;
            Record::Receipt(r)
        }
    })
}

/// The whole JSON grammar with serde_json (the plain shape takes
/// [`record_fast`] first); on error, parse again tracking the path so
/// the message names the field (`members[2].person_id: invalid type ...`).
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, RecordError> {
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(plain) => {
            let mut de = serde_json::Deserializer::from_str(text);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(e) if e.path().to_string() != "." => {
                    Err(RecordError::Json(format!("{}: {}", e.path(), e.inner())))
                }
                _ => Err(RecordError::Json(plain.to_string())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"{"tube_id": "EX1-POOL", "kind": "pool", "collected_at": "2022-05-10T08:00:00+08:00", "site_id": "SITE-7", "region": {"district": "Chaoyang", "street": "Nanhu", "community": "Yuanyi"}, "members": [{"person_id": "22010219610708001X", "name": "Example 1"}, {"person_id": "220102196107090023"}]}"#;

    fn err(kind: RecordKind, s: &str) -> String {
        decode_record(kind, s.as_bytes(), 1 << 20)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn good_manifest() {
        let r = decode_record(RecordKind::Manifest, MANIFEST.as_bytes(), 1 << 20).unwrap();
        assert_eq!(r.tube_id(), "EX1-POOL");
        assert_eq!(r.event_time().to_string(), "2022-05-10T08:00:00+08:00");
    }

    #[test]
    fn errors_name_the_field() {
        let e = err(
            RecordKind::Manifest,
            &MANIFEST.replace("220102196107090023", "220102196107090024"),
        );
        assert!(
            e.contains("members[1].person_id") && e.contains("check digit"),
            "{e}"
        );
        let e = err(
            RecordKind::Manifest,
            &MANIFEST.replace(r#""site_id": "SITE-7", "#, ""),
        );
        assert!(e.contains("missing field `site_id`"), "{e}");
        let e = err(
            RecordKind::Manifest,
            &MANIFEST.replace("\"pool\"", "\"bucket\""),
        );
        assert!(e.contains("kind") && e.contains("bucket"), "{e}");
        let e = err(
            RecordKind::Manifest,
            &MANIFEST.replace("08:00:00+08:00", "08:00:00"),
        );
        assert!(e.contains("collected_at") && e.contains("RFC 3339"), "{e}");
        let e = err(
            RecordKind::Result,
            r#"{"tube_id":"T1","lab_id":"L","reported_at":"2022-05-10T09:00:00Z","ct":{"N":"high"}}"#,
        );
        assert!(e.contains("ct.N") && e.contains("invalid type"), "{e}");
        let e = err(
            RecordKind::Result,
            r#"{"tube_id":"T1","lab_id":"L","reported_at":"2022-05-10T09:00:00Z","ct":{"N":51}}"#,
        );
        assert!(e.contains("ct.N") && e.contains("(0, 50]"), "{e}");
        let e = err(
            RecordKind::Result,
            r#"{"tube_id":"T1","lab_id":"L","reported_at":"2022-05-10T09:00:00Z","colour":1}"#,
        );
        assert!(e.contains("unknown field `colour`"), "{e}");
        assert!(err(RecordKind::Receipt, "{not json").contains("line 1"));
        assert_eq!(
            decode_record(RecordKind::Receipt, b"{\"tube_id\":\"\xff\"}", 100).unwrap_err(),
            RecordError::NotUtf8 { at: 12 }
        );
        assert!(matches!(
            decode_record(RecordKind::Receipt, &[b' '; 200], 100).unwrap_err(),
            RecordError::TooLong {
                len: 200,
                limit: 100
            }
        ));
    }

    #[test]
    fn member_count_rules() {
        let members: Vec<String> = (0..21)
            .map(|i| format!(r#"{{"person_id": "P{i}", "id_type": "other"}}"#))
            .collect();
        let pool21 = format!(
            r#"{{"tube_id": "T", "kind": "pool", "collected_at": "2022-05-10T08:00:00Z", "site_id": "S", "region": {{"district": "D", "street": "S", "community": "C"}}, "members": [{}]}}"#,
            members.join(",")
        );
        let e = err(RecordKind::Manifest, &pool21);
        assert!(e.contains("21 members") && e.contains("2..=20"), "{e}");
        let single2 = pool21.replace("\"pool\"", "\"single\"");
        assert!(err(RecordKind::Manifest, &single2).contains("1..=1"));
    }
}
