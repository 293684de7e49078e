//! `smoe inspect`: evaluates a checkpoint in f64 on given data and writes everything another
//! implementation needs to check smoe against on the same weights.
//!
//! The objective is `total = logistic + alpha · balance`, with `logistic` the mean logistic loss
//! `(1/n) Σ_i log(1 + exp(−y_i f(x_i)))` and `balance` the Switch load-balancing loss
//! *without* its coefficient, `T Σ_j frac_j P_j` ([`smoe_train::aux::BALANCE_CONVENTION`]).
//! The forward pass uses evaluation semantics: no routing noise, so it is deterministic.
//!
//! Files written to `--out` (all of them only once everything has been computed, so bad input
//! writes nothing):
//!
//! | file                 | content                                                          |
//! |----------------------|------------------------------------------------------------------|
//! | `f.npy`              | f64 `[n]`, the model output `f(x)`                               |
//! | `loss.json`          | `total`, `logistic`, `balance`, `alpha`, the formula, the balance convention, `n`, `d`, `k`, `T`, per-expert `counts`, `dropped` |
//! | `grads.safetensors`  | F64 `d total / d θ` for every tensor, the checkpoint's names and shapes (zeros for experts that got no rows) |
//! | `router_logits.npy`  | f64 `[n, T]`, the router logits `z`                              |
//! | `topk_idx.npy`       | i64 `[n, k]`, selected experts per row, descending logit, ties lower index first |
//! | `topk_w.npy`         | f64 `[n, k]`, their gate weights                                 |

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use ndarray::{Array1, Array2, ArrayView2};
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};
use smoe_model::{AuxGrad, Model, ModelOutput, TopKRouting, checkpoint};
use smoe_tasks::npy;
use smoe_train::aux::{BALANCE_CONVENTION, balance};
use smoe_train::loss::logistic;

/// Arguments of `smoe inspect`.
#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// Checkpoint (.safetensors, with its .json config beside it).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: PathBuf,
    /// Inputs, .npy [n, d] of floats, integers or bool (read as f64; C or Fortran order).
    #[arg(long, value_name = "FILE")]
    pub x: PathBuf,
    /// Labels in {-1, +1}, .npy of floats, integers or bool: 1-D, one label per row of --x.
    #[arg(long, value_name = "FILE")]
    pub y: PathBuf,
    /// Output folder (created).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Coefficient of the load-balancing loss added to the mean logistic loss.
    #[arg(long, default_value_t = 0.0)]
    pub alpha: f64,
}

/// How the terms of [`LossParts`] combine, written into `loss.json`.
pub const LOSS_FORMULA: &str = "total = logistic + alpha * balance; logistic = mean_i log(1 + exp(-y_i f_i)); balance = T * sum_j frac_j * P_j (the balance convention with alpha = 1)";

/// The objective of `smoe inspect` and its terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossParts {
    /// `logistic + alpha · balance`.
    pub total: f64,
    /// Mean logistic loss over the rows.
    pub logistic: f64,
    /// Load-balancing loss without its coefficient: `T Σ_j frac_j P_j`.
    pub balance: f64,
    /// Coefficient of the balance loss.
    pub alpha: f64,
}

/// The gradient of the objective with respect to one parameter tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorGrad {
    /// Checkpoint name, e.g. `experts.3.layers.0.weight`.
    pub name: String,
    /// Shape (row-major), as in the checkpoint.
    pub shape: Vec<usize>,
    /// `d total / d θ`, row-major.
    pub grad: Vec<f64>,
}

/// Everything `smoe inspect` computes.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    /// The forward pass: outputs, logits, routing, per-expert counts.
    pub output: ModelOutput<f64>,
    /// The objective and its terms.
    pub loss: LossParts,
    /// `d total / d θ` for every parameter tensor, in [`Model::params`] order.
    pub grads: Vec<TensorGrad>,
}

/// The first label that is not exactly −1 or +1, as `(index, value)`.
pub fn first_bad_label(y: &[f64]) -> Option<(usize, f64)> {
    y.iter()
        .copied()
        .enumerate()
        .find(|&(_, v)| v != 1.0 && v != -1.0)
}

