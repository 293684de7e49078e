//! [`TopKWeights`]: the one part a top-k gate must write — how the selected experts are
//! weighed — with [`Gate`] implemented for it once (input checks, top-k selection, no noise,
//! no parameters).

use ndarray::{Array2, ArrayView2};
use smoe_nn::{Float, Progress};

use crate::routing::{check_dweight, check_inputs};
use crate::{Gate, GateGrad, Result, Routing, select_topk};

/// A gate that selects the k largest router logits (ties: lower index first) and weighs them
/// by a formula of the logits. Implement `k`, `num_experts`, [`TopKWeights::weigh`] and its
/// exact backward [`TopKWeights::weigh_backward`]; the [`Gate`] implementation checks the
/// inputs ([`check_inputs`], [`check_dweight`]) and selects, and forwards
/// [`TopKWeights::on_progress`] (for schedules). A gate with noise or parameters implements
/// [`Gate`] directly.
pub trait TopKWeights: Clone + Send + Sync + std::fmt::Debug + 'static {
    /// The gate's name in error messages, e.g. `"TopKSoftmax"`.
    const NAME: &'static str;
    /// Experts selected per input, k.
    fn k(&self) -> usize;
    /// Number of experts, T.
    fn num_experts(&self) -> usize;
    /// The weights `[b, k]` of the selected experts `idx [b, k]` for the logits `z [b, T]`.
    fn weigh<F: Float>(&self, z: ArrayView2<'_, F>, idx: &Array2<usize>) -> Array2<F>;
    /// `dL/dz [b, T]` from `dL/dweight [b, k]` (`routing` is what [`TopKWeights::weigh`] gave).
    fn weigh_backward<F: Float>(
        &self,
        z: ArrayView2<'_, F>,
        routing: &Routing<F>,
        dweight: ArrayView2<'_, F>,
    ) -> Array2<F>;
    /// Training-progress hook (default: nothing), e.g. for a temperature schedule.
    fn on_progress(&mut self, _progress: &Progress) {}
}

impl<F: Float, W: TopKWeights> Gate<F> for W {
    fn k(&self) -> usize {
        TopKWeights::k(self)
    }
    fn num_experts(&self) -> usize {
        TopKWeights::num_experts(self)
    }
    fn route(
        &self,
        x: ArrayView2<'_, F>,
        z: ArrayView2<'_, F>,
        _noise: Option<ArrayView2<'_, F>>,
    ) -> Result<Routing<F>> {
        check_inputs(W::NAME, x, z, TopKWeights::num_experts(self))?;
        let idx = select_topk(z, TopKWeights::k(self));
        let weight = self.weigh(z, &idx);
        Ok(Routing {
            idx,
            weight,
            noise: None,
        })
    }
    fn backward(
        &mut self,
        _x: ArrayView2<'_, F>,
        z: ArrayView2<'_, F>,
        routing: &Routing<F>,
        dweight: ArrayView2<'_, F>,
    ) -> Result<GateGrad<F>> {
        check_dweight(W::NAME, routing, z, dweight)?;
        Ok(GateGrad {
            dlogits: self.weigh_backward(z, routing, dweight),
            dx: None,
        })
    }
    fn on_progress(&mut self, progress: &Progress) {
        TopKWeights::on_progress(self, progress);
    }
    fn boxed_clone(&self) -> Box<dyn Gate<F>> {
        Box::new(self.clone())
    }
}
