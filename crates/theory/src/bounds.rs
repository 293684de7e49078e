//! Generalization bounds: the restated Zhao et al. Theorem 1 (THEORY.md §1.3), the project's
//! Theorem D1 with its load-aware expert term (§1.6) and the VC bound of Kratsios et al. as a
//! shape (§4). Each returns its value together with every named term, serialisable into a run
//! record.

use serde::{Deserialize, Serialize};
use smoe_nn::ShapeError;

use crate::error::{Result, TheoryError, check_delta, check_m, check_topk, finite, non_negative};
use crate::expert::{BftComplexity, NormComplexity};

/// How far a reported number can be trusted (THEORY.md §1.8 item 2). Records store the
/// snake_case [`Validity::label`]; [`std::fmt::Display`] shows the same except for
/// [`Validity::ValidA2`] ("valid (A2 remark)").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    /// A proved bound (THEORY.md \[DERIVED\] or \[PAPER\]) whose assumptions the run meets:
    /// for D1's Step-4 form a uniform gate (case A1), paid-for norm budgets and an exact d_N.
    Valid,
    /// A proved bound through THEORY.md §1.6's Remark for softmax-weighted gates (case A2),
    /// looser than the Step-4 form (`valid_a2` in records, "valid (A2 remark)" shown).
    ValidA2,
    /// Known only as restated by a citing paper (THEORY.md \[RESTATED\]); the primary text is
    /// unchecked.
    Restated,
    /// Not a bound: evaluated at quantities chosen after seeing the data (the learned routing
    /// pattern, a budget outside the fixed grid) or a proof that does not cover the run (the
    /// Step-4 form for an A2 gate).
    Heuristic,
    /// Constants unknown (an MLP router's d_N, a VC dimension with constant 1): usable for
    /// trends only, never as an absolute value. Records written before this label was renamed
    /// say `shape_only`, which reads as this.
    #[serde(alias = "shape_only")]
    Shape,
    /// The model is outside the bound's assumptions (a gate the proof does not cover, see
    /// [`crate::gate_outside_proofs`], or sigmoid experts where the proof needs ReLU/identity,
    /// positively homogeneous activations with act(0) = 0): the number is the formula
    /// evaluated anyway, not a bound for this model.
    OutsideAssumptions,
}

impl Validity {
    /// The label as written in run records: `valid`, `valid_a2`, `restated`, `heuristic`,
    /// `shape`, `outside_assumptions`.
    pub fn label(&self) -> &'static str {
        match self {
            Validity::Valid => "valid",
            Validity::ValidA2 => "valid_a2",
            Validity::Restated => "restated",
            Validity::Heuristic => "heuristic",
            Validity::Shape => "shape",
            Validity::OutsideAssumptions => "outside_assumptions",
        }
    }

    /// Whether the number is a proved bound for the run (`valid` or `valid_a2`).
    pub fn is_proved(&self) -> bool {
        matches!(self, Validity::Valid | Validity::ValidA2)
    }
}

impl std::fmt::Display for Validity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Validity::ValidA2 => f.write_str("valid (A2 remark)"),
            v => f.write_str(v.label()),
        }
    }
}

/// Inputs of [`zhao_restated`], in smoe's letters (THEORY.md §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ZhaoInputs {
    /// C: Lipschitz constant of the \[0, 1\]-valued loss (1/γ for the ramp loss).
    pub lipschitz: f64,
    /// R_m(H): Rademacher complexity of the single-expert class at sample size m.
    pub rademacher: f64,
    /// k: experts per input.
    pub k: usize,
    /// T: experts in total.
    pub t: usize,
    /// d_N: Natarajan dimension of the router's top-k selection class.
    pub d_n: f64,
    /// m: training samples.
    pub m: usize,
    /// δ: failure probability.
    pub delta: f64,
}

/// The restated Zhao et al. bound with its named terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ZhaoBound {
    /// `4 C R_m(H)`.
    pub expert_term: f64,
    /// `2 k d_N (1 + ln(T/k)) + d_N ln(2m)`: the routing log-count inside the root.
    pub routing_log_count: f64,
    /// `ln(4/δ)`, also inside the root.
    pub confidence_log: f64,
    /// `2 sqrt((routing_log_count + confidence_log) / (2m))`.
    pub routing_term: f64,
    /// `expert_term + routing_term`.
    pub total: f64,
    /// Always [`Validity::Restated`].
    pub validity: Validity,
}

