//! Random streams of pool and single tubes for the property tests: a few
//! people in three rooms of one building, pools and singles (some re-testing
//! an earlier pool), any result, optional corrections.

use std::collections::BTreeSet;

use pooltrace_model::Record;
use proptest::prelude::*;
use serde_json::Value;

use super::*;

#[derive(Clone, Debug)]
pub struct Tube {
    pub id: String,
    pub members: Vec<u32>,
    pub single: bool,
    pub retest_of: Option<usize>,
    pub collected_min: u32,
    pub result: u8,
    pub reported_after: u32,
    pub correction: Option<u8>,
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

pub fn tube_strategy(corrections: bool) -> impl Strategy<Value = Vec<Tube>> {
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

pub fn records(tubes: &[Tube]) -> Vec<Record> {
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
pub fn positive_people(tubes: &[Tube]) -> BTreeSet<String> {
    tubes
        .iter()
        .filter(|t| t.single && t.correction.unwrap_or(t.result) % 4 == 0)
        .map(|t| rid(t.members[0]))
        .collect()
}
