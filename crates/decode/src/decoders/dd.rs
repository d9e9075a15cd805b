//! DD (definite defectives): `Positive` only for a candidate that is the only
//! candidate of some positive pool; every other candidate is `Undetermined`.

use super::evidence::Evidence;
use super::types::{Decoding, SampleCall};
use super::POSITIVE_FROM;

/// Calls shared by DD, SCOMP and Ct-aware: excluded → `Negative`, `positive`
/// → `Positive` (with an imperfect assay only if the posterior reaches
/// [`POSITIVE_FROM`]), other candidates → `Undetermined`.
pub(crate) fn forced_calls(ev: &Evidence<'_>, positive: &[bool]) -> Vec<SampleCall> {
    let perfect = ev.assay.is_perfect();
    (0..ev.is_candidate.len())
        .map(|s| {
            if !ev.is_candidate[s] {
                SampleCall::Negative
            } else if positive[s] && (perfect || ev.p[s] >= POSITIVE_FROM) {
                SampleCall::Positive
            } else {
                SampleCall::Undetermined
            }
        })
        .collect()
}

pub(crate) fn decode(ev: Evidence<'_>) -> Decoding {
    let chosen = ev.definite.clone();
    forced_decoding(ev, &chosen)
}

/// DD's calls (only forced positives), with `chosen` as the explanation:
/// shared by DD and SCOMP, whose greedy extra picks are never calls.
pub(crate) fn forced_decoding(ev: Evidence<'_>, chosen: &[bool]) -> Decoding {
    let calls = forced_calls(&ev, &ev.definite);
    let explanation = (0..chosen.len() as u32)
        .filter(|&s| chosen[s as usize])
        .collect();
    Decoding {
        calls,
        p_positive: ev.p,
        explanation,
        unexplained_pools: ev.unexplained,
        loads: None,
    }
}