/// Zhao, Wang & Wang 2024, Theorem 1 as restated by MELD (THEORY.md §1.3, \[RESTATED\]):
///
/// `L_D(f) - L_S(f) <= 4 C R_m(H) + 2 sqrt( (2 k d_N (1 + ln(T/k)) + d_N ln(2m) + ln(4/δ)) / (2m) )`.
///
/// Its sqrt(k(1 + ln(T/k))) shape is the claim a (k, T) sweep tests. **Caveat** (§1.3): the
/// expert term does not depend on k or T, which cannot hold for input-dependent routing if
/// R_m(H) is one expert's complexity at sample size m; D1 ([`d1_bound`]) gives the load-aware
/// form. Known only as restated, not from the primary text.
///
/// # Errors
/// [`TheoryError::InvalidDelta`] unless 0 < δ < 1; [`TheoryError::EmptySample`] if m = 0;
/// [`TheoryError::InvalidTopK`] unless 1 <= k <= T; [`TheoryError::NonFinite`] /
/// [`TheoryError::InvalidParameter`] if C, R_m(H) or d_N is NaN, infinite or negative.
pub fn zhao_restated(inputs: &ZhaoInputs) -> Result<ZhaoBound> {
    let delta = check_delta(inputs.delta)?;
    let m = check_m(inputs.m)?;
    check_topk(inputs.k, inputs.t)?;
    let c = non_negative("Lipschitz constant C", inputs.lipschitz)?;
    let r = non_negative("Rademacher complexity R_m(H)", inputs.rademacher)?;
    let d_n = non_negative("d_N", inputs.d_n)?;
    let (k, t) = (inputs.k as f64, inputs.t as f64);
    let expert_term = 4.0 * c * r;
    let routing_log_count = 2.0 * k * d_n * (1.0 + (t / k).ln()) + d_n * (2.0 * m).ln();
    let confidence_log = (4.0 / delta).ln();
    let routing_term = 2.0 * ((routing_log_count + confidence_log) / (2.0 * m)).sqrt();
    Ok(ZhaoBound {
        expert_term,
        routing_log_count,
        confidence_log,
        routing_term,
        total: finite("Zhao bound", expert_term + routing_term)?,
        validity: Validity::Restated,
    })
}

/// One expert's statistics for [`d1_bound`].
///
/// `complexity` is R̂_{S_j}(H) on the expert's routed sub-sample at the learned pattern.
/// `scale` A_j and `floor` c_j describe the bound on *any* sub-sample S' (which another pattern
/// might route to it): `R̂_{S'} <= A_j sqrt(Σ_{S'} ||x||²) / |S'| + c_j / |S'|`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExpertStat {
    /// m_j: number of (input, slot) assignments routed to the expert.
    pub load: usize,
    /// R̂_{S_j}(H) at the learned pattern (ignored when `load` is 0).
    pub complexity: f64,
    /// A_j (e.g. B for a linear expert, [`NormComplexity::scale`] for Golowich).
    pub scale: f64,
    /// c_j (0 for the Frobenius forms and linear experts, 4 for BFT).
    pub floor: f64,
}

impl ExpertStat {
    /// From a Golowich or Neyshabur complexity on the expert's routed inputs (`floor` = 0).
    pub fn from_norm(load: usize, c: &NormComplexity) -> Self {
        Self {
            load,
            complexity: c.value,
            scale: c.scale,
            floor: 0.0,
        }
    }

    /// From a BFT complexity; `m` is the training-set size, since a sub-sample can hold up to m
    /// inputs: `scale = ln(m) · scale_per_log_n`, `floor = 4` (the safe first term).
    pub fn from_bft(load: usize, c: &BftComplexity, m: usize) -> Self {
        Self {
            load,
            complexity: c.value,
            scale: (m.max(1) as f64).ln() * c.scale_per_log_n,
            floor: 4.0,
        }
    }
}

