//! Every bound and complexity measure for one trained model on its training sample.
//!
//! [`bound_report`] routes the training inputs through the model, measures each expert on
//! the inputs it received, and evaluates the restated Zhao bound, D1 (learned pattern and
//! worst case) and the Kratsios VC shape with all their terms.

use ndarray::{Array1, Array2, ArrayView2, Axis, concatenate, s};
use serde::{Deserialize, Serialize};
use smoe_model::SparseMoe;
use smoe_nn::{Float, ParamRef, stream_rng};
use smoe_router::RouterConfig;

use crate::{
    ArrangementLogCount, BftInputs, D1Inputs, D1Report, ExpertStat, LayerWeights,
    NatarajanLogCount, Result, TheoryError, Validity, VcInputs, VcShapeBound, ZhaoBound,
    ZhaoInputs, arrangement_log_count, bft_complexity, d1_bound, golowich_complexity,
    golowich_scale, kratsios_vc_shape, linear_rademacher_closed_form,
    linear_rademacher_monte_carlo, linear_router_natarajan_dim, mlp_router_natarajan_shape,
    natarajan_log_count, neyshabur_complexity, zhao_restated,
};

/// Settings of [`bound_report`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundSettings {
    /// Failure probability δ of every bound.
    pub delta: f64,
    /// Ramp-loss margin γ: the loss is 1/γ-Lipschitz, so C = 1/γ.
    pub gamma: f64,
    /// Sign draws of the linear experts' Monte Carlo Rademacher estimate.
    pub mc_draws: usize,
    /// Seed of the Monte Carlo draws (stream `theory-mc`, one index per expert).
    pub seed: u64,
}

/// The router's combinatorial complexity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouterComplexity {
    /// `linear` or `mlp`.
    pub kind: String,
    /// d_N used in the bounds: (d+1)(T−1) for a linear router with bias (valid); the
    /// parameter-count form for an MLP router (shape only).
    pub d_n: f64,
    /// Whether `d_n` is a proved value or a shape.
    pub d_n_validity: Validity,
    /// The Natarajan log-count (exact ln C(T,k) and its upper form).
    pub natarajan: NatarajanLogCount,
    /// The hyperplane-arrangement log-count (linear routers only).
    pub arrangement: Option<ArrangementLogCount>,
}

/// One expert's complexity on the training inputs routed to it (scalars only, so records stay
/// small).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExpertComplexity {
    /// Expert index.
    pub expert: usize,
    /// Training inputs routed to it (m_j, counting every slot).
    pub load: usize,
    /// Golowich (Frobenius) bound on R̂_{S_j} (None without inputs).
    pub golowich: Option<f64>,
    /// Neyshabur bound on R̂_{S_j}.
    pub neyshabur: Option<f64>,
    /// Bartlett–Foster–Telgarsky bound on R̂_{S_j} (safe 4/n first term, margin γ).
    pub bft: Option<f64>,
    /// Linear experts: closed-form upper bound `B sqrt(Σ||x||²)/m_j` (bias folded).
    pub linear_upper: Option<f64>,
    /// Linear experts: Monte Carlo estimate of R̂_{S_j} with its confidence interval.
    pub linear_mc: Option<(f64, f64, f64)>,
    /// A_j: the weight-only scale with `R̂_{S'} <= A_j sqrt(Σ_{S'}||x||²)/|S'|` on any sample.
    pub scale: f64,
}

/// Every bound with every term, for one trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundReport {
    /// δ.
    pub delta: f64,
    /// γ (ramp margin).
    pub gamma: f64,
    /// C = 1/γ.
    pub lipschitz: f64,
    /// Training samples m.
    pub m: usize,
    /// Experts per input k.
    pub k: usize,
    /// Experts T.
    pub t: usize,
    /// Input width d.
    pub d: usize,
    /// The router's complexity.
    pub router: RouterComplexity,
    /// Which expert measure feeds the bounds: `golowich` (MLP experts) or `linear_upper`.
    pub expert_measure: String,
    /// Per-expert complexities.
    pub experts: Vec<ExpertComplexity>,
    /// R_m(H) for the restated Zhao bound: the largest expert's measure on the whole training
    /// sample (the class of one expert at sample size m).
    pub rademacher_m: f64,
    /// Restated Zhao et al. Theorem 1 (\[RESTATED\]).
    pub zhao: ZhaoBound,
    /// D1 at the learned pattern (heuristic) and over all patterns (valid).
    pub d1: D1Report,
    /// Kratsios et al. VC bound as a shape (constant 1).
    pub kratsios: VcShapeBound,
}

