//! Zones, tubes and pools: mix, sizes, kinds, and valid manifests and results.

mod common;

use pooltrace_model::TubeKind;
use pooltrace_sim::{City, SimConfig, Zone};

#[test]
fn zone_mix_within_binomial_tolerance() {
    let city = common::city(1_000_000, 4);
    let n = city.communities() as f64;
    assert!(n > 150.0, "{n}");
    let z = &city.config().zones;
    for (zone, share) in [
        (Zone::Lockdown, z.lockdown),
        (Zone::Control, z.control),
        (Zone::Precaution, z.precaution),
    ] {
        let count = (0..city.communities())
            .filter(|c| city.community_zone(*c) == zone)
            .count() as f64;
        assert!(
            (count - n * share).abs() <= common::four_sd(n, share),
            "{zone:?}: {count} of {n}"
        );
    }
}

#[test]
fn tubes_follow_the_zone_rules() {
    let city = common::city(200_000, 6);
    let cfg = city.config();
    let (mut household_tubes, mut eligible) = (0usize, 0usize);
    let mut covered = 0;
    let mut t = 0;
    for c in 0..city.communities() {
        let members = city.community_members(c);
        let first_t = t;
        while t < city.tubes_per_round() && city.tube_members(t).start < members.end {
            t += 1;
        }
        let tubes = first_t..t;
        assert_eq!(
            city.tube_members(tubes.start).start,
            members.start,
            "tubes start at the community"
        );
        assert_eq!(
            city.tube_members(tubes.end - 1).end,
            members.end,
            "tubes end at the community"
        );
        for tube in tubes.clone() {
            assert_eq!(city.tube_community(tube), c);
            let (kind, size) = (city.tube_kind(tube), city.tube_members(tube).len());
            covered += size;
            match city.community_zone(c) {
                Zone::Lockdown => match kind {
                    TubeKind::Single => assert_eq!(size, 1),
                    TubeKind::Household => {
                        let h = city.household_of(city.tube_members(tube).start);
                        assert_eq!(city.household_members(h), city.tube_members(tube));
                    }
                    TubeKind::Pool => panic!("pool in a lockdown zone"),
                },
                zone => {
                    let k = usize::from(if zone == Zone::Control {
                        cfg.pool_size_control
                    } else {
                        cfg.pool_size_precaution
                    });
                    assert!(size <= k);
                    if tube + 1 < tubes.end {
                        assert_eq!(
                            (kind, size),
                            (TubeKind::Pool, k),
                            "only the last pool may be short"
                        );
                    } else {
                        assert_eq!(kind == TubeKind::Single, size == 1);
                    }
                }
            }
        }
        if city.community_zone(c) == Zone::Lockdown {
            let households = city.household_of(members.start)..=city.household_of(members.end - 1);
            eligible += households
                .filter(|h| city.household_members(*h).len() >= 2)
                .count();
            household_tubes += tubes
                .filter(|t| city.tube_kind(*t) == TubeKind::Household)
                .count();
        }
    }
    assert_eq!(t, city.tubes_per_round());
    assert_eq!(covered, city.people());
    let (n, p) = (eligible as f64, cfg.lockdown_household_share);
    assert!(n > 100.0, "{n}");
    assert!((household_tubes as f64 - n * p).abs() <= common::four_sd(n, p));
    let per_tube = city.people() as f64 / city.tubes_per_round() as f64;
    assert!(
        (8.0..16.0).contains(&per_tube),
        "{per_tube} people per tube"
    );
}

#[test]
fn every_record_validates_and_labs_keep_their_delays() {
    let city = common::city(200_000, 9);
    let cfg = city.config().clone();
    let s = common::split(city.round(0));
    for (_, m) in &s.manifests {
        m.validate()
            .unwrap_or_else(|e| panic!("{}: {e}", m.tube_id));
        let k = m.members.len();
        assert!(k <= usize::from(cfg.pool_size_precaution));
        assert!(m
            .members
            .iter()
            .all(|x| x.name.is_some() && x.phone.is_some() && x.address.is_some()));
    }
    let collected: std::collections::HashMap<&str, i64> = s
        .manifests
        .iter()
        .map(|(_, m)| (m.tube_id.as_str(), m.collected_at.millis()))
        .collect();
    for (_, r) in &s.receipts {
        r.validate().unwrap();
        let delay = r.received_at.millis() - collected[r.tube_id.as_str()];
        assert!((1_800_000..=7_200_000).contains(&delay), "{delay}");
    }
    let (mut slow_tubes, mut late) = (0usize, 0usize);
    let slow_lab = pooltrace_sim::lab_id(cfg.labs.count - 1);
    for (_, r) in &s.results {
        r.validate()
            .unwrap_or_else(|e| panic!("{}: {e}", r.tube_id));
        let hours = (r.reported_at.millis() - r.received_at.unwrap().millis()) as f64 / 3.6e6;
        if r.lab_id == slow_lab {
            slow_tubes += 1;
            late += usize::from(hours > 6.0);
        } else {
            assert!((2.0..=5.0).contains(&hours), "{hours}");
        }
        assert!(cfg.assay.kits.contains(r.kit.as_ref().unwrap()));
    }
    // The slow lab reports a share of its tubes after the 6 h limit.
    let (n, p) = (slow_tubes as f64, cfg.labs.slow_share);
    assert!(n > 200.0, "slow lab got {n} tubes");
    assert!(
        (late as f64 - n * p).abs() <= common::four_sd(n, p),
        "{late} late of {n}"
    );
}

#[test]
fn lost_tubes_and_early_results_match_truth_and_rates() {
    let cfg = SimConfig {
        people: 200_000,
        lost_tube_rate: 0.01,
        early_result_rate: 0.02,
        ..SimConfig::default()
    };
    let city = City::generate(&cfg).unwrap();
    let truth = &city.truth().rounds()[0];
    let s = common::split(city.round(0));
    let n = city.tubes_per_round() as f64;
    let with_result: std::collections::HashMap<&str, i64> = s
        .results
        .iter()
        .map(|(at, r)| (r.tube_id.as_str(), *at))
        .collect();
    let mut lost = vec![];
    let mut early = vec![];
    for (at, m) in &s.manifests {
        let (_, t) = pooltrace_sim::parse_tube_id(&m.tube_id).unwrap();
        match with_result.get(m.tube_id.as_str()) {
            None => lost.push(t),
            Some(result_at) if result_at < at => early.push(t),
            Some(_) => {}
        }
    }
    lost.sort_unstable();
    early.sort_unstable();
    assert_eq!(lost, truth.lost_tubes);
    assert_eq!(early, truth.early_tubes);
    assert!((lost.len() as f64 - n * 0.01).abs() <= common::four_sd(n, 0.01));
    let p_early = 0.99 * 0.02;
    assert!((early.len() as f64 - n * p_early).abs() <= common::four_sd(n, p_early));
}