/// Inputs of [`d1_bound`] (THEORY.md §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct D1Inputs<'a> {
    /// k: experts per input.
    pub k: usize,
    /// T: experts in total.
    pub t: usize,
    /// m: training samples.
    pub m: usize,
    /// δ: failure probability.
    pub delta: f64,
    /// C: Lipschitz constant of the \[0, 1\]-valued loss (1/γ for the ramp loss).
    pub lipschitz: f64,
    /// ln|𝒢|_S|: a routing log-count ([`crate::natarajan_log_count`] or
    /// [`crate::arrangement_log_count`]).
    pub routing_log_count: f64,
    /// One entry per expert (T entries); loads must sum to k m.
    pub experts: &'a [ExpertStat],
    /// Σ_i ||x_i||² over the whole training sample, in the experts' convention (add 1 per input
    /// when the complexities folded biases).
    pub sum_sq_norms: f64,
}

/// One form of bound D1 with its named terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct D1Bound {
    /// `2 C · R̂_S(F_p)` (at the learned pattern, or its maximum over patterns).
    pub expert_term: f64,
    /// `2 sqrt(ln|𝒢|_S| / (2m))`.
    pub routing_term: f64,
    /// `3 sqrt(ln(2/δ) / (2m))`.
    pub confidence_term: f64,
    /// The sum of the three.
    pub total: f64,
    /// [`Validity::Heuristic`] at the learned pattern, [`Validity::Valid`] for the worst case.
    pub validity: Validity,
}

/// Bound D1 in both forms, with the quantities behind them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct D1Report {
    /// R̂_S(F_p) at the learned pattern: `Σ_j (m_j/(k m)) R̂_{S_j}(H)`.
    pub expert_complexity_learned: f64,
    /// The bound on max_p R̂_S(F_p): `sqrt(Σ_j A_j²) sqrt(k Σ_i ||x_i||²)/(k m) + Σ_j c_j/(k m)`.
    pub expert_complexity_worst: f64,
    /// ln|𝒢|_S| as given.
    pub routing_log_count: f64,
    /// D1 at the learned pattern: a heuristic, not a valid bound.
    pub learned_pattern: D1Bound,
    /// D1 with the worst case over patterns: the valid bound.
    pub worst_case: D1Bound,
}

/// Theorem D1 (THEORY.md §1.6, \[DERIVED\]): with probability >= 1 - δ, for all f ∈ F(T,k),
///
/// `L_D(f) - L_S(f) <= 2C max_p R̂_S(F_p) + 2 sqrt(ln|𝒢|_S| / (2m)) + 3 sqrt(ln(2/δ) / (2m))`,
///
/// with the load-aware expert term of Step 4, `R̂_S(F_p) = Σ_j (m_j/(k m)) R̂_{S_j}(H)`.
///
/// - **Learned pattern** ([`Validity::Heuristic`]): the expert term at the routing pattern the
///   trained router realises (the given loads and complexities). The max over p is replaced by
///   one p chosen by the data, so this is not a bound.
/// - **Worst case** ([`Validity::Valid`]): for every pattern, by Cauchy–Schwarz over the
///   experts (each input lies in exactly k of the sets I_j),
///   `R̂_S(F_p) <= sqrt(Σ_j A_j²) sqrt(k Σ_i ||x_i||²) / (k m) + Σ_j c_j / (k m)`;
///   with A_j = B for all j and c_j = 0 this is §1.6's `B sqrt(T Σ_i ||x_i||² / (k m²))`.
///   Valid for uniform top-k gates (case A1) and norm budgets A_j fixed in advance; with budgets
///   read from trained weights it carries the caveat of [`crate::golowich_complexity`], and for
///   softmax-weighted gates (case A2, smoe's default) §1.6's remark is the proved statement.
///   This function labels the worst case [`Validity::Valid`] (its budgets taken as fixed);
///   the registry's `d1_worst` ([`crate::D1WorstCase`]) decides the label of a run: it rounds
///   data-chosen budgets up to a grid and pays for them, and checks the gate and d_N.
///
/// # Errors
/// [`TheoryError::InvalidDelta`] unless 0 < δ < 1; [`TheoryError::EmptySample`] if m = 0;
/// [`TheoryError::InvalidTopK`] unless 1 <= k <= T; [`TheoryError::Shape`] unless there
/// are T expert entries; [`TheoryError::InvalidLoads`] unless the loads sum to k m;
/// [`TheoryError::NonFinite`] / [`TheoryError::InvalidParameter`] on a NaN, infinite or
/// negative number.
pub fn d1_bound(inputs: &D1Inputs<'_>) -> Result<D1Report> {
    let groups = inputs
        .experts
        .iter()
        .map(|&stat| ExpertGroup { count: 1, stat });
    d1_grouped(inputs, groups, 0.0)
}

