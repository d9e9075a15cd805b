//! Typed errors: every variant names what was wrong and where.

use thiserror::Error;

/// A pooling design that cannot be used for decoding.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DesignError {
    /// The design declares zero samples.
    #[error("design `{name}` has no samples")]
    NoSamples { name: String },
    /// A pool lists a sample index `>= samples`.
    #[error("design `{name}`: pool {pool} lists sample {sample}, but the design has only {samples} samples (indices 0..{samples})")]
    SampleOutOfRange {
        name: String,
        pool: usize,
        sample: u64,
        samples: usize,
    },
    /// A pool lists the same sample twice.
    #[error("design `{name}`: pool {pool} lists sample {sample} more than once")]
    DuplicateInPool {
        name: String,
        pool: usize,
        sample: u32,
    },
    /// A sample is in no pool, so nothing can ever be said about it.
    #[error("design `{name}`: sample {sample} is in no pool ({count} such samples in all)")]
    SampleInNoPool {
        name: String,
        sample: usize,
        count: usize,
    },
    /// The design is too large for the `u32` sample indices used here.
    #[error("design `{name}`: {samples} samples is more than this crate supports (u32 indices)")]
    TooManySamples { name: String, samples: usize },
    /// [`crate::Design::builtin`] was given a name it does not know or cannot parse.
    #[error("unknown built-in design `{name}`: {why} (known: {known})")]
    UnknownBuiltin {
        name: String,
        why: String,
        known: String,
    },
}

/// A design file (CSV or JSON text) that could not be turned into a [`crate::Design`].
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LoadError {
    /// A CSV cell that is not `0` or `1`.
    #[error("CSV line {line}, column {column}: cell `{cell}` is not 0 or 1")]
    BadCell {
        line: usize,
        column: usize,
        cell: String,
    },
    /// A CSV row whose number of cells differs from the first row's.
    #[error("CSV line {line}: {found} sample columns, but line {first_line} has {expected}")]
    RaggedRow {
        line: usize,
        found: usize,
        first_line: usize,
        expected: usize,
    },
    /// The CSV text has no pool rows.
    #[error("CSV has no pool rows")]
    EmptyCsv,
    /// JSON that does not parse or has the wrong shape.
    #[error("JSON line {line}, column {column}: {why}")]
    Json {
        line: usize,
        column: usize,
        why: String,
    },
    /// The text parsed, but the design fails verification.
    #[error("{0}")]
    Design(#[from] DesignError),
}

/// Observations that do not fit the design, or bad decoder parameters.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DecodeError {
    /// The number of observations differs from the design's pool count.
    #[error("design `{design}` has {pools} pools but {observations} observations were given")]
    WrongObservationCount {
        design: String,
        pools: usize,
        observations: usize,
    },
    /// A Ct value that is NaN, infinite or negative.
    #[error("pool {pool}: Ct {ct} is not a finite, non-negative number")]
    BadCt { pool: usize, ct: f64 },
    /// Sensitivity/specificity outside (0.5, 1].
    #[error("assay {field} = {value}: must be in (0.5, 1]")]
    BadAssay { field: &'static str, value: f64 },
    /// A decoder parameter outside its range.
    #[error("decoder parameter {field} = {value}: {why}")]
    BadParameter {
        field: &'static str,
        value: f64,
        why: &'static str,
    },
    /// [`crate::Decoder::from_name`] got a name it does not know.
    #[error("unknown decoder `{0}` (known: comp, dd, scomp, ct)")]
    UnknownDecoder(String),
}

/// Bad parameters for [`crate::evaluate()`] or [`crate::plan()`].
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EvalError {
    /// A parameter outside its allowed range.
    #[error("{field} = {value}: {why}")]
    BadParameter {
        field: &'static str,
        value: String,
        why: String,
    },
    /// Decoding a simulated batch failed (a bug, or bad decoder parameters).
    #[error("decoding a simulated batch: {0}")]
    Decode(#[from] DecodeError),
    /// A built-in design failed to build (a bug).
    #[error("building a design: {0}")]
    Design(#[from] DesignError),
}

impl EvalError {
    pub(crate) fn bad(field: &'static str, value: impl ToString, why: impl Into<String>) -> Self {
        EvalError::BadParameter {
            field,
            value: value.to_string(),
            why: why.into(),
        }
    }
}
