//! Built-in designs: parameters measured independently of `DesignProperties`,
//! the triple systems they come from, and verification errors.

use std::collections::HashSet;

use pooltrace_decode::designs::steiner::{
    kts15, resolvable_transversal_triples, tripled_kts, Resolution,
};
use pooltrace_decode::{builtin_names, Design, DesignError};

/// Pools per sample and the largest pairwise overlap, by brute force over
/// sample pairs (independent of the crate's own computation).
fn brute_stats(d: &Design) -> (usize, usize, usize) {
    let n = d.samples();
    let mut membership = vec![HashSet::new(); n];
    for (p, pool) in d.pools().iter().enumerate() {
        for &s in pool {
            membership[s as usize].insert(p);
        }
    }
    let w_min = membership.iter().map(HashSet::len).min().unwrap();
    let w_max = membership.iter().map(HashSet::len).max().unwrap();
    let mut overlap = 0;
    for a in 0..n {
        for b in a + 1..n {
            overlap = overlap.max(membership[a].intersection(&membership[b]).count());
        }
    }
    (w_min, w_max, overlap)
}

fn check(
    name: &str,
    pools: usize,
    samples: usize,
    size: (usize, usize),
    w: usize,
    overlap: usize,
    d: usize,
) {
    let design = Design::builtin(name).unwrap();
    let p = design.properties();
    assert_eq!((p.pools, p.samples), (pools, samples), "{name}");
    assert_eq!(
        (p.pool_size_min, p.pool_size_max),
        size,
        "{name} pool sizes"
    );
    assert_eq!(
        (p.multiplicity_min, p.multiplicity_max),
        (w, w),
        "{name} multiplicity"
    );
    assert_eq!(p.max_overlap, overlap, "{name} overlap");
    assert_eq!(p.guaranteed_decodable, d, "{name} d");
    assert_eq!(p.empty_pools, 0);
    assert_eq!(brute_stats(&design), (w, w, overlap), "{name} brute force");
}

#[test]
fn kirkman_45x105() {
    check("kirkman-45x105", 45, 105, (7, 7), 3, 1, 2);
}

#[test]
fn kirkman_93x961() {
    check("kirkman-93x961", 93, 961, (31, 31), 3, 1, 2);
}

#[test]
fn pbest_48x384() {
    check("pbest-48x384", 48, 384, (48, 48), 6, 2, 2);
}

#[test]
fn arrays_and_std() {
    check("array-8x12", 20, 96, (8, 12), 2, 1, 1);
    check("array-1x5", 6, 5, (1, 5), 2, 1, 1);
    // STD(13; 4): 52 pools of 13, n = 169, Γ = 1, d = 3.
    check("std-13-4", 52, 169, (13, 13), 4, 1, 3);
    // k = q + 1 uses the extra layer.
    check("std-5-6", 30, 25, (5, 5), 6, 1, 5);
    // n = 200 > 7² needs Γ = 2: two samples may share 2 pools; d = (5-1)/2.
    let d = Design::builtin("std-7-5-200").unwrap();
    assert_eq!(d.properties().samples, 200);
    assert_eq!(brute_stats(&d), (5, 5, 2));
    assert_eq!(d.properties().guaranteed_decodable, 2);
}

#[test]
fn every_listed_name_builds() {
    for name in builtin_names() {
        let d = Design::builtin(name).unwrap();
        assert_eq!(d.name(), *name);
    }
}

#[test]
fn bad_names_are_explained() {
    for (name, why) in [
        ("array-8x", "positive integer"),
        ("array-0x3", "positive integer"),
        ("std-12-3", "not prime"),
        ("std-5-7", "at most q + 1"),
        ("kirkman-46x105", "no such design"),
    ] {
        let err = Design::builtin(name).unwrap_err();
        assert!(matches!(err, DesignError::UnknownBuiltin { .. }), "{name}");
        assert!(err.to_string().contains(why), "{name}: {err}");
    }
}

/// Every pair of points of `0..v` in exactly one triple, every class a
/// partition of the points.
fn assert_resolvable_sts(res: &Resolution, v: u32) {
    let mut pairs = HashSet::new();
    for class in res {
        let mut seen: Vec<u32> = class.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..v).collect::<Vec<_>>(), "class is not a partition");
        for t in class {
            for (a, b) in [(t[0], t[1]), (t[0], t[2]), (t[1], t[2])] {
                assert!(pairs.insert((a.min(b), a.max(b))), "pair {a},{b} twice");
            }
        }
    }
    assert_eq!(
        pairs.len() as u32,
        v * (v - 1) / 2,
        "not every pair covered"
    );
}

#[test]
fn kirkman_systems_are_valid() {
    let k15 = kts15();
    assert_eq!(k15.len(), 7);
    assert_resolvable_sts(&k15, 15);
    let k45 = tripled_kts(&k15, 15);
    assert_eq!(k45.len(), 22); // (45 - 1) / 2 classes of 15 triples
    assert_resolvable_sts(&k45, 45);
}

#[test]
fn transversal_design_classes() {
    let td = resolvable_transversal_triples(31);
    assert_eq!(td.len(), 31);
    let mut pairs = HashSet::new();
    for class in &td {
        let mut seen: Vec<u32> = class.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..93).collect::<Vec<_>>());
        for t in class {
            // One point in each group of 31.
            assert_eq!([t[0] / 31, t[1] / 31, t[2] / 31], [0, 1, 2]);
            for (a, b) in [(t[0], t[1]), (t[0], t[2]), (t[1], t[2])] {
                assert!(pairs.insert((a, b)));
            }
        }
    }
    // Every pair of points from different groups exactly once: 3 · 31².
    assert_eq!(pairs.len(), 3 * 31 * 31);
}

#[test]
fn verification_errors() {
    let e = Design::new("x", 3, vec![vec![0, 1], vec![1, 5]]).unwrap_err();
    assert_eq!(
        e,
        DesignError::SampleOutOfRange {
            name: "x".into(),
            pool: 1,
            sample: 5,
            samples: 3
        }
    );
    let e = Design::new("x", 3, vec![vec![0, 1, 0], vec![2]]).unwrap_err();
    assert_eq!(
        e,
        DesignError::DuplicateInPool {
            name: "x".into(),
            pool: 0,
            sample: 0
        }
    );
    let e = Design::new("x", 4, vec![vec![0, 2]]).unwrap_err();
    assert_eq!(
        e,
        DesignError::SampleInNoPool {
            name: "x".into(),
            sample: 1,
            count: 2
        }
    );
    assert!(matches!(
        Design::new("x", 0, vec![]),
        Err(DesignError::NoSamples { .. })
    ));
    // Empty pools are allowed and reported.
    let d = Design::new("x", 2, vec![vec![0], vec![], vec![1]]).unwrap();
    assert_eq!(d.properties().empty_pools, 1);
    assert_eq!(d.properties().pool_size_min, 0);
    // No two samples share a pool: individual testing, d = n.
    assert_eq!(d.properties().max_overlap, 0);
    assert_eq!(d.properties().guaranteed_decodable, 2);
}

#[test]
fn membership_index_matches_pools() {
    let d = Design::builtin("pbest-48x384").unwrap();
    for s in 0..d.samples() {
        for &p in d.pools_of(s) {
            assert!(d.pools()[p as usize].contains(&(s as u32)));
        }
        assert_eq!(d.pools_of(s).len(), 6);
    }
    assert!(d.pools_of(384).is_empty());
}