/// `count` experts with the same [`ExpertStat`]: a run of equal entries of a per-expert list,
/// so that T equal experts (the balanced what-if loads) take O(1) memory, not O(T).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExpertGroup {
    /// How many experts share `stat`.
    pub count: usize,
    /// Their statistics.
    pub stat: ExpertStat,
}

/// [`d1_bound`] with the experts given as groups of equal statistics (counts summing to T);
/// `inputs.experts` is not read. `extra_log` nats (union bounds over data-chosen budgets and
/// margins, THEORY.md §1.8 item 2) are added to ln(2/δ) under the confidence root;
/// [`d1_bound`] passes 0.
///
/// # Errors
/// As [`d1_bound`], with [`TheoryError::Shape`] unless the counts sum to T.
pub(crate) fn d1_grouped(
    inputs: &D1Inputs<'_>,
    groups: impl Iterator<Item = ExpertGroup> + Clone,
    extra_log: f64,
) -> Result<D1Report> {
    let delta = check_delta(inputs.delta)?;
    let m = check_m(inputs.m)?;
    check_topk(inputs.k, inputs.t)?;
    let c = non_negative("Lipschitz constant C", inputs.lipschitz)?;
    let log_count = non_negative("routing log-count", inputs.routing_log_count)?;
    let sum_sq = non_negative("sum of squared input norms", inputs.sum_sq_norms)?;
    let overflow = |name| TheoryError::InvalidParameter {
        name,
        value: f64::INFINITY,
        requirement: "representable as usize",
    };
    let count = groups
        .clone()
        .try_fold(0usize, |n, g| n.checked_add(g.count))
        .ok_or_else(|| overflow("number of experts"))?;
    if count != inputs.t {
        return Err(ShapeError::new("d1_bound", vec![inputs.t], vec![count]).into());
    }
    let expected = inputs
        .k
        .checked_mul(inputs.m)
        .ok_or_else(|| overflow("k m"))?;
    let mut sum_loads = 0usize;
    for g in groups.clone() {
        sum_loads = g
            .count
            .checked_mul(g.stat.load)
            .and_then(|l| sum_loads.checked_add(l))
            .ok_or_else(|| overflow("sum of expert loads"))?;
        non_negative("expert complexity", g.stat.complexity)?;
        non_negative("expert scale A_j", g.stat.scale)?;
        non_negative("expert floor c_j", g.stat.floor)?;
    }
    if sum_loads != expected {
        return Err(TheoryError::InvalidLoads {
            sum: sum_loads,
            expected,
        });
    }
    let km = inputs.k as f64 * m;
    // 1.0 * v == v: a group of one adds its term as is (d1_bound's per-expert sums, bit for bit)
    let times = |n: usize, v: f64| n as f64 * v;
    let learned: f64 = groups
        .clone()
        .filter(|g| g.stat.load > 0)
        .map(|g| times(g.count, g.stat.load as f64 / km * g.stat.complexity))
        .sum();
    let scale_norm = groups
        .clone()
        .map(|g| times(g.count, g.stat.scale * g.stat.scale))
        .sum::<f64>()
        .sqrt();
    let floors: f64 = groups.map(|g| times(g.count, g.stat.floor)).sum();
    let worst = scale_norm * (inputs.k as f64 * sum_sq).sqrt() / km + floors / km;
    let learned = finite("learned-pattern expert complexity", learned)?;
    let worst = finite("worst-case expert complexity", worst)?;
    let routing_term = 2.0 * (log_count / (2.0 * m)).sqrt();
    let extra = non_negative("union-bound log-count", extra_log)?;
    let confidence_term = 3.0 * (((2.0 / delta).ln() + extra) / (2.0 * m)).sqrt();
    let form = |complexity: f64, validity| -> Result<D1Bound> {
        let expert_term = 2.0 * c * complexity;
        Ok(D1Bound {
            expert_term,
            routing_term,
            confidence_term,
            total: finite("D1 bound", expert_term + routing_term + confidence_term)?,
            validity,
        })
    };
    Ok(D1Report {
        expert_complexity_learned: learned,
        expert_complexity_worst: worst,
        routing_log_count: log_count,
        learned_pattern: form(learned, Validity::Heuristic)?,
        worst_case: form(worst, Validity::Valid)?,
    })
}

