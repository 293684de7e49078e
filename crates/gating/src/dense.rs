use ndarray::{Array2, ArrayView2};
use smoe_nn::Float;

use crate::{Result, Routing, TopKSoftmax, TopKWeights};

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

impl TopKWeights for DenseSoftmax {
    const NAME: &'static str = "DenseSoftmax";
    fn k(&self) -> usize {
        TopKWeights::k(&self.inner)
    }
    fn num_experts(&self) -> usize {
        TopKWeights::num_experts(&self.inner)
    }
    fn weigh<F: Float>(&self, z: ArrayView2<'_, F>, idx: &Array2<usize>) -> Array2<F> {
        self.inner.weigh(z, idx)
    }
    fn weigh_backward<F: Float>(
        &self,
        z: ArrayView2<'_, F>,
        routing: &Routing<F>,
        dweight: ArrayView2<'_, F>,
    ) -> Array2<F> {
        self.inner.weigh_backward(z, routing, dweight)
    }
}