/// An expert's layers `[out, in]` and biases as f64, read from the model's parameters.
fn expert_layers<F: Float>(
    params: &[ParamRef<'_, F>],
    depth: usize,
    j: usize,
) -> Vec<(Array2<f64>, Array1<f64>)> {
    (0..=depth)
        .filter_map(|l| {
            let w = params
                .iter()
                .find(|p| p.name == format!("experts.{j}.layers.{l}.weight"))?;
            let b = params
                .iter()
                .find(|p| p.name == format!("experts.{j}.layers.{l}.bias"))?;
            let w = Array2::from_shape_vec(
                (w.shape[0], w.shape[1]),
                w.value.iter().map(|v| v.to_f64c()).collect(),
            )
            .ok()?;
            let b = Array1::from(b.value.iter().map(|v| v.to_f64c()).collect::<Vec<_>>());
            Some((w, b))
        })
        .collect()
}

/// Largest Lipschitz constant of the experts' activations (PReLU slopes can exceed 1).
fn activation_lipschitz<F: Float>(model: &SparseMoe<F>) -> f64 {
    model
        .params()
        .iter()
        .filter(|p| p.name.contains(".acts."))
        .flat_map(|p| p.value.iter().map(|v| v.to_f64c().abs()))
        .fold(1.0, f64::max)
}

/// `[x, 1]`: folds a bias into the weights of a linear expert.
fn with_ones(x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    concatenate(Axis(1), &[x, Array2::ones((x.nrows(), 1)).view()]).map_err(|_| {
        TheoryError::ShapeMismatch {
            op: "bound_report",
            expected: "rows".into(),
            got: "ragged".into(),
        }
    })
}

/// Evaluates every bound for `model` on its training inputs `x [m, d]`.
///
/// # Errors
/// [`TheoryError::EmptySample`] for m = 0, shape errors if `x` has not d columns, model errors
/// (as [`TheoryError::InvalidParameter`]) and the bounds' own input checks (δ ∈ (0, 1), γ > 0).
pub fn bound_report<F: Float>(
    model: &SparseMoe<F>,
    x: ArrayView2<'_, F>,
    settings: &BoundSettings,
) -> Result<BoundReport> {
    let cfg = model.config();
    let (d, t, k, m) = (cfg.d, cfg.experts, cfg.k, x.nrows());
    if m == 0 {
        return Err(TheoryError::EmptySample);
    }
    if x.ncols() != d {
        return Err(TheoryError::ShapeMismatch {
            op: "bound_report",
            expected: format!("{d} columns"),
            got: format!("{}", x.ncols()),
        });
    }
    if !(settings.gamma.is_finite() && settings.gamma > 0.0) {
        return Err(TheoryError::InvalidParameter {
            name: "gamma",
            value: settings.gamma,
            requirement: "finite and > 0",
        });
    }
    let lipschitz = 1.0 / settings.gamma;
    // routing of the training sample, in blocks
    let mut routed: Vec<Vec<usize>> = vec![Vec::new(); t];
    for start in (0..m).step_by(4096) {
        let end = (start + 4096).min(m);
        let out = model.infer(x.slice(s![start..end, ..])).map_err(|_| {
            TheoryError::InvalidParameter {
                name: "model output on the training sample",
                value: f64::NAN,
                requirement: "finite routing",
            }
        })?;
        for (r, row) in out.routing.idx.rows().into_iter().enumerate() {
            for &j in row {
                routed[j].push(start + r);
            }
        }
    }
    let x64 = x.mapv(|v| v.to_f64c());
    let x_aug = with_ones(x64.view())?;
    let sum_sq_aug: f64 = x_aug.iter().map(|v| v * v).sum();

    let router = match cfg.router {
        RouterConfig::Linear => {
            let d_n = linear_router_natarajan_dim(d, t, true)? as f64;
            RouterComplexity {
                kind: "linear".into(),
                d_n,
                d_n_validity: Validity::Valid,
                natarajan: natarajan_log_count(d_n, m, t, k)?,
                arrangement: Some(arrangement_log_count(d, t, m, true)?),
            }
        }
        RouterConfig::Mlp { hidden } => {
            let shape = mlp_router_natarajan_shape(&[d, hidden, t], true)?;
            RouterComplexity {
                kind: "mlp".into(),
                d_n: shape.value,
                d_n_validity: Validity::ShapeOnly,
                natarajan: natarajan_log_count(shape.value, m, t, k)?,
                arrangement: None,
            }
        }
    };

    let linear = cfg.expert.depth == 0;
    // the parameter list once (it names every tensor), not once per expert
    let params = model.params();
    let rho = activation_lipschitz(model);
    let mut experts = Vec::with_capacity(t);
    let mut stats = Vec::with_capacity(t);
    let mut rademacher_m: f64 = 0.0;
    for (j, rows) in routed.iter().enumerate() {
        let owned = expert_layers(&params, cfg.expert.depth, j);
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
            let full = linear_rademacher_closed_form(x_aug.view(), norm_b)?;
            rademacher_m = rademacher_m.max(full.upper);
        } else {
            rademacher_m = rademacher_m.max(golowich_complexity(&layers, x64.view())?.value);
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
                    settings.mc_draws.max(1),
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
    let d1 = d1_bound(&D1Inputs {
        k,
        t,
        m,
        delta: settings.delta,
        lipschitz,
        routing_log_count: router.natarajan.exact,
        experts: &stats,
        sum_sq_norms: sum_sq_aug,
    })?;
    let zhao = zhao_restated(&ZhaoInputs {
        lipschitz,
        rademacher: rademacher_m,
        k,
        t,
        d_n: router.d_n,
        m,
        delta: settings.delta,
    })?;
    let kratsios = kratsios_vc_shape(&VcInputs {
        experts: t,
        input_dim: d,
        expert_depth: cfg.expert.depth + 1,
        expert_width: cfg.expert.width.max(1),
        m,
        delta: settings.delta,
    })?;
    Ok(BoundReport {
        delta: settings.delta,
        gamma: settings.gamma,
        lipschitz,
        m,
        k,
        t,
        d,
        router,
        expert_measure: if linear { "linear_upper" } else { "golowich" }.into(),
        experts,
        rademacher_m,
        zhao,
        d1,
        kratsios,
    })
}
