//! Measuring a model on its training sample: which inputs each expert received, each expert's
//! complexity on them, R_m(H) and Σ||x||² (the model-dependent half of [`crate::bound_report`]).

use std::collections::HashMap;

use ndarray::{Array1, Array2, ArrayView2, Axis, s};
use smoe_model::Model;
use smoe_nn::{Float, ParamRef, ShapeError, stream_rng};

use crate::error::{check_m, finite};
use crate::{
    BftInputs, BoundSettings, ExpertComplexity, ExpertStat, LayerWeights, Result, ScaleGroup,
    TheoryError, activation_lipschitz_product, bft_complexity, golowich_complexity, golowich_scale,
    linear_rademacher_monte_carlo, neyshabur_complexity, sum_sq_row_norms,
};

/// What [`measure_experts`] finds.
pub(crate) struct Measured {
    /// Per-expert complexities, for the report.
    pub experts: Vec<ExpertComplexity>,
    /// Per-expert statistics, for D1.
    pub stats: Vec<ExpertStat>,
    /// R_m(H): the largest expert's measure on the whole sample.
    pub rademacher_m: f64,
    /// The largest expert's BFT complexity on the whole sample (γ inside).
    pub rademacher_m_bft: f64,
    /// Σ_i ||(x_i, 1)||².
    pub sum_sq_aug: f64,
    /// max_i ||(x_i, 1)||.
    pub max_norm_aug: f64,
}

/// Rows of `x` routed to each of the `t` experts (one entry per slot), through `infer` in
/// blocks of 4096 rows.
///
/// # Errors
/// [`TheoryError::Model`] if the model fails; [`TheoryError::Unsupported`] if it does not route
/// top-k; [`TheoryError::Shape`] if its routing is not `[b, k]`; [`TheoryError::Model`] for an
/// expert index >= T.
pub(crate) fn routed_rows<F: Float>(
    model: &dyn Model<F>,
    x: ArrayView2<'_, F>,
    t: usize,
    k: usize,
) -> Result<Vec<Vec<usize>>> {
    let m = x.nrows();
    let mut routed: Vec<Vec<usize>> = vec![Vec::new(); t];
    for start in (0..m).step_by(4096) {
        let end = (start + 4096).min(m);
        let out = model
            .infer(x.slice(s![start..end, ..]))
            .map_err(|e| TheoryError::Model {
                message: e.to_string(),
            })?;
        let top = out.top_k().ok_or_else(|| TheoryError::Unsupported {
            what: "routing diagnostics other than top-k".into(),
        })?;
        let idx = &top.routing.idx;
        if idx.dim() != (end - start, k) {
            return Err(ShapeError::new(
                "bound_report",
                vec![end - start, k],
                idx.shape().to_vec(),
            )
            .into());
        }
        for (r, row) in idx.rows().into_iter().enumerate() {
            for &j in row {
                let slot = routed.get_mut(j).ok_or_else(|| TheoryError::Model {
                    message: format!("routed an input to expert {j} of {t}"),
                })?;
                slot.push(start + r);
            }
        }
    }
    Ok(routed)
}

/// The model's parameters by name, built once so that finding an expert's tensors costs
/// O(depth) per expert instead of a scan of every name (which made the report quadratic in T).
struct ParamIndex<'p, 'a, F> {
    by_name: HashMap<&'p str, &'p ParamRef<'a, F>>,
}

impl<'p, 'a, F: Float> ParamIndex<'p, 'a, F> {
    fn new(params: &'p [ParamRef<'a, F>]) -> Self {
        Self {
            by_name: params.iter().map(|p| (p.name.as_str(), p)).collect(),
        }
    }

    /// Expert `j`'s layers `[out, in]` and biases as f64 (`experts.{j}.layers.{l}.weight` and
    /// `.bias`, l = 0..=depth); stops at the first layer that is missing or malformed.
    fn expert_layers(&self, depth: usize, j: usize) -> Vec<(Array2<f64>, Array1<f64>)> {
        (0..=depth)
            .map_while(|l| {
                let w = self
                    .by_name
                    .get(format!("experts.{j}.layers.{l}.weight").as_str())?;
                let b = self
                    .by_name
                    .get(format!("experts.{j}.layers.{l}.bias").as_str())?;
                let (rows, cols) = match w.shape.as_slice() {
                    &[rows, cols] => (rows, cols),
                    _ => return None,
                };
                let w = Array2::from_shape_vec(
                    (rows, cols),
                    w.value.iter().map(|v| v.to_f64c()).collect(),
                )
                .ok()?;
                let b = Array1::from(b.value.iter().map(|v| v.to_f64c()).collect::<Vec<_>>());
                Some((w, b))
            })
            .collect()
    }
}

