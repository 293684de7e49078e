//! The error type of this crate.

use smoe_nn::NnError;
use thiserror::Error;

/// Errors of the task generators.
///
/// Configuration errors ([`TaskError::ZeroDim`], [`TaskError::InvalidParameter`],
/// [`TaskError::InvalidTopK`]) come from [`crate::TaskConfig::validate`]; the others from
/// sampling and from operations on data ([`TaskError::EmptyDataset`],
/// [`TaskError::ShapeMismatch`], [`TaskError::IndexOutOfRange`]).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TaskError {
    /// A dimension (the input dimension `d`, the teacher's `width`) is 0.
    #[error("{what} must be at least 1, got 0")]
    ZeroDim {
        /// Which dimension.
        what: &'static str,
    },
    /// A hyper-parameter is out of its range (noise NaN or outside `[0, 0.5]`, a count of 0,
    /// a parity support larger than `d`, a structure too large to allocate…).
    #[error("invalid task parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter's name as in the config (`noise`, `clusters`, `support`, …).
        name: &'static str,
        /// Its value (counts converted to `f64`).
        value: f64,
        /// What it must satisfy.
        reason: String,
    },
    /// The teacher's `k` is 0 or larger than its number of experts.
    #[error("teacher top-k must satisfy 1 <= k <= experts, got k = {k}, experts = {experts}")]
    InvalidTopK {
        /// The requested `k`.
        k: usize,
        /// The number of experts.
        experts: usize,
    },
    /// A dataset of zero samples was asked for (or an empty index list given).
    #[error("{what} must contain at least one sample")]
    EmptyDataset {
        /// What was empty.
        what: &'static str,
    },
    /// An array did not have the shape an operation needs.
    #[error("shape mismatch in {op}: expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// The operation that checked.
        op: &'static str,
        /// The shape it expected.
        expected: Vec<usize>,
        /// The shape it got.
        got: Vec<usize>,
    },
    /// A sample index is not below the dataset's length.
    #[error("sample index {index} out of range for a dataset of {len} samples")]
    IndexOutOfRange {
        /// The offending index.
        index: usize,
        /// The dataset's length.
        len: usize,
    },
    /// A label is not exactly −1 or +1.
    #[error("label {index} is {value}, expected -1 or +1")]
    InvalidLabel {
        /// Its position.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// An error of the dense building blocks (not expected after validation).
    #[error(transparent)]
    Nn(#[from] NnError),
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, TaskError>;
