//! Every bound for one trained model on its training sample.
//!
//! [`bound_report`] routes the training inputs through the model, measures each expert on
//! the inputs it received, builds the [`BoundInputs`] and evaluates every bound of the
//! registry ([`crate::bounds`]) on them. [`BoundReport::scalars`] lists the report's named
//! numbers, the one place a summary table reads them from.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use smoe_model::Model;
use smoe_nn::{Float, ShapeError};

use crate::error::check_delta;
use crate::linear::check_draws;
use crate::measure::{measure_experts, routed_rows, router_scales};
use crate::{
    BoundInputs, BoundValue, ExpertGroup, Result, RouterComplexity, TheoryError, Validity,
};

/// Settings of [`bound_report`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundSettings {
    /// Failure probability δ of every bound.
    pub delta: f64,
    /// Ramp-loss margin γ: the loss is 1/γ-Lipschitz, so C = 1/γ.
    pub gamma: f64,
    /// Sign draws of the linear experts' Monte Carlo Rademacher estimate, 1 to
    /// [`crate::MAX_MC_DRAWS`].
    pub mc_draws: usize,
    /// Seed of the Monte Carlo draws (stream `theory-mc`, one index per expert).
    pub seed: u64,
    /// Nats paid for choosing γ from the data (ln of the size of the fixed geometric γ grid
    /// it was rounded to, THEORY.md §1.8 item 2); 0 for a γ fixed before seeing the data.
    /// The bounds add it to their confidence term's log(1/δ) (a union bound over the grid).
    /// Settings written before this field existed read 0.
    #[serde(default)]
    pub margin_log_count: f64,
}

impl BoundSettings {
    /// Checks the settings before any work: 0 < δ < 1, γ finite and > 0,
    /// 1 <= `mc_draws` <= [`crate::MAX_MC_DRAWS`], `margin_log_count` finite and >= 0.
    ///
    /// # Errors
    /// [`TheoryError::InvalidDelta`], [`TheoryError::InvalidParameter`] (γ, no draws, a
    /// negative or NaN margin log-count) or [`TheoryError::TooManyDraws`].
    pub fn validate(&self) -> Result<()> {
        check_delta(self.delta)?;
        if !(self.gamma.is_finite() && self.gamma > 0.0) {
            return Err(TheoryError::InvalidParameter {
                name: "gamma",
                value: self.gamma,
                requirement: "finite and > 0",
            });
        }
        if !(self.margin_log_count.is_finite() && self.margin_log_count >= 0.0) {
            return Err(TheoryError::InvalidParameter {
                name: "margin_log_count",
                value: self.margin_log_count,
                requirement: "finite and >= 0",
            });
        }
        if self.mc_draws == 0 {
            return Err(TheoryError::InvalidParameter {
                name: "mc_draws",
                value: 0.0,
                requirement: ">= 1",
            });
        }
        check_draws(self.mc_draws)
    }
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
    /// Linear experts: Monte Carlo estimate of R̂_{S_j} with its confidence interval
    /// (estimate, low, high).
    pub linear_mc: Option<(f64, f64, f64)>,
    /// A_j: the weight-only scale with `R̂_{S'} <= A_j sqrt(Σ_{S'}||x||²)/|S'|` on any sample.
    pub scale: f64,
}

impl ExpertComplexity {
    /// The expert's named numbers, without a prefix: `load`, `scale`, then those it has of
    /// `golowich`, `neyshabur`, `bft`, `linear_upper` and `linear_mc.{estimate, ci_low,
    /// ci_high}`.
    pub fn scalars(&self) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = vec![
            ("load".into(), self.load as f64),
            ("scale".into(), self.scale),
        ];
        for (name, v) in [
            ("golowich", self.golowich),
            ("neyshabur", self.neyshabur),
            ("bft", self.bft),
            ("linear_upper", self.linear_upper),
        ] {
            if let Some(v) = v {
                out.push((name.into(), v));
            }
        }
        if let Some((est, lo, hi)) = self.linear_mc {
            out.extend([
                ("linear_mc.estimate".into(), est),
                ("linear_mc.ci_low".into(), lo),
                ("linear_mc.ci_high".into(), hi),
            ]);
        }
        out
    }
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
    /// R̂_S(H) for `zhao_golowich`: the largest expert's measure on the whole training
    /// sample (the class of one expert at sample size m).
    pub rademacher_m: f64,
    /// R̂_S(ℓ_γ∘H) for `zhao`: the largest expert's BFT complexity on the whole sample.
    /// Records written before this field existed read 0.
    #[serde(default)]
    pub rademacher_m_bft: f64,
    /// Every bound of the registry ([`crate::bounds`]), in its order.
    pub bounds: Vec<BoundValue>,
}