impl<'p, 'a, F: Float> ParamIndex<'p, 'a, F> {
    /// The tensor called `name` as f64, if the model has it.
    fn values(&self, name: &str) -> Option<(Vec<usize>, Vec<f64>)> {
        let p = self.by_name.get(name)?;
        Some((
            p.shape.clone(),
            p.value.iter().map(|v| v.to_f64c()).collect(),
        ))
    }

    /// The largest |slope| of expert `j`'s PReLU at each hidden layer l < `depth`
    /// (`experts.{j}.acts.{l}.weight`; 1 where the layer has no learnable slope, i.e. ReLU
    /// or the identity, both 1-Lipschitz; the sigmoid's 1/4 is also below 1, though its bounds
    /// are labelled not covered in the report).
    fn expert_slopes(&self, depth: usize, j: usize) -> Vec<f64> {
        (0..depth)
            .map(|l| {
                self.values(&format!("experts.{j}.acts.{l}.weight"))
                    .map_or(1.0, |(_, v)| v.iter().map(|s| s.abs()).fold(1.0, f64::max))
            })
            .collect()
    }

    /// The router logits' scales R_t with `n R̂_{S'}(logit t) <= R_t sqrt(Σ_{S'} ||(x,1)||²)`
    /// (THEORY.md §3.2, §3.4): for a linear router (`router.weight [T, d]`, `router.bias [T]`)
    /// the row norms ||(w_t, b_t)||; for an MLP router z_t = v_t·relu(U x + c) + b_t
    /// (`router.layers.{0,1}.{weight,bias}`) Golowich's two-layer scale
    /// (sqrt(4 ln 2) + 1) ||[[U c], [0 1]]||_F ||(v_t, b_t)|| (U is shared by the logits; the
    /// sum over t of per-logit suprema still bounds the joint one). `None` for any other
    /// router (the low-rank router's fixed embeddings are not a parameter).
    fn router_scales(&self, t: usize) -> Option<Vec<ScaleGroup>> {
        let row_norms = |w: &[f64], b: &[f64], cols: usize| -> Option<Vec<f64>> {
            if cols == 0 || w.len() != t * cols || b.len() != t {
                return None;
            }
            Some(
                w.chunks(cols)
                    .zip(b)
                    .map(|(row, bt)| (row.iter().map(|v| v * v).sum::<f64>() + bt * bt).sqrt())
                    .collect(),
            )
        };
        let norms = if let (Some((ws, w)), Some((_, b))) =
            (self.values("router.weight"), self.values("router.bias"))
        {
            row_norms(&w, &b, *ws.get(1)?)?
        } else {
            let (_, u) = self.values("router.layers.0.weight")?;
            let (_, c) = self.values("router.layers.0.bias")?;
            let (vs, v) = self.values("router.layers.1.weight")?;
            let (_, b) = self.values("router.layers.1.bias")?;
            let hidden_sq: f64 = u.iter().chain(&c).map(|x| x * x).sum::<f64>() + 1.0;
            let factor = (4.0 * std::f64::consts::LN_2).sqrt() + 1.0;
            row_norms(&v, &b, *vs.get(1)?)?
                .into_iter()
                .map(|r| factor * hidden_sq.sqrt() * r)
                .collect()
        };
        norms.iter().all(|n| n.is_finite()).then(|| {
            norms
                .into_iter()
                .map(|scale| ScaleGroup { count: 1, scale })
                .collect()
        })
    }
}

/// The router logits' scales of `model` for T = `t` (see `ParamIndex::router_scales`).
pub(crate) fn router_scales<F: Float>(model: &dyn Model<F>, t: usize) -> Option<Vec<ScaleGroup>> {
    let params = model.params();
    ParamIndex::new(&params).router_scales(t)
}

/// The BFT complexity of `layers` on `x` at margin γ and activation constant ρ.
fn bft_value<'a>(
    layers: &[LayerWeights<'a>],
    x: ArrayView2<'a, f64>,
    gamma: f64,
    rho: f64,
) -> Result<f64> {
    Ok(bft_complexity(&BftInputs {
        layers,
        reference: None,
        x,
        margin: gamma,
        activation_lipschitz: rho,
    })?
    .value)
}

/// `[x, 1]`: folds a bias into the weights of a linear expert.
fn with_ones(x: ArrayView2<'_, f64>) -> Array2<f64> {
    let (n, d) = x.dim();
    let mut a = Array2::ones((n, d + 1));
    a.slice_mut(s![.., ..d]).assign(&x);
    a
}

