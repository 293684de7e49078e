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
    /// The gate does not support this k (e.g. the dense gate needs k = T).
    #[error("gate {gate} does not support k = {k} with {experts} experts: {reason}")]
    KNotSupported {
        /// The gate's kind.
        gate: String,
        /// Requested k.
        k: usize,
        /// Number of experts T.
        experts: usize,
        /// What the gate needs.
        reason: &'static str,
    },
    /// A gate config is invalid (its own message).
    #[error("invalid gate {gate}: {reason}")]
    InvalidConfig {
        /// The gate's kind.
        gate: String,
        /// What is wrong.
        reason: String,
    },
    /// A dimension that must be at least 1 was 0.
    #[error(transparent)]
    ZeroDim(#[from] smoe_nn::ZeroDim),
    /// An array had the wrong shape.
    #[error(transparent)]
    Shape(#[from] smoe_nn::ShapeError),
    /// A logit was NaN or infinite (the router diverged).
    #[error("non-finite router logit at row {row}, expert {expert}")]
    NonFinite {
        /// Row of the batch.
        row: usize,
        /// Expert index.
        expert: usize,
    },
}
