//! The one shape error: every crate's error enum wraps it (`#[error(transparent)] Shape`).

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
