//! `smoe inspect`: evaluates a checkpoint of any model kind in f64 on given data and writes
//! everything another implementation needs to check smoe against on the same weights.
//!
//! The objective is `total = data + alpha · balance`, with `data` the mean loss of `--loss`:
//! `logistic` (default) `(1/n) Σ_i log(1 + exp(−y_i f(x_i)))` for labels ±1, or `squared`
//! `(1/n) Σ_i (f(x_i) − y_i)² / 2` for real targets (smoe's `Squared` loss); and `balance`
//! the Switch load-balancing loss *without* its coefficient, `T Σ_j frac_j P_j`
//! ([`smoe_train::aux::BALANCE_CONVENTION`]), for top-k models only (a soft model has no
//! top-k routing: its balance is 0 and `--alpha` must be 0). The forward pass uses
//! evaluation semantics: no routing noise, so it is deterministic.
//!
//! Files written to `--out` (all of them only once everything has been computed, so bad input
//! writes nothing):
//!
//! | file                 | content                                                          |
//! |----------------------|------------------------------------------------------------------|
//! | `f.npy`              | f64 `[n]`, the model output `f(x)`                               |
//! | `loss.json`          | `total`, `loss` (the kind), `data`, the same value under the kind's name (`logistic` or `squared`), `balance`, `alpha`, the formula, the balance convention, `model` (kind), `n`, `d`, `k`, `T`; top-k: per-expert `counts`, `dropped`; soft: `tokens`, `slots` |
//! | `grads.safetensors`  | F64 `d total / d θ` for every tensor, the checkpoint's names and shapes (zeros for experts that got no rows) |
//!
//! and the routing diagnostics of the model's kind. Top-k:
//!
//! | file                 | content                                                          |
//! |----------------------|------------------------------------------------------------------|
//! | `router_logits.npy`  | f64 `[n, T]`, the router logits `z`                              |
//! | `topk_idx.npy`       | i64 `[n, k]`, selected experts per row, descending logit, ties lower index first |
//! | `topk_w.npy`         | f64 `[n, k]`, their gate weights                                 |
//!
//! Soft (`m` tokens, `n_e·p` slots, slot `c = j·p + s`):
//!
//! | file                 | content                                                          |
//! |----------------------|------------------------------------------------------------------|
//! | `soft_logits.npy`    | f64 `[n, m, n_e·p]`, the logits `X Φ`                           |
//! | `dispatch.npy`       | f64 `[n, m, n_e·p]`, D: softmax over tokens (axis 1 sums to 1)   |
//! | `combine.npy`        | f64 `[n, m, n_e·p]`, C: softmax over slots (axis 2 sums to 1)    |
//! | `slot_inputs.npy`    | f64 `[n, n_e·p, d_tok]`, the slot inputs `Dᵀ X`                  |
//! | `column_sums.npy`    | f64 `[n, n_e]`, `Σ_i Σ_s C[i, j·p+s]` (Algorithm 1's C_sum)      |

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use ndarray::{Array1, Array2, Array3, ArrayView2};
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};
use smoe_model::{AuxGrad, Model, ModelOutput, checkpoint};
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
    /// Targets, .npy of floats, integers or bool, 1-D, one per row of --x: labels in
    /// {-1, +1} for the logistic loss, finite reals for the squared loss.
    #[arg(long, value_name = "FILE")]
    pub y: PathBuf,
    /// Output folder (created).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Coefficient of the load-balancing loss added to the mean loss (top-k models only).
    #[arg(long, default_value_t = 0.0)]
    pub alpha: f64,
    /// The data loss: `logistic` (labels ±1) or `squared` (real targets).
    #[arg(long, value_enum, default_value_t = InspectLoss::Logistic)]
    pub loss: InspectLoss,
}

/// The data loss of `smoe inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum InspectLoss {
    /// Mean `log(1 + exp(−y f))`, labels ±1.
    Logistic,
    /// Mean `(f − y)² / 2`, real targets.
    Squared,
}

impl InspectLoss {
    /// Its name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            InspectLoss::Logistic => "logistic",
            InspectLoss::Squared => "squared",
        }
    }

    /// The mean loss over the rows and its gradient `dL/df` (already divided by n).
    pub fn value_and_grad(self, f: &[f64], y: &[f64]) -> (f64, Vec<f64>) {
        match self {
            InspectLoss::Logistic => logistic(f, y),
            InspectLoss::Squared => {
                let n = f.len().max(1) as f64;
                let mut total = 0.0;
                let df = f
                    .iter()
                    .zip(y)
                    .map(|(&f, &y)| {
                        let r = f - y;
                        total += 0.5 * r * r;
                        r / n
                    })
                    .collect();
                (total / n, df)
            }
        }
    }

    /// The formula written into `loss.json`.
    pub fn formula(self) -> &'static str {
        match self {
            InspectLoss::Logistic => LOSS_FORMULA,
            InspectLoss::Squared => SQUARED_FORMULA,
        }
    }
}