/// Checks that `x [n, d]` and `y [n]` fit the model config: `n ≥ 1`, the same n, the model's
/// d, every input finite, labels exactly −1 or +1.
///
/// # Errors
/// One message per failure, naming the first non-finite input's row and column or the first
/// bad label's index.
pub fn check_data(model_d: usize, x: ArrayView2<'_, f64>, y: &[f64]) -> Result<()> {
    let (n, d) = x.dim();
    ensure!(n > 0, "x has no rows (n = 0)");
    ensure!(
        d == model_d,
        "x has {d} columns but the checkpoint's model expects d = {model_d}"
    );
    ensure!(y.len() == n, "x has {n} rows but y has {} labels", y.len());
    if let Some(((row, col), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        bail!(
            "input x has a non-finite value {v} at row {row}, column {col} (inputs must be finite)"
        );
    }
    if let Some((i, v)) = first_bad_label(y) {
        bail!("label y[{i}] = {v} is not -1 or +1 (labels must be exactly -1 or +1)");
    }
    Ok(())
}

/// The objective on a forward output, with `dL/df [n]` and the extra `dL/dz [n, T]` of the
/// balance term (already multiplied by `alpha`).
fn objective(
    out: &ModelOutput<f64>,
    y: &[f64],
    alpha: f64,
) -> Result<(LossParts, Vec<f64>, Array2<f64>)> {
    let top = top_k(out)?;
    let f = out
        .f
        .as_slice()
        .map_or_else(|| out.f.to_vec(), <[f64]>::to_vec);
    let (logistic, df) = logistic(&f, y);
    let (bal, mut dz) = balance(top.logits.view(), &top.routing.idx, 1.0);
    dz.mapv_inplace(|g| alpha * g);
    let parts = LossParts {
        total: logistic + alpha * bal,
        logistic,
        balance: bal,
        alpha,
    };
    Ok((parts, df, dz))
}

/// The top-k routing of an output (inspect writes top-k files).
fn top_k(out: &ModelOutput<f64>) -> Result<&TopKRouting<f64>> {
    out.top_k()
        .context("smoe inspect needs a model with top-k routing")
}

/// The objective of `smoe inspect` (no gradients): an evaluation forward pass without noise,
/// then `logistic + alpha · balance` exactly as [`inspect`] computes it.
///
/// # Shapes
/// `x [n, d]`, `y [n]`.
///
/// # Errors
/// As [`check_data`]; model errors (e.g. a non-finite input).
pub fn loss(
    model: &dyn Model<f64>,
    x: ArrayView2<'_, f64>,
    y: &[f64],
    alpha: f64,
) -> Result<LossParts> {
    check_data(model.input_dim(), x, y)?;
    let out = model.infer(x)?;
    Ok(objective(&out, y, alpha)?.0)
}

/// Forward pass without noise, the objective, and its gradient for every parameter tensor
/// (the model's gradients are zeroed first and hold the result afterwards).
///
/// # Shapes
/// `x [n, d]`, `y [n]`.
///
/// # Errors
/// As [`check_data`]; model errors (e.g. a non-finite input).
pub fn inspect(
    model: &mut dyn Model<f64>,
    x: ArrayView2<'_, f64>,
    y: &[f64],
    alpha: f64,
) -> Result<Inspection> {
    ensure!(alpha.is_finite(), "alpha = {alpha} is not finite");
    check_data(model.input_dim(), x, y)?;
    let output = model.forward(x, false)?;
    let (loss, df, dz) = objective(&output, y, alpha)?;
    model.zero_grad();
    model.backward(
        Array1::from(df).view(),
        AuxGrad {
            dweight: None,
            dlogits: Some(dz.view()),
        },
    )?;
    let grads = model
        .params()
        .into_iter()
        .map(|p| TensorGrad {
            name: p.name,
            shape: p.shape,
            grad: p.grad.to_vec(),
        })
        .collect();
    Ok(Inspection {
        output,
        loss,
        grads,
    })
}

/// Reads the inputs `x [n, d]` as f64 with [`smoe_tasks::npy`]: any dtype it reads
/// (`f4 f8 i1..i8 u1..u8 b1`, C or Fortran order).
///
/// # Errors
/// Unreadable file, malformed file or unsupported dtype, not 2-D; every error names the file.
pub fn read_x(path: &Path) -> Result<Array2<f64>> {
    Ok(npy::read_array2_f64(path)?)
}

/// Reads the labels `y [n]` as f64 with [`smoe_tasks::npy`] (any dtype it reads: floats,
/// integers, bool) and checks that each is exactly −1 or +1.
///
/// # Errors
/// As [`read_x`] with a 1-D shape required, or a label that is not ±1 (naming the first).
pub fn read_y(path: &Path) -> Result<Array1<f64>> {
    let y = npy::read_array1_f64(path)?;
    if let Some((i, v)) = first_bad_label(&y.to_vec()) {
        bail!(
            "{}: label y[{i}] = {v} is not -1 or +1 (labels must be exactly -1 or +1)",
            path.display()
        );
    }
    Ok(y)
}

/// Encodes the output files of `smoe inspect` in memory, as `(file name, bytes)`.
///
/// # Errors
/// A non-finite loss or gradient (naming the tensor), or an encoding failure.
pub fn encode_outputs(
    insp: &Inspection,
    model: &dyn Model<f64>,
    checkpoint: &Path,
) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let LossParts {
        total,
        logistic,
        balance,
        alpha,
    } = insp.loss;
    ensure!(
        total.is_finite(),
        "the loss is not finite (logistic {logistic}, balance {balance})"
    );
    if let Some(g) = insp
        .grads
        .iter()
        .find(|g| g.grad.iter().any(|v| !v.is_finite()))
    {
        bail!("the gradient of {} is not finite", g.name);
    }
    let out = &insp.output;
    let top = top_k(out)?;
    let cfg = model.config();
    let loss_json = serde_json::json!({
        "total": total,
        "logistic": logistic,
        "balance": balance,
        "alpha": alpha,
        "formula": LOSS_FORMULA,
        "balance_convention": BALANCE_CONVENTION,
        "n": out.f.len(),
        "d": model.input_dim(),
        "k": cfg.k(),
        "T": cfg.experts(),
        "counts": top.counts,
        "dropped": top.dropped,
        "dtype": "f64",
        "noise": "none (evaluation semantics)",
        "checkpoint": checkpoint.display().to_string(),
    });
    let mut json = serde_json::to_vec_pretty(&loss_json)?;
    json.push(b'\n');

    let bytes: Vec<Vec<u8>> = insp
        .grads
        .iter()
        .map(|g| g.grad.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = insp
        .grads
        .iter()
        .zip(&bytes)
        .map(|(g, b)| {
            Ok((
                g.name.clone(),
                TensorView::new(Dtype::F64, g.shape.clone(), b)?,
            ))
        })
        .collect::<std::result::Result<Vec<_>, safetensors::SafeTensorError>>()
        .context("cannot build the gradient tensors")?;
    let info = HashMap::from([
        ("loss".to_string(), LOSS_FORMULA.to_string()),
        ("alpha".to_string(), alpha.to_string()),
    ]);
    let grads = safetensors::serialize(views, Some(info)).context("cannot encode the gradients")?;

    let idx = top
        .routing
        .idx
        .iter()
        .map(|&j| i64::try_from(j))
        .collect::<std::result::Result<Vec<i64>, _>>()
        .context("an expert index does not fit in i64")?;
    let idx = Array2::from_shape_vec(top.routing.idx.dim(), idx)?;
    Ok(vec![
        ("f.npy", npy::encode_array1(&out.f)),
        ("loss.json", json),
        ("grads.safetensors", grads),
        ("router_logits.npy", npy::encode_array2(&top.logits)),
        ("topk_idx.npy", npy::encode_array2_i64(&idx)),
        ("topk_w.npy", npy::encode_array2(&top.routing.weight)),
    ])
}

/// Runs `smoe inspect`: loads the checkpoint as f64, reads `x` and `y`, computes
/// [`inspect`], encodes every file, and only then creates `--out` and writes them.
///
/// # Errors
/// Unreadable checkpoint or data, wrong dtypes or shapes, n or d mismatch, a label that is not
/// ±1, a non-finite alpha, input, loss or gradient, or a file that cannot be written.
pub fn run(args: &InspectArgs) -> Result<()> {
    ensure!(
        args.alpha.is_finite(),
        "--alpha {} is not finite",
        args.alpha
    );
    let mut model = checkpoint::load::<f64>(&args.checkpoint)
        .with_context(|| format!("cannot load checkpoint {}", args.checkpoint.display()))?;
    let x = read_x(&args.x)?;
    let y = read_y(&args.y)?;
    let y = y.to_vec();
    let insp = inspect(model.as_mut(), x.view(), &y, args.alpha).with_context(|| {
        format!(
            "inspecting {} on x = {}, y = {}",
            args.checkpoint.display(),
            args.x.display(),
            args.y.display()
        )
    })?;
    let files = encode_outputs(&insp, model.as_ref(), &args.checkpoint)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    for (name, bytes) in files {
        let path = args.out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
