//! Property tests over random inputs: transfers go to exactly the people
//! with a positive single tube, every record gets a disposition, replays
//! change nothing, and (without corrections or timers) arrival order does not
//! change the final alert states.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use pooltrace_engine::{Disposition, EngineConfig};
use pooltrace_model::{AlertKind, AlertState, Record};
use proptest::prelude::*;
use serde_json::Value;

#[derive(Clone, Debug)]
struct Tube {
    id: String,
    members: Vec<u32>,
    single: bool,
    retest_of: Option<usize>,
    collected_min: u32,
    result: u8,
    reported_after: u32,
    correction: Option<u8>,
}

fn ct(code: u8) -> Value {
    [pos(), neg(), inconclusive(), invalid()][code as usize % 4].clone()
}

fn hm(minutes: u32) -> String {
    format!("{:02}:{:02}", 6 + minutes / 60, minutes % 60)
}

fn room(p: u32) -> String {
    format!("{}", 300 + p % 3)
}

fn tube_strategy(corrections: bool) -> impl Strategy<Value = Vec<Tube>> {
    let one = (
        proptest::sample::subsequence((1u32..=8).collect::<Vec<_>>(), 1..=4),
        any::<bool>(),
        0u32..600,
        0u8..4,
        1u32..180,
        proptest::option::weighted(0.3, 0u8..4).prop_map(move |c| c.filter(|_| corrections)),
        any::<prop::sample::Index>(),
    );
    proptest::collection::vec(one, 1..10).prop_map(|raw| {
        let mut tubes: Vec<Tube> = Vec::new();
        for (i, (members, single_pick, collected_min, result, reported_after, correction, idx)) in
            raw.into_iter().enumerate()
        {
            let single = single_pick || members.len() == 1;
            let members = if single { vec![members[0]] } else { members };
            // A single tube may re-test an earlier pool that holds its member.
            let retest_of = if single {
                let candidates: Vec<usize> = tubes
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| !t.single && t.members.contains(&members[0]))
                    .map(|(j, _)| j)
                    .collect();
                (!candidates.is_empty()).then(|| candidates[idx.index(candidates.len())])
            } else {
                None
            };
            tubes.push(Tube {
                id: format!("T{i}"),
                members,
                single,
                retest_of,
                collected_min,
                result,
                reported_after,
                correction,
            });
        }
        tubes
    })
}

fn records(tubes: &[Tube]) -> Vec<Record> {
    let mut out = Vec::new();
    for t in tubes {
        let members = t.members.iter().map(|p| member(*p, &room(*p))).collect();
        let kind = if t.single { "single" } else { "pool" };
        let of = t.retest_of.map(|j| tubes[j].id.clone());
        out.push(manifest_with(
            &t.id,
            kind,
            &hm(t.collected_min),
            members,
            of.as_deref(),
        ));
        out.push(result(
            &t.id,
            &hm(t.collected_min + t.reported_after),
            ct(t.result),
        ));
        if let Some(c) = t.correction {
            out.push(corrected(
                &t.id,
                &hm(t.collected_min + t.reported_after + 30),
                ct(c),
            ));
        }
    }
    out
}

/// People whose own single tube is positive, by the last word on each tube.
fn positive_people(tubes: &[Tube]) -> BTreeSet<String> {
    tubes
        .iter()
        .filter(|t| t.single && t.correction.unwrap_or(t.result) % 4 == 0)
        .map(|t| rid(t.members[0]))
        .collect()
}

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
