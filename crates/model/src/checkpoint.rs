//! Checkpoints: a safetensors file of every parameter plus a JSON config beside it.
//!
//! Tensor names and layouts follow PyTorch's `nn.Linear` (weight `[out, in]`), so the file
//! loads in Python unchanged: `router.weight [T, d]`, `router.bias [T]`,
//! `experts.{j}.layers.{l}.weight [out, in]`, `experts.{j}.layers.{l}.bias [out]` for
//! `l = 0..=depth` (the last is the output layer); PReLU slopes `experts.{j}.acts.{l}.weight [1]`;
//! an MLP router `router.layers.{0,1}.*`; the noisy gate `gate.noise.weight [T, d]`.
//! Values are stored in the model's float type (F32 or F64). The config goes to
//! `<name>.json` beside `<name>.safetensors` (and into the safetensors metadata).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use smoe_nn::Float;

use crate::{Model, ModelConfig, ModelError, Result, SparseMoe, build_model};

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

/// Writes `model` to `path` (safetensors) and its config to [`config_path`]`(path)`; each
/// file is written to a temporary name first and renamed, so a crash never leaves half a file.
///
/// # Errors
/// [`ModelError::Checkpoint`] if a file cannot be written.
pub fn save<F: Float, M: Model<F> + ?Sized>(model: &M, path: &Path) -> Result<()> {
    let dtype = dtype_of::<F>();
    let meta = CheckpointMeta {
        format: "smoe-checkpoint".into(),
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
    write_atomic(path, &data)?;
    write_atomic(&config_path(path), json.as_bytes())
}

fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, data).map_err(|e| err(path, e))?;
    std::fs::rename(&tmp, path).map_err(|e| err(path, e))
}

fn dtype_of<F: Float>() -> Dtype {
    if F::BYTES == 8 {
        Dtype::F64
    } else {
        Dtype::F32
    }
}

/// Reads the checkpoint at `path` (and its JSON config) into a model of float type `F`.
/// Tensors stored as the other float type are converted.
///
/// # Errors
/// [`ModelError::Checkpoint`] for an unreadable or malformed file;
/// [`ModelError::MissingTensor`], [`ModelError::TensorShape`], [`ModelError::TensorDtype`] or
/// [`ModelError::UnexpectedTensor`], naming the tensor, when the tensors disagree with the config;
/// config errors as [`ModelConfig::validate`].
pub fn load<F: Float>(path: &Path) -> Result<Box<dyn Model<F>>> {
    let (meta, bytes) = read_meta(path)?;
    let mut model = build_model::<F>(&meta.model, meta.d, meta.seed)?;
    fill(model.as_mut(), path, &bytes)?;
    Ok(model)
}

/// Reads the JSON config beside the checkpoint at `path` and the tensor file's bytes.
fn read_meta(path: &Path) -> Result<(CheckpointMeta, Vec<u8>)> {
    let cpath = config_path(path);
    let json = std::fs::read_to_string(&cpath).map_err(|e| err(&cpath, e))?;
    let meta: CheckpointMeta = serde_json::from_str(&json).map_err(|e| err(&cpath, e))?;
    if meta.format != "smoe-checkpoint" {
        return Err(err(
            &cpath,
            format!("format is {:?}, not smoe-checkpoint", meta.format),
        ));
    }
    if meta.version != VERSION {
        return Err(err(
            &cpath,
            format!(
                "format version {} (this smoe reads {VERSION})",
                meta.version
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| err(path, e))?;
    Ok((meta, bytes))
}

/// Copies the tensors of the safetensors `bytes` into `model`'s parameters, checking that
/// names, shapes and dtypes match exactly.
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
        match t.dtype() {
            Dtype::F32 => read_into::<F, f32>(t.data(), param.value),
            Dtype::F64 => read_into::<F, f64>(t.data(), param.value),
            other => {
                return Err(ModelError::TensorDtype {
                    path: p.clone(),
                    name: param.name.clone(),
                    dtype: format!("{other:?}"),
                });
            }
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
    Ok(())
}

fn read_into<F: Float, S: Float>(data: &[u8], out: &mut [F]) {
    for (o, chunk) in out.iter_mut().zip(data.chunks_exact(S::BYTES)) {
        let v = S::read_le(chunk);
        // f32 -> f64 -> f32 is exact, so a same-type round trip is bit-exact
        *o = F::from_f64c(v.to_f64c());
    }
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
        let (meta, bytes) = read_meta(path)?;
        let ModelConfig::Sparse(cfg) = &meta.model;
        let mut model = SparseMoe::<F>::new(cfg, meta.d, meta.seed)?;
        fill(&mut model, path, &bytes)?;
        Ok(model)
    }
}
