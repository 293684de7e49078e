use thiserror::Error;

/// Errors of the dense building blocks.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum NnError {
    /// A dimension that must be at least 1 was 0.
    #[error(transparent)]
    ZeroDim(#[from] crate::ZeroDim),
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
