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
    /// An array had the wrong shape.
    #[error(transparent)]
    Shape(#[from] smoe_nn::ShapeError),
    /// An error from a dense layer.
    #[error(transparent)]
    Nn(#[from] NnError),
}
