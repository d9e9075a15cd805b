//! COMP: a sample in a negative pool is negative; every other sample is
//! called positive (COMP's own definition, which guesses: see `p_positive`).

use super::evidence::Evidence;
use super::types::{Decoding, SampleCall};

pub(crate) fn decode(ev: Evidence<'_>) -> Decoding {
    let calls = ev
        .is_candidate
        .iter()
        .map(|&c| {
            if c {
                SampleCall::Positive
            } else {
                SampleCall::Negative
            }
        })
        .collect();
    Decoding {
        calls,
        p_positive: ev.p,
        explanation: ev.candidates,
        unexplained_pools: ev.unexplained,
        loads: None,
    }
}