/// How the terms of [`LossParts`] combine for the logistic loss, written into `loss.json`.
pub const LOSS_FORMULA: &str = "total = logistic + alpha * balance; logistic = mean_i log(1 + exp(-y_i f_i)); balance = T * sum_j frac_j * P_j (the balance convention with alpha = 1)";

/// How the terms of [`LossParts`] combine for the squared loss.
pub const SQUARED_FORMULA: &str = "total = squared + alpha * balance; squared = mean_i (f_i - y_i)^2 / 2; balance = T * sum_j frac_j * P_j (the balance convention with alpha = 1)";

/// The objective of `smoe inspect` and its terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossParts {
    /// `data + alpha · balance`.
    pub total: f64,
    /// Which data loss.
    pub loss: InspectLoss,
    /// Mean data loss over the rows.
    pub data: f64,
    /// Load-balancing loss without its coefficient: `T Σ_j frac_j P_j` (0 for a soft model).
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
    check_data_for(model_d, x, y, InspectLoss::Logistic)
}

/// [`check_data`] for the targets of `loss`: labels ±1 (logistic) or finite reals (squared).
///
/// # Errors
/// As [`check_data`]; a non-finite target for the squared loss.
pub fn check_data_for(
    model_d: usize,
    x: ArrayView2<'_, f64>,
    y: &[f64],
    loss: InspectLoss,
) -> Result<()> {
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
    match loss {
        InspectLoss::Logistic => {
            if let Some((i, v)) = first_bad_label(y) {
                bail!("label y[{i}] = {v} is not -1 or +1 (labels must be exactly -1 or +1)");
            }
        }
        InspectLoss::Squared => {
            if let Some((i, v)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                bail!("target y[{i}] = {v} is not finite (targets must be finite)");
            }
        }
    }
    Ok(())
}

/// The objective on a forward output, with `dL/df [n]` and, for a top-k model, the extra
/// `dL/dz [n, T]` of the balance term (already multiplied by `alpha`).
fn objective(
    out: &ModelOutput<f64>,
    y: &[f64],
    alpha: f64,
    loss: InspectLoss,
) -> Result<(LossParts, Vec<f64>, Option<Array2<f64>>)> {
    let f = out
        .f
        .as_slice()
        .map_or_else(|| out.f.to_vec(), <[f64]>::to_vec);
    let (data, df) = loss.value_and_grad(&f, y);
    let (bal, dz) = match out.top_k() {
        Some(top) => {
            let (bal, mut dz) = balance(top.logits.view(), &top.routing.idx, 1.0);
            dz.mapv_inplace(|g| alpha * g);
            (bal, Some(dz))
        }
        None => {
            ensure!(
                alpha == 0.0,
                "--alpha {alpha}: the balance loss is of top-k routing, which this model does not have (use --alpha 0)"
            );
            (0.0, None)
        }
    };
    let parts = LossParts {
        total: data + alpha * bal,
        loss,
        data,
        balance: bal,
        alpha,
    };
    Ok((parts, df, dz))
}

/// The objective of `smoe inspect` (no gradients) with the logistic loss: an evaluation
/// forward pass without noise, then `logistic + alpha · balance` exactly as [`inspect`]
/// computes it.
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
    loss_with(model, x, y, alpha, InspectLoss::Logistic)
}

/// [`loss`] with the data loss `kind`.
///
/// # Errors
/// As [`check_data_for`]; model errors; a non-zero `alpha` for a model without top-k routing.
pub fn loss_with(
    model: &dyn Model<f64>,
    x: ArrayView2<'_, f64>,
    y: &[f64],
    alpha: f64,
    kind: InspectLoss,
) -> Result<LossParts> {
    check_data_for(model.input_dim(), x, y, kind)?;
    let out = model.infer(x)?;
    Ok(objective(&out, y, alpha, kind)?.0)
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
    inspect_with(model, x, y, alpha, InspectLoss::Logistic)
}

