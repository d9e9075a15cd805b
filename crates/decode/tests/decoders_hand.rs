//! Decoders on small cases worked out by hand.
//!
//! The design is a 2 x 3 array, samples at (row, col) = (s / 3, s % 3):
//!
//! ```text
//!          C0(p2) C1(p3) C2(p4)
//! R0 (p0)    0      1      2
//! R1 (p1)    3      4      5
//! ```

use pooltrace_decode::{
    comp_candidates, decode, Assay, CtModel, Decoder, Design, PoolObservation, SampleCall,
};
use SampleCall::{Negative as N, Positive as P, Undetermined as U};

fn array_2x3() -> Design {
    Design::new(
        "hand-2x3",
        6,
        vec![
            vec![0, 1, 2],
            vec![3, 4, 5],
            vec![0, 3],
            vec![1, 4],
            vec![2, 5],
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

fn calls(d: &Design, o: &[PoolObservation], dec: Decoder) -> Vec<SampleCall> {
    decode(d, o, dec, Assay::PERFECT).unwrap().calls
}

#[test]
fn one_positive_is_found_by_everyone() {
    // Sample 1 positive: R0 and C1 positive, the rest negative.
    let d = array_2x3();
    let o = obs(&[true, false, false, true, false]);
    // 0 is in C0 (negative), 2 in C2, 3..5 in R1: only 1 is a candidate, and it
    // is the only candidate of R0, so it is a definite positive.
    assert_eq!(comp_candidates(&d, &o, Assay::PERFECT).unwrap(), vec![1]);
    for dec in Decoder::all() {
        assert_eq!(calls(&d, &o, dec), vec![N, P, N, N, N, N], "{}", dec.name());
    }
}

#[test]
fn two_positives_in_a_rectangle_are_ambiguous() {
    // Samples 0 and 4 positive: R0, R1, C0, C1 positive; C2 negative.
    let d = array_2x3();
    let o = obs(&[true, true, true, true, false]);
    // Candidates: 0, 1, 3, 4 (2 and 5 are in C2). Every positive pool holds two
    // candidates, so nothing is forced: {0,4} and {1,3} explain the data alike.
    assert_eq!(
        comp_candidates(&d, &o, Assay::PERFECT).unwrap(),
        vec![0, 1, 3, 4]
    );
    assert_eq!(calls(&d, &o, Decoder::Comp), vec![P, P, N, P, P, N]);
    assert_eq!(calls(&d, &o, Decoder::Dd), vec![U, U, N, U, U, N]);
    let scomp = decode(&d, &o, Decoder::Scomp, Assay::PERFECT).unwrap();
    assert_eq!(scomp.calls, vec![U, U, N, U, U, N]);
    // Greedy: all four candidates explain 2 pools, take the lowest (0: R0, C0);
    // then 4 explains R1 and C1 at once, 1 and 3 only one each.
    assert_eq!(scomp.explanation, vec![0, 4]);
}

#[test]
fn two_positives_in_a_row_are_forced() {
    // Samples 0 and 1 positive: R0, C0, C1 positive; R1, C2 negative.
    let d = array_2x3();
    let o = obs(&[true, false, true, true, false]);
    // Candidates 0 and 1; C0's only candidate is 0 and C1's is 1.
    for dec in [Decoder::Comp, Decoder::Dd, Decoder::Scomp] {
        assert_eq!(calls(&d, &o, dec), vec![P, P, N, N, N, N], "{}", dec.name());
    }
}

#[test]
fn contradiction_is_reported() {
    // R0 positive but C0, C1, C2 all negative: no candidate for R0.
    let d = array_2x3();
    let o = obs(&[true, false, false, false, false]);
    let r = decode(&d, &o, Decoder::Dd, Assay::PERFECT).unwrap();
    assert_eq!(r.calls, vec![N; 6]);
    assert_eq!(r.unexplained_pools, vec![0]);
}

#[test]
fn ct_resolves_what_booleans_cannot() {
    // Samples 0 (Ct 25) and 4 (Ct 30) positive, as in the rectangle case.
    // Pool totals (size · 2^-Ct): R0 = C0 = 2^-25, R1 = C1 = 2^-30.
    // Loads: v1 ≤ C1 = 2^-30, so v0 ≥ R0 - v1 ≥ 2^-25 - 2^-30 > 0: sample 0
    // is forced. The rest is a one-parameter family v1 = v3 = x,
    // v4 = 2^-30 - x, x in [0, 2^-30]: 1, 3, 4 stay undetermined.
    let d = array_2x3();
    let ct = |total_log2: f64, size: f64| Some(total_log2 + size.log2());
    let o = vec![
        PoolObservation {
            positive: true,
            ct: ct(25.0, 3.0),
        },
        PoolObservation {
            positive: true,
            ct: ct(30.0, 3.0),
        },
        PoolObservation {
            positive: true,
            ct: ct(25.0, 2.0),
        },
        PoolObservation {
            positive: true,
            ct: ct(30.0, 2.0),
        },
        PoolObservation::NEGATIVE,
    ];
    let model = CtModel {
        noise_sd: 0.0,
        ..CtModel::default()
    };
    let r = decode(&d, &o, Decoder::CtAware(model), Assay::PERFECT).unwrap();
    assert_eq!(r.calls, vec![P, U, N, U, U, N]);
    let loads = r.loads.unwrap();
    assert!((loads[0] - 2f64.powi(-25)).abs() <= 2f64.powi(-30) * 1.0001);
    // With 2 cycles of noise allowed, 2^-25 / 2^6 < 2^-30 · 2^6: nothing is forced.
    let noisy = CtModel {
        noise_sd: 2.0,
        ..CtModel::default()
    };
    let r = decode(&d, &o, Decoder::CtAware(noisy), Assay::PERFECT).unwrap();
    assert_eq!(r.calls, vec![U, U, N, U, U, N]);
}

#[test]
fn ct_excludes_a_candidate_whose_pool_is_fully_explained() {
    // Pools: A = {0}, B = {0, 1}, C = {1, 2}, D = {2}. Sample 0 (Ct 28) and
    // sample 2 (Ct 30) positive. Sample 1 is a COMP candidate (B and C are
    // positive) and DD cannot clear it. Ct: A pins v0 = 2^-28 and B's total
    // is 2^-28, so v1 ≤ B - v0 ≈ 0 (below any detectable load): Negative.
    let d = Design::new("chain", 3, vec![vec![0], vec![0, 1], vec![1, 2], vec![2]]).unwrap();
    let o = pooltrace_decode::pool_observations(&d, &[(0, 28.0), (2, 30.0)]);
    assert_eq!(calls(&d, &o, Decoder::Dd), vec![P, U, P]);
    let model = CtModel {
        noise_sd: 0.0,
        ..CtModel::default()
    };
    assert_eq!(calls(&d, &o, Decoder::CtAware(model)), vec![P, N, P]);
}

#[test]
fn input_errors() {
    let d = array_2x3();
    let e = decode(&d, &obs(&[true; 4]), Decoder::Dd, Assay::PERFECT).unwrap_err();
    assert!(e.to_string().contains("5 pools but 4 observations"), "{e}");
    let mut o = obs(&[true; 5]);
    o[2].ct = Some(f64::NAN);
    let e = decode(&d, &o, Decoder::Dd, Assay::PERFECT).unwrap_err();
    assert!(e.to_string().starts_with("pool 2: Ct NaN"), "{e}");
    let e = Assay::new(0.4, 0.99).unwrap_err();
    assert!(e.to_string().contains("sensitivity"), "{e}");
    assert!(Decoder::from_name("nnomp").is_err());
    assert_eq!(Decoder::from_name("scomp").unwrap(), Decoder::Scomp);
}
