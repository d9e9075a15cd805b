//! The RT-PCR assay: what a lab measures for a tube.
//!
//! The viral load of a tube of k people is the mean of its members' loads
//! (2^-Ct, zero for the uninfected), so its Ct is
//! `-log2(sum(2^-ct_i) / k) + N(0, dilution_sd)` for k >= 2: one positive in
//! a 20-pool reads about log2(20) = 4.3 cycles later. Each target (ORF1ab, N)
//! adds its own N(0, target_sd) and is reported only at or below the cut-off.
//! The internal control reads N(ic_mean, ic_sd), except in invalid tubes (no
//! IC, no targets). Inconclusive tubes report exactly one target; false
//! positives read both targets at 33-39 (cut-off 40).

use pooltrace_model::{Ct, CtRules, Interpretation, KitRule, LabResult, Timestamp};
use rand::Rng;
use rand_distr::StandardNormal;

use crate::config::AssayConfig;
use crate::rng::{uniform, SimRng};

/// One tube's measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct TubeAssay {
    /// What the lab reports.
    pub ct: Ct,
    /// The pooling noise drawn for this tube (0 for one-person tubes).
    pub dilution_noise: f64,
}

/// Rounds to the two decimals labs report.
pub(crate) fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Ct of one infected person with true Ct `ct` diluted in a tube of `k`.
pub(crate) fn own_diluted_ct(ct: f64, k: usize, dilution_noise: f64) -> f64 {
    ct + (k.max(1) as f64).log2() + dilution_noise
}

/// Measures a tube of `k` people whose infected members have true Cts `cts`.
/// Draws a fixed number of values from `rng`, whatever the outcome.
pub(crate) fn run(a: &AssayConfig, cts: &[f32], k: usize, rng: &mut SimRng) -> TubeAssay {
    let u_invalid: f64 = rng.random();
    let u_inconclusive: f64 = rng.random();
    let u_false_positive: f64 = rng.random();
    let u_pick: f64 = rng.random();
    let z_dilution: f64 = rng.sample(StandardNormal);
    let z_orf: f64 = rng.sample(StandardNormal);
    let z_n: f64 = rng.sample(StandardNormal);
    let z_ic: f64 = rng.sample(StandardNormal);
    let weak = uniform(rng, a.cutoff - 7.0, a.cutoff - 1.0);
    let grey = uniform(rng, a.cutoff - 5.0, a.cutoff);

    let dilution_noise = if k > 1 {
        a.dilution_sd * z_dilution
    } else {
        0.0
    };
    if u_invalid < a.invalid_rate {
        return TubeAssay {
            ct: Ct::default(),
            dilution_noise,
        };
    }
    let base = if cts.is_empty() {
        (u_false_positive < a.false_positive_rate).then_some(weak)
    } else {
        let load: f64 = cts.iter().map(|c| (-f64::from(*c)).exp2()).sum::<f64>() / k.max(1) as f64;
        Some(-load.log2() + dilution_noise)
    };
    let detect = |v: f64| {
        let v = round2(v.max(1.0));
        (v <= a.cutoff).then_some(v)
    };
    let mut orf1ab = base.and_then(|b| detect(b + a.target_sd * z_orf));
    let mut n = base.and_then(|b| detect(b + a.target_sd * z_n));
    if u_inconclusive < a.inconclusive_rate {
        let first = u_pick < 0.5;
        match (orf1ab, n) {
            (Some(_), Some(_)) if first => n = None,
            (Some(_), Some(_)) => orf1ab = None,
            (None, None) if first => orf1ab = detect(grey),
            (None, None) => n = detect(grey),
            _ => {}
        }
    }
    let ic = round2((a.ic_mean + a.ic_sd * z_ic).clamp(10.0, 45.0));
    TubeAssay {
        ct: Ct {
            orf1ab,
            n,
            e: None,
            ic: Some(ic),
        },
        dilution_noise,
    }
}

/// How the default rule with the configured cut-off reads a measurement.
pub(crate) fn interpret(ct: &Ct, cutoff: f64) -> Interpretation {
    let rules = CtRules {
        default: KitRule {
            cutoff,
            grey_zone_upper: None,
        },
        ..CtRules::default()
    };
    let probe = LabResult {
        tube_id: String::new(),
        lab_id: String::new(),
        reported_at: Timestamp::from_millis(0, 0),
        received_at: None,
        kit: None,
        ct: *ct,
        call: None,
        status: Default::default(),
    };
    rules.interpret(&probe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    fn calls(cts: &[f32], k: usize, a: &AssayConfig) -> [usize; 4] {
        let mut out = [0; 4];
        for i in 0..2000 {
            let t = run(a, cts, k, &mut stream(1, 2, 3, i));
            out[interpret(&t.ct, a.cutoff) as usize] += 1;
        }
        out
    }

    #[test]
    fn dilution_shift_and_rates() {
        let clean = AssayConfig {
            inconclusive_rate: 0.0,
            invalid_rate: 0.0,
            ..AssayConfig::default()
        };
        // Interpretation order: Negative, Positive, Inconclusive, Invalid.
        assert_eq!(calls(&[30.0], 1, &clean), [0, 2000, 0, 0]);
        assert_eq!(calls(&[39.0], 20, &clean), [2000, 0, 0, 0]);
        assert_eq!(calls(&[], 20, &clean), [2000, 0, 0, 0]);
        let t = run(&clean, &[30.0], 10, &mut stream(1, 2, 3, 4));
        let shift = t.ct.orf1ab.unwrap() - 30.0;
        assert!((shift - 10f64.log2()).abs() < 2.5, "{shift}");
        let noisy = AssayConfig {
            inconclusive_rate: 0.5,
            invalid_rate: 0.25,
            ..AssayConfig::default()
        };
        let [neg, pos, inc, inv] = calls(&[25.0], 1, &noisy);
        assert_eq!(neg, 0);
        // invalid 25%; of the rest, half inconclusive (SD of each count < 25).
        assert!((inv as i64 - 500).abs() < 100, "{inv}");
        assert!(
            (inc as i64 - 750).abs() < 110 && (pos as i64 - 750).abs() < 110,
            "{inc} {pos}"
        );
    }
}
