//! One forward and backward pass of a batch through the training objective — the loss plus the
//! configured auxiliary losses — shared by the mini-batch loop and full-batch fitting.

use ndarray::{Array1, ArrayView2};
use smoe_model::{AuxGrad, Model, ModelError};

use crate::aux::{balance, importance, z_loss};
use crate::loss::Loss;
use crate::{AuxConfig, Result, TrainError};

/// The objective's parts on one batch (each the batch mean, unweighted).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BatchValue {
    /// The loss.
    pub loss: f64,
    /// The running error of the loss, if it has one.
    pub error: Option<f64>,
    /// Load-balancing loss (0 when off).
    pub balance: f64,
    /// Router z-loss (0 when off).
    pub z: f64,
    /// Importance loss (0 when off).
    pub importance: f64,
}

impl BatchValue {
    /// Loss plus auxiliary losses.
    pub fn total(&self) -> f64 {
        self.loss + self.balance + self.z + self.importance
    }
}

/// Whether a model error means the run diverged (non-finite logits) rather than a bug.
pub(crate) fn is_divergence(e: &TrainError) -> bool {
    matches!(
        e,
        TrainError::Model(ModelError::Gating(
            smoe_gating::GatingError::NonFinite { .. }
        ))
    )
}

/// Forward pass of `x` (routing noise as `noisy` says), the loss on `y` and the auxiliary
/// losses of `aux`, then the backward pass of `weight · (loss + aux)`: every parameter
/// gradient is *accumulated* (zero them first for a fresh step). `weight = 1` is an ordinary
/// mini-batch step; full-batch fitting passes `n_block / m` so that the blocks' gradients add
/// up to the gradient of the mean over the whole set. `Ok(Err(reason))` reports divergence
/// (non-finite logits or objective); nothing is accumulated then.
///
/// # Errors
/// Model errors other than divergence.
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_backward(
    model: &mut dyn Model<f32>,
    loss: &dyn Loss,
    aux: &AuxConfig,
    experts: usize,
    x: ArrayView2<'_, f32>,
    y: &[f32],
    weight: f32,
    noisy: bool,
) -> Result<std::result::Result<BatchValue, String>> {
    let out = match model.forward(x, noisy) {
        Ok(o) => o,
        Err(e) => {
            let e = TrainError::from(e);
            if is_divergence(&e) {
                return Ok(Err(e.to_string()));
            }
            return Err(e);
        }
    };
    let f = out.f.as_slice().unwrap_or(&[]);
    let (value, df) = loss.value_and_grad(f, y);
    let mut v = BatchValue {
        loss: value,
        error: loss.batch_error(f, y),
        ..Default::default()
    };
    let mut dlogits = None;
    let mut dweight = None;
    if let Some(top) = out.top_k() {
        if aux.balance > 0.0 {
            let (b, g) = balance(top.logits.view(), &top.routing.idx, aux.balance);
            v.balance = b;
            dlogits = Some(g);
        }
        if aux.z_loss > 0.0 {
            let (z, g) = z_loss(top.logits.view(), aux.z_loss);
            v.z = z;
            dlogits = Some(dlogits.map_or(g.clone(), |d| d + &g));
        }
        if aux.importance > 0.0 {
            let (i, g) = importance(
                top.routing.weight.view(),
                &top.routing.idx,
                experts,
                aux.importance,
            );
            v.importance = i;
            dweight = Some(g);
        }
    }
    let total = v.total();
    if !total.is_finite() {
        return Ok(Err(format!("non-finite loss {total}")));
    }
    let mut df = Array1::from(df);
    if weight != 1.0 {
        df *= weight;
        if let Some(g) = dlogits.as_mut() {
            *g *= weight;
        }
        if let Some(g) = dweight.as_mut() {
            *g *= weight;
        }
    }
    model.backward_params(
        df.view(),
        AuxGrad {
            dweight: dweight.as_ref().map(|g| g.view()),
            dlogits: dlogits.as_ref().map(|g| g.view()),
        },
    )?;
    Ok(Ok(v))
}