impl BoundReport {
    /// The bound called `name` (`zhao`, `d1_learned`, `d1_worst`, `kratsios`, ...).
    pub fn get(&self, name: &str) -> Option<&BoundValue> {
        self.bounds.iter().find(|b| b.name == name)
    }

    /// The report's named numbers, each once, in this order:
    ///
    /// - `delta`, `gamma`, `lipschitz`, `m`, `k`, `t`, `d`;
    /// - `router.{name}` for every [`RouterComplexity::scalars`] (`router.d_n`,
    ///   `router.natarajan.exact`, `router.natarajan.upper`, ...);
    /// - `rademacher_m`, `rademacher_m_bft`;
    /// - `{bound}.total` and `{bound}.{term}` for every bound and term ([`BoundValue::scalars`]);
    /// - `experts.{j}.{name}` for every [`ExpertComplexity::scalars`].
    ///
    /// This is the list summaries and report tables read; a new bound's terms appear in it
    /// without further code.
    pub fn scalars(&self) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = vec![
            ("delta".into(), self.delta),
            ("gamma".into(), self.gamma),
            ("lipschitz".into(), self.lipschitz),
            ("m".into(), self.m as f64),
            ("k".into(), self.k as f64),
            ("t".into(), self.t as f64),
            ("d".into(), self.d as f64),
        ];
        out.extend(
            self.router
                .scalars()
                .into_iter()
                .map(|(n, v)| (format!("router.{n}"), v)),
        );
        out.push(("rademacher_m".into(), self.rademacher_m));
        out.push(("rademacher_m_bft".into(), self.rademacher_m_bft));
        out.extend(self.bounds.iter().flat_map(BoundValue::scalars));
        for e in &self.experts {
            out.extend(
                e.scalars()
                    .into_iter()
                    .map(|(n, v)| (format!("experts.{}.{n}", e.expert), v)),
            );
        }
        out
    }
}

/// Why the experts of `e` break the bounds' assumptions, if they do: every expert measure of
/// the report (Golowich, Neyshabur, BFT; the linear closed form and Monte Carlo at depth 0)
/// and the VC shape assume ReLU, PReLU or identity activations, which are positively
/// homogeneous with act(0) = 0, and an affine output layer. The sigmoid is 1/4-Lipschitz but
/// neither (σ(0) = 1/2), and an output activation makes a depth-0 expert non-linear, so for
/// such experts every valid or restated bound is labelled [`Validity::OutsideAssumptions`] instead of
/// silently used.
fn expert_caveat(e: &smoe_experts::ExpertConfig) -> Option<String> {
    use smoe_nn::ActivationKind;
    let hidden = e.depth > 0 && e.activation == ActivationKind::Sigmoid;
    let output = e.output_activation != ActivationKind::None;
    match (hidden, output) {
        (false, false) => None,
        _ => Some(format!(
            "experts with {}{}{}: the expert measures and the VC shape assume ReLU/PReLU/identity \
             activations (positively homogeneous, act(0) = 0) and an affine output; σ is \
             1/4-Lipschitz but σ(0) = 1/2 and it is not homogeneous",
            if hidden { "sigmoid hidden layers" } else { "" },
            if hidden && output { " and " } else { "" },
            if output {
                format!("output_activation = {:?}", e.output_activation).to_lowercase()
            } else {
                String::new()
            },
        )),
    }
}

