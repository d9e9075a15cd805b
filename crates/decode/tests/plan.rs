//! Dorfman planning: figures equal the binGroup2 closed forms, computed here
//! by hand for a few values.

use pooltrace_decode::{plan, plan_with, Design};

#[test]
fn dorfman_rows_match_closed_forms() {
    // p = 0.01, Se = 0.95, Sp = 0.99, k = 10:
    // (1-p)^10 = 0.9043820750, (1-p)^9 = 0.9135172475
    // retests/person = 0.95 - 0.94·0.9043820750 = 0.0998808495
    // per pool = 1 + 10·0.0998808495 = 1.998808495, per person = 0.1998808495
    // specificity = 1 - 0.01·(0.95 - 0.94·0.9135172475) = 0.9990870621
    let p = plan(0.01, 0.95, 0.99, 20).unwrap();
    let r = p.dorfman.iter().find(|r| r.pool_size == 10).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(r.tests_per_pool, 1.998_808_495), "{r:?}");
    assert!(close(r.tests_per_person, 0.199_880_849_5), "{r:?}");
    assert!(close(r.retests_per_person, 0.099_880_849_5), "{r:?}");
    assert!(close(r.sensitivity, 0.9025));
    assert!(close(r.specificity, 0.999_087_062_1), "{r:?}");
    assert_eq!(p.dorfman.len(), 19);
    assert_eq!(p.dorfman[0].pool_size, 2);

    // p = 0.05, Se = Sp = 1, k = 4: 0.95^4 = 0.81450625,
    // per pool = 1 + 4·(1 - 0.81450625) = 1.741975.
    let p = plan(0.05, 1.0, 1.0, 4).unwrap();
    let r = &p.dorfman[2];
    assert_eq!(r.pool_size, 4);
    assert!(close(r.tests_per_pool, 1.741_975), "{r:?}");
    assert!(close(r.specificity, 1.0));
}

#[test]
fn recommendation_is_the_cheapest_sensitive_enough_option() {
    let p = plan(0.01, 0.95, 0.99, 20).unwrap();
    assert!((p.min_sensitivity - 0.9025).abs() < 1e-12);
    let best = &p.recommendation;
    let all = p
        .dorfman
        .iter()
        .map(|r| (r.tests_per_person, Some(r.sensitivity)))
        .chain(
            p.designs
                .iter()
                .map(|r| (r.tests_per_person, r.sensitivity)),
        );
    for (tests, sens) in all {
        if sens.is_some_and(|s| s >= p.min_sensitivity) {
            assert!(best.tests_per_person <= tests);
        }
    }
    assert!(best.sensitivity >= p.min_sensitivity);
    assert!(best.tests_per_person < 1.0);
    // Every built-in design is costed, at no less than its pools per sample.
    assert_eq!(p.designs.len(), 5);
    for r in &p.designs {
        let d = Design::builtin(&r.design).unwrap();
        assert!(r.tests_per_person >= d.tests_per_sample());
        assert!((r.tests_per_person - d.tests_per_sample() - r.retests_per_person).abs() < 1e-12);
    }
    // At 40 % prevalence with a perfect assay nothing beats testing everyone
    // once: Dorfman costs 1/k + 1 - 0.6^k > 1 for every k.
    let p = plan(0.4, 1.0, 1.0, 20).unwrap();
    assert_eq!(p.recommendation.strategy, "individual");
    // An impossible threshold leaves individual testing (sensitivity Se).
    let p = plan_with(0.01, 0.95, 0.99, 10, 0.999).unwrap();
    assert_eq!(p.recommendation.strategy, "individual");
}

#[test]
fn bad_inputs() {
    assert!(plan(-0.1, 0.95, 0.99, 10).is_err());
    assert!(plan(0.01, 0.3, 0.99, 10).is_err());
    assert!(plan(0.01, 0.95, 0.99, 1).is_err());
    assert!(serde_json::to_string(&plan(0.0, 0.95, 0.99, 3).unwrap()).is_ok());
}
