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
    /// An array had the wrong shape.
    #[error(transparent)]
    Shape(#[from] smoe_nn::ShapeError),
    /// An error from a dense layer.
    #[error(transparent)]
    Nn(#[from] NnError),
}
