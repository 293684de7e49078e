use ndarray::{Array2, ArrayView2};
use smoe_nn::Float;

use crate::routing::check_k;
use crate::{Result, Routing, TopKWeights, select_topk};

/// The canonical gate: `S(x)` = top-k of z; `w_j = exp(z_j) / Σ_{i∈S} exp(z_i)` on S.
///
/// Backward: `dz_i = w_i (g_i − Σ_{j∈S} w_j g_j)` for `i ∈ S`, 0 elsewhere, where `g = dL/dw`.
/// The logits outside S get no gradient. **At k = 1 the weight is identically 1, so the
/// router receives no gradient at all** (davidmrau/mixture-of-experts#27); use
/// [`crate::SoftmaxTopK`] if the router must learn at k = 1.
///
/// So a k = 1 model trained with this gate keeps its router **bit-identical** to its
/// initialisation unless something else reaches the router: an auxiliary routing loss on the
/// logits (load balancing, z-loss) or weight decay (L2 or decoupled) moves it; with
/// `softmax_topk` the router does learn (`crates/train/tests/router_k1.rs` pins both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopKSoftmax {
    k: usize,
    experts: usize,
}

impl TopKSoftmax {
    /// A gate selecting `k` of `experts`.
    ///
    /// # Errors
    /// [`crate::GatingError::InvalidTopK`] unless `1 ≤ k ≤ experts`.
    pub fn new(k: usize, experts: usize) -> Result<Self> {
        check_k(k, experts)?;
        Ok(Self { k, experts })
    }
}

/// Softmax of `scores` restricted to `idx` (max-shifted), written to `w`.
pub(crate) fn softmax_selected<F: Float>(scores: &[F], idx: &[usize], w: &mut [F]) {
    let max = idx
        .iter()
        .map(|&i| scores[i])
        .fold(F::neg_infinity(), F::max);
    let mut sum = F::zero();
    for (wj, &i) in w.iter_mut().zip(idx) {
        *wj = (scores[i] - max).exp();
        sum += *wj;
    }
    for wj in w.iter_mut() {
        *wj /= sum;
    }
}

/// Backward of [`softmax_selected`]: adds `w_j (g_j − Σ w g)` to `dscores[idx_j]`.
pub(crate) fn softmax_selected_backward<F: Float>(
    w: &[F],
    g: &[F],
    idx: &[usize],
    dscores: &mut [F],
) {
    let s: F = w.iter().zip(g).map(|(a, b)| *a * *b).sum();
    for ((wj, gj), &i) in w.iter().zip(g).zip(idx) {
        dscores[i] += *wj * (*gj - s);
    }
}

/// Routing by top-k of `scores`, weights the selected softmax.
pub(crate) fn route_topk_softmax<F: Float>(scores: ArrayView2<'_, F>, k: usize) -> Routing<F> {
    let idx = select_topk(scores, k);
    let weight = weigh_topk_softmax(scores, &idx);
    Routing {
        idx,
        weight,
        noise: None,
    }
}

/// The softmax over each row's selected scores `idx [b, k]`, `[b, k]`.
pub(crate) fn weigh_topk_softmax<F: Float>(
    scores: ArrayView2<'_, F>,
    idx: &Array2<usize>,
) -> Array2<F> {
    let k = idx.ncols();
    let scores = scores.as_standard_layout();
    let t = scores.ncols();
    let mut weight = Array2::zeros((scores.nrows(), k));
    if let (Some(src), Some(ids), Some(w)) =
        (scores.as_slice(), idx.as_slice(), weight.as_slice_mut())
    {
        for ((s, i), w) in src
            .chunks_exact(t)
            .zip(ids.chunks_exact(k))
            .zip(w.chunks_exact_mut(k))
        {
            softmax_selected(s, i, w);
        }
    }
    weight
}

/// `dL/dscores [b, T]` of [`route_topk_softmax`].
pub(crate) fn backward_topk_softmax<F: Float>(
    routing: &Routing<F>,
    dweight: ArrayView2<'_, F>,
    experts: usize,
) -> Array2<F> {
    let k = routing.k();
    let mut dz = Array2::zeros((routing.batch(), experts));
    let dweight = dweight.as_standard_layout();
    if let (Some(w), Some(g), Some(i), Some(d)) = (
        routing.weight.as_slice(),
        dweight.as_slice(),
        routing.idx.as_slice(),
        dz.as_slice_mut(),
    ) && k > 0
    {
        for (((w, g), i), d) in w
            .chunks_exact(k)
            .zip(g.chunks_exact(k))
            .zip(i.chunks_exact(k))
            .zip(d.chunks_exact_mut(experts))
        {
            softmax_selected_backward(w, g, i, d);
        }
    }
    dz
}

impl TopKWeights for TopKSoftmax {
    const NAME: &'static str = "TopKSoftmax";
    fn k(&self) -> usize {
        self.k
    }
    fn num_experts(&self) -> usize {
        self.experts
    }
    fn weigh<F: Float>(&self, z: ArrayView2<'_, F>, idx: &Array2<usize>) -> Array2<F> {
        weigh_topk_softmax(z, idx)
    }
    fn weigh_backward<F: Float>(
        &self,
        _z: ArrayView2<'_, F>,
        routing: &Routing<F>,
        dweight: ArrayView2<'_, F>,
    ) -> Array2<F> {
        backward_topk_softmax(routing, dweight, self.experts)
    }
}
