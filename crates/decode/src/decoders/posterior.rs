//! A simple Bayesian model of one sample's status given its pools.
//!
//! For sample `i` and a pool `P` holding it: if `i` is positive, `P` is truly
//! positive and reads positive with probability Se. If `i` is negative, `P`
//! is truly positive with probability `q` (some other member is positive) and
//! reads positive with probability `q·Se + (1-q)·(1-Sp)`. Pools are treated
//! as independent pieces of evidence (naive Bayes). Pass 1 takes
//! `q = 1 - (1-π)^(|P|-1)` from the prior prevalence `π`; pass 2 uses the
//! pass-1 posteriors of the other members, `q = 1 - Π_{j≠i} (1 - p_j\P)`,
//! where `p_j\P` leaves out pool `P`'s own evidence.

use super::types::{Assay, PoolObservation};
use crate::design::Design;

/// Prior prevalence from the share `f` of positive (non-empty) pools: solve
/// `f = Se - (Se + Sp - 1)(1-π)^s̄` for mean pool size `s̄`, clamped to
/// `[1/(2n), 1/2]`.
pub(crate) fn estimate_prevalence(design: &Design, obs: &[PoolObservation], assay: Assay) -> f64 {
    let n = design.samples() as f64;
    let (mut pools, mut positive, mut members) = (0usize, 0usize, 0usize);
    for (pool, o) in design.pools().iter().zip(obs) {
        if !pool.is_empty() {
            pools += 1;
            members += pool.len();
            positive += usize::from(o.positive);
        }
    }
    if pools == 0 {
        return 0.5;
    }
    let f = positive as f64 / pools as f64;
    let mean_size = members as f64 / pools as f64;
    let x =
        ((assay.sensitivity - f) / (assay.sensitivity + assay.specificity - 1.0)).clamp(1e-12, 1.0);
    (1.0 - x.powf(1.0 / mean_size)).clamp(0.5 / n, 0.5)
}

/// Posteriors for the samples marked `active`; inactive samples get 0 and
/// count as negative when they are another sample's pool-mate. Samples
/// marked `forced` (a subset of `active`) are known positive: they get 1.
///
/// In pass 2, a pool-mate's pass-1 posterior is taken *without* the pool's
/// own evidence (one round of belief propagation), so a pool's result is not
/// counted twice.
pub(crate) fn two_pass(
    design: &Design,
    obs: &[PoolObservation],
    assay: Assay,
    prior: f64,
    active: &[bool],
    forced: &[bool],
) -> Vec<f64> {
    let n = design.samples();
    let lr1: Vec<f64> = design
        .pools()
        .iter()
        .zip(obs)
        .map(|(pool, o)| {
            let q = 1.0 - (1.0 - prior).powi(pool.len().saturating_sub(1) as i32);
            likelihood_ratio(o.positive, q, assay)
        })
        .collect();
    let mut odds1 = vec![0.0; n];
    for s in (0..n).filter(|&s| active[s]) {
        odds1[s] = if forced[s] {
            f64::INFINITY
        } else {
            odds(design.pools_of(s), prior, |q| lr1[q])
        };
    }
    // P(sample s positive) from everything except pool q, kept below 1 so
    // that dividing it back out of a product is safe.
    let p_without = |s: usize, q: usize| {
        let o = odds1[s] / lr1[q];
        (o / (1.0 + o)).min(1.0 - 1e-6)
    };
    let mut others_clear = vec![1.0f64; design.pool_count()];
    for s in (0..n).filter(|&s| active[s]) {
        for &q in design.pools_of(s) {
            others_clear[q as usize] *= 1.0 - p_without(s, q as usize);
        }
    }
    let mut p = vec![0.0; n];
    for s in (0..n).filter(|&s| active[s]) {
        if forced[s] {
            p[s] = 1.0;
            continue;
        }
        let o = odds(design.pools_of(s), prior, |q| {
            let clear = (others_clear[q] / (1.0 - p_without(s, q))).min(1.0);
            likelihood_ratio(obs[q].positive, 1.0 - clear, assay)
        });
        p[s] = o / (1.0 + o);
    }
    p
}

/// P(pool reads `positive` | sample positive) / P(... | sample negative),
/// where `q` is the chance the pool's other members make it truly positive.
fn likelihood_ratio(positive: bool, q: f64, assay: Assay) -> f64 {
    let (se, sp) = (assay.sensitivity, assay.specificity);
    if positive {
        se / (q * se + (1.0 - q) * (1.0 - sp)).max(1e-300)
    } else {
        (1.0 - se) / (q * (1.0 - se) + (1.0 - q) * sp).max(1e-300)
    }
}

/// Posterior odds of one sample in `pools`, given each pool's likelihood
/// ratio, clamped to [1e-300, 1e300].
fn odds(pools: &[u32], prior: f64, lr: impl Fn(usize) -> f64) -> f64 {
    const CAP: f64 = 1e300;
    let mut odds = prior / (1.0 - prior);
    for &pool in pools {
        odds = (odds * lr(pool as usize)).clamp(1.0 / CAP, CAP);
    }
    odds
}
