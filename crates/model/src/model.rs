//! The model interface every layer above the model uses: trainer, evaluation, bounds,
//! checkpoints, `inspect` and `bound`.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use smoe_gating::Routing;
use smoe_nn::{Float, ParamMut, ParamRef, Progress, zero_grads};

use crate::{AuxGrad, ModelConfig, MoeOutput, Result, SoftMoe, SoftRouting, SparseMoe};

/// What a forward pass of any model returns: the output `f` and typed routing diagnostics.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelOutput<F> {
    /// The model output `f(x)`, `[b]`: a score whose sign is the predicted label, or the
    /// predicted real target.
    pub f: Array1<F>,
    /// How the inputs were routed.
    pub routing: RoutingDiagnostics<F>,
}

/// How a model routed a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum RoutingDiagnostics<F> {
    /// Each input went to k of T experts.
    TopK(TopKRouting<F>),
    /// Soft MoE: every token is dispatched to every slot, every slot combined into every
    /// output token.
    Soft(SoftRouting<F>),
}

/// Top-k routing of a batch of b inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct TopKRouting<F> {
    /// Router logits `z`, `[b, T]`.
    pub logits: Array2<F>,
    /// Selected experts and weights, `[b, k]` each.
    pub routing: Routing<F>,
    /// Kept assignments per expert, `[T]`.
    pub counts: Vec<usize>,
    /// Assignments dropped by the capacity limit.
    pub dropped: usize,
}

impl<F> ModelOutput<F> {
    /// The top-k routing, if the model routes that way.
    pub fn top_k(&self) -> Option<&TopKRouting<F>> {
        match &self.routing {
            RoutingDiagnostics::TopK(r) => Some(r),
            RoutingDiagnostics::Soft(_) => None,
        }
    }

    /// The soft routing, if the model routes that way.
    pub fn soft(&self) -> Option<&SoftRouting<F>> {
        match &self.routing {
            RoutingDiagnostics::Soft(r) => Some(r),
            RoutingDiagnostics::TopK(_) => None,
        }
    }
}

impl<F> From<MoeOutput<F>> for ModelOutput<F> {
    fn from(o: MoeOutput<F>) -> Self {
        Self {
            f: o.f,
            routing: RoutingDiagnostics::TopK(TopKRouting {
                logits: o.logits,
                routing: o.routing,
                counts: o.counts,
                dropped: o.dropped,
            }),
        }
    }
}

