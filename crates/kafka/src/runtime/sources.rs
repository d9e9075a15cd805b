//! The watermark of a partition in Kafka mode: how far in event time every
//! source (each partition of each input topic) has got, from the ticks the
//! ingest stage sends.
//!
//! The partition's time is the minimum over the sources that are not idle
//! (a source is idle once its reader reached the end of its partition): no
//! timer fires while some busy source may still bring earlier records. When
//! every source is idle, it is the maximum: everything published has been
//! read, as at the end of a file. Until every source has reported once,
//! there is no watermark.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One source's progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Greatest event time read (millis, UTC offset), if any.
    pub max: Option<(i64, i32)>,
    pub idle: bool,
}

/// Progress of every source, by [`super::envelope::Source::key`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sources {
    pub progress: BTreeMap<String, Progress>,
}

impl Sources {
    /// Records a tick (event time never moves back for a source).
    pub fn tick(&mut self, key: String, max: Option<(i64, i32)>, idle: bool) {
        let p = self.progress.entry(key).or_default();
        if let Some(m) = max {
            if p.max.is_none_or(|old| old.0 < m.0) {
                p.max = Some(m);
            }
        }
        p.idle = idle;
    }

    /// Every source that reported is idle (read to its end).
    pub fn all_idle(&self) -> bool {
        self.progress.values().all(|p| p.idle)
    }

    /// The time every source has reached, once `expected` sources reported.
    pub fn time(&self, expected: usize) -> Option<(i64, i32)> {
        if self.progress.len() < expected {
            return None;
        }
        let busy = self.progress.values().filter(|p| !p.idle);
        let busy_min = busy
            .clone()
            .map(|p| p.max)
            .try_fold(None::<(i64, i32)>, |acc, m| {
                // A busy source that has read nothing yet holds time back.
                let m = m?;
                Some(Some(match acc {
                    Some(a) if a.0 <= m.0 => a,
                    _ => m,
                }))
            });
        match busy_min {
            None => None,
            Some(Some(t)) => Some(t),
            Some(None) => self
                .progress
                .values()
                .filter_map(|p| p.max)
                .max_by_key(|m| m.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_is_the_slowest_busy_source_or_the_last_when_all_are_idle() {
        let mut s = Sources::default();
        s.tick("manifest:0".into(), Some((100, 0)), false);
        assert_eq!(s.time(2), None, "one source has not reported");
        s.tick("result:0".into(), Some((50, 0)), false);
        assert_eq!(s.time(2), Some((50, 0)));
        s.tick("result:0".into(), Some((40, 0)), false);
        assert_eq!(s.time(2), Some((50, 0)), "a source's time never moves back");
        s.tick("result:0".into(), None, true);
        assert_eq!(
            s.time(2),
            Some((100, 0)),
            "an idle source no longer holds time"
        );
        assert!(!s.all_idle());
        s.tick("manifest:0".into(), None, true);
        assert_eq!(s.time(2), Some((100, 0)), "all idle: the greatest time");
        assert!(s.all_idle());
        s.tick("receipt:0".into(), None, false);
        assert_eq!(
            s.time(3),
            None,
            "a busy source with nothing read holds time back"
        );
    }
}
