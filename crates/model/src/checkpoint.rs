//! Checkpoints: a safetensors file of every parameter plus a JSON config beside it.
//!
//! Tensor names and layouts follow PyTorch's `nn.Linear` (weight `[out, in]`), so the file
//! loads in Python unchanged: `router.weight [T, d]`, `router.bias [T]`,
//! `experts.{j}.layers.{l}.weight [out, in]`, `experts.{j}.layers.{l}.bias [out]` for
//! `l = 0..=depth` (the last is the output layer); PReLU slopes `experts.{j}.acts.{l}.weight [1]`;
//! an MLP router `router.layers.{0,1}.*`; a low-rank router `router.proj.weight [r, d]`,
//! `router.proj.bias [r]` (its fixed embeddings E are re-created from the seed, not stored);
//! the noisy gate `gate.noise.weight [T, d]`; a learned temperature `gate.log_tau [1]`; the
//! hierarchical gate `gate.outer.weight [G, d]`, `gate.outer.bias [G]`. A scheduled
//! temperature is a function of training progress, which a checkpoint does not store: a
//! loaded model is set to the end of training (progress 1), where the trainer's final
//! evaluation also put it, so a `dense_to_sparse` gate with `tau_end` reloads at τ₁.
//! A soft model: `phi [d_tok, n·p]`, `scale [1]` (with `normalize`),
//! `experts.{j}.layers.{l}.*` (the output layer `[d_tok, in]`), the linear head
//! `head.weight [1, d]`, `head.bias [1]`.
//! Values are stored in the model's float type (F32 or F64). The config goes to
//! `<name>.json` beside `<name>.safetensors` (and into the safetensors metadata).
//!
//! Reading is strict, and bounded before anything is allocated: the JSON must be complete
//! (no serde default applies), of this [`VERSION`], with a known dtype and no unknown field,
//! at most [`MAX_JSON_BYTES`]; the safetensors header must agree with the file's size and
//! hold at most [`MAX_VALUES`] values; every dimension of the config is checked against the
//! tensor shapes before the model is built; every value must be finite.

mod files;
mod layout;
mod strict;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use smoe_nn::Float;

pub use files::{MAX_HEADER_BYTES, MAX_JSON_BYTES, MAX_VALUES};

use crate::{Model, ModelConfig, ModelError, Result, SoftMoe, SparseMoe, build_model};

/// The JSON written beside the tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointMeta {
    /// Always `"smoe-checkpoint"`.
    pub format: String,
    /// Format version (2: the model config is tagged, d and the seed stand beside it).
    pub version: u32,
    /// `"f32"` or `"f64"`: the dtype of every tensor.
    pub dtype: String,
    /// Input width d.
    pub d: usize,
    /// The seed of the initial weights and of the routing noise.
    pub seed: u64,
    /// The model config.
    pub model: ModelConfig,
}

/// The checkpoint format version this code writes and reads.
pub const VERSION: u32 = 2;

/// The `format` field of every checkpoint's JSON config.
pub const FORMAT: &str = "smoe-checkpoint";

/// Where the JSON config of the checkpoint at `path` lives: same name, `.json` extension.
pub fn config_path(path: &Path) -> PathBuf {
    path.with_extension("json")
}

