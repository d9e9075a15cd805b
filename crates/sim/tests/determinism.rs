//! Same seed, same records; another seed, other records; order and counts.

mod common;

use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;

use pooltrace_sim::{write_ndjson, City, SimConfig};

fn round_hash(city: &City) -> (u64, u64) {
    let (mut m, mut r, mut c) = (Vec::new(), Vec::new(), Vec::new());
    let n = write_ndjson(city.round(0), &mut m, &mut r, &mut c).unwrap();
    let mut h = DefaultHasher::new();
    for buf in [&m, &r, &c] {
        h.write(buf);
    }
    let mut t = Vec::new();
    city.truth().write_ndjson(&mut t).unwrap();
    h.write(&t);
    (h.finish(), n.total())
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = round_hash(&common::city(20_000, 7));
    let b = round_hash(&common::city(20_000, 7));
    let c = round_hash(&common::city(20_000, 8));
    assert_eq!(a, b);
    assert_ne!(a.0, c.0);
    assert!(a.1 > 3_000, "{a:?}");
}

#[test]
fn records_come_in_entry_order_with_every_stream() {
    let city = common::city(30_000, 3);
    let recs: Vec<_> = city.round(0).collect();
    assert!(recs.windows(2).all(|w| w[0].emit_at <= w[1].emit_at));
    let tubes = city.tubes_per_round();
    let lost = city.truth().rounds()[0].lost_tubes.len();
    let s = common::split(recs);
    assert_eq!(s.manifests.len(), tubes);
    assert_eq!(s.receipts.len(), tubes);
    assert_eq!(s.results.len(), tubes - lost);
    // Each record enters at its own event time, except early manifests.
    let early = &city.truth().rounds()[0].early_tubes;
    for (at, m) in &s.manifests {
        let (_, t) = pooltrace_sim::parse_tube_id(&m.tube_id).unwrap();
        if early.binary_search(&t).is_err() {
            assert_eq!(*at, m.collected_at.millis());
        }
    }
    assert!(s
        .results
        .iter()
        .all(|(at, r)| *at == r.reported_at.millis()));
    assert!(s
        .receipts
        .iter()
        .all(|(at, r)| *at == r.received_at.millis()));
}

#[test]
fn rounds_differ_and_unconfigured_rounds_are_empty() {
    let city = City::generate(&SimConfig {
        people: 5_000,
        rounds: 2,
        ..SimConfig::default()
    })
    .unwrap();
    let r0 = common::split(city.round(0));
    let r1 = common::split(city.round(1));
    assert_eq!(r0.manifests.len(), r1.manifests.len());
    let day = r1.manifests[0].1.collected_at.millis() - r0.manifests[0].1.collected_at.millis();
    assert!((20 * 3_600_000..28 * 3_600_000).contains(&day), "{day}");
    assert_ne!(r0.manifests[0].1.tube_id, r1.manifests[0].1.tube_id);
    assert_eq!(city.truth().rounds().len(), 2);
    assert_eq!(city.round(2).len(), 0);
}

#[test]
fn config_from_json_and_bad_values_named() {
    let cfg: SimConfig =
        serde_json::from_str(r#"{"people": 1234, "seed": 9, "zones": {"lockdown": 1.0}}"#).unwrap();
    assert_eq!(cfg.people, 1234);
    assert_eq!(cfg.pool_size_control, 10);
    assert!(serde_json::from_str::<SimConfig>(r#"{"peeple": 3}"#).is_err());
    let bad = SimConfig {
        pool_size_precaution: 21,
        ..SimConfig::default()
    };
    let e = City::generate(&bad).unwrap_err().to_string();
    assert!(e.contains("pool_size_precaution"), "{e}");
    let bad = SimConfig {
        prevalence: 1.5,
        ..SimConfig::default()
    };
    assert!(City::generate(&bad)
        .unwrap_err()
        .to_string()
        .contains("prevalence"));
}

#[test]
fn tiny_cities_are_whole_and_valid() {
    for people in [1, 2, 3, 7, 21, 45] {
        for zones in [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)] {
            let city = City::generate(&SimConfig {
                people,
                prevalence: 0.5,
                zones: pooltrace_sim::ZoneMix {
                    lockdown: zones.0,
                    control: zones.1,
                    precaution: zones.2,
                },
                ..SimConfig::default()
            })
            .unwrap();
            assert_eq!(city.people(), people as usize);
            let s = common::split(city.round(0));
            let members: usize = s.manifests.iter().map(|(_, m)| m.members.len()).sum();
            assert_eq!(members, people as usize);
            s.manifests.iter().for_each(|(_, m)| m.validate().unwrap());
            s.results.iter().for_each(|(_, r)| r.validate().unwrap());
        }
    }
}
