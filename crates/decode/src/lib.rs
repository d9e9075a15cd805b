//! # pooltrace-decode: non-adaptive pooling designs and their decoders
//!
//! Pure math for pooled RT-PCR testing: no files, no clock, no threads.
//!
//! * **Designs** ([`Design`]): which sample goes into which pool, verified on
//!   construction, with measured [`DesignProperties`] (pool sizes, sample
//!   multiplicity, largest overlap between two samples, and the number of
//!   positives `d` the design is guaranteed to decode). Built-ins by name
//!   ([`Design::builtin`], [`builtin_names`]): 2D arrays, Tapestry-style
//!   Kirkman/Steiner triple designs, a P-BEST-like 48 x 384 design and
//!   shifted transversal designs. Designs load from CSV/JSON text
//!   ([`design_from_csv`], [`design_from_json`]); the caller reads the file.
//! * **Decoders** ([`decode`], [`Decoder`]): COMP, DD, SCOMP and a Ct-aware
//!   decoder turn per-pool observations into per-sample [`SampleCall`]s. What
//!   cannot be decided is `Undetermined` (a retest), never a guess, except
//!   under COMP whose definition is to call every non-excluded sample
//!   positive. Imperfect assays ([`Assay`]) are handled with a documented
//!   exclusion rule and a per-sample posterior.
//! * **Evaluation** ([`evaluate`]): seeded Monte Carlo of a design + decoder.
//! * **Planning** ([`plan`]): Dorfman two-stage pooling by the binGroup2
//!   closed forms against the built-in designs, with a recommendation.
//!
//! ```
//! use pooltrace_decode::{decode, pool_observations, Assay, Decoder, Design, SampleCall};
//!
//! let design = Design::builtin("kirkman-45x105").unwrap();
//! assert_eq!(design.properties().guaranteed_decodable, 2);
//! // Samples 3 and 70 are positive (Ct 25 and 31).
//! let obs = pool_observations(&design, &[(3, 25.0), (70, 31.0)]);
//! let result = decode(&design, &obs, Decoder::Dd, Assay::PERFECT).unwrap();
//! assert_eq!(result.with_call(SampleCall::Positive), vec![3, 70]);
//! assert!(result.with_call(SampleCall::Undetermined).is_empty());
//! ```

pub mod decoders;
mod design;
pub mod designs;
mod error;
mod evaluate;
mod load;
mod plan;
mod rng;
mod simulate;

pub use decoders::{
    comp_candidates, decode, Assay, CtModel, Decoder, Decoding, PoolObservation, SampleCall,
    NEGATIVE_BELOW, POSITIVE_FROM,
};
pub use design::{Design, DesignProperties};
pub use designs::builtin_names;
pub use error::{DecodeError, DesignError, EvalError, LoadError};
pub use evaluate::{evaluate, evaluate_scenario, Evaluation};
pub use load::{design_from_csv, design_from_json, design_to_csv, design_to_json};
pub use plan::{
    dorfman_row, plan, plan_with, DesignRow, DorfmanRow, Plan, Recommendation, PLAN_SEED,
    PLAN_TRIALS,
};
pub use simulate::{pool_observations, Positives, Scenario, SAMPLE_CT_RANGE};
