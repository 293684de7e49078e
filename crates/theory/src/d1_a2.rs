//! Theorem D1 for softmax-weighted gates: THEORY.md §1.6's Remark (case A2), made explicit.

use serde::{Deserialize, Serialize};
use smoe_nn::ShapeError;

use crate::error::{Result, check_delta, check_m, check_topk, finite, non_negative};
use crate::{ExpertGroup, GateWeights, TheoryError};

/// `count` router logits with the same norm budget R (the what-if mode's T equal rows take
/// O(1) memory).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScaleGroup {
    /// How many logits share the budget.
    pub count: usize,
    /// R_t with `n R̂_{S'}(logit t) <= R_t sqrt(Σ_{S'} ||(x, 1)||²)` on any sub-sample S'
    /// (for a linear router the row norm ||(w_t, b_t)||).
    pub scale: f64,
}

/// Inputs of [`d1_a2_bound`]. The budgets (expert scales A_j and floors c_j, router scales R_t)
/// are taken as fixed; the registry rounds data-chosen ones up to the grid and passes the
/// price in `extra_log`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct D1A2Inputs<'a> {
    /// k: experts per input.
    pub k: usize,
    /// T: experts in total (and router logits).
    pub t: usize,
    /// m: training samples.
    pub m: usize,
    /// δ: failure probability.
    pub delta: f64,
    /// C: Lipschitz constant of the \[0, 1\]-valued loss (1/γ for the ramp loss).
    pub lipschitz: f64,
    /// ln|𝒢|_S|, the routing log-count (Natarajan or arrangement).
    pub routing_log_count: f64,
    /// Which logits the gate weights depend on.
    pub gate: GateWeights,
    /// The experts' scales A_j and floors c_j (counts summing to T; `load` and `complexity`
    /// are not read).
    pub experts: &'a [ExpertGroup],
    /// The router logits' scales R_t (counts summing to T).
    pub router: &'a [ScaleGroup],
    /// Σ_i ||(x_i, 1)||² over S (the experts' and the router's input convention).
    pub sum_sq_norms: f64,
    /// X = max_i ||(x_i, 1)||.
    pub max_norm: f64,
    /// Nats added to ln(2/δ): budget and margin union bounds.
    pub extra_log: f64,
}

/// [`d1_a2_bound`]'s value with its named terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct D1A2Bound {
    /// B_h = max_j A_j · X: a bound on |h_j(x_i)| for every expert in its budget.
    pub output_bound: f64,
    /// L = sqrt(1 + k B_h² / 4): the ℓ2-Lipschitz constant of (logits, outputs) ↦ f.
    pub map_lipschitz: f64,
    /// Σ over the router coordinates of m · (their empirical complexities) (see the function).
    pub router_sum: f64,
    /// Σ_j (A_j sqrt(Σ_{I_j} ||(x,1)||²) + c_j), bounded by Cauchy–Schwarz.
    pub expert_sum: f64,
    /// `2 sqrt(2) C L router_sum / m`.
    pub router_term: f64,
    /// `2 sqrt(2) C L expert_sum / m`.
    pub expert_term: f64,
    /// `2 sqrt(ln|𝒢|_S| / (2m))`.
    pub routing_term: f64,
    /// `ln(2/δ) + extra_log`.
    pub confidence_log: f64,
    /// `3 sqrt(confidence_log / (2m))`.
    pub confidence_term: f64,
    /// The sum of the four terms.
    pub total: f64,
}

