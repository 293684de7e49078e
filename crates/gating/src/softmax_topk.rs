use ndarray::{Array2, ArrayView2};
use smoe_nn::Float;

use crate::routing::check_k;
use crate::{Result, Routing, TopKWeights};

/// Shazeer/Switch style: `p = softmax(z)` over all T; `S(x)` = top-k of z; `w_j = p_j` on S,
/// **not** renormalised (weights sum to less than 1 unless k = T).
///
/// Backward: `dz_i = p_i (g̃_i − Σ_{j∈S} p_j g_j)` for every i, with `g̃_i = dL/dw_i` on S and 0
/// off S, so every logit (selected or not) receives gradient, also at k = 1. The gradient
/// is zero only where `p` underflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftmaxTopK {
    k: usize,
    experts: usize,
}

impl SoftmaxTopK {
    /// A gate selecting `k` of `experts`.
    ///
    /// # Errors
    /// [`crate::GatingError::InvalidTopK`] unless `1 ≤ k ≤ experts`.
    pub fn new(k: usize, experts: usize) -> Result<Self> {
        check_k(k, experts)?;
        Ok(Self { k, experts })
    }
}

/// Row-wise softmax of `z [b, T]` (max-shifted).
pub fn softmax_rows<F: Float>(z: ArrayView2<'_, F>) -> Array2<F> {
    let mut p = z.as_standard_layout().into_owned();
    let t = p.ncols();
    if t > 0
        && let Some(v) = p.as_slice_mut()
    {
        v.chunks_exact_mut(t).for_each(smoe_nn::softmax_in_place);
    }
    p
}

impl TopKWeights for SoftmaxTopK {
    const NAME: &'static str = "SoftmaxTopK";
    fn k(&self) -> usize {
        self.k
    }
    fn num_experts(&self) -> usize {
        self.experts
    }
    fn weigh<F: Float>(&self, z: ArrayView2<'_, F>, idx: &Array2<usize>) -> Array2<F> {
        let p = softmax_rows(z);
        Array2::from_shape_fn(idx.dim(), |(r, j)| p[[r, idx[[r, j]]]])
    }
    fn weigh_backward<F: Float>(
        &self,
        z: ArrayView2<'_, F>,
        routing: &Routing<F>,
        dweight: ArrayView2<'_, F>,
    ) -> Array2<F> {
        let p = softmax_rows(z);
        let mut dz = Array2::zeros(z.dim());
        for r in 0..z.nrows() {
            let mut s = F::zero();
            for j in 0..self.k {
                let i = routing.idx[[r, j]];
                s += p[[r, i]] * dweight[[r, j]];
            }
            for i in 0..self.experts {
                dz[[r, i]] = -p[[r, i]] * s;
            }
            for j in 0..self.k {
                let i = routing.idx[[r, j]];
                dz[[r, i]] += p[[r, i]] * dweight[[r, j]];
            }
        }
        dz
    }
}
