//! Infections: prevalence, clustering, and what the assay makes of them.

mod common;

use pooltrace_model::TubeKind;
use pooltrace_sim::{AssayConfig, City, SimConfig, TubeOutcome, ZoneMix};

#[test]
fn prevalence_within_binomial_tolerance() {
    let city = common::city(200_000, 12);
    let n = city.people() as f64;
    let p = city.config().prevalence;
    let m = city.truth().infected().len() as f64;
    assert!(
        (m - n * p).abs() <= common::four_sd(n, p),
        "{m} infected of {n}"
    );
    let cts: Vec<f64> = city.truth().infected().iter().map(|i| i.ct).collect();
    assert!(cts.iter().all(|c| *c > 12.0 && *c < 45.0));
    let mean = cts.iter().sum::<f64>() / m;
    // N(28, 4): the sample mean is within 4 standard errors.
    assert!((mean - 28.0).abs() < 4.0 * 4.0 / m.sqrt(), "{mean}");
    for i in city.truth().infected() {
        assert!(city.truth().is_infected(&i.person_id));
        assert_eq!(city.person_index(&i.person_id), Some(i.person));
    }
    let healthy = (0..city.people())
        .find(|p| city.truth().infected().iter().all(|i| i.person != *p))
        .unwrap();
    assert!(!city.truth().is_infected(&city.person_id(healthy)));
    assert!(city.truth().find(&city.person_id(healthy)).is_none());
}

/// Smallest k with P(Poisson(lambda) > k) < 1e-6.
fn poisson_bound(lambda: f64) -> usize {
    let (mut k, mut term) = (0usize, (-lambda).exp());
    let mut cdf = term;
    while 1.0 - cdf >= 1e-6 {
        k += 1;
        term *= lambda / k as f64;
        cdf += term;
    }
    k
}

/// (pairs of infected co-residents, expected pairs under uniform placement).
fn household_pairs(city: &City) -> (usize, f64) {
    let infected = city.truth().infected();
    let mut per_household = std::collections::HashMap::new();
    for i in infected {
        *per_household.entry(i.household).or_insert(0usize) += 1;
    }
    let observed = per_household.values().map(|k| k * (k - 1) / 2).sum();
    let (n, m) = (city.people() as f64, infected.len() as f64);
    let pairs: f64 = (0..city.households())
        .map(|h| {
            let s = city.household_members(h).len() as f64;
            s * (s - 1.0) / 2.0
        })
        .sum();
    (observed, pairs * m * (m - 1.0) / (n * (n - 1.0)))
}

#[test]
fn infections_cluster_in_households() {
    let clustered = common::city(200_000, 13);
    let (observed, expected) = household_pairs(&clustered);
    assert!(
        observed > poisson_bound(expected) * 10,
        "{observed} pairs vs {expected:.2} expected"
    );
    let uniform = City::generate(&SimConfig {
        people: 200_000,
        seed: 13,
        clustering: 0.0,
        ..SimConfig::default()
    })
    .unwrap();
    let (observed, expected) = household_pairs(&uniform);
    assert!(
        observed <= poisson_bound(expected),
        "{observed} pairs vs {expected:.2} expected"
    );
}

fn clean_assay(mean_ct: f64) -> AssayConfig {
    AssayConfig {
        mean_ct,
        sd_ct: 0.0,
        inconclusive_rate: 0.0,
        invalid_rate: 0.0,
        ..AssayConfig::default()
    }
}

#[test]
fn ct30_alone_in_a_single_tube_is_detected() {
    let city = City::generate(&SimConfig {
        people: 50_000,
        prevalence: 0.01,
        lockdown_household_share: 0.0,
        lost_tube_rate: 0.0,
        zones: ZoneMix {
            lockdown: 1.0,
            control: 0.0,
            precaution: 0.0,
        },
        assay: clean_assay(30.0),
        ..SimConfig::default()
    })
    .unwrap();
    let truth = city.truth();
    assert!(truth.infected().len() > 100);
    for (i, t) in truth.infected().iter().zip(&truth.rounds()[0].tubes) {
        assert_eq!((t.kind, t.size), (TubeKind::Single, 1));
        assert_eq!(i.ct, 30.0);
        assert_eq!(t.outcome, TubeOutcome::Positive, "{}", i.person_id);
        assert!(!t.undetectable_after_dilution);
    }
}

#[test]
fn ct39_in_a_20_pool_is_undetectable_after_dilution_and_recorded() {
    let city = City::generate(&SimConfig {
        people: 50_000,
        prevalence: 0.002,
        clustering: 0.0,
        lost_tube_rate: 0.0,
        zones: ZoneMix {
            lockdown: 0.0,
            control: 0.0,
            precaution: 1.0,
        },
        assay: clean_assay(39.0),
        ..SimConfig::default()
    })
    .unwrap();
    let truth = city.truth();
    let mut checked = 0;
    for (i, t) in truth.infected().iter().zip(&truth.rounds()[0].tubes) {
        if t.size != 20 {
            continue;
        }
        checked += 1;
        // 39 + log2(20) = 43.3, the pooling noise has SD 0.5: far above 40.
        assert!(t.diluted_ct > 41.0, "{}", t.diluted_ct);
        assert!(t.undetectable_after_dilution, "{}", i.person_id);
        assert_eq!(t.outcome, TubeOutcome::Negative);
    }
    assert!(checked > 50, "{checked}");
    assert!(truth.undetectable_after_dilution(0).count() >= checked);
    assert!(truth
        .undetectable_after_dilution(0)
        .all(|(_, t)| t.size >= 2 && t.diluted_ct > 40.0));
    // The stream agrees: no result of those pools carries a target.
    let s = common::split(city.round(0));
    assert!(s
        .results
        .iter()
        .all(|(_, r)| r.ct.orf1ab.is_none() && r.ct.n.is_none() && r.ct.ic.is_some()));
}
