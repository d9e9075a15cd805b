//! Event time: RFC 3339 timestamps that keep the offset they were written with.

use std::fmt;

use chrono::{DateTime, FixedOffset, TimeZone};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds since the Unix epoch (UTC). The engine's clock: ordered,
/// cheap, and free of time zones.
pub type EventTime = i64;

/// One minute in [`EventTime`] units.
pub const MINUTE_MS: i64 = 60_000;
/// One hour in [`EventTime`] units.
pub const HOUR_MS: i64 = 3_600_000;

/// An instant plus the UTC offset it was written with (`+08:00` stays `+08:00`
/// in every output, so local dates and times read as the sender meant them).
///
/// Ordering and equality compare the offset too; use [`Timestamp::millis`] to
/// compare instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    millis: EventTime,
    offset_secs: i32,
}

impl Timestamp {
    /// Parses RFC 3339 with an explicit offset (`Z` or `+hh:mm`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let dt = DateTime::parse_from_rfc3339(s)
            .map_err(|e| format!("not an RFC 3339 timestamp with offset ({e})"))?;
        Ok(Self::from_datetime(&dt))
    }

    /// Builds a timestamp from an instant and an offset in seconds east of UTC.
    pub const fn from_millis(millis: EventTime, offset_secs: i32) -> Self {
        Self {
            millis,
            offset_secs,
        }
    }

    fn from_datetime(dt: &DateTime<FixedOffset>) -> Self {
        Self {
            millis: dt.timestamp_millis(),
            offset_secs: dt.offset().local_minus_utc(),
        }
    }

    /// The instant, in milliseconds since the Unix epoch.
    pub fn millis(self) -> EventTime {
        self.millis
    }

    /// The UTC offset the timestamp was written with, in seconds.
    pub fn offset_secs(self) -> i32 {
        self.offset_secs
    }

    /// The same offset, a different instant (`self + delta_ms`).
    pub fn plus_millis(self, delta_ms: i64) -> Self {
        Self {
            millis: self.millis + delta_ms,
            offset_secs: self.offset_secs,
        }
    }

    /// The later of two timestamps (by instant; ties keep `self`).
    pub fn max_instant(self, other: Self) -> Self {
        if other.millis > self.millis {
            other
        } else {
            self
        }
    }

    /// The calendar date in the timestamp's own offset, as `YYYY-MM-DD`.
    pub fn local_date(self) -> String {
        self.to_datetime().format("%Y-%m-%d").to_string()
    }

    fn to_datetime(self) -> DateTime<FixedOffset> {
        let offset = FixedOffset::east_opt(self.offset_secs)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset is valid"));
        offset
            .timestamp_millis_opt(self.millis)
            .single()
            .unwrap_or_else(|| offset.timestamp_millis_opt(0).single().expect("epoch"))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = self.to_datetime();
        if self.millis % 1000 == 0 {
            write!(f, "{}", dt.format("%Y-%m-%dT%H:%M:%S%:z"))
        } else {
            write!(f, "{}", dt.format("%Y-%m-%dT%H:%M:%S%.3f%:z"))
        }
    }
}

/// RFC 3339 text in human-readable formats (JSON: the wire contract); in
/// binary formats (the engine's MessagePack snapshots and messages) the
/// pair (milliseconds since the epoch, UTC offset in seconds), which is
/// exact and several times cheaper to write and read.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            (self.millis, self.offset_secs).serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            Timestamp::parse(&s).map_err(|why| serde::de::Error::custom(format!("`{s}`: {why}")))
        } else {
            let (millis, offset_secs) = <(EventTime, i32)>::deserialize(d)?;
            if FixedOffset::east_opt(offset_secs).is_none() {
                return Err(serde::de::Error::custom(format!(
                    "UTC offset of {offset_secs} s is out of range"
                )));
            }
            Ok(Timestamp::from_millis(millis, offset_secs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_formats_round_trip_instant_and_offset() {
        for text in [
            "2022-05-10T09:00:00.123+08:00",
            "1969-12-31T23:59:59.999-05:30",
            "2022-05-10T01:00:00Z",
        ] {
            let t = Timestamp::parse(text).unwrap();
            let bytes = rmp_serde::to_vec_named(&t).unwrap();
            assert!(bytes.len() < 16, "{text}: {} bytes", bytes.len());
            let back: Timestamp = rmp_serde::from_slice(&bytes).unwrap();
            assert_eq!(back, t);
            assert_eq!(back.to_string(), t.to_string());
            // JSON (the wire contract) stays RFC 3339.
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{t}\""));
        }
        let bad = rmp_serde::to_vec(&(0i64, 90_000i32)).unwrap();
        let err = rmp_serde::from_slice::<Timestamp>(&bad).unwrap_err();
        assert!(err.to_string().contains("90000 s is out of range"), "{err}");
    }

    #[test]
    fn keeps_offset_and_instant() {
        let t = Timestamp::parse("2022-05-10T09:00:00+08:00").unwrap();
        assert_eq!(
            t.millis(),
            Timestamp::parse("2022-05-10T01:00:00Z").unwrap().millis()
        );
        assert_eq!(t.to_string(), "2022-05-10T09:00:00+08:00");
        assert_eq!(
            t.plus_millis(2 * HOUR_MS).to_string(),
            "2022-05-10T11:00:00+08:00"
        );
        assert_eq!(t.local_date(), "2022-05-10");
        let late = Timestamp::parse("2022-05-10T23:30:00+08:00").unwrap();
        assert_eq!(late.plus_millis(HOUR_MS).local_date(), "2022-05-11");
    }

    #[test]
    fn rejects_missing_offset_and_garbage() {
        assert!(Timestamp::parse("2022-05-10T09:00:00").is_err());
        assert!(Timestamp::parse("2022-05-10").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::parse("2022-13-10T09:00:00Z").is_err());
    }

    #[test]
    fn fractional_seconds_survive() {
        let t = Timestamp::parse("2022-05-10T09:00:00.250+08:00").unwrap();
        assert_eq!(t.to_string(), "2022-05-10T09:00:00.250+08:00");
    }
}
