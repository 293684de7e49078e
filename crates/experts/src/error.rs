use smoe_nn::{ActivationKind, NnError};
use thiserror::Error;

/// Errors of experts.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ExpertError {
    /// A dimension that must be at least 1 was 0.
    #[error(transparent)]
    ZeroDim(#[from] smoe_nn::ZeroDim),
    /// An array had the wrong shape.
    #[error(transparent)]
    Shape(#[from] smoe_nn::ShapeError),
    /// An output activation with parameters (PReLU), which the expert does not support.
    #[error(
        "expert output_activation = {activation:?} is not supported (use \"none\", \"relu\" or \"sigmoid\")"
    )]
    OutputActivation {
        /// The refused activation.
        activation: ActivationKind,
    },
    /// An error from a dense layer.
    #[error(transparent)]
    Nn(#[from] NnError),
}
