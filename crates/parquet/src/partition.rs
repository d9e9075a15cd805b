//! Hive partition paths: `TABLE/date=YYYY-MM-DD/district=<district>`.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::PathBuf;

use pooltrace_model::Timestamp;

use crate::Table;

/// The hive value readers (DuckDB, pyarrow) read back as SQL NULL: used for
/// rows without a district (alerts without a region).
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

const DAY_MS: i64 = 86_400_000;
/// Well inside chrono's range (about +-262,000 years) in milliseconds.
const FAST_PATH_MILLIS: i64 = 8_000_000_000_000_000;

/// The local day number of `t` (days since 1970-01-01 in `t`'s own offset),
/// when it can be computed without calendar code; `None` for offsets or
/// instants `Timestamp::local_date` treats specially (the caller then uses
/// `local_date` itself). Equal day numbers always mean equal local dates.
pub(crate) fn local_day(t: Timestamp) -> Option<i64> {
    let offset = t.offset_secs();
    if offset.abs() >= 86_400 || t.millis().abs() >= FAST_PATH_MILLIS {
        return None;
    }
    Some((t.millis() + i64::from(offset) * 1000).div_euclid(DAY_MS))
}

/// A hive partition value, percent-encoded where it would be unsafe in a
/// path segment: `/`, `\`, `=`, `%`, control characters and a leading `.`
/// (`%2F`, `%5C`, ...). Other UTF-8 (e.g. 朝阳区) is kept as is. DuckDB and
/// pyarrow decode these escapes when they read hive partitions.
pub fn hive_value(value: &str) -> Cow<'_, str> {
    let unsafe_at = |i: usize, c: char| {
        matches!(c, '/' | '\\' | '=' | '%') || c.is_control() || (i == 0 && c == '.')
    };
    if !value.char_indices().any(|(i, c)| unsafe_at(i, c)) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for (i, c) in value.char_indices() {
        if unsafe_at(i, c) {
            let mut utf8 = [0u8; 4];
            for b in c.encode_utf8(&mut utf8).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The partition directory, relative to the output directory.
pub fn partition_dir(table: Table, date: &str, district: Option<&str>) -> PathBuf {
    let district = district.map_or(Cow::Borrowed(NULL_PARTITION), hive_value);
    let mut dir = PathBuf::from(table.name());
    dir.push(format!("date={date}"));
    dir.push(format!("district={district}"));
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_only_unsafe_characters() {
        assert_eq!(hive_value("Chaoyang"), "Chaoyang");
        assert_eq!(hive_value("朝阳区"), "朝阳区");
        assert_eq!(hive_value("A/B"), "A%2FB");
        assert_eq!(hive_value(r"a\b=c%d"), "a%5Cb%3Dc%25d");
        assert_eq!(hive_value("line\nbreak\u{7f}"), "line%0Abreak%7F");
        assert_eq!(hive_value(".."), "%2E.");
        assert_eq!(hive_value("a.b"), "a.b");
        assert_eq!(hive_value("\u{85}"), "%C2%85");
    }

    #[test]
    fn paths() {
        let p = partition_dir(Table::Alerts, "2022-05-10", Some("Xi/cheng"));
        assert_eq!(
            p,
            PathBuf::from("alerts/date=2022-05-10/district=Xi%2Fcheng")
        );
        let p = partition_dir(Table::Alerts, "2022-05-10", None);
        assert_eq!(
            p,
            PathBuf::from("alerts/date=2022-05-10/district=__HIVE_DEFAULT_PARTITION__")
        );
    }

    #[test]
    fn day_numbers_agree_with_local_date() {
        // Any two instants with the same day number have the same local date,
        // and the day boundary sits at local midnight.
        let offsets = [0, 8 * 3600, -5 * 3600, 5 * 3600 + 1800, 86_399, -86_399];
        let mut seen = std::collections::HashMap::new();
        for offset in offsets {
            for step in -400i64..400 {
                let t = Timestamp::from_millis(1_652_140_800_000 + step * 3_607_000, offset);
                let day = local_day(t).unwrap();
                let date = seen.entry(day).or_insert_with(|| t.local_date());
                assert_eq!(*date, t.local_date(), "{t}");
            }
        }
        // 01:00 at +08:00 is 17:00 the day before in UTC.
        let late = Timestamp::parse("2022-05-10T01:00:00+08:00").unwrap();
        let same_instant_utc = Timestamp::from_millis(late.millis(), 0);
        assert_eq!(
            local_day(same_instant_utc).unwrap() + 1,
            local_day(late).unwrap()
        );
        let before_midnight = Timestamp::parse("2022-05-09T23:59:59.999+08:00").unwrap();
        assert_eq!(
            local_day(before_midnight).unwrap() + 1,
            local_day(late).unwrap()
        );
        assert_eq!(local_day(Timestamp::from_millis(0, 86_400)), None);
    }
}