/// Theorem D1 for a softmax-weighted gate (case A2), THEORY.md §1.6 Remark, \[DERIVED\]. With
/// probability >= 1 − δ, for every model whose experts and router rows lie in the budgets,
///
/// `L_D(f) − L_S(f) <= 2 sqrt(2) C L (router_sum + expert_sum) / m
///                     + 2 sqrt(ln|𝒢|_S| / (2m)) + 3 sqrt((ln(2/δ) + extra_log) / (2m))`.
///
/// **Derivation.** Steps 1–3 of D1 are unchanged: the gap is at most
/// `2 max_p R̂_S(ℓ∘F_p) + 2 sqrt(ln|𝒢|_S|/(2m)) + 3 sqrt(ln(2/δ)/(2m))` (Step 2 only needs
/// ℓ∘F ⊂ \[0, 1\]). Only the per-pattern complexity changes. Fix a pattern p = (p_1..p_m).
///
/// 1. *The gate as a Lipschitz map.* On input i, f(x_i) = φ_i(z, u) = Σ_{j∈p_i} w_j(z) u_j with
///    z the router logits and u_j = h_j(x_i). For `topk_softmax` (and `noisy_topk` at
///    evaluation) w = softmax(z_{p_i}) depends on the k selected logits only; for
///    `softmax_topk` (and `dense_softmax`) w_j = softmax(z)_j for j ∈ p_i depends on all T
///    logits ([`GateWeights`]). ∂φ/∂u = w with ||w||_2 <= ||w||_1 <= 1; ∂φ/∂z = Jᵀ u_p with
///    J = diag(s) − s sᵀ for the softmax s in question, and ||J||_op <= 1/2 (vᵀJv is the variance
///    of v under s, at most (max v − min v)²/4 <= 1/2 for a unit v, Popoviciu), so
///    ||∂φ/∂z|| <= sqrt(k) B_h / 2 when |u_j| <= B_h. On the convex set {|u_j| <= B_h} φ_i is
///    therefore ℓ2-Lipschitz with L = sqrt(1 + k B_h²/4), and ℓ(·, y_i)∘φ_i with C L.
/// 2. *Maurer's vector contraction* (Maurer 2016; THEORY.md §1.6 Remark), applied to the
///    vectors s_i = (the logits φ_i reads, the k outputs u_{p_i}) at x_i:
///    `m R̂_S(ℓ∘F_p) <= sqrt(2) C L E sup Σ_i Σ_t σ_it s_it`. The supremum of a sum is at most
///    the sum of the suprema over the router's logits and over each expert (relaxing the
///    pattern constraint only enlarges the set), so the right side splits into router_sum +
///    expert_sum:
///    - *experts*: Σ_j E sup Σ_{i∈I_j} σ_ij h_j(x_i) = Σ_j m_j R̂_{S_j}(H_j) <=
///      Σ_j (A_j sqrt(Σ_{I_j} ||(x,1)||²) + c_j) <= sqrt(Σ_j A_j²) sqrt(k Σ_i ||(x_i,1)||²) + Σ_j c_j
///      (Cauchy–Schwarz over experts; each i lies in k sets I_j), as in Step 4;
///    - *router*, logit t = (w_t, b_t)·(x, 1) with ||(w_t, b_t)|| <= R_t (§3.2's closed form
///      and Jensen, `E||Σ σ_i (x_i,1)|| <= sqrt(Σ ||(x_i,1)||²)`): with selected logits only,
///      logit t is read at the inputs routed to t, and Cauchy–Schwarz gives
///      `sqrt(Σ_t R_t²) sqrt(k Σ_i ||(x_i,1)||²)`; with all T logits read at every input it is
///      `(Σ_t R_t) sqrt(Σ_i ||(x_i,1)||²)`.
/// 3. *B_h*: for smoe's experts (ReLU/PReLU/identity activations, biases folded)
///    |h(x)| <= Π_l ρ_l ||W_l||_op ||(x,1)|| <= A_j ||(x,1)||, since the Golowich/linear scale A_j
///    is at least Π_l ρ_l ||W_l||_F; so B_h = max_j A_j · max_i ||(x_i,1)|| bounds every output
///    on S (all that step 1 needs, as R̂_S is conditional on S).
///
/// Both bounds hold for every pattern, so they bound max_p. **Proved**: the above, for budgets
/// fixed in advance (or paid for by `extra_log`) and an exact d_N; it holds for A1 gates too
/// (constant weights are a special case). **Not proved**: anything for gates whose weights are
/// not a softmax of the router logits (`dense_to_sparse`, `sigmoid`, hierarchical), and d_N of
/// an MLP router (shape only). The bound is looser than Step 4's: it grows with T through the
/// router term and with B_h through L.
///
/// # Errors
/// [`TheoryError::InvalidDelta`], [`TheoryError::EmptySample`], [`TheoryError::InvalidTopK`];
/// [`TheoryError::Shape`] unless the expert and router counts each sum to T;
/// [`TheoryError::NonFinite`] / [`TheoryError::InvalidParameter`] on NaN, infinite or negative
/// numbers.
pub fn d1_a2_bound(inputs: &D1A2Inputs<'_>) -> Result<D1A2Bound> {
    let delta = check_delta(inputs.delta)?;
    let m = check_m(inputs.m)?;
    check_topk(inputs.k, inputs.t)?;
    let c = non_negative("Lipschitz constant C", inputs.lipschitz)?;
    let log_count = non_negative("routing log-count", inputs.routing_log_count)?;
    let sum_sq = non_negative("sum of squared input norms", inputs.sum_sq_norms)?;
    let max_norm = non_negative("largest input norm", inputs.max_norm)?;
    let extra = non_negative("union-bound log-count", inputs.extra_log)?;
    let overflow = || TheoryError::InvalidParameter {
        name: "number of experts",
        value: f64::INFINITY,
        requirement: "representable as usize",
    };
    let n_experts = inputs
        .experts
        .iter()
        .try_fold(0usize, |n, g| n.checked_add(g.count))
        .ok_or_else(overflow)?;
    let n_router = inputs
        .router
        .iter()
        .try_fold(0usize, |n, g| n.checked_add(g.count))
        .ok_or_else(overflow)?;
    for n in [n_experts, n_router] {
        if n != inputs.t {
            return Err(ShapeError::new("d1_a2_bound", vec![inputs.t], vec![n]).into());
        }
    }
    let k = inputs.k as f64;
    let mut sum_a2 = 0.0;
    let mut floors = 0.0;
    let mut max_a: f64 = 0.0;
    for g in inputs.experts {
        let a = non_negative("expert scale A_j", g.stat.scale)?;
        let f = non_negative("expert floor c_j", g.stat.floor)?;
        sum_a2 += g.count as f64 * a * a;
        floors += g.count as f64 * f;
        if g.count > 0 {
            max_a = max_a.max(a);
        }
    }
    let (mut sum_r2, mut sum_r) = (0.0, 0.0);
    for g in inputs.router {
        let r = non_negative("router scale R_t", g.scale)?;
        sum_r2 += g.count as f64 * r * r;
        sum_r += g.count as f64 * r;
    }
    let output_bound = finite("expert output bound B_h", max_a * max_norm)?;
    let map_lipschitz = finite(
        "gate Lipschitz constant",
        (1.0 + k * output_bound * output_bound / 4.0).sqrt(),
    )?;
    let expert_sum = finite(
        "expert complexity sum",
        sum_a2.sqrt() * (k * sum_sq).sqrt() + floors,
    )?;
    let router_sum = finite(
        "router complexity sum",
        match inputs.gate {
            GateWeights::Uniform | GateWeights::SelectedSoftmax => {
                sum_r2.sqrt() * (k * sum_sq).sqrt()
            }
            GateWeights::FullSoftmax => sum_r * sum_sq.sqrt(),
        },
    )?;
    let factor = 2.0 * std::f64::consts::SQRT_2 * c * map_lipschitz / m;
    let router_term = finite("router term", factor * router_sum)?;
    let expert_term = finite("expert term", factor * expert_sum)?;
    let routing_term = 2.0 * (log_count / (2.0 * m)).sqrt();
    let confidence_log = (2.0 / delta).ln() + extra;
    let confidence_term = 3.0 * (confidence_log / (2.0 * m)).sqrt();
    Ok(D1A2Bound {
        output_bound,
        map_lipschitz,
        router_sum,
        expert_sum,
        router_term,
        expert_term,
        routing_term,
        confidence_log,
        confidence_term,
        total: finite(
            "D1 A2 bound",
            expert_term + router_term + routing_term + confidence_term,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExpertStat;

    fn experts(t: usize, a: f64) -> Vec<ExpertGroup> {
        vec![ExpertGroup {
            count: t,
            stat: ExpertStat {
                load: 0,
                complexity: 0.0,
                scale: a,
                floor: 0.0,
            },
        }]
    }

    /// By hand: T = 4, k = 2, m = 100, A_j = 1, R_t = 1, Σ||(x,1)||² = 200, X = sqrt 2, C = 1.
    #[test]
    fn d1_a2_by_hand() {
        let e = experts(4, 1.0);
        let r = [ScaleGroup {
            count: 4,
            scale: 1.0,
        }];
        let base = D1A2Inputs {
            k: 2,
            t: 4,
            m: 100,
            delta: 0.05,
            lipschitz: 1.0,
            routing_log_count: 50.0,
            gate: GateWeights::SelectedSoftmax,
            experts: &e,
            router: &r,
            sum_sq_norms: 200.0,
            max_norm: 2f64.sqrt(),
            extra_log: 0.0,
        };
        let b = d1_a2_bound(&base).unwrap();
        // B_h = sqrt 2; L = sqrt(1 + 2 * 2 / 4) = sqrt 2
        assert!((b.map_lipschitz - 2f64.sqrt()).abs() < 1e-14);
        // expert_sum = sqrt(4) sqrt(2 * 200) = 2 * 20 = 40; router (selected) the same
        assert!((b.expert_sum - 40.0).abs() < 1e-12);
        assert!((b.router_sum - 40.0).abs() < 1e-12);
        // each term: 2 sqrt2 * sqrt2 * 40 / 100 = 1.6
        assert!((b.expert_term - 1.6).abs() < 1e-12);
        assert!((b.router_term - 1.6).abs() < 1e-12);
        // routing: 2 sqrt(50/200) = 1
        assert!((b.routing_term - 1.0).abs() < 1e-12);
        // all T logits: router_sum = 4 * sqrt(200) = 56.5685...
        let full = d1_a2_bound(&D1A2Inputs {
            gate: GateWeights::FullSoftmax,
            ..base
        })
        .unwrap();
        assert!((full.router_sum - 4.0 * 200f64.sqrt()).abs() < 1e-12);
        // a wrong router count is a shape error
        let short = [ScaleGroup {
            count: 3,
            scale: 1.0,
        }];
        assert!(matches!(
            d1_a2_bound(&D1A2Inputs {
                router: &short,
                ..base
            }),
            Err(TheoryError::Shape(_))
        ));
    }
}
