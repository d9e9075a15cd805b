//! What every decoder starts from: validated observations, exclusion,
//! candidates, definite positives and posteriors.

use super::posterior;
use super::types::{Assay, PoolObservation};
use super::NEGATIVE_BELOW;
use crate::design::Design;
use crate::error::DecodeError;

pub(crate) struct Evidence<'a> {
    pub design: &'a Design,
    pub obs: &'a [PoolObservation],
    pub assay: Assay,
    /// Not excluded by negative pools.
    pub is_candidate: Vec<bool>,
    /// The candidates, increasing.
    pub candidates: Vec<u32>,
    /// The only candidate of some positive pool.
    pub definite: Vec<bool>,
    /// Positive pools without any candidate.
    pub unexplained: Vec<u32>,
    /// Posterior P(positive); forced samples get exactly 0 / 1 under a
    /// perfect assay.
    pub p: Vec<f64>,
}

impl<'a> Evidence<'a> {
    pub fn gather(
        design: &'a Design,
        obs: &'a [PoolObservation],
        assay: Assay,
    ) -> Result<Evidence<'a>, DecodeError> {
        assay.validate()?;
        if obs.len() != design.pool_count() {
            return Err(DecodeError::WrongObservationCount {
                design: design.name().to_string(),
                pools: design.pool_count(),
                observations: obs.len(),
            });
        }
        for (pool, o) in obs.iter().enumerate() {
            if let Some(ct) = o.ct.filter(|_| o.positive) {
                if !(ct.is_finite() && ct >= 0.0) {
                    return Err(DecodeError::BadCt { pool, ct });
                }
            }
        }
        let n = design.samples();
        let perfect = assay.is_perfect();
        let prior = posterior::estimate_prevalence(design, obs, assay);
        let mut p = vec![0.0; n];
        let mut is_candidate = vec![false; n];
        if perfect {
            for (s, c) in is_candidate.iter_mut().enumerate() {
                *c = design.pools_of(s).iter().all(|&q| obs[q as usize].positive);
            }
        } else {
            p = posterior::two_pass(design, obs, assay, prior, &vec![true; n], &vec![false; n]);
            for (s, c) in is_candidate.iter_mut().enumerate() {
                let pools = design.pools_of(s);
                let neg = pools.iter().filter(|&&q| !obs[q as usize].positive).count();
                let pos = pools.len() - neg;
                let excluded = neg >= 1 && (neg >= 2 || pos <= 1) && p[s] < NEGATIVE_BELOW;
                *c = !excluded;
            }
        }
        let candidates: Vec<u32> = (0..n as u32)
            .filter(|&s| is_candidate[s as usize])
            .collect();
        let mut definite = vec![false; n];
        let mut unexplained = Vec::new();
        for (q, pool) in design.pools().iter().enumerate() {
            if !obs[q].positive {
                continue;
            }
            let mut only = None;
            let mut count = 0;
            for &s in pool {
                if is_candidate[s as usize] {
                    count += 1;
                    only = Some(s);
                    if count > 1 {
                        break;
                    }
                }
            }
            match (count, only) {
                (0, _) => unexplained.push(q as u32),
                (1, Some(s)) => definite[s as usize] = true,
                _ => {}
            }
        }
        if perfect {
            p = posterior::two_pass(design, obs, assay, prior, &is_candidate, &definite);
        }
        Ok(Evidence {
            design,
            obs,
            assay,
            is_candidate,
            candidates,
            definite,
            unexplained,
            p,
        })
    }

    /// Positive pools, as indices.
    pub fn positive_pools(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.obs.len()).filter(|&q| self.obs[q].positive)
    }
}
