//! Choosing a strategy: Dorfman two-stage pooling (closed forms, as in the R
//! package binGroup2) against the built-in non-adaptive designs (Monte
//! Carlo), at a given prevalence and assay accuracy.

use serde::Serialize;

use crate::decoders::{Assay, Decoder};
use crate::design::Design;
use crate::designs::builtin_names;
use crate::error::EvalError;
use crate::evaluate::tally;
use crate::simulate::{Positives, Scenario};

/// Trials per design in [`plan`]'s Monte Carlo.
pub const PLAN_TRIALS: usize = 400;
/// Seed of [`plan`]'s Monte Carlo (fixed: a plan is reproducible).
pub const PLAN_SEED: u64 = 2020;

/// One Dorfman pool size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DorfmanRow {
    pub pool_size: usize,
    /// `1 + k·(Se + (1 - Se - Sp)(1 - p)^k)`.
    pub tests_per_pool: f64,
    /// `tests_per_pool / k`.
    pub tests_per_person: f64,
    /// Expected individual retests per person: `Se + (1 - Se - Sp)(1 - p)^k`.
    pub retests_per_person: f64,
    /// `Se²`.
    pub sensitivity: f64,
    /// `1 - (1 - Sp)·(Se + (1 - Se - Sp)(1 - p)^(k-1))`.
    pub specificity: f64,
}

/// One built-in design, decoded with DD (never guesses); every
/// `Undetermined` sample is retested individually with the same assay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignRow {
    pub design: String,
    pub pools: usize,
    pub samples: usize,
    /// `pools / samples + retests_per_person`.
    pub tests_per_person: f64,
    /// Mean `Undetermined` samples per batch / samples.
    pub retests_per_person: f64,
    /// (true positives called `Positive` + true positives `Undetermined`·Se)
    /// / true positives; `None` if no positive was simulated.
    pub sensitivity: Option<f64>,
    /// 1 - (negatives called `Positive` + negatives `Undetermined`·(1-Sp))
    /// / negatives.
    pub specificity: f64,
    pub trials: usize,
}

/// The cheapest option that is sensitive enough.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// `individual`, `dorfman-K` or a design name.
    pub strategy: String,
    pub tests_per_person: f64,
    pub sensitivity: f64,
}

/// Strategies compared at one prevalence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub prevalence: f64,
    pub assay: Assay,
    /// Options below this sensitivity are not recommended.
    pub min_sensitivity: f64,
    pub dorfman: Vec<DorfmanRow>,
    pub designs: Vec<DesignRow>,
    pub recommendation: Recommendation,
}

/// Dorfman rows for `k = 2..=max_pool` and every built-in design, with the
/// recommendation made at `min_sensitivity = se²` (Dorfman's own
/// sensitivity): the option with the lowest expected tests per person among
/// individual testing (1 test, sensitivity Se), the Dorfman rows and the
/// designs whose sensitivity is at least that. Ties go to the earlier option
/// in that order.
pub fn plan(prevalence: f64, se: f64, sp: f64, max_pool: usize) -> Result<Plan, EvalError> {
    plan_with(prevalence, se, sp, max_pool, se * se)
}

/// [`plan`] with an explicit sensitivity threshold.
pub fn plan_with(
    prevalence: f64,
    se: f64,
    sp: f64,
    max_pool: usize,
    min_sensitivity: f64,
) -> Result<Plan, EvalError> {
    if !(0.0..=1.0).contains(&prevalence) {
        return Err(EvalError::bad(
            "prevalence",
            prevalence,
            "must be in [0, 1]",
        ));
    }
    let assay = Assay::new(se, sp)?;
    if !(2..=10_000).contains(&max_pool) {
        return Err(EvalError::bad("max_pool", max_pool, "must be in 2..=10000"));
    }
    if !(0.0..=1.0).contains(&min_sensitivity) {
        return Err(EvalError::bad(
            "min_sensitivity",
            min_sensitivity,
            "must be in [0, 1]",
        ));
    }
    let dorfman: Vec<DorfmanRow> = (2..=max_pool)
        .map(|k| dorfman_row(prevalence, se, sp, k))
        .collect();
    let mut designs = Vec::new();
    for name in builtin_names() {
        designs.push(design_row(&Design::builtin(name)?, prevalence, assay)?);
    }
    let mut best = Recommendation {
        strategy: "individual".into(),
        tests_per_person: 1.0,
        sensitivity: se,
    };
    let options = dorfman
        .iter()
        .map(|r| {
            (
                format!("dorfman-{}", r.pool_size),
                r.tests_per_person,
                Some(r.sensitivity),
            )
        })
        .chain(
            designs
                .iter()
                .map(|r| (r.design.clone(), r.tests_per_person, r.sensitivity)),
        );
    for (strategy, tests, sens) in options {
        if let Some(sens) = sens.filter(|&s| s >= min_sensitivity) {
            if tests < best.tests_per_person {
                best = Recommendation {
                    strategy,
                    tests_per_person: tests,
                    sensitivity: sens,
                };
            }
        }
    }
    Ok(Plan {
        prevalence,
        assay,
        min_sensitivity,
        dorfman,
        designs,
        recommendation: best,
    })
}

/// The binGroup2 closed forms for pool size `k`.
pub fn dorfman_row(p: f64, se: f64, sp: f64, k: usize) -> DorfmanRow {
    let kf = k as f64;
    let retests = se + (1.0 - se - sp) * (1.0 - p).powi(k as i32);
    let tests_per_pool = 1.0 + kf * retests;
    DorfmanRow {
        pool_size: k,
        tests_per_pool,
        tests_per_person: tests_per_pool / kf,
        retests_per_person: retests,
        sensitivity: se * se,
        specificity: 1.0 - (1.0 - sp) * (se + (1.0 - se - sp) * (1.0 - p).powi(k as i32 - 1)),
    }
}

fn design_row(design: &Design, prevalence: f64, assay: Assay) -> Result<DesignRow, EvalError> {
    let scenario = Scenario {
        positives: Positives::Prevalence(prevalence),
        trials: PLAN_TRIALS,
        seed: PLAN_SEED,
        assay,
        ..Scenario::new(0, PLAN_TRIALS, 0.0, PLAN_SEED)
    };
    let t = tally(design, Decoder::Dd, &scenario)?;
    let n = design.samples() as f64;
    let undetermined = (t.tp_undetermined + t.tn_undetermined) as f64 / t.trials as f64;
    let (se, sp) = (assay.sensitivity, assay.specificity);
    let sensitivity = (t.positives > 0)
        .then(|| (t.tp_positive as f64 + t.tp_undetermined as f64 * se) / t.positives as f64);
    let false_pos = t.tn_positive as f64 + t.tn_undetermined as f64 * (1.0 - sp);
    Ok(DesignRow {
        design: design.name().to_string(),
        pools: design.pool_count(),
        samples: design.samples(),
        tests_per_person: design.tests_per_sample() + undetermined / n,
        retests_per_person: undetermined / n,
        sensitivity,
        specificity: 1.0 - false_pos / t.negatives.max(1) as f64,
        trials: t.trials,
    })
}
