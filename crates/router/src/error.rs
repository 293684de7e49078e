use smoe_nn::NnError;
use thiserror::Error;

/// Errors of routers.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RouterError {
    /// A router was asked to have a zero dimension (d, T or hidden width).
    #[error("router {what} must be at least 1, got 0")]
    ZeroDim {
        /// Which dimension.
        what: &'static str,
    },
    /// An input did not have the expected shape.
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
