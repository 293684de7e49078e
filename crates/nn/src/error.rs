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
    /// An array did not have the shape an operation needs.
    #[error("shape mismatch in {op}: expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// The operation that checked.
        op: &'static str,
        /// The shape it expected.
        expected: Vec<usize>,
        /// The shape it got.
        got: Vec<usize>,
    },
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
