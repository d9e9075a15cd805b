//! `Engine::reserve` is a hint: an engine told how much is coming gives
//! exactly the effects and summary of one that was not (any hint, too small
//! or too large).

mod common;

use common::random_tubes::*;
use pooltrace_engine::{Engine, EngineConfig, Expected};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn a_reserved_engine_gives_the_same_effects(
        tubes in tube_strategy(true),
        hint_tubes in 0usize..5_000,
        hint_households in 0usize..5_000,
    ) {
        let recs = records(&tubes);
        let run = |expected: Option<Expected>| {
            let mut e = Engine::new(EngineConfig::default());
            if let Some(x) = expected {
                e.reserve(x);
            }
            let mut out = Vec::new();
            let dispositions: Vec<_> = recs.iter().map(|r| e.handle(r.clone(), &mut out)).collect();
            (out, dispositions, format!("{:?}", e.summary()))
        };
        let plain = run(None);
        let reserved = run(Some(Expected { tubes: hint_tubes, households: hint_households }));
        prop_assert_eq!(plain, reserved);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// `Engine::warm` only reads: warming the next records (seen or not,
    /// in any window) leaves the effects, dispositions and summary (with
    /// its state sizes) exactly those of an engine never warmed.
    #[test]
    fn a_warmed_engine_gives_the_same_effects(
        tubes in tube_strategy(true),
        window in 1usize..40,
    ) {
        let recs = records(&tubes);
        let run = |warm: bool| {
            let mut e = Engine::new(EngineConfig::default());
            let mut out = Vec::new();
            let mut dispositions = Vec::new();
            for (i, r) in recs.iter().enumerate() {
                if warm {
                    e.warm(recs[i..(i + window).min(recs.len())].iter());
                }
                dispositions.push(e.handle(r.clone(), &mut out));
            }
            (out, dispositions, format!("{:?}", e.summary()))
        };
        prop_assert_eq!(run(false), run(true));
    }
}
