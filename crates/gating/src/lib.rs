//! Gates for smoe: router logits `z [b, T]` to the selected experts and their weights.
//!
//! Every gate selects `S(x)`, k experts per input — the indices of the k largest scores (ties:
//! lower index first), stored in each row of [`Routing::idx`] in descending score order, for
//! every gate but [`HierarchicalSoftmax`], which selects groups first — and gives each
//! selected expert a weight. Each gate's backward is exact (see each type's doc for where the gradient
//! to the router is zero).
//!
//! - [`TopKSoftmax`] (default): softmax over the k selected logits (renormalised);
//! - [`SoftmaxTopK`]: full softmax over T, keep the top k, no renormalisation;
//! - [`DenseSoftmax`]: k = T, the classical dense mixture;
//! - [`NoisyTopK`]: Shazeer et al. (2017) learned noise, training only, on a routing-only copy;
//! - [`DenseToSparse`]: `softmax(act(z)/τ)` with a fixed, scheduled or learned τ and an optional
//!   switch to the renormalised top-k once τ is small (Nguyen et al. 2024);
//! - [`SigmoidGate`]: `w_j = σ(z_j)` on the top-k, unnormalised;
//! - [`HierarchicalSoftmax`]: outer softmax over groups (the gate's own affine map of x) times
//!   the inner softmax of z within each group, top-k at each level;
//! - [`topk_mass`]: how concentrated weights are (mean mass of the k largest);
//! - [`TopKWeights`]: write only a gate's weighting formula and its backward; [`Gate`] comes
//!   with it. [`check_inputs`], [`check_dweight`] and [`check_k`] serve gates written from
//!   scratch.
//!
//! # Example
//! ```
//! use ndarray::array;
//! use smoe_gating::{Gate, TopKSoftmax};
//!
//! let gate = TopKSoftmax::new(2, 3).unwrap();
//! let z = array![[1.0_f64, 3.0, 2.0]];
//! let x = array![[0.0_f64]];
//! let r = gate.route(x.view(), z.view(), None).unwrap();
//! assert_eq!(r.idx.row(0).to_vec(), vec![1, 2]);
//! let w = r.weight.row(0);
//! assert!((w[0] - 1.0 / (1.0 + (-1.0_f64).exp())).abs() < 1e-15);
//! ```

mod concentration;
mod config;
mod dense;
mod dense_to_sparse;
mod error;
mod hierarchical;
mod noisy;
mod pre_activation;
mod routing;
mod sigmoid;
mod softmax_topk;
mod topk;
mod topk_softmax;
mod weights;

pub use concentration::topk_mass;
pub use config::{GateConfig, GateProperties, build_gate, deserialize_gate};
pub use dense::DenseSoftmax;
pub use dense_to_sparse::{DenseToSparse, TauSchedule, Temperature};
pub use error::GatingError;
pub use hierarchical::HierarchicalSoftmax;
pub use noisy::NoisyTopK;
pub use pre_activation::GateActivation;
pub use routing::{GateGrad, Routing, check_dweight, check_inputs, check_k};
pub use sigmoid::SigmoidGate;
pub use softmax_topk::{SoftmaxTopK, softmax_rows};
pub use topk::{select_topk, topk_indices};
pub use topk_softmax::TopKSoftmax;
pub use weights::TopKWeights;

use ndarray::ArrayView2;
use smoe_nn::{Float, ParamMut, ParamRef, Progress};

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, GatingError>;

/// A gate: scores to (selected experts, weights), with its exact backward.
///
/// `route` and `backward` both receive the router input `x` and logits `z`; a gate recomputes
/// what it needs, so it holds no per-batch state.
pub trait Gate<F: Float>: Send + Sync + std::fmt::Debug {
    /// Experts selected per input, k.
    fn k(&self) -> usize;
    /// Number of experts, T.
    fn num_experts(&self) -> usize;
    /// Whether `route` uses standard-normal `noise [b, T]` while training.
    fn uses_noise(&self) -> bool {
        false
    }
    /// Selects and weighs experts. `noise` is `Some` only while training, for gates that
    /// [`Gate::uses_noise`]; others ignore it.
    ///
    /// # Shapes
    /// `x [b, d]`, `z [b, T]`, `noise [b, T] -> Routing { idx [b, k], weight [b, k] }`.
    ///
    /// # Errors
    /// [`GatingError::Shape`] on wrong shapes, [`GatingError::NonFinite`] for a NaN or
    /// infinite logit.
    fn route(
        &self,
        x: ArrayView2<'_, F>,
        z: ArrayView2<'_, F>,
        noise: Option<ArrayView2<'_, F>>,
    ) -> Result<Routing<F>>;
    /// Given `dL/dweight [b, k]`, returns `dL/dz [b, T]` (and `dL/dx` for gates that read `x`),
    /// accumulating the gate's own parameter gradients.
    ///
    /// # Errors
    /// [`GatingError::Shape`] on wrong shapes.
    fn backward(
        &mut self,
        x: ArrayView2<'_, F>,
        z: ArrayView2<'_, F>,
        routing: &Routing<F>,
        dweight: ArrayView2<'_, F>,
    ) -> Result<GateGrad<F>>;
    /// The gate's own parameters (none for most gates), named `{prefix}.…`.
    fn params<'a>(&'a self, _prefix: &str, _out: &mut Vec<ParamRef<'a, F>>) {}
    /// Mutable form of [`Gate::params`].
    fn params_mut<'a>(&'a mut self, _prefix: &str, _out: &mut Vec<ParamMut<'a, F>>) {}
    /// Training-progress hook, called before each optimiser step (default: nothing).
    fn on_progress(&mut self, _progress: &Progress) {}
    /// A boxed copy.
    fn boxed_clone(&self) -> Box<dyn Gate<F>>;
}

impl<F: Float> Clone for Box<dyn Gate<F>> {
    fn clone(&self) -> Self {
        self.boxed_clone()
    }
}
