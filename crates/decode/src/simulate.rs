//! Simulated batches: which samples are positive, their Ct, and what the
//! pools read.

use serde::{Deserialize, Serialize};

use crate::decoders::{Assay, PoolObservation};
use crate::design::Design;
use crate::rng::Rng;

/// Sample Ct values are drawn from N(ct_mean, ct_sd) and clamped to this
/// range: a sample above 38 would be near or past a 40-cycle cut-off even on
/// its own.
pub const SAMPLE_CT_RANGE: (f64, f64) = (10.0, 38.0);

/// How many samples are positive in each simulated batch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Positives {
    /// Exactly this many, placed uniformly at random.
    Exactly(usize),
    /// Each sample independently with this probability.
    Prevalence(f64),
}

/// A simulation set-up for [`crate::evaluate_scenario`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub positives: Positives,
    pub trials: usize,
    /// Gaussian noise added to each pool's Ct, in cycles.
    pub ct_noise_sd: f64,
    pub seed: u64,
    /// Mean and SD of a positive sample's own Ct (defaults 28 and 3).
    pub ct_mean: f64,
    pub ct_sd: f64,
    /// Per-pool assay errors: a truly positive pool reads positive with
    /// probability Se, a truly negative one reads positive with 1 - Sp
    /// (false positives carry no Ct).
    pub assay: Assay,
}

impl Scenario {
    /// `positives` exactly, Ct ~ N(28, 3), a perfect assay.
    pub fn new(positives: usize, trials: usize, ct_noise_sd: f64, seed: u64) -> Scenario {
        Scenario {
            positives: Positives::Exactly(positives),
            trials,
            ct_noise_sd,
            seed,
            ct_mean: 28.0,
            ct_sd: 3.0,
            assay: Assay::PERFECT,
        }
    }
}

/// Noiseless observations for a batch with the given `(sample, Ct)`
/// positives: a pool is positive iff it holds a positive, with
/// `Ct = -log2(Σ 2^-ct_i / pool_size)`. Samples out of range are ignored.
pub fn pool_observations(design: &Design, positives: &[(u32, f64)]) -> Vec<PoolObservation> {
    let mut load = vec![0.0f64; design.pool_count()];
    for &(s, ct) in positives {
        for &q in design.pools_of(s as usize) {
            load[q as usize] += (-ct).exp2();
        }
    }
    design
        .pools()
        .iter()
        .zip(load)
        .map(|(pool, l)| {
            if l > 0.0 {
                PoolObservation::positive(Some(-(l / pool.len() as f64).log2()))
            } else {
                PoolObservation::NEGATIVE
            }
        })
        .collect()
}

/// One simulated batch: `truth` gets the positive flags, the observations
/// are returned.
pub(crate) fn draw_batch(
    design: &Design,
    sc: &Scenario,
    rng: &mut Rng,
    order: &mut [u32],
    truth: &mut [bool],
) -> Vec<PoolObservation> {
    truth.fill(false);
    let mut positives = Vec::new();
    let mut push = |s: u32, rng: &mut Rng| {
        let ct = (sc.ct_mean + sc.ct_sd * rng.normal()).clamp(SAMPLE_CT_RANGE.0, SAMPLE_CT_RANGE.1);
        positives.push((s, ct));
    };
    match sc.positives {
        Positives::Exactly(d) => {
            // Partial Fisher-Yates: the first d entries are a uniform subset.
            let n = order.len();
            for i in 0..d.min(n) {
                let j = i + rng.below((n - i) as u64) as usize;
                order.swap(i, j);
                push(order[i], rng);
            }
        }
        Positives::Prevalence(p) => {
            for s in 0..order.len() as u32 {
                if rng.chance(p) {
                    push(s, rng);
                }
            }
        }
    }
    for &(s, _) in &positives {
        truth[s as usize] = true;
    }
    let mut obs = pool_observations(design, &positives);
    for o in &mut obs {
        if o.positive {
            if rng.chance(sc.assay.sensitivity) {
                if sc.ct_noise_sd > 0.0 {
                    o.ct = o.ct.map(|c| (c + sc.ct_noise_sd * rng.normal()).max(0.0));
                }
            } else {
                *o = PoolObservation::NEGATIVE;
            }
        } else if !rng.chance(sc.assay.specificity) {
            *o = PoolObservation::positive(None);
        }
    }
    obs
}
