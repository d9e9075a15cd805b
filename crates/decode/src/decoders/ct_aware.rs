//! Ct-aware decoding: use the pools' quantitative signal on the COMP
//! candidates.
//!
//! Model (Tapestry's, without Poisson effects): a sample with Ct `c` has
//! relative viral load `v = 2^-c`; a pool's concentration is the mean of its
//! members' loads, so a positive pool with Ct `C` and `m` members carries a
//! total load `T = m · 2^-C`, the sum of its members' loads. Measured Ct has
//! Gaussian noise of `noise_sd` cycles, so the true total lies in
//! `[T / f, T · f]` with `f = 2^(sigmas · noise_sd)` (and a 1e-9 relative
//! margin for rounding).
//!
//! Non-candidates carry no load. Interval propagation over the candidates
//! then gives, for every candidate, bounds `lb ≤ v ≤ ub` that hold whenever
//! the pool totals are within their ranges:
//! `lb_i ≥ L_P - Σ_{j≠i} ub_j` and `ub_i ≤ U_P - Σ_{j≠i} lb_j`.
//! A candidate with `lb > 0` is forced positive; one with
//! `ub < 2^-detection_ct` cannot hold a load an individual test would detect
//! and is called `Negative`; the rest are `Undetermined`. DD's definite
//! positives are `Positive` as always. The point estimate of the loads is a
//! non-negative least-squares fit (projected coordinate descent, kept within
//! the bounds), reported in `loads`; its support is the `explanation`.

use serde::{Deserialize, Serialize};

use super::dd::forced_calls;
use super::evidence::Evidence;
use super::types::{Decoding, SampleCall};
use crate::error::DecodeError;

/// Parameters of the Ct-aware decoder.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CtModel {
    /// Standard deviation of measured pool Ct, in cycles (default 0.5).
    pub noise_sd: f64,
    /// How many standard deviations the load bounds allow (default 3).
    pub sigmas: f64,
    /// Individual-test detection limit in Ct (default 40): a load below
    /// `2^-detection_ct` would test negative on its own.
    pub detection_ct: f64,
}

impl Default for CtModel {
    fn default() -> Self {
        CtModel {
            noise_sd: 0.5,
            sigmas: 3.0,
            detection_ct: 40.0,
        }
    }
}

impl CtModel {
    fn validate(&self) -> Result<(), DecodeError> {
        let checks = [
            ("noise_sd", self.noise_sd, "must be finite and >= 0"),
            ("sigmas", self.sigmas, "must be finite and >= 0"),
            ("detection_ct", self.detection_ct, "must be finite and >= 0"),
        ];
        for (field, value, why) in checks {
            if !(value.is_finite() && value >= 0.0) {
                return Err(DecodeError::BadParameter { field, value, why });
            }
        }
        Ok(())
    }
}

const SWEEPS: usize = 30;
const ROUNDS: usize = 8;