/// Inputs of [`kratsios_vc_shape`] (THEORY.md §4; Kratsios et al.'s letters in parentheses).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VcInputs {
    /// Number of experts T (L there).
    pub experts: usize,
    /// Input dimension d (n there).
    pub input_dim: usize,
    /// Depth of each expert (J there).
    pub expert_depth: usize,
    /// Width of each expert (W there).
    pub expert_width: usize,
    /// m: training samples.
    pub m: usize,
    /// δ: failure probability.
    pub delta: f64,
}

/// The VC bound of Kratsios et al. evaluated as a shape, with its terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VcShapeBound {
    /// `L max{n L, J W}` with constant 1 and no log factors.
    pub vc_dim: f64,
    /// The growth-function log used: `min(d ln(e m/d), m ln 2)` if m >= d, else `m ln 2`.
    pub growth_log: f64,
    /// `sqrt(2 growth_log / m)`.
    pub complexity_term: f64,
    /// `sqrt(ln(1/δ) / (2m))`.
    pub confidence_term: f64,
    /// The sum of the two.
    pub total: f64,
    /// The constant put in front of d_VC (always 1).
    pub constant: f64,
    /// Always [`Validity::Shape`].
    pub validity: Validity,
}

/// VC bound for the MoMLP of Kratsios et al. (THEORY.md §4), **as a shape with constant 1**:
/// `d_VC = L · max{n L, J W}` (the abstract's Õ() with constants and logs dropped), turned into
/// a 0-1-loss gap bound by Mohri et al. Cor. 3.19,
/// `gap <= sqrt(2 d ln(e m/d) / m) + sqrt(ln(1/δ) / (2m))`.
///
/// Sauer–Shelah's (e m/d)^d needs m >= d, and Π(m) <= 2^m always; the growth log used is the
/// smaller valid one, `min(d ln(em/d), m ln 2)` (just `m ln 2` when m < d). The MoMLP routes each
/// input to a single expert, so this is a second reference curve for trends only.
///
/// # Errors
/// [`TheoryError::InvalidDelta`] unless 0 < δ < 1; [`TheoryError::EmptySample`] if m = 0;
/// [`TheoryError::InvalidTopK`] if T = 0; [`TheoryError::InvalidParameter`] if d, J or W is 0.
pub fn kratsios_vc_shape(inputs: &VcInputs) -> Result<VcShapeBound> {
    let delta = check_delta(inputs.delta)?;
    let m = check_m(inputs.m)?;
    check_topk(1, inputs.experts)?;
    for (name, v) in [
        ("input dimension", inputs.input_dim),
        ("expert depth", inputs.expert_depth),
        ("expert width", inputs.expert_width),
    ] {
        if v == 0 {
            return Err(TheoryError::InvalidParameter {
                name,
                value: 0.0,
                requirement: ">= 1",
            });
        }
    }
    let l = inputs.experts as f64;
    let routing = inputs.input_dim as f64 * l;
    let expert = inputs.expert_depth as f64 * inputs.expert_width as f64;
    let vc_dim = l * routing.max(expert);
    let trivial = m * std::f64::consts::LN_2;
    let growth_log = if m >= vc_dim {
        (vc_dim * (1.0 + (m / vc_dim).ln())).min(trivial)
    } else {
        trivial
    };
    let complexity_term = (2.0 * growth_log / m).sqrt();
    let confidence_term = ((1.0 / delta).ln() / (2.0 * m)).sqrt();
    Ok(VcShapeBound {
        vc_dim,
        growth_log,
        complexity_term,
        confidence_term,
        total: finite("VC bound", complexity_term + confidence_term)?,
        constant: 1.0,
        validity: Validity::Shape,
    })
}

#[cfg(test)]
#[path = "bounds_tests.rs"]
mod tests;
