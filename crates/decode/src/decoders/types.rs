//! The decoder's inputs and outputs.

use serde::{Deserialize, Serialize};

use super::ct_aware::CtModel;
use crate::error::DecodeError;

/// The result of one pool.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PoolObservation {
    /// The lab called the pool positive.
    pub positive: bool,
    /// The pool's Ct, if positive and quantified (used by the Ct-aware decoder).
    pub ct: Option<f64>,
}

impl PoolObservation {
    /// A negative pool.
    pub const NEGATIVE: PoolObservation = PoolObservation {
        positive: false,
        ct: None,
    };

    /// A positive pool with an optional Ct.
    pub fn positive(ct: Option<f64>) -> Self {
        PoolObservation { positive: true, ct }
    }
}

/// The decoder's call for one sample. `Undetermined` means "retest this
/// sample individually": what cannot be decided is never guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleCall {
    Positive,
    Negative,
    Undetermined,
}

/// Per-test sensitivity and specificity of the assay on a pool.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Assay {
    pub sensitivity: f64,
    pub specificity: f64,
}

impl Assay {
    /// A perfect assay (the noiseless group-testing model).
    pub const PERFECT: Assay = Assay {
        sensitivity: 1.0,
        specificity: 1.0,
    };

    /// An assay with both rates in (0.5, 1].
    pub fn new(sensitivity: f64, specificity: f64) -> Result<Assay, DecodeError> {
        let a = Assay {
            sensitivity,
            specificity,
        };
        a.validate()?;
        Ok(a)
    }

    /// Check both rates are in (0.5, 1].
    pub fn validate(&self) -> Result<(), DecodeError> {
        for (field, value) in [
            ("sensitivity", self.sensitivity),
            ("specificity", self.specificity),
        ] {
            if !(value > 0.5 && value <= 1.0) {
                return Err(DecodeError::BadAssay { field, value });
            }
        }
        Ok(())
    }

    /// Both rates are exactly 1.
    pub fn is_perfect(&self) -> bool {
        self.sensitivity == 1.0 && self.specificity == 1.0
    }
}

/// Which decoder to run. All share the exclusion step described in
/// [`crate::decoders`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decoder {
    /// COMP: every candidate is called `Positive` (COMP's definition; it
    /// guesses, and its `p_positive` shows how much).
    Comp,
    /// Definite defectives: `Positive` only for forced samples, other
    /// candidates `Undetermined`.
    Dd,
    /// SCOMP: the same calls as DD (anything beyond DD is a guess and is left
    /// `Undetermined`); additionally reports SCOMP's greedy explanation of the
    /// positive pools in [`Decoding::explanation`] so a lab can order retests.
    Scomp,
    /// Ct-aware: DD plus samples forced by the pools' quantitative signal.
    CtAware(CtModel),
}

impl Decoder {
    /// All decoders with default parameters, for benchmarks and reports.
    pub fn all() -> [Decoder; 4] {
        [
            Decoder::Comp,
            Decoder::Dd,
            Decoder::Scomp,
            Decoder::CtAware(CtModel::default()),
        ]
    }

    /// `comp`, `dd`, `scomp` or `ct` (Ct-aware with [`CtModel::default`]).
    pub fn from_name(name: &str) -> Result<Decoder, DecodeError> {
        match name {
            "comp" => Ok(Decoder::Comp),
            "dd" => Ok(Decoder::Dd),
            "scomp" => Ok(Decoder::Scomp),
            "ct" => Ok(Decoder::CtAware(CtModel::default())),
            other => Err(DecodeError::UnknownDecoder(other.to_string())),
        }
    }

    /// The short name accepted by [`Decoder::from_name`].
    pub fn name(&self) -> &'static str {
        match self {
            Decoder::Comp => "comp",
            Decoder::Dd => "dd",
            Decoder::Scomp => "scomp",
            Decoder::CtAware(_) => "ct",
        }
    }
}

/// The outcome of decoding one batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decoding {
    /// One call per sample.
    pub calls: Vec<SampleCall>,
    /// Posterior probability that each sample is positive, from a two-pass
    /// naive-Bayes model (each pool result is evidence with likelihoods from
    /// the assay's Se/Sp; the chance that a pool's *other* members make it
    /// positive comes from a first pass; the prior prevalence is estimated
    /// from the share of positive pools). Samples whose call is forced under
    /// a perfect assay get exactly 0 or 1.
    pub p_positive: Vec<f64>,
    /// The decoder's explanation of the positive pools (COMP: all candidates;
    /// DD: definite positives; SCOMP: DD plus greedy cover; Ct-aware: support
    /// of the non-negative least-squares fit). Not a call: a retest order.
    pub explanation: Vec<u32>,
    /// Positive pools with no candidate in them: the observations contradict
    /// a perfect assay there (worth a lab quality check).
    pub unexplained_pools: Vec<u32>,
    /// Ct-aware only: fitted relative viral load per sample (`2^-Ct` scale,
    /// 0 for non-candidates).
    pub loads: Option<Vec<f64>>,
}

impl Decoding {
    /// Probability that the call for `sample` is right: `p_positive` for a
    /// `Positive` call, `1 - p_positive` for `Negative`, `None` for
    /// `Undetermined` (no call was made) or an out-of-range sample.
    pub fn confidence(&self, sample: usize) -> Option<f64> {
        let p = *self.p_positive.get(sample)?;
        match self.calls.get(sample)? {
            SampleCall::Positive => Some(p),
            SampleCall::Negative => Some(1.0 - p),
            SampleCall::Undetermined => None,
        }
    }

    /// Samples with the given call, in increasing order.
    pub fn with_call(&self, call: SampleCall) -> Vec<u32> {
        (0..self.calls.len() as u32)
            .filter(|&s| self.calls[s as usize] == call)
            .collect()
    }
}
