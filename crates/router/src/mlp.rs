use ndarray::{Array2, ArrayView2};
use smoe_nn::{Activation, ActivationKind, Float, Init, Linear, ParamMut, ParamRef, SmoeRng};

use crate::{Result, Router};

/// `z = relu(x W₀ᵀ + b₀) W₁ᵀ + b₁`; parameters `router.layers.0.{weight,bias}` (`[hidden, d]`,
/// `[hidden]`) and `router.layers.1.{weight,bias}` (`[T, hidden]`, `[T]`).
#[derive(Debug, Clone, PartialEq)]
pub struct MlpRouter<F> {
    /// Input to hidden.
    pub hidden: Linear<F>,
    /// Hidden to logits.
    pub out: Linear<F>,
}

impl<F: Float> MlpRouter<F> {
    /// A router `d -> hidden -> experts`.
    ///
    /// # Errors
    /// [`crate::RouterError::Nn`] if any width is 0.
    pub fn new(
        d: usize,
        hidden: usize,
        experts: usize,
        init: Init,
        rng: &mut SmoeRng,
    ) -> Result<Self> {
        Ok(Self {
            hidden: Linear::new(d, hidden, init, rng)?,
            out: Linear::new(hidden, experts, init, rng)?,
        })
    }

    fn hidden_forward(&self, x: ArrayView2<'_, F>) -> Result<(Array2<F>, Array2<F>)> {
        let a = self.hidden.forward(x)?;
        let mut h = Array2::zeros(a.dim());
        let relu = Activation::<F>::new(ActivationKind::Relu);
        relu.forward(
            a.as_slice().unwrap_or(&[]),
            h.as_slice_mut().unwrap_or(&mut []),
        );
        Ok((a, h))
    }
}

impl<F: Float> Router<F> for MlpRouter<F> {
    fn input_dim(&self) -> usize {
        self.hidden.d_in()
    }
    fn num_experts(&self) -> usize {
        self.out.d_out()
    }
    fn forward(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        let (_, h) = self.hidden_forward(x)?;
        Ok(self.out.forward(h.view())?)
    }
    fn backward(&mut self, x: ArrayView2<'_, F>, dz: ArrayView2<'_, F>) -> Result<Array2<F>> {
        let (a, h) = self.hidden_forward(x)?;
        let dh = self.out.backward(h.view(), dz)?;
        let mut da = Array2::zeros(a.dim());
        let mut relu = Activation::<F>::new(ActivationKind::Relu);
        relu.backward(
            a.as_slice().unwrap_or(&[]),
            dh.as_slice().unwrap_or(&[]),
            da.as_slice_mut().unwrap_or(&mut []),
        );
        Ok(self.hidden.backward(x, da.view())?)
    }
    fn params<'a>(&'a self, prefix: &str, out: &mut Vec<ParamRef<'a, F>>) {
        self.hidden.params(&format!("{prefix}.layers.0"), out);
        self.out.params(&format!("{prefix}.layers.1"), out);
    }
    fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<ParamMut<'a, F>>) {
        self.hidden.params_mut(&format!("{prefix}.layers.0"), out);
        self.out.params_mut(&format!("{prefix}.layers.1"), out);
    }
    fn boxed_clone(&self) -> Box<dyn Router<F>> {
        Box::new(self.clone())
    }
}
