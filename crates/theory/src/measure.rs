//! Measuring a model on its training sample: which inputs each expert received, each expert's
//! complexity on them, R_m(H) and Σ||x||² (the model-dependent half of [`crate::bound_report`]).

use std::collections::HashMap;

use ndarray::{Array1, Array2, ArrayView2, Axis, s};
use smoe_model::Model;
use smoe_nn::{Float, ParamRef, ShapeError, stream_rng};

use crate::error::{check_m, finite};
use crate::{
    BftInputs, BoundSettings, ExpertComplexity, ExpertStat, LayerWeights, Result, TheoryError,
    bft_complexity, golowich_complexity, golowich_scale, linear_rademacher_monte_carlo,
    neyshabur_complexity, sum_sq_row_norms,
};

/// What [`measure_experts`] finds.
pub(crate) struct Measured {
    /// Per-expert complexities, for the report.
    pub experts: Vec<ExpertComplexity>,
    /// Per-expert statistics, for D1.
    pub stats: Vec<ExpertStat>,
    /// R_m(H): the largest expert's measure on the whole sample.
    pub rademacher_m: f64,
    /// Σ_i ||(x_i, 1)||².
    pub sum_sq_aug: f64,
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

/// Largest Lipschitz constant of the experts' activations (PReLU slopes can exceed 1; 1 also
/// bounds the sigmoid's 1/4, though its bounds are labelled not covered in the report).
fn activation_lipschitz<F: Float>(params: &[ParamRef<'_, F>]) -> f64 {
    params
        .iter()
        .filter(|p| p.name.contains(".acts."))
        .flat_map(|p| p.value.iter().map(|v| v.to_f64c().abs()))
        .fold(1.0, f64::max)
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
    // R_m(H) per expert is its weight-only scale times the whole sample's input norm, which
    // is the same for every expert: computed once here, not once per expert (O(T m d)).
    let mf = check_m(x64.nrows())?;
    let sum_sq_x = sum_sq_row_norms(x64.view())?;
    let input_norm_m = (sum_sq_x + mf).sqrt();
    let linear = depth == 0;
    // the parameter list once (it names every tensor), not once per expert
    let params = model.params();
    let index = ParamIndex::new(&params);
    let rho = activation_lipschitz(&params);
    let mut experts = Vec::with_capacity(routed.len());
    let mut stats = Vec::with_capacity(routed.len());
    let mut rademacher_m: f64 = 0.0;
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
        let mut e = ExpertComplexity {
            expert: j,
            load: rows.len(),
            golowich: None,
            neyshabur: None,
            bft: None,
            linear_upper: None,
            linear_mc: None,
            scale: golowich_scale(&layers)?,
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
            e.golowich = Some(golowich_complexity(&layers, xj.view())?.value);
            e.neyshabur = Some(neyshabur_complexity(&layers, xj.view())?.value);
            e.bft = Some(
                bft_complexity(&BftInputs {
                    layers: &layers,
                    reference: None,
                    x: xj.view(),
                    margin: settings.gamma,
                    activation_lipschitz: rho,
                })?
                .value,
            );
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
        sum_sq_aug,
    })
}
