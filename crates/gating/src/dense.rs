use ndarray::ArrayView2;
use smoe_nn::Float;

use crate::{Gate, GateGrad, Result, Routing, TopKSoftmax};

/// The dense mixture: every expert, `w = softmax(z)` over all T (k = T). Slots are ordered
/// by descending logit like every other gate.
///
/// Backward: `dz_i = w_i (g_i − Σ_j w_j g_j)`; zero for the router only when T = 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenseSoftmax {
    inner: TopKSoftmax,
}

impl DenseSoftmax {
    /// A dense gate over `experts` experts.
    ///
    /// # Errors
    /// [`crate::GatingError::ZeroDim`] if `experts` is 0.
    pub fn new(experts: usize) -> Result<Self> {
        Ok(Self {
            inner: TopKSoftmax::new(experts, experts)?,
        })
    }
}

impl<F: Float> Gate<F> for DenseSoftmax {
    fn k(&self) -> usize {
        Gate::<F>::k(&self.inner)
    }
    fn num_experts(&self) -> usize {
        Gate::<F>::num_experts(&self.inner)
    }
    fn route(
        &self,
        x: ArrayView2<'_, F>,
        z: ArrayView2<'_, F>,
        noise: Option<ArrayView2<'_, F>>,
    ) -> Result<Routing<F>> {
        self.inner.route(x, z, noise)
    }
    fn backward(
        &mut self,
        x: ArrayView2<'_, F>,
        z: ArrayView2<'_, F>,
        routing: &Routing<F>,
        dweight: ArrayView2<'_, F>,
    ) -> Result<GateGrad<F>> {
        self.inner.backward(x, z, routing, dweight)
    }
    fn boxed_clone(&self) -> Box<dyn Gate<F>> {
        Box::new(*self)
    }
}
