//! Residents: valid unique ids that map back, names, phones, households.

mod common;

use std::collections::HashSet;

use pooltrace_model::validate_resident_id;

#[test]
fn resident_ids_validate_are_unique_and_invert() {
    let city = common::city(200_000, 11);
    let mut seen = HashSet::with_capacity(city.people());
    for p in 0..city.people() {
        let id = city.person_id(p);
        validate_resident_id("person_id", &id).unwrap_or_else(|e| panic!("person {p}: {e}"));
        assert_eq!(city.person_index(&id), Some(p), "{id}");
        assert!(seen.insert(id), "duplicate id for person {p}");
    }
    assert_eq!(city.person_index("22010219610708001X"), None);
}

#[test]
fn ids_are_unique_across_districts() {
    let city = pooltrace_sim::City::generate(&pooltrace_sim::SimConfig {
        people: 120_000,
        geography: pooltrace_sim::GeoConfig {
            people_per_district: 20_000,
            street_people: (5_000, 10_000),
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap();
    assert!(city.districts_and_streets().0 >= 5);
    let ids: HashSet<String> = (0..city.people()).map(|p| city.person_id(p)).collect();
    assert_eq!(ids.len(), city.people());
    let regions: HashSet<&str> = ids.iter().map(|i| &i[..6]).collect();
    assert_eq!(regions.len(), city.districts_and_streets().0);
}

#[test]
fn people_look_like_residents() {
    let city = common::city(20_000, 5);
    let mut phones = HashSet::new();
    for p in (0..city.people()).step_by(7) {
        let who = city.person(p);
        assert_eq!(who.index, p);
        assert!(
            ["13", "15", "18"].contains(&&who.phone[..2]) && who.phone.len() == 11,
            "{}",
            who.phone
        );
        assert!(who.phone.bytes().all(|b| b.is_ascii_digit()));
        assert!(phones.insert(who.phone.clone()));
        assert!(
            who.name.contains(' ') && who.name.len() >= 4,
            "{}",
            who.name
        );
        assert!(
            !who.address.compound.is_empty() && who.address.room.len() >= 3,
            "{:?}",
            who.address
        );
        assert!(city.household_members(who.household).contains(&p));
    }
}

#[test]
fn household_sizes_follow_the_configured_distribution() {
    let city = common::city(200_000, 2);
    let cfg = city.config();
    let w = cfg.household_sizes;
    let total: f64 = w.iter().sum();
    let mean: f64 = w
        .iter()
        .enumerate()
        .map(|(i, x)| (i + 1) as f64 * x / total)
        .sum();
    let var: f64 = w
        .iter()
        .enumerate()
        .map(|(i, x)| ((i + 1) as f64 - mean).powi(2) * x / total)
        .sum();
    let n = city.households();
    let sizes: Vec<usize> = (0..n).map(|h| city.household_members(h).len()).collect();
    assert!(sizes.iter().all(|s| (1..=6).contains(s)));
    let observed = sizes.iter().sum::<usize>() as f64 / n as f64;
    assert!(
        (observed - mean).abs() < 4.0 * (var / n as f64).sqrt(),
        "mean {observed} vs {mean}"
    );
    assert!((2.4..2.8).contains(&mean));
    assert_eq!(sizes.iter().sum::<usize>(), city.people());
    // Each size's share within 4 binomial SDs.
    for (i, x) in w.iter().enumerate() {
        let count = sizes.iter().filter(|s| **s == i + 1).count() as f64;
        let p = x / total;
        // (+1: the last household may be cut short to hit the exact head count.)
        assert!(
            (count - n as f64 * p).abs() <= common::four_sd(n as f64, p) + 1.0,
            "size {}",
            i + 1
        );
    }
}
