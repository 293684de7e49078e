use thiserror::Error;

/// Errors of the dense building blocks.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum NnError {
    /// A layer or tensor was asked to have a zero dimension.
    #[error("{what} must be at least 1, got 0")]
    ZeroDim {
        /// Which dimension.
        what: &'static str,
    },
    /// An array had the wrong shape.
    #[error(transparent)]
    Shape(#[from] crate::ShapeError),
    /// A hyper-parameter is out of its range (negative, NaN, infinite…).
    #[error("invalid hyper-parameter {name} = {value}: {reason}")]
    InvalidHyperParameter {
        /// Its name.
        name: &'static str,
        /// Its value.
        value: f64,
        /// What it must satisfy.
        reason: &'static str,
    },
    /// The parameter list changed between two optimiser steps.
    #[error("optimiser state does not match the parameters: {0}")]
    OptimizerState(String),
}
