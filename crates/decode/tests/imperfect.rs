//! Imperfect assays: the exclusion rule and per-sample confidence.

use pooltrace_decode::{
    decode, pool_observations, Assay, Decoder, Design, PoolObservation, SampleCall,
};

/// Sample 0 is in pools 0..4 with one partner each (1..4); pool 4 holds 1..4.
fn star() -> Design {
    Design::new(
        "star",
        5,
        vec![
            vec![0, 1],
            vec![0, 2],
            vec![0, 3],
            vec![0, 4],
            vec![1, 2, 3, 4],
        ],
    )
    .unwrap()
}

fn obs(bits: &[bool]) -> Vec<PoolObservation> {
    bits.iter()
        .map(|&b| PoolObservation {
            positive: b,
            ct: None,
        })
        .collect()
}

#[test]
fn one_negative_pool_among_several_positive_ones_is_undetermined() {
    // Pool 0 negative, pools 1..4 positive. Perfect assay: 0 and 1 are in a
    // negative pool, so negative; 2, 3, 4 are candidates, each the only
    // candidate of its pool with 0 (pools 1, 2, 3), so definite positives.
    let d = star();
    let o = obs(&[false, true, true, true, true]);
    let perfect = decode(&d, &o, Decoder::Dd, Assay::PERFECT).unwrap();
    use SampleCall::*;
    assert_eq!(
        perfect.calls,
        vec![Negative, Negative, Positive, Positive, Positive]
    );
    // Imperfect assay: 0 has one negative and three positive pools, so the
    // negative pool may be a false negative: 0 is not excluded, and then no
    // pool has a single candidate.
    let assay = Assay::new(0.95, 0.99).unwrap();
    for dec in [Decoder::Dd, Decoder::Scomp] {
        let r = decode(&d, &o, dec, assay).unwrap();
        assert_eq!(r.calls[0], Undetermined, "{}", dec.name());
        assert_eq!(r.confidence(0), None);
    }
    // Sample 1 has one negative and one positive pool (0 and 4): it could be
    // excluded, but only with a posterior below 1 %. With 4 of 5 pools
    // positive the estimated prevalence is high, so it stays a candidate.
    let r = decode(&d, &o, Decoder::Comp, assay).unwrap();
    assert_eq!(r.calls[0], Positive);
    assert!(r.p_positive[1] >= 0.01, "{}", r.p_positive[1]);
    assert_eq!(r.calls[1], Positive);
}

#[test]
fn single_positive_under_an_imperfect_assay() {
    // 8 x 12 array, sample 13 (row 1, column 1) positive; Se 0.95, Sp 0.99.
    // By hand: the estimated prevalence is about 1 % (2 of 20 pools positive).
    // If 13 were negative, each of its pools would need a false positive
    // (1 %) or another member positive behind a false-negative pool (about
    // 11 · 1 % · 5 %), about 1.6 % per pool; if positive, each reads positive
    // with 95 %. Posterior odds ≈ 0.0105 · (0.95 / 0.016)² ≈ 37: P ≈ 0.97,
    // below the 0.99 needed for a `Positive` call, so 13 is `Undetermined`.
    // Its row- and column-mates have one negative pool and a posterior well
    // under 1 %: `Negative`.
    let d = Design::builtin("array-8x12").unwrap();
    let o = pool_observations(&d, &[(13, 28.0)]);
    let assay = Assay::new(0.95, 0.99).unwrap();
    let r = decode(&d, &o, Decoder::Dd, assay).unwrap();
    assert_eq!(r.with_call(SampleCall::Undetermined), vec![13]);
    assert!(r.with_call(SampleCall::Positive).is_empty());
    assert!(
        (0.95..0.99).contains(&r.p_positive[13]),
        "{}",
        r.p_positive[13]
    );
    for mate in [12, 14, 1, 25] {
        assert!(r.confidence(mate).unwrap() > 0.99, "{mate}");
    }
    // Perfect assay: forced, so Positive with certainty.
    let r = decode(&d, &o, Decoder::Dd, Assay::PERFECT).unwrap();
    assert_eq!(r.with_call(SampleCall::Positive), vec![13]);
    assert_eq!(r.confidence(13), Some(1.0));
    assert_eq!(r.confidence(0), Some(1.0));
    // In the P-BEST-like design the same positive lights 6 pools, each
    // (0.95 / 0.01)-fold evidence: the posterior clears 0.99.
    let d = Design::builtin("pbest-48x384").unwrap();
    let o = pool_observations(&d, &[(13, 28.0)]);
    let r = decode(&d, &o, Decoder::Dd, assay).unwrap();
    assert_eq!(r.with_call(SampleCall::Positive), vec![13]);
    assert!(r.confidence(13).unwrap() > 0.99);
}

#[test]
fn a_lone_false_positive_pool_is_not_a_positive_call() {
    // Only pool 4 positive: under a perfect assay 1..4 are all in negative
    // pools, so the pool is unexplained (a contradiction). Under an imperfect
    // assay its members have 1 negative and 1 positive pool; nothing is called
    // positive.
    let d = star();
    let o = obs(&[false, false, false, false, true]);
    let r = decode(&d, &o, Decoder::Dd, Assay::PERFECT).unwrap();
    assert_eq!(r.unexplained_pools, vec![4]);
    let r = decode(&d, &o, Decoder::Dd, Assay::new(0.95, 0.99).unwrap()).unwrap();
    assert!(
        r.with_call(SampleCall::Positive).is_empty(),
        "{:?}",
        r.calls
    );
}