/// Measures every expert of `model` (with `depth` hidden layers) on the rows `routed` to it:
/// Golowich, Neyshabur and BFT bounds for every expert, and for linear experts (depth 0) the
/// closed form and a Monte Carlo estimate with the bias folded into the weights. D1 uses the
/// Golowich value (MLP experts) or the closed form (linear experts).
///
/// # Errors
/// [`TheoryError::Unsupported`] if an expert's tensors are missing; shape errors if they do not
/// chain; the measures' own checks.
pub(crate) fn measure_experts<F: Float>(
    model: &dyn Model<F>,
    x: ArrayView2<'_, F>,
    routed: &[Vec<usize>],
    depth: usize,
    settings: &BoundSettings,
) -> Result<Measured> {
    let x64 = x.mapv(|v| v.to_f64c());
    let x_aug = with_ones(x64.view());
    let sum_sq_aug: f64 = x_aug.iter().map(|v| v * v).sum();
    let max_norm_aug = x_aug
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|v| v * v).sum::<f64>())
        .fold(0.0, f64::max)
        .sqrt();
    // R_m(H) per expert is its weight-only scale times the whole sample's input norm, which
    // is the same for every expert: computed once here, not once per expert (O(T m d)).
    let mf = check_m(x64.nrows())?;
    let sum_sq_x = sum_sq_row_norms(x64.view())?;
    let input_norm_m = (sum_sq_x + mf).sqrt();
    let linear = depth == 0;
    // the parameter list once (it names every tensor), not once per expert
    let params = model.params();
    let index = ParamIndex::new(&params);
    let mut experts = Vec::with_capacity(routed.len());
    let mut stats = Vec::with_capacity(routed.len());
    let mut rademacher_m: f64 = 0.0;
    let mut rademacher_m_bft: f64 = 0.0;
    for (j, rows) in routed.iter().enumerate() {
        let owned = index.expert_layers(depth, j);
        if owned.len() != depth + 1 {
            return Err(TheoryError::Unsupported {
                what: format!(
                    "expert {j} without parameters experts.{j}.layers.{{0..={depth}}}.weight/bias"
                ),
            });
        }
        let d_in = owned[0].0.ncols();
        if d_in != x64.ncols() {
            let out = owned[0].0.nrows();
            return Err(
                ShapeError::new("bound_report", vec![out, x64.ncols()], vec![out, d_in]).into(),
            );
        }
        let layers: Vec<LayerWeights<'_>> = owned
            .iter()
            .map(|(w, b)| LayerWeights::new(w.view(), b.view()))
            .collect();
        // PReLU slopes above 1 (THEORY.md §3.4): Golowich and Neyshabur are proved for
        // 1-Lipschitz activations, so they are multiplied by Π_l max(1, |slope_l|); BFT takes
        // the expert's largest slope as ρ for every hidden layer (Π ρ_i <= that to the L-1).
        let slopes = index.expert_slopes(depth, j);
        let lip = activation_lipschitz_product(&slopes)?;
        let rho = slopes.iter().copied().fold(1.0, f64::max);
        let bft = |xs| bft_value(&layers, xs, settings.gamma, rho);
        rademacher_m_bft = rademacher_m_bft.max(bft(x64.view())?);
        let mut e = ExpertComplexity {
            expert: j,
            load: rows.len(),
            golowich: None,
            neyshabur: None,
            bft: None,
            linear_upper: None,
            linear_mc: None,
            scale: finite("complexity scale", lip * golowich_scale(&layers)?)?,
        };
        let norm_b = if linear {
            let (w, b) = &owned[0];
            (w.iter().map(|v| v * v).sum::<f64>() + b.iter().map(|v| v * v).sum::<f64>()).sqrt()
        } else {
            0.0
        };
        if linear {
            e.scale = norm_b;
            // linear_rademacher_closed_form(x_aug, B).upper on the whole sample
            let full = finite("complexity", norm_b * sum_sq_aug.sqrt() / mf)?;
            rademacher_m = rademacher_m.max(full);
        } else {
            // golowich_complexity(layers, x).value on the whole sample (biases folded)
            let full = finite("complexity", e.scale * input_norm_m / mf)?;
            rademacher_m = rademacher_m.max(full);
        }
        if !rows.is_empty() {
            let xj = x64.select(Axis(0), rows);
            e.golowich = Some(lip * golowich_complexity(&layers, xj.view())?.value);
            e.neyshabur = Some(lip * neyshabur_complexity(&layers, xj.view())?.value);
            e.bft = Some(bft_value(&layers, xj.view(), settings.gamma, rho)?);
            if linear {
                let xa = x_aug.select(Axis(0), rows);
                let mut rng = stream_rng(settings.seed, "theory-mc", j as u64);
                let mc = linear_rademacher_monte_carlo(
                    xa.view(),
                    norm_b,
                    settings.mc_draws,
                    0.05,
                    &mut rng,
                )?;
                e.linear_upper = Some(mc.closed_form.upper);
                e.linear_mc = Some((mc.estimate, mc.ci_low, mc.ci_high));
            }
        }
        let measure = if linear { e.linear_upper } else { e.golowich };
        stats.push(ExpertStat {
            load: rows.len(),
            complexity: measure.unwrap_or(0.0),
            scale: e.scale,
            floor: 0.0,
        });
        experts.push(e);
    }
    Ok(Measured {
        experts,
        stats,
        rademacher_m,
        rademacher_m_bft,
        sum_sq_aug,
        max_norm_aug,
    })
}
