//! The shape and zero-dimension errors every crate wraps (`#[error(transparent)] Shape`, `ZeroDim`).

use thiserror::Error;

/// An array did not have the shape an operation needs.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("shape mismatch in {op}: expected {expected:?}, got {got:?}")]
pub struct ShapeError {
    /// The operation that checked.
    pub op: &'static str,
    /// The shape it expected.
    pub expected: Vec<usize>,
    /// The shape it got.
    pub got: Vec<usize>,
}

impl ShapeError {
    /// A shape error of `op`.
    pub fn new(op: &'static str, expected: Vec<usize>, got: Vec<usize>) -> Self {
        Self { op, expected, got }
    }
}

/// A dimension that must be at least 1 was 0 (an input width, a number of experts, a hidden
/// width…); `what` names it with its component, e.g. `"router hidden width"`.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{what} must be at least 1, got 0")]
pub struct ZeroDim {
    /// The dimension, with its component.
    pub what: &'static str,
}