pub(crate) fn decode(ev: Evidence<'_>, model: CtModel) -> Result<Decoding, DecodeError> {
    model.validate()?;
    let design = ev.design;
    let n = design.samples();
    let cands = &ev.candidates;
    let mut index = vec![u32::MAX; n];
    for (k, &s) in cands.iter().enumerate() {
        index[s as usize] = k as u32;
    }
    // Informative pools (positive, with Ct) and their candidates, as CSR.
    let factor = 2f64.powf(model.sigmas * model.noise_sd) * (1.0 + 1e-9);
    let (mut lo, mut hi, mut total) = (Vec::new(), Vec::new(), Vec::new());
    let (mut start, mut members) = (vec![0usize], Vec::new());
    for (q, pool) in design.pools().iter().enumerate() {
        let Some(ct) = ev.obs[q].ct.filter(|_| ev.obs[q].positive) else {
            continue;
        };
        let t = pool.len() as f64 * (-ct).exp2();
        members.extend(
            pool.iter()
                .map(|&s| index[s as usize])
                .filter(|&k| k != u32::MAX),
        );
        if members.len() == start[start.len() - 1] {
            continue; // no candidate: nothing to bound
        }
        start.push(members.len());
        lo.push(t / factor);
        hi.push(t * factor);
        total.push(t);
    }
    let c = cands.len();
    let mut lb = vec![0.0f64; c];
    let mut ub = vec![f64::INFINITY; c];
    for _ in 0..ROUNDS {
        let mut changed = false;
        for p in 0..lo.len() {
            let pm = &members[start[p]..start[p + 1]];
            let sum_lb: f64 = pm.iter().map(|&k| lb[k as usize]).sum();
            let (mut sum_ub, mut infinite) = (0.0, 0);
            for &k in pm {
                match ub[k as usize] {
                    u if u.is_finite() => sum_ub += u,
                    _ => infinite += 1,
                }
            }
            for &k in pm {
                let k = k as usize;
                let (old_lb, old_ub) = (lb[k], ub[k]);
                let new_ub = hi[p] - (sum_lb - old_lb).max(0.0);
                if new_ub < old_ub {
                    (ub[k], changed) = (new_ub, true);
                }
                if infinite == usize::from(!old_ub.is_finite()) {
                    let own = if old_ub.is_finite() { old_ub } else { 0.0 };
                    let new_lb = lo[p] - (sum_ub - own).max(0.0);
                    if new_lb > old_lb {
                        (lb[k], changed) = (new_lb, true);
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    let loads = fit(&lo, &total, &start, &members, &lb, &ub, cands, design);
    let v_min = (-model.detection_ct).exp2();
    let mut positive = ev.definite.clone();
    for (k, &s) in cands.iter().enumerate() {
        positive[s as usize] |= lb[k] > 0.0;
    }
    let mut calls = forced_calls(&ev, &positive);
    let mut p = ev.p;
    let perfect = ev.assay.is_perfect();
    for (k, &s) in cands.iter().enumerate() {
        let s = s as usize;
        if ub[k] < v_min {
            calls[s] = SampleCall::Negative;
            if perfect {
                p[s] = 0.0;
            }
        } else if perfect && calls[s] == SampleCall::Positive {
            p[s] = 1.0;
        }
    }
    let explanation = (0..n as u32)
        .filter(|&s| loads[s as usize] >= v_min)
        .collect();
    Ok(Decoding {
        calls,
        p_positive: p,
        explanation,
        unexplained_pools: ev.unexplained,
        loads: Some(loads),
    })
}

/// Non-negative least squares `Σ_P (T_P - Σ_{i∈P} v_i)²` by projected
/// coordinate descent, each `v_i` kept in `[lb_i, ub_i]`. Returns loads for
/// all samples (0 for non-candidates).
#[allow(clippy::too_many_arguments)]
fn fit(
    lo: &[f64],
    total: &[f64],
    start: &[usize],
    members: &[u32],
    lb: &[f64],
    ub: &[f64],
    cands: &[u32],
    design: &crate::design::Design,
) -> Vec<f64> {
    let c = cands.len();
    // Per candidate: the informative pools it is in (CSR).
    let mut count = vec![0usize; c + 1];
    for &k in members {
        count[k as usize + 1] += 1;
    }
    for k in 0..c {
        count[k + 1] += count[k];
    }
    let mut fill = count.clone();
    let mut pools_of = vec![0usize; members.len()];
    for p in 0..lo.len() {
        for &k in &members[start[p]..start[p + 1]] {
            pools_of[fill[k as usize]] = p;
            fill[k as usize] += 1;
        }
    }
    let mut v: Vec<f64> = (0..c).map(|k| lb[k]).collect();
    let mut resid: Vec<f64> = total.to_vec();
    for p in 0..lo.len() {
        for &k in &members[start[p]..start[p + 1]] {
            resid[p] -= v[k as usize];
        }
    }
    for _ in 0..SWEEPS {
        for k in 0..c {
            let ps = &pools_of[count[k]..count[k + 1]];
            if ps.is_empty() {
                continue;
            }
            let step: f64 = ps.iter().map(|&p| resid[p]).sum::<f64>() / ps.len() as f64;
            let new = (v[k] + step).max(lb[k]).min(ub[k]).max(0.0);
            let delta = new - v[k];
            if delta != 0.0 {
                v[k] = new;
                for &p in ps {
                    resid[p] -= delta;
                }
            }
        }
    }
    let mut loads = vec![0.0; design.samples()];
    for (k, &s) in cands.iter().enumerate() {
        loads[s as usize] = v[k];
    }
    loads
}
