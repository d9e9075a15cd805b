//! Monte Carlo evaluation of a design + decoder.

use serde::Serialize;

use crate::decoders::{decode, Decoder, SampleCall};
use crate::design::Design;
use crate::error::EvalError;
use crate::rng::Rng;
use crate::simulate::{draw_batch, Positives, Scenario};

/// Accuracy of a design + decoder over simulated batches.
///
/// * `sensitivity`: true positives called `Positive` / all true positives
///   (1 if there were none). `Undetermined` is not `Positive`.
/// * `specificity`: true negatives not called `Positive` / all true
///   negatives (1 if there were none).
/// * `exact_recovery`: share of trials whose `Positive` set equals the truth
///   and that have no `Undetermined` sample.
/// * `mean_false_positives`, `mean_undetermined`: per trial.
/// * `tests_per_sample`: pools / samples.
///
/// For COMP every candidate is called `Positive`, so it counts as positive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    pub sensitivity: f64,
    pub specificity: f64,
    pub exact_recovery: f64,
    pub mean_false_positives: f64,
    pub mean_undetermined: f64,
    pub tests_per_sample: f64,
}

/// Raw counts over all trials.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Tally {
    pub trials: usize,
    pub positives: usize,
    pub negatives: usize,
    pub tp_positive: usize,
    pub tp_undetermined: usize,
    pub tn_positive: usize,
    pub tn_undetermined: usize,
    pub exact: usize,
}

/// `positives` true positives placed uniformly at random in each of `trials`
/// batches, sample Ct ~ N(28, 3) (clamped to
/// [`crate::SAMPLE_CT_RANGE`]), pool Ct = `-log2(Σ 2^-ct_i / pool_size)` plus
/// N(0, `ct_noise_sd`), perfect assay. Deterministic for a seed.
pub fn evaluate(
    design: &Design,
    decoder: Decoder,
    positives: usize,
    trials: usize,
    ct_noise_sd: f64,
    seed: u64,
) -> Result<Evaluation, EvalError> {
    evaluate_scenario(
        design,
        decoder,
        &Scenario::new(positives, trials, ct_noise_sd, seed),
    )
}

/// [`evaluate`] with every simulation parameter explicit. The decoder is
/// told the scenario's assay.
pub fn evaluate_scenario(
    design: &Design,
    decoder: Decoder,
    scenario: &Scenario,
) -> Result<Evaluation, EvalError> {
    let t = tally(design, decoder, scenario)?;
    let ratio = |num: usize, den: usize| {
        if den == 0 {
            1.0
        } else {
            num as f64 / den as f64
        }
    };
    let per_trial = |x: usize| x as f64 / t.trials as f64;
    Ok(Evaluation {
        sensitivity: ratio(t.tp_positive, t.positives),
        specificity: 1.0
            - if t.negatives == 0 {
                0.0
            } else {
                t.tn_positive as f64 / t.negatives as f64
            },
        exact_recovery: per_trial(t.exact),
        mean_false_positives: per_trial(t.tn_positive),
        mean_undetermined: per_trial(t.tp_undetermined + t.tn_undetermined),
        tests_per_sample: design.tests_per_sample(),
    })
}

pub(crate) fn tally(design: &Design, decoder: Decoder, sc: &Scenario) -> Result<Tally, EvalError> {
    validate(design, sc)?;
    let n = design.samples();
    let mut rng = Rng::new(sc.seed);
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut truth = vec![false; n];
    let mut t = Tally {
        trials: sc.trials,
        ..Tally::default()
    };
    for _ in 0..sc.trials {
        let obs = draw_batch(design, sc, &mut rng, &mut order, &mut truth);
        let decoding = decode(design, &obs, decoder, sc.assay)?;
        let mut exact = true;
        for (s, call) in decoding.calls.iter().enumerate() {
            match (truth[s], call) {
                (true, SampleCall::Positive) => t.tp_positive += 1,
                (true, SampleCall::Undetermined) => t.tp_undetermined += 1,
                (false, SampleCall::Positive) => t.tn_positive += 1,
                (false, SampleCall::Undetermined) => t.tn_undetermined += 1,
                (_, SampleCall::Negative) => {}
            }
            exact &= match call {
                SampleCall::Positive => truth[s],
                SampleCall::Negative => !truth[s],
                SampleCall::Undetermined => false,
            };
            t.positives += usize::from(truth[s]);
        }
        t.exact += usize::from(exact);
    }
    t.negatives = t.trials * n - t.positives;
    Ok(t)
}

fn validate(design: &Design, sc: &Scenario) -> Result<(), EvalError> {
    if sc.trials == 0 {
        return Err(EvalError::bad("trials", 0, "must be at least 1"));
    }
    match sc.positives {
        Positives::Exactly(d) if d > design.samples() => {
            return Err(EvalError::bad(
                "positives",
                d,
                format!(
                    "design `{}` has only {} samples",
                    design.name(),
                    design.samples()
                ),
            ))
        }
        Positives::Prevalence(p) if !(0.0..=1.0).contains(&p) => {
            return Err(EvalError::bad("prevalence", p, "must be in [0, 1]"))
        }
        _ => {}
    }
    for (field, v) in [("ct_noise_sd", sc.ct_noise_sd), ("ct_sd", sc.ct_sd)] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(EvalError::bad(field, v, "must be finite and >= 0"));
        }
    }
    if !sc.ct_mean.is_finite() {
        return Err(EvalError::bad("ct_mean", sc.ct_mean, "must be finite"));
    }
    sc.assay.validate()?;
    Ok(())
}