/// Evaluates every bound for `model` on its training inputs `x [m, d]`.
///
/// Measures the model: routes `x` through [`Model::infer`] (its top-k routing), reads each
/// expert's layers from [`Model::params`] and the architecture from [`Model::config`]; then
/// builds [`BoundInputs`] (D1 with the exact Natarajan count, Σ||x||² and max ||x|| with the
/// bias folded, the gate's case from [`crate::gate_weights`], the router logits' scales, the
/// settings' `margin_log_count`, the VC shape at depth + 1 layers) and evaluates the
/// registry, whose bounds label themselves from the gate's case, d_N's validity and the
/// budget grid (see each bound). For a gate the proofs do not cover
/// ([`crate::gate_outside_proofs`]) or sigmoid experts (hidden layers or an output
/// activation: the proofs assume ReLU/identity activations) every valid, valid-A2 or restated
/// bound is relabelled [`Validity::OutsideAssumptions`] and every bound's note says why.
///
/// # Shapes
/// `x` is `[m, d]` with d = [`Model::input_dim`].
///
/// # Errors
/// The settings' errors ([`BoundSettings::validate`]), checked first;
/// [`TheoryError::EmptySample`] for m = 0; [`TheoryError::Shape`] if `x` has not d columns;
/// [`TheoryError::Unsupported`]
/// for a model kind other than sparse or routing other than top-k; [`TheoryError::Model`] if
/// the model fails on `x`; the bounds' own input checks (δ ∈ (0, 1), ...).
pub fn bound_report<F: Float>(
    model: &dyn Model<F>,
    x: ArrayView2<'_, F>,
    settings: &BoundSettings,
) -> Result<BoundReport> {
    settings.validate()?;
    let config = model.config();
    let cfg = config.as_sparse().ok_or_else(|| TheoryError::Unsupported {
        what: format!("model kind `{}`", config.kind()),
    })?;
    let (d, t, k, m) = (model.input_dim(), cfg.experts, cfg.k, x.nrows());
    if m == 0 {
        return Err(TheoryError::EmptySample);
    }
    if x.ncols() != d {
        return Err(ShapeError::new("bound_report", vec![m, d], x.shape().to_vec()).into());
    }
    let lipschitz = 1.0 / settings.gamma;
    let routed = routed_rows(model, x, t, k)?;
    let router = RouterComplexity::new(&cfg.router, true, d, t, k, m)?;
    let depth = cfg.expert.depth;
    let measured = measure_experts(model, x, &routed, depth, settings)?;
    let inputs = BoundInputs {
        m,
        k,
        t,
        d,
        delta: settings.delta,
        lipschitz,
        routing_log_count: router.natarajan.exact,
        router,
        experts: measured
            .stats
            .into_iter()
            .map(|stat| ExpertGroup { count: 1, stat })
            .collect(),
        rademacher_m: measured.rademacher_m,
        rademacher_m_bft: measured.rademacher_m_bft,
        gate: crate::gate_weights(&cfg.gate, k, t),
        router_scales: router_scales(model, t),
        max_norm: measured.max_norm_aug,
        margin_log_count: settings.margin_log_count,
        sum_sq_norms: measured.sum_sq_aug,
        expert_layers: depth + 1,
        expert_width: cfg.expert.width.max(1),
    };
    let mut bounds = inputs.evaluate()?;
    let reasons: Vec<String> = crate::gate_outside_proofs(&cfg.gate)
        .map(str::to_string)
        .into_iter()
        .chain(expert_caveat(&cfg.expert).map(|c| format!("not covered: {c}")))
        .collect();
    if !reasons.is_empty() {
        let reason = reasons.join("; ");
        for b in &mut bounds {
            if matches!(
                b.validity,
                Validity::Valid | Validity::ValidA2 | Validity::Restated
            ) {
                b.validity = Validity::OutsideAssumptions;
            }
            b.note = Some(match b.note.take() {
                Some(n) => format!("{n}; {reason}"),
                None => reason.clone(),
            });
        }
    }
    Ok(BoundReport {
        delta: settings.delta,
        gamma: settings.gamma,
        lipschitz,
        m,
        k,
        t,
        d,
        router: inputs.router,
        expert_measure: if depth == 0 {
            "linear_upper"
        } else {
            "golowich"
        }
        .into(),
        experts: measured.experts,
        rademacher_m: inputs.rademacher_m,
        rademacher_m_bft: inputs.rademacher_m_bft,
        bounds,
    })
}
