use ndarray::{Array2, ArrayView2};
use smoe_nn::Float;

use crate::pre_activation::sigmoid;
use crate::routing::check_k;
use crate::{Result, Routing, TopKWeights};

/// Sigmoid gating (arXiv 2405.13997, NeurIPS 2024; THEORY §7.4): `S(x)` = top-k of z (ties:
/// lower index first); `w_j = σ(z_j) = 1 / (1 + e^{−z_j})` for each selected expert, **no
/// normalisation** (the weights lie in (0, 1) each and need not sum to 1). k = T is the dense
/// sigmoid mixture `f(x) = Σ_j σ(z_j) h_j(x)` of the paper.
///
/// Backward: `dz_j = g_j σ(z_j)(1 − σ(z_j))` on S, 0 elsewhere (`g = dL/dw`), so the router
/// learns at every k, k = 1 included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigmoidGate {
    k: usize,
    experts: usize,
}

impl SigmoidGate {
    /// A gate selecting `k` of `experts`.
    ///
    /// # Errors
    /// [`crate::GatingError::InvalidTopK`] unless `1 ≤ k ≤ experts`.
    pub fn new(k: usize, experts: usize) -> Result<Self> {
        check_k(k, experts)?;
        Ok(Self { k, experts })
    }
}

impl TopKWeights for SigmoidGate {
    const NAME: &'static str = "SigmoidGate";
    fn k(&self) -> usize {
        self.k
    }
    fn num_experts(&self) -> usize {
        self.experts
    }
    fn weigh<F: Float>(&self, z: ArrayView2<'_, F>, idx: &Array2<usize>) -> Array2<F> {
        Array2::from_shape_fn(idx.dim(), |(r, j)| sigmoid(z[[r, idx[[r, j]]]]))
    }
    fn weigh_backward<F: Float>(
        &self,
        z: ArrayView2<'_, F>,
        routing: &Routing<F>,
        dweight: ArrayView2<'_, F>,
    ) -> Array2<F> {
        let mut dz = Array2::zeros(z.dim());
        for ((r, j), &i) in routing.idx.indexed_iter() {
            let s = routing.weight[[r, j]];
            dz[[r, i]] += dweight[[r, j]] * s * (F::one() - s);
        }
        dz
    }
}
