//! The tensors a checkpoint's config implies (names and shapes, computed from the numbers
//! alone, nothing allocated in proportion to them) and their check against the safetensors
//! header before any model is built: a config whose d, T, width or depth disagrees with the
//! tensors is refused here, so the model built afterwards is exactly as large as the file.

use std::collections::HashSet;
use std::path::Path;

use safetensors::SafeTensors;
use safetensors::tensor::Dtype;
use smoe_nn::ActivationKind;
use smoe_router::RouterConfig;

use super::CheckpointMeta;
use crate::{ModelConfig, ModelError, Result, SoftConfig, SoftHead, SparseConfig};

/// Calls `visit(name, shape)` for every tensor the model of `cfg` with inputs of width `d`
/// has, in [`crate::Model::params`] order, stopping at the first error `visit` returns.
/// The same names and shapes as the built model's parameters (a test checks this on the
/// whole catalogue).
///
/// # Errors
/// The first error of `visit`.
pub(super) fn visit_tensors(
    cfg: &ModelConfig,
    d: usize,
    visit: &mut dyn FnMut(&str, &[usize]) -> Result<()>,
) -> Result<()> {
    match cfg {
        ModelConfig::Sparse(c) => visit_sparse(c, d, visit),
        ModelConfig::Soft(c) => visit_soft(c, d, visit),
    }
}

/// `phi [d_tok, n·p]`, `scale [1]` (normalising), `experts.{j}.layers.{l}.*` of the
/// `d_tok → … → d_tok` experts (then PReLU slopes), `head.weight [1, d]`, `head.bias [1]`.
fn visit_soft(
    c: &SoftConfig,
    d: usize,
    visit: &mut dyn FnMut(&str, &[usize]) -> Result<()>,
) -> Result<()> {
    let dt = c.token_dim(d);
    visit("phi", &[dt, c.experts.saturating_mul(c.slots)])?;
    if c.normalize {
        visit("scale", &[1])?;
    }
    let e = &c.expert;
    for j in 0..c.experts {
        let mut inp = dt;
        for l in 0..e.depth {
            linear(&format!("experts.{j}.layers.{l}"), inp, e.width, visit)?;
            inp = e.width;
        }
        linear(&format!("experts.{j}.layers.{}", e.depth), inp, dt, visit)?;
        if e.activation == ActivationKind::Prelu {
            for l in 0..e.depth {
                visit(&format!("experts.{j}.acts.{l}.weight"), &[1])?;
            }
        }
    }
    if c.head == SoftHead::Linear {
        linear("head", d, 1, visit)?;
    }
    Ok(())
}

fn linear(
    prefix: &str,
    inp: usize,
    out: usize,
    visit: &mut dyn FnMut(&str, &[usize]) -> Result<()>,
) -> Result<()> {
    visit(&format!("{prefix}.weight"), &[out, inp])?;
    visit(&format!("{prefix}.bias"), &[out])
}

fn visit_sparse(
    c: &SparseConfig,
    d: usize,
    visit: &mut dyn FnMut(&str, &[usize]) -> Result<()>,
) -> Result<()> {
    let t = c.experts;
    match c.router {
        RouterConfig::Linear => linear("router", d, t, visit)?,
        RouterConfig::Mlp { hidden } => {
            linear("router.layers.0", d, hidden, visit)?;
            linear("router.layers.1", hidden, t, visit)?;
        }
        // E [T, r] is re-created from the seed, not stored
        RouterConfig::LowRank { rank } => linear("router.proj", d, rank, visit)?,
    }
    for (name, shape) in c.gate.param_shapes(d, t) {
        visit(&format!("gate.{name}"), &shape)?;
    }
    let e = &c.expert;
    for j in 0..t {
        let mut inp = d;
        for l in 0..e.depth {
            linear(&format!("experts.{j}.layers.{l}"), inp, e.width, visit)?;
            inp = e.width;
        }
        linear(&format!("experts.{j}.layers.{}", e.depth), inp, 1, visit)?;
        if e.activation == ActivationKind::Prelu {
            for l in 0..e.depth {
                visit(&format!("experts.{j}.acts.{l}.weight"), &[1])?;
            }
        }
    }
    Ok(())
}

/// Checks the tensors of `st` against what `meta` implies: every tensor present with its
/// shape and the declared dtype, and no other. Runs before anything is built; the loop stops
/// at the first tensor the file lacks, so a lying T or depth costs at most one step more
/// than the file has tensors.
///
/// # Errors
/// [`ModelError::MissingTensor`], [`ModelError::TensorShape`], [`ModelError::TensorDtype`],
/// [`ModelError::UnexpectedTensor`], naming the tensor.
pub(super) fn check_layout(meta: &CheckpointMeta, st: &SafeTensors<'_>, path: &Path) -> Result<()> {
    let p = path.display().to_string();
    let dtype = if meta.dtype == "f64" {
        Dtype::F64
    } else {
        Dtype::F32
    };
    let mut seen = 0usize;
    visit_tensors(&meta.model, meta.d, &mut |name, shape| {
        let t = st.tensor(name).map_err(|_| ModelError::MissingTensor {
            path: p.clone(),
            name: name.to_string(),
        })?;
        if t.shape() != shape {
            return Err(ModelError::TensorShape {
                path: p.clone(),
                name: name.to_string(),
                expected: shape.to_vec(),
                got: t.shape().to_vec(),
            });
        }
        if t.dtype() != dtype {
            return Err(ModelError::TensorDtype {
                path: p.clone(),
                name: name.to_string(),
                dtype: format!("{:?}", t.dtype()),
                expected: format!("{dtype:?}"),
            });
        }
        seen += 1;
        Ok(())
    })?;
    if seen == st.len() {
        return Ok(());
    }
    // every implied tensor is in the file, so there are at most st.len() of them
    let mut implied = HashSet::with_capacity(seen);
    visit_tensors(&meta.model, meta.d, &mut |name, _| {
        implied.insert(name.to_string());
        Ok(())
    })?;
    let mut names = st.names();
    names.sort_unstable();
    match names.into_iter().find(|n| !implied.contains(*n)) {
        Some(extra) => Err(ModelError::UnexpectedTensor {
            path: p,
            name: extra.to_string(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build_model;

    /// The implied names and shapes are the built model's, for every catalogue model.
    #[test]
    fn implied_tensors_are_the_models_parameters() {
        let examples = ModelConfig::examples();
        assert!(examples.len() > 10);
        for cfg in examples {
            let model = build_model::<f32>(&cfg, 3, 0).unwrap();
            let built: Vec<(String, Vec<usize>)> = model
                .params()
                .into_iter()
                .map(|p| (p.name, p.shape))
                .collect();
            let mut implied = Vec::new();
            visit_tensors(&cfg, 3, &mut |n, s| {
                implied.push((n.to_string(), s.to_vec()));
                Ok(())
            })
            .unwrap();
            assert_eq!(implied, built, "{cfg:?}");
        }
    }
}
