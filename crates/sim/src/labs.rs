//! Labs: which lab a community's tubes go to, and when each tube is
//! collected, received and reported; lost tubes and early results.
//!
//! Collection runs through the collection day in each community's queue
//! order. Receipt follows collection by `receipt_delay_hours`, the result
//! follows receipt by `report_delay_hours`, except for a share of a slow
//! lab's tubes (`slow_delay_hours`, past the 6 h limit, so `lab_overdue`
//! fires). A lost tube has a manifest and a receipt but never a result; an
//! early-result tube's manifest enters the stream 1-60 minutes after its result.

use rand::Rng;

use crate::config::SimConfig;
use crate::rng::{self, hours_ms, uniform, SimRng};

/// The lab id of lab `i` (`LAB-01` ...).
pub fn lab_id(i: u32) -> String {
    format!("LAB-{:02}", i + 1)
}

/// The kit lab `i` uses.
pub(crate) fn kit_of(cfg: &SimConfig, lab: u32) -> &str {
    &cfg.assay.kits[lab as usize % cfg.assay.kits.len()]
}

/// A kit other than `kit` (the next in the list), for parallel retests.
pub(crate) fn other_kit<'a>(cfg: &'a SimConfig, kit: Option<&str>) -> &'a str {
    let kits = &cfg.assay.kits;
    let i = kit.and_then(|k| kits.iter().position(|x| x == k));
    match i {
        Some(i) => &kits[(i + 1) % kits.len()],
        None => &kits[0],
    }
}

/// Whether lab `i` is one of the slow ones (the last `slow_labs`).
pub(crate) fn is_slow(cfg: &SimConfig, lab: u32) -> bool {
    lab + cfg.labs.slow_labs >= cfg.labs.count
}

/// The lab of each community.
pub(crate) fn assign(cfg: &SimConfig, communities: usize) -> Vec<u8> {
    let mut r = rng::stream(cfg.seed, rng::LABS, 0, 0);
    (0..communities)
        .map(|_| r.random_range(0..cfg.labs.count) as u8)
        .collect()
}

/// When a tube moves, in milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timing {
    pub collected: i64,
    pub received: i64,
    /// Meaningless when `lost`.
    pub reported: i64,
    /// When the manifest enters the stream: `collected`, or after `reported`
    /// for early-result tubes.
    pub manifest_emit: i64,
    pub lost: bool,
    pub early: bool,
}

/// A tube's timing: the `pos`-th of `n` tubes of its community, collected
/// during the day that starts at `day_start`, sent to lab `lab`. Draws a
/// fixed number of values, whatever the outcome.
pub(crate) fn timing(
    cfg: &SimConfig,
    lab: u32,
    day_start: i64,
    pos: u32,
    n: u32,
    rng: &mut SimRng,
) -> Timing {
    let l = &cfg.labs;
    let u_queue: f64 = rng.random();
    let receipt = hours_ms(rng, l.receipt_delay_hours);
    let normal = hours_ms(rng, l.report_delay_hours);
    let u_slow: f64 = rng.random();
    let slow = hours_ms(rng, l.slow_delay_hours);
    let u_lost: f64 = rng.random();
    let u_early: f64 = rng.random();
    let early_delay = (uniform(rng, 1.0, 60.0) * 60_000.0).round() as i64;

    let day_ms = cfg.collection_hours * 3_600_000.0;
    let collected = day_start + ((f64::from(pos) + u_queue) / f64::from(n.max(1)) * day_ms) as i64;
    let received = collected + receipt;
    let late = is_slow(cfg, lab) && u_slow < l.slow_share;
    let reported = received + if late { slow } else { normal };
    let lost = u_lost < cfg.lost_tube_rate;
    let early = !lost && u_early < cfg.early_result_rate;
    Timing {
        collected,
        received,
        reported,
        manifest_emit: if early {
            reported + early_delay
        } else {
            collected
        },
        lost,
        early,
    }
}

/// A retest's timing: collected 1-2 h after `raised`, then the normal delays.
pub(crate) fn retest_timing(cfg: &SimConfig, raised: i64, rng: &mut SimRng) -> Timing {
    let collected = raised + hours_ms(rng, (1.0, 2.0));
    let received = collected + hours_ms(rng, cfg.labs.receipt_delay_hours);
    let reported = received + hours_ms(rng, cfg.labs.report_delay_hours);
    Timing {
        collected,
        received,
        reported,
        manifest_emit: collected,
        lost: false,
        early: false,
    }
}
