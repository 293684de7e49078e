use ndarray::{Array2, ArrayView2};
use smoe_nn::{Float, Init, Linear, ParamMut, ParamRef, SmoeRng};

use crate::{Result, Router};

/// `z = x Wᵀ + b` with `W [T, d]`, `b [T]`; parameters `router.weight`, `router.bias`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearRouter<F> {
    /// The affine map.
    pub layer: Linear<F>,
}

impl<F: Float> LinearRouter<F> {
    /// A router for width `d` and `experts` experts.
    ///
    /// # Errors
    /// [`crate::RouterError::Nn`] if `d` or `experts` is 0.
    pub fn new(d: usize, experts: usize, init: Init, rng: &mut SmoeRng) -> Result<Self> {
        Ok(Self {
            layer: Linear::new(d, experts, init, rng)?,
        })
    }
}

impl<F: Float> Router<F> for LinearRouter<F> {
    fn input_dim(&self) -> usize {
        self.layer.d_in()
    }
    fn num_experts(&self) -> usize {
        self.layer.d_out()
    }
    fn forward(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        Ok(self.layer.forward(x)?)
    }
    fn backward(&mut self, x: ArrayView2<'_, F>, dz: ArrayView2<'_, F>) -> Result<Array2<F>> {
        Ok(self.layer.backward(x, dz)?)
    }
    fn params<'a>(&'a self, prefix: &str, out: &mut Vec<ParamRef<'a, F>>) {
        self.layer.params(prefix, out);
    }
    fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<ParamMut<'a, F>>) {
        self.layer.params_mut(prefix, out);
    }
    fn boxed_clone(&self) -> Box<dyn Router<F>> {
        Box::new(self.clone())
    }
}
