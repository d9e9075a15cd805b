//! SCOMP: DD's definite positives, then greedily add the candidate that
//! explains the most still-unexplained positive pools until every positive
//! pool that has a candidate is explained.
//!
//! The greedy additions are guesses (the truth may be any superset cover),
//! so the *calls* are DD's: additions stay `Undetermined`. The greedy set is
//! returned as [`super::Decoding::explanation`], the most economical account
//! of the positive pools, to order retests.

use super::dd::forced_decoding;
use super::evidence::Evidence;
use super::types::Decoding;

pub(crate) fn decode(ev: Evidence<'_>) -> Decoding {
    let design = ev.design;
    let mut chosen = ev.definite.clone();
    let mut explained = vec![false; design.pool_count()];
    for (s, _) in chosen.iter().enumerate().filter(|(_, &c)| c) {
        for &q in design.pools_of(s) {
            explained[q as usize] = true;
        }
    }
    // Unexplained positive pools with no candidate can never be explained.
    for &q in &ev.unexplained {
        explained[q as usize] = true;
    }
    let mut left = ev.positive_pools().filter(|&q| !explained[q]).count();
    while left > 0 {
        let best = ev
            .candidates
            .iter()
            .filter(|&&s| !chosen[s as usize])
            .map(|&s| {
                let gain = design
                    .pools_of(s as usize)
                    .iter()
                    .filter(|&&q| ev.obs[q as usize].positive && !explained[q as usize])
                    .count();
                (gain, std::cmp::Reverse(s))
            })
            .max();
        let Some((gain, std::cmp::Reverse(s))) = best.filter(|&(g, _)| g > 0) else {
            break;
        };
        chosen[s as usize] = true;
        for &q in design.pools_of(s as usize) {
            explained[q as usize] = true;
        }
        left -= gain;
    }
    forced_decoding(ev, &chosen)
}
