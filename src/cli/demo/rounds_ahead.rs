//! A screening round's records built on a thread of their own, ahead of
//! the pipeline: building a record (a manifest with its members' ids,
//! names, phones and addresses) is about a seventh of the demo's main
//! thread, which also runs the engine; the other core has room.
//!
//! The records are exactly those of [`City::round`], in its order, handed
//! over in batches through a bounded channel (memory stays flat). If the
//! loop stops taking them, the thread stops at its next batch.

use std::sync::mpsc::sync_channel;
use std::thread::Scope;

use pooltrace_sim::{City, RoundRecords};

/// Records per batch handed over.
const BATCH: usize = 1024;
/// Batches that may wait.
const AHEAD: usize = 8;

/// The records of round `r` of `city`, built on a thread of `scope`.
pub fn round_ahead<'scope>(
    scope: &'scope Scope<'scope, '_>,
    city: &'scope City,
    r: u32,
) -> RoundRecords<'scope> {
    let (tx, rx) = sync_channel(AHEAD);
    let spawned = std::thread::Builder::new()
        .name(format!("pooltrace-round-{r}"))
        .spawn_scoped(scope, move || {
            let mut batch = Vec::with_capacity(BATCH);
            for rec in city.round(r) {
                batch.push(rec);
                if batch.len() == BATCH
                    && tx
                        .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                        .is_err()
                {
                    return; // the loop stopped taking records
                }
            }
            let _ = tx.send(batch);
        });
    match spawned {
        Ok(_) => Box::new(rx.into_iter().flatten()),
        // No thread to be had: build the records as they are taken.
        Err(_) => Box::new(city.round(r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pooltrace_sim::{ClosedLoop, SimConfig};

    fn city() -> City {
        City::generate(&SimConfig {
            people: 20_000,
            rounds: 2,
            ..SimConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn a_round_ahead_is_the_round_record_for_record() {
        let city = city();
        let here: Vec<_> = city.round(1).collect();
        assert!(here.len() > 3 * BATCH, "several batches: {}", here.len());
        let ahead: Vec<_> = std::thread::scope(|s| round_ahead(s, &city, 1).collect());
        assert_eq!(ahead, here);
        // And the whole loop (both rounds, merged) is the same through it.
        let plain: Vec<_> = ClosedLoop::new(&city).collect();
        let through: Vec<_> = std::thread::scope(|s| {
            ClosedLoop::with_rounds(&city, |r| round_ahead(s, &city, r)).collect()
        });
        assert_eq!(through, plain);
    }

    #[test]
    fn a_round_left_early_stops_its_thread() {
        let city = city();
        // The scope returns only once the thread has stopped: taking a few
        // records and dropping the rest must not leave it blocked.
        let first: Vec<_> = std::thread::scope(|s| round_ahead(s, &city, 0).take(3).collect());
        assert_eq!(first, city.round(0).take(3).collect::<Vec<_>>());
    }
}