/// A trainable model `x [b, d] -> f [b]`: what the trainer, evaluation, the bounds and
/// checkpoints see. [`SparseMoe`] and [`SoftMoe`] implement it; so can a user's own model.
pub trait Model<F: Float>: Send + Sync + std::fmt::Debug {
    /// The config that rebuilds the model's architecture (with [`Model::input_dim`] and
    /// [`Model::seed`]).
    fn config(&self) -> ModelConfig;
    /// The input width d.
    fn input_dim(&self) -> usize;
    /// The seed its initial weights were drawn from.
    fn seed(&self) -> u64;
    /// Training forward pass: keeps what [`Model::backward`] needs; `noisy` turns on the
    /// routing noise of gates that have it.
    ///
    /// # Shapes
    /// `x [b, d] -> f [b]`.
    ///
    /// # Errors
    /// Wrong width, non-finite input, non-finite logits.
    fn forward(&mut self, x: ArrayView2<'_, F>, noisy: bool) -> Result<ModelOutput<F>>;
    /// Evaluation forward pass: no noise, nothing kept.
    ///
    /// # Errors
    /// As [`Model::forward`].
    fn infer(&self, x: ArrayView2<'_, F>) -> Result<ModelOutput<F>>;
    /// Backward from `dL/df [b]` plus auxiliary-loss gradients on the routing: accumulates
    /// every parameter gradient and returns `dL/dx [b, d]`.
    ///
    /// # Errors
    /// No forward pass before it; wrong shapes.
    fn backward(&mut self, df: ArrayView1<'_, F>, aux: AuxGrad<'_, F>) -> Result<Array2<F>>;
    /// As [`Model::backward`] without `dL/dx`, which training does not use: a model may skip
    /// computing it; the parameter gradients must be the same bits (default: `backward`).
    ///
    /// # Errors
    /// As [`Model::backward`].
    fn backward_params(&mut self, df: ArrayView1<'_, F>, aux: AuxGrad<'_, F>) -> Result<()> {
        self.backward(df, aux).map(|_| ())
    }
    /// Every parameter with its gradient, named in PyTorch's layout.
    fn params(&self) -> Vec<ParamRef<'_, F>>;
    /// Mutable form of [`Model::params`], same order.
    fn params_mut(&mut self) -> Vec<ParamMut<'_, F>>;
    /// The parameters of [`Model::params_mut`] in the same order, for the optimiser's step and
    /// gradient clipping, which read neither names nor shapes: a model may leave them empty to
    /// skip building them every step (default: `params_mut()`).
    fn tensors_mut(&mut self) -> Vec<ParamMut<'_, F>> {
        self.params_mut()
    }
    /// Training-progress hook, called before each optimiser step (default: nothing).
    fn on_progress(&mut self, _progress: &Progress) {}
    /// A boxed copy.
    fn boxed_clone(&self) -> Box<dyn Model<F>>;
    /// Sets every gradient to zero.
    fn zero_grad(&mut self) {
        zero_grads(&mut self.tensors_mut());
    }
    /// Number of scalar parameters.
    fn num_params(&self) -> usize {
        self.params().iter().map(|p| p.value.len()).sum()
    }
    /// The model as a [`SoftMoe`], if it is one (for expert-subset inference; default
    /// `None`).
    fn as_soft(&self) -> Option<&SoftMoe<F>> {
        None
    }
}

impl<F: Float> Clone for Box<dyn Model<F>> {
    fn clone(&self) -> Self {
        self.boxed_clone()
    }
}

impl<F: Float> Model<F> for SparseMoe<F> {
    fn config(&self) -> ModelConfig {
        ModelConfig::Sparse(SparseMoe::config(self).clone())
    }
    fn input_dim(&self) -> usize {
        SparseMoe::input_dim(self)
    }
    fn seed(&self) -> u64 {
        SparseMoe::seed(self)
    }
    fn forward(&mut self, x: ArrayView2<'_, F>, noisy: bool) -> Result<ModelOutput<F>> {
        SparseMoe::forward(self, x, noisy).map(ModelOutput::from)
    }
    fn infer(&self, x: ArrayView2<'_, F>) -> Result<ModelOutput<F>> {
        SparseMoe::infer(self, x).map(ModelOutput::from)
    }
    fn backward(&mut self, df: ArrayView1<'_, F>, aux: AuxGrad<'_, F>) -> Result<Array2<F>> {
        self.backward_with_aux(df, aux)
    }
    fn backward_params(&mut self, df: ArrayView1<'_, F>, aux: AuxGrad<'_, F>) -> Result<()> {
        SparseMoe::backward_params(self, df, aux)
    }
    fn params(&self) -> Vec<ParamRef<'_, F>> {
        SparseMoe::params(self)
    }
    fn params_mut(&mut self) -> Vec<ParamMut<'_, F>> {
        SparseMoe::params_mut(self)
    }
    fn tensors_mut(&mut self) -> Vec<ParamMut<'_, F>> {
        SparseMoe::tensors_mut(self)
    }
    fn on_progress(&mut self, progress: &Progress) {
        SparseMoe::on_progress(self, progress);
    }
    fn boxed_clone(&self) -> Box<dyn Model<F>> {
        Box::new(self.clone())
    }
}

/// Builds the model of `cfg` for inputs of width `d`, seeded by `seed`.
///
/// # Errors
/// The config's own validation errors.
pub fn build_model<F: Float>(cfg: &ModelConfig, d: usize, seed: u64) -> Result<Box<dyn Model<F>>> {
    Ok(match cfg {
        ModelConfig::Sparse(c) => Box::new(SparseMoe::<F>::new(c, d, seed)?),
        ModelConfig::Soft(c) => Box::new(SoftMoe::<F>::new(c, d, seed)?),
    })
}
