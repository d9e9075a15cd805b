//! Noiseless invariants. Observations are built here from the truth (a pool
//! is positive iff it holds a positive; Ct = -log2(Σ 2^-ct / size)), not by
//! the crate's simulator.

use proptest::prelude::*;

use pooltrace_decode::{decode, Assay, CtModel, Decoder, Design, PoolObservation, SampleCall};

const NOISELESS_CT: Decoder = Decoder::CtAware(CtModel {
    noise_sd: 0.0,
    sigmas: 3.0,
    detection_ct: 40.0,
});

fn decoders() -> [Decoder; 5] {
    [
        Decoder::Comp,
        Decoder::Dd,
        Decoder::Scomp,
        NOISELESS_CT,
        Decoder::CtAware(CtModel::default()),
    ]
}

fn observe(d: &Design, positives: &[(usize, f64)]) -> Vec<PoolObservation> {
    d.pools()
        .iter()
        .map(|pool| {
            let load: f64 = positives
                .iter()
                .filter(|(s, _)| pool.contains(&(*s as u32)))
                .map(|(_, ct)| 2f64.powf(-ct))
                .sum();
            if load > 0.0 {
                PoolObservation {
                    positive: true,
                    ct: Some(-(load / pool.len() as f64).log2()),
                }
            } else {
                PoolObservation {
                    positive: false,
                    ct: None,
                }
            }
        })
        .collect()
}

/// Samples in no negative pool.
fn candidates(d: &Design, o: &[PoolObservation]) -> Vec<bool> {
    let mut cand = vec![true; d.samples()];
    for (pool, ob) in d.pools().iter().zip(o) {
        if !ob.positive {
            for &s in pool {
                cand[s as usize] = false;
            }
        }
    }
    cand
}

/// Checks every decoder against the noiseless invariants; returns whether
/// each decoder recovered the truth exactly (no undetermined).
fn check_all(d: &Design, positives: &[(usize, f64)]) -> Vec<bool> {
    let mut truth = vec![false; d.samples()];
    for &(s, _) in positives {
        truth[s] = true;
    }
    let o = observe(d, positives);
    let cand = candidates(d, &o);
    decoders()
        .iter()
        .map(|&dec| {
            let r = decode(d, &o, dec, Assay::PERFECT).unwrap();
            for s in 0..d.samples() {
                let call = r.calls[s];
                if truth[s] {
                    assert_ne!(
                        call,
                        SampleCall::Negative,
                        "{}: true positive {s} called negative",
                        dec.name()
                    );
                }
                if dec == Decoder::Comp {
                    assert_eq!(call == SampleCall::Positive, cand[s], "comp sample {s}");
                } else if call == SampleCall::Positive {
                    assert!(truth[s], "{}: negative {s} called positive", dec.name());
                }
                if matches!(dec, Decoder::Dd | Decoder::Scomp) && call == SampleCall::Positive {
                    // Forced: the only candidate of some positive pool.
                    let forced = d.pools_of(s).iter().any(|&p| {
                        o[p as usize].positive
                            && d.pools()[p as usize]
                                .iter()
                                .filter(|&&t| cand[t as usize])
                                .count()
                                == 1
                    });
                    assert!(forced, "{}: sample {s} positive but not forced", dec.name());
                }
                if !cand[s] {
                    assert_eq!(
                        call,
                        SampleCall::Negative,
                        "{}: excluded sample {s}",
                        dec.name()
                    );
                }
            }
            r.calls.iter().zip(&truth).all(|(c, &t)| {
                *c == if t {
                    SampleCall::Positive
                } else {
                    SampleCall::Negative
                }
            })
        })
        .collect()
}

/// SplitMix64, for picking positives.
struct Mix(u64);
impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn positives(&mut self, n: usize, k: usize) -> Vec<(usize, f64)> {
        let mut out: Vec<(usize, f64)> = Vec::new();
        while out.len() < k {
            let s = (self.next() % n as u64) as usize;
            if out.iter().all(|&(t, _)| t != s) {
                out.push((s, 18.0 + (self.next() % 2000) as f64 / 100.0));
            }
        }
        out
    }
}

#[test]
fn up_to_d_positives_are_recovered_exactly_by_every_decoder() {
    let mut rng = Mix(11);
    for name in [
        "array-8x12",
        "kirkman-45x105",
        "kirkman-93x961",
        "pbest-48x384",
        "std-13-4",
    ] {
        let d = Design::builtin(name).unwrap();
        let dmax = d.properties().guaranteed_decodable;
        for k in 0..=dmax {
            for _ in 0..150 {
                let pos = rng.positives(d.samples(), k);
                let exact = check_all(&d, &pos);
                assert!(
                    exact.iter().all(|&e| e),
                    "{name}, {k} positives {pos:?}: {exact:?}"
                );
            }
        }
    }
}

#[test]
fn above_d_no_true_positive_is_called_negative() {
    let mut rng = Mix(12);
    for name in ["array-8x12", "kirkman-45x105", "pbest-48x384", "std-13-4"] {
        let d = Design::builtin(name).unwrap();
        for k in [3, 5, 8, 15] {
            for _ in 0..60 {
                check_all(&d, &rng.positives(d.samples(), k));
            }
        }
    }
}

#[test]
fn ct_decides_more_than_dd_without_noise() {
    // Above the guarantee, noiseless Ct values must settle some samples DD
    // leaves undetermined (and, by check_all, never wrongly).
    let d = Design::builtin("kirkman-45x105").unwrap();
    let mut rng = Mix(13);
    let (mut dd_und, mut ct_und) = (0, 0);
    for _ in 0..200 {
        let pos = rng.positives(105, 6);
        check_all(&d, &pos);
        let o = observe(&d, &pos);
        let und = |dec| {
            decode(&d, &o, dec, Assay::PERFECT)
                .unwrap()
                .with_call(SampleCall::Undetermined)
                .len()
        };
        dd_und += und(Decoder::Dd);
        ct_und += und(NOISELESS_CT);
    }
    assert!(dd_und > 0);
    assert!(
        ct_und * 2 < dd_und,
        "Ct undetermined {ct_und} vs DD {dd_und}"
    );
}

/// Random small designs: each sample in a non-empty random set of pools.
fn small_design() -> impl Strategy<Value = Design> {
    (2usize..12, 1usize..10).prop_flat_map(|(n, m)| {
        proptest::collection::vec(proptest::collection::btree_set(0..m, 1..=m), n).prop_map(
            move |sets| {
                let mut pools = vec![Vec::new(); m];
                for (s, set) in sets.iter().enumerate() {
                    for &p in set {
                        pools[p].push(s as u32);
                    }
                }
                Design::new("random", n, pools).unwrap()
            },
        )
    })
}

proptest! {
    #[test]
    fn noiseless_invariants_on_random_designs(
        d in small_design(),
        picks in proptest::collection::vec((0usize..12, 15.0f64..38.0), 0..6),
    ) {
        let mut pos: Vec<(usize, f64)> = Vec::new();
        for (s, ct) in picks {
            let s = s % d.samples();
            if pos.iter().all(|&(t, _)| t != s) {
                pos.push((s, ct));
            }
        }
        let exact = check_all(&d, &pos);
        if pos.len() <= d.properties().guaranteed_decodable {
            prop_assert!(exact.iter().all(|&e| e), "{:?} {:?}", d.pools(), pos);
        }
    }
}
