//! Monte Carlo evaluation against exact expectations.
//!
//! Published Tapestry figures (Ghosh et al. 2020) are for their Ct-based
//! decoders and are not available to us as exact numbers for plain COMP, so
//! instead the Monte Carlo is compared with the exact expectation of COMP on
//! the same design, computed here by inclusion-exclusion (independently of the
//! crate's decoders): with `k` positives drawn uniformly from `n`, a negative
//! sample `j` is a COMP false positive iff each of its pools holds a positive,
//! so
//!
//! `E[FP] = Σ_j (n-k)/n · Σ_{T ⊆ pools(j)} (-1)^|T| · C(n-1-|∪_T|, k) / C(n-1, k)`
//!
//! where `∪_T` is the set of samples other than `j` in the pools of `T`.

use std::collections::HashSet;

use pooltrace_decode::{evaluate, evaluate_scenario, Assay, Decoder, Design, Positives, Scenario};

/// C(a, k) / C(b, k) for a ≤ b.
fn binom_ratio(a: usize, b: usize, k: usize) -> f64 {
    (0..k)
        .map(|i| {
            if a < i {
                0.0
            } else {
                (a - i) as f64 / (b - i) as f64
            }
        })
        .product()
}

fn exact_comp_false_positives(d: &Design, k: usize) -> f64 {
    let n = d.samples();
    let mut total = 0.0;
    for j in 0..n {
        let pools: Vec<&Vec<u32>> = d
            .pools()
            .iter()
            .filter(|p| p.contains(&(j as u32)))
            .collect();
        let w = pools.len();
        let mut p_all_hit = 0.0;
        for mask in 0u32..(1 << w) {
            let mut union: HashSet<u32> = HashSet::new();
            for (t, pool) in pools.iter().enumerate() {
                if mask & (1 << t) != 0 {
                    union.extend(pool.iter().filter(|&&s| s as usize != j));
                }
            }
            let sign = if mask.count_ones() % 2 == 0 {
                1.0
            } else {
                -1.0
            };
            p_all_hit += sign * binom_ratio(n - 1 - union.len(), n - 1, k);
        }
        total += (n - k) as f64 / n as f64 * p_all_hit;
    }
    total
}

#[test]
fn comp_on_kirkman_matches_exact_expectation() {
    for (name, k, trials) in [
        ("kirkman-45x105", 5, 6000),
        ("kirkman-45x105", 8, 6000),
        ("kirkman-93x961", 10, 1500),
    ] {
        let d = Design::builtin(name).unwrap();
        let exact = exact_comp_false_positives(&d, k);
        let mc = evaluate(&d, Decoder::Comp, k, trials, 0.0, 42).unwrap();
        assert_eq!(
            mc.sensitivity, 1.0,
            "{name}: COMP never misses without noise"
        );
        let rel = (mc.mean_false_positives - exact).abs() / exact;
        assert!(
            rel < 0.08,
            "{name} k={k}: MC {} vs exact {exact}",
            mc.mean_false_positives
        );
        let spec = 1.0 - exact / (d.samples() - k) as f64;
        assert!(
            (mc.specificity - spec).abs() < 0.08 * (1.0 - spec),
            "{name}: {} vs {spec}",
            mc.specificity
        );
    }
}

#[test]
fn comp_within_guarantee_is_exact() {
    // Inclusion-exclusion gives 0 false positives for k ≤ d on these designs.
    for name in ["kirkman-45x105", "pbest-48x384"] {
        let d = Design::builtin(name).unwrap();
        assert!(exact_comp_false_positives(&d, 2).abs() < 1e-12);
        assert!(
            exact_comp_false_positives(&d, 3) > 0.0,
            "{name}: not 3-disjunct"
        );
    }
}

#[test]
fn pbest_noiseless_exact_recovery_up_to_two() {
    let d = Design::builtin("pbest-48x384").unwrap();
    for k in 0..=2 {
        let e = evaluate(&d, Decoder::Comp, k, 500, 0.0, 7).unwrap();
        assert_eq!(e.exact_recovery, 1.0, "k = {k}");
        assert_eq!((e.sensitivity, e.specificity), (1.0, 1.0));
        assert_eq!((e.mean_false_positives, e.mean_undetermined), (0.0, 0.0));
        assert_eq!(e.tests_per_sample, 48.0 / 384.0);
    }
}

#[test]
fn deterministic_for_a_seed_and_serialises_exact_keys() {
    let d = Design::builtin("kirkman-45x105").unwrap();
    let a = evaluate(&d, Decoder::Dd, 6, 200, 0.5, 9).unwrap();
    let b = evaluate(&d, Decoder::Dd, 6, 200, 0.5, 9).unwrap();
    let c = evaluate(&d, Decoder::Dd, 6, 200, 0.5, 10).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    let json = serde_json::to_value(a).unwrap();
    let mut keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "exact_recovery",
            "mean_false_positives",
            "mean_undetermined",
            "sensitivity",
            "specificity",
            "tests_per_sample"
        ]
    );
    // DD never guesses: no false positives without assay errors.
    assert_eq!(a.mean_false_positives, 0.0);
    assert_eq!(a.specificity, 1.0);
}

#[test]
fn imperfect_assay_keeps_dd_honest() {
    // With 5% false-negative pools, DD must still rarely call a negative
    // positive, and its undetermined samples grow compared with a perfect assay.
    let d = Design::builtin("pbest-48x384").unwrap();
    let perfect = Scenario::new(3, 300, 0.5, 5);
    let noisy = Scenario {
        assay: Assay::new(0.95, 0.99).unwrap(),
        ..perfect
    };
    let p = evaluate_scenario(&d, Decoder::Dd, &perfect).unwrap();
    let q = evaluate_scenario(&d, Decoder::Dd, &noisy).unwrap();
    assert!(q.specificity > 0.999, "{q:?}");
    assert!(q.mean_undetermined > p.mean_undetermined, "{p:?} {q:?}");
    // COMP under an imperfect assay: a single false-negative pool must not
    // exclude a sample that sits in several positive pools. Excluding on any
    // negative pool would keep a positive only if all 6 of its pools read
    // positive: 0.95^6 = 0.735. Excluding needs ≥ 2 negative pools here, which
    // happens with probability 1 - 0.95^6 - 6·0.05·0.95^5 = 0.033.
    let c = evaluate_scenario(&d, Decoder::Comp, &noisy).unwrap();
    assert!(c.sensitivity > 0.95, "{c:?}");
}

#[test]
fn bad_parameters_are_rejected() {
    let d = Design::builtin("array-8x12").unwrap();
    assert!(evaluate(&d, Decoder::Comp, 97, 10, 0.0, 1)
        .unwrap_err()
        .to_string()
        .contains("only 96 samples"));
    assert!(evaluate(&d, Decoder::Comp, 1, 0, 0.0, 1).is_err());
    assert!(evaluate(&d, Decoder::Comp, 1, 10, -1.0, 1).is_err());
    let s = Scenario {
        positives: Positives::Prevalence(1.5),
        ..Scenario::new(0, 10, 0.0, 1)
    };
    assert!(evaluate_scenario(&d, Decoder::Comp, &s).is_err());
}
