//! The model the posterior is optimised through: the dense softmax form of a sparse model
//! (every expert, weights `softmax(z / τ)`), or the model itself.

use smoe_gating::GateConfig;
use smoe_model::{Model, ModelConfig, build_model};
use smoe_nn::param_vector;

use super::config::Surrogate;
use crate::error::{Result, TheoryError};

/// The surrogate model (holding `model`'s weights) and the surrogate actually used: a model
/// whose gate has no dense softmax form falls back to [`Surrogate::Hard`].
///
/// # Errors
/// The dense model cannot be built, or its parameters are not laid out as `model`'s.
pub fn surrogate_model(
    model: &dyn Model<f32>,
    wanted: Surrogate,
) -> Result<(Box<dyn Model<f32>>, Surrogate)> {
    let Surrogate::Dense { tau } = wanted else {
        return Ok((model.boxed_clone(), Surrogate::Hard));
    };
    let ModelConfig::Sparse(sparse) = model.config() else {
        return Ok((model.boxed_clone(), Surrogate::Hard));
    };
    let softmax_family = match &sparse.gate {
        GateConfig::TopkSoftmax | GateConfig::SoftmaxTopk | GateConfig::DenseSoftmax => true,
        GateConfig::DenseToSparse { learn_tau, .. } => !learn_tau,
        _ => false,
    };
    if !softmax_family {
        return Ok((model.boxed_clone(), Surrogate::Hard));
    }
    let mut dense = sparse.clone();
    dense.k = dense.experts;
    dense.capacity_factor = None;
    dense.gate = GateConfig::dense_to_sparse(tau);
    let fail = |what: String| TheoryError::Certify { what };
    let mut out = build_model::<f32>(&ModelConfig::Sparse(dense), model.input_dim(), model.seed())
        .map_err(|e| fail(format!("cannot build the dense surrogate: {e}")))?;
    let src = model.params();
    {
        let dst = out.params();
        let same = src.len() == dst.len()
            && src
                .iter()
                .zip(&dst)
                .all(|(a, b)| a.name == b.name && a.shape == b.shape);
        if !same {
            return Err(fail(
                "the dense surrogate's parameters differ from the model's".into(),
            ));
        }
    }
    smoe_nn::set_param_vector(&mut out.params_mut(), &param_vector(&src))
        .map_err(|e| fail(e.to_string()))?;
    Ok((out, wanted))
}