/// [`inspect`] with the data loss `kind`.
///
/// # Errors
/// As [`loss_with`].
pub fn inspect_with(
    model: &mut dyn Model<f64>,
    x: ArrayView2<'_, f64>,
    y: &[f64],
    alpha: f64,
    kind: InspectLoss,
) -> Result<Inspection> {
    ensure!(alpha.is_finite(), "alpha = {alpha} is not finite");
    check_data_for(model.input_dim(), x, y, kind)?;
    let output = model.forward(x, false)?;
    let (loss, df, dz) = objective(&output, y, alpha, kind)?;
    model.zero_grad();
    model.backward(
        Array1::from(df).view(),
        AuxGrad {
            dweight: None,
            dlogits: dz.as_ref().map(|d| d.view()),
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
    read_targets(path, InspectLoss::Logistic)
}

/// Reads the targets `y [n]` of `loss`: labels ±1 (logistic) or finite reals (squared).
///
/// # Errors
/// As [`read_y`]; a non-finite target for the squared loss.
pub fn read_targets(path: &Path, loss: InspectLoss) -> Result<Array1<f64>> {
    let y = npy::read_array1_f64(path)?;
    match loss {
        InspectLoss::Logistic => {
            if let Some((i, v)) = first_bad_label(&y.to_vec()) {
                bail!(
                    "{}: label y[{i}] = {v} is not -1 or +1 (labels must be exactly -1 or +1)",
                    path.display()
                );
            }
        }
        InspectLoss::Squared => {
            if let Some((i, v)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                bail!(
                    "{}: target y[{i}] = {v} is not finite (targets must be finite)",
                    path.display()
                );
            }
        }
    }
    Ok(y)
}

/// The bytes of a version-1 `.npy` file of f64 `a [p, q, r]` (`<f8`, C order, header
/// padded to 64 bytes, as [`smoe_tasks::npy`] writes its 1-D and 2-D files).
pub fn encode_array3(a: &Array3<f64>) -> Vec<u8> {
    let (p, q, r) = a.dim();
    let mut header =
        format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({p}, {q}, {r}), }}");
    let unpadded = 6 + 4 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 8 * a.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    // a 3-D shape's header is far below 65 535 bytes
    out.extend_from_slice(
        &u16::try_from(header.len())
            .unwrap_or(u16::MAX)
            .to_le_bytes(),
    );
    out.extend_from_slice(header.as_bytes());
    for v in a.iter() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
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
        loss,
        data,
        balance,
        alpha,
    } = insp.loss;
    ensure!(
        total.is_finite(),
        "the loss is not finite ({} {data}, balance {balance})",
        loss.name()
    );
    if let Some(g) = insp
        .grads
        .iter()
        .find(|g| g.grad.iter().any(|v| !v.is_finite()))
    {
        bail!("the gradient of {} is not finite", g.name);
    }
    let out = &insp.output;
    let cfg = model.config();
    let mut loss_json = serde_json::json!({
        "total": total,
        "loss": loss.name(),
        "data": data,
        "balance": balance,
        "alpha": alpha,
        "formula": loss.formula(),
        "balance_convention": BALANCE_CONVENTION,
        "model": cfg.kind(),
        "n": out.f.len(),
        "d": model.input_dim(),
        "k": cfg.k(),
        "T": cfg.experts(),
        "dtype": "f64",
        "noise": "none (evaluation semantics)",
        "checkpoint": checkpoint.display().to_string(),
    });
    loss_json[loss.name()] = serde_json::json!(data);
    if let Some(top) = out.top_k() {
        loss_json["counts"] = serde_json::json!(top.counts);
        loss_json["dropped"] = serde_json::json!(top.dropped);
    }
    if let Some(soft) = cfg.as_soft() {
        loss_json["tokens"] = serde_json::json!(soft.tokens);
        loss_json["slots"] = serde_json::json!(soft.slots);
    }
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
        ("loss".to_string(), loss.formula().to_string()),
        ("alpha".to_string(), alpha.to_string()),
    ]);
    let grads = safetensors::serialize(views, Some(info)).context("cannot encode the gradients")?;
    let mut files = vec![
        ("f.npy", npy::encode_array1(&out.f)),
        ("loss.json", json),
        ("grads.safetensors", grads),
    ];
    if let Some(soft) = out.soft() {
        files.extend([
            ("soft_logits.npy", encode_array3(&soft.logits)),
            ("dispatch.npy", encode_array3(&soft.dispatch)),
            ("combine.npy", encode_array3(&soft.combine)),
            ("slot_inputs.npy", encode_array3(&soft.slot_inputs)),
            ("column_sums.npy", npy::encode_array2(&soft.column_sums())),
        ]);
        return Ok(files);
    }
    let top = out
        .top_k()
        .context("smoe inspect writes top-k or soft routing; this model has neither")?;
    let idx = top
        .routing
        .idx
        .iter()
        .map(|&j| i64::try_from(j))
        .collect::<std::result::Result<Vec<i64>, _>>()
        .context("an expert index does not fit in i64")?;
    let idx = Array2::from_shape_vec(top.routing.idx.dim(), idx)?;
    files.extend([
        ("router_logits.npy", npy::encode_array2(&top.logits)),
        ("topk_idx.npy", npy::encode_array2_i64(&idx)),
        ("topk_w.npy", npy::encode_array2(&top.routing.weight)),
    ]);
    Ok(files)
}

/// Runs `smoe inspect`: loads the checkpoint as f64, reads `x` and `y`, computes
/// [`inspect`], encodes every file, and only then creates `--out` and writes them.
///
/// # Errors
/// Unreadable checkpoint or data, wrong dtypes or shapes, n or d mismatch, a label that is not
/// ±1 (logistic) or a non-finite target (squared), a non-finite alpha, input, loss or
/// gradient, a non-zero alpha for a soft model, or a file that cannot be written.
pub fn run(args: &InspectArgs) -> Result<()> {
    ensure!(
        args.alpha.is_finite(),
        "--alpha {} is not finite",
        args.alpha
    );
    let mut model = checkpoint::load::<f64>(&args.checkpoint)
        .with_context(|| format!("cannot load checkpoint {}", args.checkpoint.display()))?;
    let x = read_x(&args.x)?;
    let y = read_targets(&args.y, args.loss)?;
    let y = y.to_vec();
    let insp =
        inspect_with(model.as_mut(), x.view(), &y, args.alpha, args.loss).with_context(|| {
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
