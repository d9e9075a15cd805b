//! Property tests over random inputs: transfers go to exactly the people
//! with a positive single tube, every record gets a disposition, replays
//! change nothing, and (without corrections or timers) arrival order does not
//! change the final alert states.

mod common;

use std::collections::BTreeMap;

use common::random_tubes::*;
use common::*;
use pooltrace_engine::{Disposition, EngineConfig};
use pooltrace_model::{AlertKind, AlertState, Record};
use proptest::prelude::*;

fn no_timers() -> EngineConfig {
    EngineConfig {
        allowed_lateness_min: 100_000,
        ..EngineConfig::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn hospital_transfer_exactly_for_positive_singles(tubes in tube_strategy(true), seed in any::<u64>()) {
        let mut recs = records(&tubes);
        // Any arrival order.
        let n = recs.len();
        for i in 0..n {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % n as u64) as usize;
            recs.swap(i, j);
        }
        let (fx, d) = run_with(EngineConfig::default(), recs.clone());
        prop_assert_eq!(d.len(), n, "every record gets a disposition");
        let f = finals(&fx);
        let positive = positive_people(&tubes);
        let mut open_ht: BTreeMap<String, usize> = BTreeMap::new();
        for a in f.values().filter(|a| a.kind == AlertKind::HospitalTransfer) {
            let p = a.person_id.clone().unwrap();
            if a.state == AlertState::Open {
                *open_ht.entry(p.clone()).or_default() += 1;
            }
            // Nobody without a positive single ever gets one, unless a correction took it back.
            prop_assert!(positive.contains(&p) || a.state == AlertState::Resolved, "{a:#?}");
        }
        for p in &positive {
            prop_assert_eq!(open_ht.get(p).copied(), Some(1), "{} must have exactly one open transfer", p);
        }
        prop_assert_eq!(open_ht.len(), positive.len());
        let no_correction = tubes.iter().all(|t| t.correction.is_none());
        if no_correction {
            prop_assert!(d.iter().all(|d| *d == Disposition::Processed), "{:?}", d);
        }
    }

    #[test]
    fn replaying_twice_is_identical(tubes in tube_strategy(true)) {
        let recs = records(&tubes);
        let (once, _) = run_with(EngineConfig::default(), recs.clone());
        let mut doubled = recs.clone();
        doubled.extend(recs.clone());
        let (twice, d) = run_with(EngineConfig::default(), doubled);
        prop_assert_eq!(&once, &twice);
        prop_assert!(d[recs.len()..].iter().all(|d| matches!(d, Disposition::Duplicate | Disposition::Stale | Disposition::Rejected(_))));
    }

    #[test]
    fn arrival_order_does_not_change_final_states(tubes in tube_strategy(false), seed in any::<u64>()) {
        let recs = records(&tubes);
        let mut shuffled = recs.clone();
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = (seed.rotate_left(i as u32) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        let key = |recs: Vec<Record>| {
            let (fx, _) = run_with(no_timers(), recs);
            finals(&fx)
                .into_values()
                .map(|a| (a.alert_id, a.kind, a.state, a.raised_at.millis(), a.due_at.map(|t| t.millis()), a.superseded_by))
                .collect::<Vec<_>>()
        };
        let (a, b) = (key(recs), key(shuffled));
        prop_assert_eq!(a.len(), b.len(), "in order: {:#?}\nshuffled: {:#?}", a, b);
        for (x, y) in a.iter().zip(&b) {
            if x.1 == AlertKind::Resample && x.2 != y.2 {
                // The one documented order effect: the engine keeps no state
                // for people cleared by a negative pool (memory must not grow
                // with them), so a negative pool that arrives before an
                // earlier-collected invalid result cannot resolve the
                // resample. The difference is always on the safe side: the
                // resample stays open, it is never lost.
                let states = [x.2, y.2];
                prop_assert!(states.contains(&AlertState::Open) && states.contains(&AlertState::Resolved), "{:?} vs {:?}", x, y);
                prop_assert_eq!((&x.0, x.3, x.4), (&y.0, y.3, y.4));
            } else {
                prop_assert_eq!(x, y);
            }
        }
    }
}
