use smoe_nn::NnError;
use thiserror::Error;

/// Errors of experts.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ExpertError {
    /// A zero dimension (input width, hidden width, or number of experts).
    #[error("expert {what} must be at least 1, got 0")]
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
    /// An error from a dense layer.
    #[error(transparent)]
    Nn(#[from] NnError),
}
