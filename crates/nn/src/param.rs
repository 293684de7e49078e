//! Named parameter tensors with their gradients.

use crate::{Float, NnError, Result};

/// A read-only view of one parameter tensor and its gradient.
#[derive(Debug)]
pub struct ParamRef<'a, F> {
    /// Full dotted name, e.g. `experts.3.layers.0.weight`.
    pub name: String,
    /// Shape (row-major), e.g. `[out, in]` for a weight.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub value: &'a [F],
    /// Gradient, same layout as `value`.
    pub grad: &'a [F],
}

/// A mutable view of one parameter tensor and its gradient.
#[derive(Debug)]
pub struct ParamMut<'a, F> {
    /// Full dotted name, e.g. `experts.3.layers.0.weight`.
    pub name: String,
    /// Shape (row-major).
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub value: &'a mut [F],
    /// Gradient, same layout as `value`.
    pub grad: &'a mut [F],
}

impl<'a, F> ParamMut<'a, F> {
    /// A tensor without its name and shape, for code that only reads the values and gradients
    /// (the optimiser's step): building it allocates nothing.
    pub fn unnamed(value: &'a mut [F], grad: &'a mut [F]) -> Self {
        Self {
            name: String::new(),
            shape: Vec::new(),
            value,
            grad,
        }
    }
}

/// Sets every gradient to zero.
pub fn zero_grads<F: Float>(params: &mut [ParamMut<'_, F>]) {
    for p in params.iter_mut() {
        p.grad.fill(F::zero());
    }
}

/// All parameter values concatenated in list order, as `f64`.
pub fn param_vector<F: Float>(params: &[ParamRef<'_, F>]) -> Vec<f64> {
    params
        .iter()
        .flat_map(|p| p.value.iter().map(|v| v.to_f64c()))
        .collect()
}

/// All gradients concatenated in list order, as `f64`.
pub fn grad_vector<F: Float>(params: &[ParamRef<'_, F>]) -> Vec<f64> {
    params
        .iter()
        .flat_map(|p| p.grad.iter().map(|v| v.to_f64c()))
        .collect()
}

/// Writes `values` (as from [`param_vector`]) back into the parameters.
///
/// # Errors
/// [`NnError::Shape`] if `values` has not exactly as many entries as the parameters.
pub fn set_param_vector<F: Float>(params: &mut [ParamMut<'_, F>], values: &[f64]) -> Result<()> {
    let total: usize = params.iter().map(|p| p.value.len()).sum();
    if total != values.len() {
        return Err(NnError::from(crate::ShapeError {
            op: "set_param_vector",
            expected: vec![total],
            got: vec![values.len()],
        }));
    }
    let mut at = 0;
    for p in params.iter_mut() {
        for v in p.value.iter_mut() {
            *v = F::from_f64c(values[at]);
            at += 1;
        }
    }
    Ok(())
}