fn err(path: &Path, reason: impl ToString) -> ModelError {
    ModelError::Checkpoint {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Writes `model` to `path` (safetensors) and its config to [`config_path`]`(path)`. Both
/// files are written to temporary names in their folder and synced first, then renamed into
/// place, so a failure or crash never leaves half a file (and a failed write leaves no
/// temporary file).
///
/// # Errors
/// [`ModelError::Checkpoint`] if a file cannot be written, or if `path` is its own config
/// path (a `.json` name: the config would overwrite the tensors).
pub fn save<F: Float, M: Model<F> + ?Sized>(model: &M, path: &Path) -> Result<()> {
    let cpath = config_path(path);
    if cpath == path {
        return Err(err(
            path,
            "a checkpoint cannot be named *.json: its JSON config would overwrite the tensors",
        ));
    }
    let dtype = dtype_of::<F>();
    let meta = CheckpointMeta {
        format: FORMAT.into(),
        version: VERSION,
        dtype: F::NAME.into(),
        d: model.input_dim(),
        seed: model.seed(),
        model: model.config(),
    };
    let json = serde_json::to_string_pretty(&meta).map_err(|e| err(path, e))?;
    let params = model.params();
    let bytes: Vec<Vec<u8>> = params
        .iter()
        .map(|p| {
            let mut b = Vec::with_capacity(p.value.len() * F::BYTES);
            p.value.iter().for_each(|v| v.write_le(&mut b));
            b
        })
        .collect();
    let views = params
        .iter()
        .zip(&bytes)
        .map(|(p, b)| Ok((p.name.clone(), TensorView::new(dtype, p.shape.clone(), b)?)))
        .collect::<std::result::Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(|e| err(path, e))?;
    let info = HashMap::from([("smoe_config".to_string(), json.clone())]);
    let data = safetensors::serialize(views, Some(info)).map_err(|e| err(path, e))?;
    files::write_all_atomic(&[(path, &data), (&cpath, json.as_bytes())])
}

fn dtype_of<F: Float>() -> Dtype {
    if F::BYTES == 8 {
        Dtype::F64
    } else {
        Dtype::F32
    }
}

/// Reads the checkpoint at `path` (and its JSON config) into a model of float type `F`.
/// A checkpoint of the other float type is converted (every tensor must have the dtype
/// its config declares).
///
/// # Errors
/// [`ModelError::Checkpoint`], [`ModelError::CheckpointField`],
/// [`ModelError::CheckpointTooLarge`] or [`ModelError::CheckpointFileSize`] for an
/// unreadable, incomplete, oversized or malformed file; [`ModelError::MissingTensor`],
/// [`ModelError::TensorShape`], [`ModelError::TensorDtype`] or
/// [`ModelError::UnexpectedTensor`], naming the tensor, when the tensors disagree with the
/// config; [`ModelError::NonFiniteParam`] for a NaN or infinite value; config errors as
/// [`ModelConfig::validate`]. Never a panic, and nothing is allocated before the sizes are
/// checked.
pub fn load<F: Float>(path: &Path) -> Result<Box<dyn Model<F>>> {
    let (meta, bytes) = read_checked(path)?;
    let mut model = build_model::<F>(&meta.model, meta.d, meta.seed)?;
    fill(model.as_mut(), path, &bytes)?;
    Ok(model)
}

/// Reads and checks the JSON config beside the checkpoint at `path` and the tensor file:
/// the config strictly and valid for its d, the tensor file's size against its header, and
/// every tensor the config implies against the header. Returns the config and the tensor
/// file's bytes; a model built from this config is exactly as large as the file.
fn read_checked(path: &Path) -> Result<(CheckpointMeta, Vec<u8>)> {
    let cpath = config_path(path);
    if cpath == path {
        return Err(err(
            path,
            "a checkpoint's tensors cannot be a .json file (that name is its config's)",
        ));
    }
    let json = files::read_capped(&cpath, MAX_JSON_BYTES, "the JSON config's size in bytes")?;
    let meta = strict::parse_meta(&cpath, &json)?;
    meta.model.validate(meta.d)?;
    let bytes = files::read_tensors(path)?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| err(path, e))?;
    layout::check_layout(&meta, &st, path)?;
    Ok((meta, bytes))
}

/// Copies the tensors of the safetensors `bytes` into `model`'s parameters, checking that
/// names and shapes match exactly and that every value is finite.
fn fill<F: Float, M: Model<F> + ?Sized>(model: &mut M, path: &Path, bytes: &[u8]) -> Result<()> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| err(path, e))?;
    let p = path.display().to_string();
    let mut expected = Vec::new();
    for param in model.params_mut() {
        let t = st
            .tensor(&param.name)
            .map_err(|_| ModelError::MissingTensor {
                path: p.clone(),
                name: param.name.clone(),
            })?;
        if t.shape() != param.shape.as_slice() {
            return Err(ModelError::TensorShape {
                path: p.clone(),
                name: param.name.clone(),
                expected: param.shape.clone(),
                got: t.shape().to_vec(),
            });
        }
        let bad = match t.dtype() {
            Dtype::F32 => read_into::<F, f32>(t.data(), param.value),
            Dtype::F64 => read_into::<F, f64>(t.data(), param.value),
            other => {
                return Err(ModelError::TensorDtype {
                    path: p.clone(),
                    name: param.name.clone(),
                    dtype: format!("{other:?}"),
                    expected: "F32 or F64".into(),
                });
            }
        };
        if let Some((index, value)) = bad {
            return Err(ModelError::NonFiniteParam {
                path: p,
                name: param.name,
                index,
                value,
            });
        }
        expected.push(param.name);
    }
    if let Some(extra) = st
        .names()
        .into_iter()
        .find(|n| !expected.iter().any(|e| e == n))
    {
        return Err(ModelError::UnexpectedTensor {
            path: p,
            name: extra.to_string(),
        });
    }
    // a checkpoint holds a trained model: every training-progress schedule (a scheduled
    // temperature) is at its end, as it was for the run's final evaluation
    model.on_progress(&smoe_nn::Progress::at(1, 1, 1));
    Ok(())
}

