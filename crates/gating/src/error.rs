use thiserror::Error;

/// Errors of gates.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum GatingError {
    /// k must satisfy 1 ≤ k ≤ T.
    #[error("invalid top-k: k = {k} with {experts} experts (need 1 <= k <= T)")]
    InvalidTopK {
        /// Requested k.
        k: usize,
        /// Number of experts T.
        experts: usize,
    },
    /// A gate was asked for a zero dimension.
    #[error("gate {what} must be at least 1, got 0")]
    ZeroDim {
        /// Which dimension.
        what: &'static str,
    },
    /// An array did not have the expected shape.
    #[error("shape mismatch in {op}: expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// The operation that checked.
        op: &'static str,
        /// Expected shape.
        expected: Vec<usize>,
        /// Actual shape.
        got: Vec<usize>,
    },
    /// A logit was NaN or infinite (the router diverged).
    #[error("non-finite router logit at row {row}, expert {expert}")]
    NonFinite {
        /// Row of the batch.
        row: usize,
        /// Expert index.
        expert: usize,
    },
}
