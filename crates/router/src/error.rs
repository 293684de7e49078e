use smoe_nn::NnError;
use thiserror::Error;

/// Errors of routers.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RouterError {
    /// A dimension that must be at least 1 was 0.
    #[error(transparent)]
    ZeroDim(#[from] smoe_nn::ZeroDim),
    /// An array had the wrong shape.
    #[error(transparent)]
    Shape(#[from] smoe_nn::ShapeError),
    /// An allocation beyond [`smoe_nn::MAX_ELEMENTS`].
    #[error(transparent)]
    TooLarge(#[from] smoe_nn::TooLarge),
    /// An error from a dense layer.
    #[error(transparent)]
    Nn(#[from] NnError),
}