/// Converts `data` (values of type `S`, little-endian) into `out`; returns the first value
/// that is not finite in `F` (NaN, infinite, or too large for `F`) with its index.
fn read_into<F: Float, S: Float>(data: &[u8], out: &mut [F]) -> Option<(usize, f64)> {
    for (i, (o, chunk)) in out.iter_mut().zip(data.chunks_exact(S::BYTES)).enumerate() {
        let v = S::read_le(chunk);
        // f32 -> f64 -> f32 is exact, so a same-type round trip is bit-exact
        *o = F::from_f64c(v.to_f64c());
        if !o.is_finite() {
            return Some((i, o.to_f64c()));
        }
    }
    None
}

impl<F: Float> SparseMoe<F> {
    /// Saves to `path` (see [`save`]).
    ///
    /// # Errors
    /// As [`save`].
    pub fn save(&self, path: &Path) -> Result<()> {
        save(self, path)
    }

    /// Loads a sparse model from `path` (see [`load`]).
    ///
    /// # Errors
    /// As [`load`]; [`ModelError::Checkpoint`] if the checkpoint holds another kind of model.
    pub fn load(path: &Path) -> Result<Self> {
        let (meta, bytes) = read_checked(path)?;
        let ModelConfig::Sparse(cfg) = &meta.model else {
            return Err(err(
                path,
                format!("holds a {} model, not a sparse one", meta.model.kind()),
            ));
        };
        let mut model = SparseMoe::<F>::new(cfg, meta.d, meta.seed)?;
        fill(&mut model, path, &bytes)?;
        Ok(model)
    }
}

impl<F: Float> SoftMoe<F> {
    /// Saves to `path` (see [`save`]).
    ///
    /// # Errors
    /// As [`save`].
    pub fn save(&self, path: &Path) -> Result<()> {
        save(self, path)
    }

    /// Loads a soft model from `path` (see [`load`]).
    ///
    /// # Errors
    /// As [`load`]; [`ModelError::Checkpoint`] if the checkpoint holds another kind of model.
    pub fn load(path: &Path) -> Result<Self> {
        let (meta, bytes) = read_checked(path)?;
        let ModelConfig::Soft(cfg) = &meta.model else {
            return Err(err(
                path,
                format!("holds a {} model, not a soft one", meta.model.kind()),
            ));
        };
        let mut model = SoftMoe::<F>::new(cfg, meta.d, meta.seed)?;
        fill(&mut model, path, &bytes)?;
        Ok(model)
    }
}
