//! Decoders: per-pool observations in, per-sample calls out.
//!
//! Every decoder starts from the same evidence (see [`decode`]):
//!
//! * **Exclusion.** With a perfect assay a sample in any negative pool is
//!   negative. With an imperfect assay a single negative pool may be a false
//!   negative, so the rule is: a sample is `Negative` only if it is in at
//!   least one negative pool, **and** either in two or more negative pools or
//!   in at most one positive pool, **and** its posterior probability of being
//!   positive is below [`NEGATIVE_BELOW`]. A sample in exactly one negative
//!   pool but several positive ones is therefore `Undetermined`, not
//!   `Negative`. Samples not excluded are the COMP *candidates*.
//! * **Definite positives.** A candidate that is the only candidate in some
//!   positive pool must be positive (with a perfect assay this is exactly the
//!   set of samples forced positive by the data).
//!
//! Then each decoder (see [`Decoder`]) makes its calls. The invariants, with a
//! perfect assay: no decoder calls a true positive `Negative`, and DD, SCOMP
//! and Ct-aware never call `Positive` a sample that the data do not force to
//! be positive. With an imperfect assay, DD/SCOMP/Ct-aware `Positive` calls
//! additionally need a posterior of at least [`POSITIVE_FROM`].

mod comp;
mod ct_aware;
mod dd;
mod evidence;
mod posterior;
mod scomp;
mod types;

pub use ct_aware::CtModel;
pub use types::{Assay, Decoder, Decoding, PoolObservation, SampleCall};

use crate::design::Design;
use crate::error::DecodeError;
use evidence::Evidence;

/// With an imperfect assay, a sample can be called `Negative` only if its
/// posterior probability of being positive is below this.
pub const NEGATIVE_BELOW: f64 = 0.01;
/// With an imperfect assay, DD/SCOMP/Ct-aware call `Positive` only a forced
/// sample whose posterior probability of being positive is at least this.
pub const POSITIVE_FROM: f64 = 0.99;

/// Decode one batch.
///
/// `observations[p]` is the result of pool `p` of `design`. A Ct on a pool
/// observed negative is ignored. Errors: wrong number of observations, a Ct
/// that is not finite and non-negative, an assay outside (0.5, 1], bad
/// Ct-aware parameters.
pub fn decode(
    design: &Design,
    observations: &[PoolObservation],
    decoder: Decoder,
    assay: Assay,
) -> Result<Decoding, DecodeError> {
    let ev = Evidence::gather(design, observations, assay)?;
    Ok(match decoder {
        Decoder::Comp => comp::decode(ev),
        Decoder::Dd => dd::decode(ev),
        Decoder::Scomp => scomp::decode(ev),
        Decoder::CtAware(model) => ct_aware::decode(ev, model)?,
    })
}

/// The COMP candidates: samples not excluded by negative pools under the
/// exclusion rule above (with a perfect assay: samples in no negative pool),
/// in increasing order. COMP calls exactly these `Positive`.
pub fn comp_candidates(
    design: &Design,
    observations: &[PoolObservation],
    assay: Assay,
) -> Result<Vec<u32>, DecodeError> {
    Ok(Evidence::gather(design, observations, assay)?.candidates)
}
