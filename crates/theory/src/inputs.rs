//! What the bounds are evaluated on: [`BoundInputs`], built either from a measured model
//! ([`crate::bound_report`]) or from idealised what-if numbers ([`BoundInputs::what_if`]), and
//! the router's complexity [`RouterComplexity`] that both share.

use serde::{Deserialize, Serialize};
use smoe_router::RouterConfig;

use crate::error::{check_delta, check_m, check_topk, non_negative};
use crate::{
    ArrangementLogCount, BoundValue, ExpertGroup, ExpertStat, GateWeights, NatarajanLogCount,
    Result, ScaleGroup, TheoryError, Validity, arrangement_log_count, linear_router_natarajan_dim,
    low_rank_router_natarajan_dim, mlp_router_natarajan_shape, natarajan_log_count,
};

/// The router's combinatorial complexity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouterComplexity {
    /// `linear`, `mlp` or `low_rank`.
    pub kind: String,
    /// d_N used in the bounds: (d+1)(T−1) for a linear router with bias, d(T−1) without
    /// (valid); the parameter-count form for an MLP router (shape only).
    pub d_n: f64,
    /// Whether `d_n` is a proved value or a shape.
    pub d_n_validity: Validity,
    /// The Natarajan log-count (exact ln C(T,k) and its upper form).
    pub natarajan: NatarajanLogCount,
    /// The hyperplane-arrangement log-count (linear routers only).
    pub arrangement: Option<ArrangementLogCount>,
}

impl RouterComplexity {
    /// The complexity of a `router` for inputs of width `d`, T = `t` experts, k per input and m
    /// samples. `bias` says whether a linear router has a bias (smoe's `linear` router does);
    /// an MLP router always has biases.
    ///
    /// - linear: d_N from [`linear_router_natarajan_dim`] ([`Validity::Valid`]) and the
    ///   arrangement count [`arrangement_log_count`];
    /// - MLP with `hidden` units: d_N from [`mlp_router_natarajan_shape`] of `[d, hidden, T]`
    ///   ([`Validity::Shape`]), no arrangement count;
    /// - low-rank of rank r: d_N = min(r, T−1)(d+1) from [`low_rank_router_natarajan_dim`]
    ///   ([`Validity::Valid`]; `bias` is ignored, the router always has its rank-r bias), no
    ///   arrangement count (§2.5's count is for a full W; not derived for E P).
    ///
    /// **k = T** (THEORY.md §1.5 end): the router selects every expert for every input, so the
    /// selection class is constant: d_N = 0 ([`Validity::Valid`], whatever the router) and
    /// every routing log-count (Natarajan and arrangement) is 0.
    ///
    /// # Errors
    /// [`TheoryError::InvalidTopK`] unless 1 <= k <= T; [`TheoryError::EmptySample`] if m = 0;
    /// [`TheoryError::InvalidParameter`] for a zero width or on overflow.
    pub fn new(
        router: &RouterConfig,
        bias: bool,
        d: usize,
        t: usize,
        k: usize,
        m: usize,
    ) -> Result<Self> {
        let mut c = Self::by_kind(router, bias, d, t, k, m)?;
        if k == t {
            c.d_n = 0.0;
            c.d_n_validity = Validity::Valid;
            c.natarajan = natarajan_log_count(0.0, m, t, k)?;
            if let Some(a) = c.arrangement.as_mut() {
                a.log_count = 0.0;
            }
        }
        Ok(c)
    }

    /// [`RouterComplexity::new`] without the k = T rule.
    fn by_kind(
        router: &RouterConfig,
        bias: bool,
        d: usize,
        t: usize,
        k: usize,
        m: usize,
    ) -> Result<Self> {
        match *router {
            RouterConfig::Linear => {
                let d_n = linear_router_natarajan_dim(d, t, bias)? as f64;
                Ok(Self {
                    kind: "linear".into(),
                    d_n,
                    d_n_validity: Validity::Valid,
                    natarajan: natarajan_log_count(d_n, m, t, k)?,
                    arrangement: Some(arrangement_log_count(d, t, m, bias)?),
                })
            }
            RouterConfig::LowRank { rank } => {
                let d_n = low_rank_router_natarajan_dim(d, t, rank)? as f64;
                Ok(Self {
                    kind: "low_rank".into(),
                    d_n,
                    d_n_validity: Validity::Valid,
                    natarajan: natarajan_log_count(d_n, m, t, k)?,
                    arrangement: None,
                })
            }
            RouterConfig::Mlp { hidden } => {
                let shape = mlp_router_natarajan_shape(&[d, hidden, t], true)?;
                Ok(Self {
                    kind: "mlp".into(),
                    d_n: shape.value,
                    d_n_validity: shape.validity,
                    natarajan: natarajan_log_count(shape.value, m, t, k)?,
                    arrangement: None,
                })
            }
        }
    }

    /// The router's named numbers, without a prefix: `d_n`, `natarajan.{exact, upper,
    /// log_labels_exact, log_labels_upper}` and, for a linear router,
    /// `arrangement.{log_count, d_eff, dimension, hyperplanes}`.
    pub fn scalars(&self) -> Vec<(String, f64)> {
        let n = &self.natarajan;
        let mut out: Vec<(String, f64)> = vec![
            ("d_n".into(), self.d_n),
            ("natarajan.exact".into(), n.exact),
            ("natarajan.upper".into(), n.upper),
            ("natarajan.log_labels_exact".into(), n.log_labels_exact),
            ("natarajan.log_labels_upper".into(), n.log_labels_upper),
        ];
        if let Some(a) = &self.arrangement {
            out.extend([
                ("arrangement.log_count".into(), a.log_count),
                ("arrangement.d_eff".into(), a.d_eff as f64),
                ("arrangement.dimension".into(), a.dimension),
                ("arrangement.hyperplanes".into(), a.hyperplanes),
            ]);
        }
        out
    }
}

/// Everything a bound may need, measured on a model or set by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundInputs {
    /// m: training samples.
    pub m: usize,
    /// k: experts per input.
    pub k: usize,
    /// T: experts in total.
    pub t: usize,
    /// d: input width.
    pub d: usize,
    /// δ: failure probability.
    pub delta: f64,
    /// C: Lipschitz constant of the \[0, 1\]-valued loss (1/γ for the ramp loss).
    pub lipschitz: f64,
    /// The router's complexity (d_N, its validity, the Natarajan and arrangement counts).
    pub router: RouterComplexity,
    /// ln|𝒢|_S|, the routing log-count D1 uses: one of `router`'s counts (the exact Natarajan
    /// form for a measured model; the upper form in the what-if mode, as THEORY.md §1.7).
    pub routing_log_count: f64,
    /// Per-expert statistics for D1 as groups of equal experts (counts summing to T, loads
    /// to k m): one group per expert for a measured model, at most two for the balanced
    /// what-if loads, so that a what-if question about 10¹² experts needs no per-expert memory.
    pub experts: Vec<ExpertGroup>,
    /// R̂_S(H) with Golowich experts: the largest expert's Golowich complexity on the whole
    /// training sample (`zhao_golowich`, which multiplies it by C).
    pub rademacher_m: f64,
    /// R̂_S(ℓ_γ∘H) with Bartlett–Foster–Telgarsky experts: the largest expert's BFT complexity on
    /// the whole training sample, γ already inside (`zhao`, C = 1; THEORY.md §1.5 item 1).
    pub rademacher_m_bft: f64,
    /// Which logits the gate's weights depend on (case A1 or A2, THEORY.md §1.6).
    pub gate: GateWeights,
    /// The router logits' scales R_t for [`crate::d1_a2_bound`] (counts summing to T), or
    /// `None` when they were not measured (a low-rank router, whose fixed embeddings are no
    /// parameter): `d1_a2` is then heuristic.
    pub router_scales: Option<Vec<ScaleGroup>>,
    /// X = max_i ||(x_i, 1)|| over the training sample, in the experts' convention.
    pub max_norm: f64,
    /// Nats paid for a margin γ chosen from the data ([`crate::BoundSettings::margin_log_count`]),
    /// added under every ramp-loss bound's confidence root; 0 for a fixed γ.
    pub margin_log_count: f64,
    /// Σ_i ||x_i||² over the training sample, in the experts' convention (bias folded: +1 per
    /// input).
    pub sum_sq_norms: f64,
    /// J: layers of one expert for the Kratsios VC shape (hidden layers + 1).
    pub expert_layers: usize,
    /// W: width of one expert for the Kratsios VC shape (at least 1).
    pub expert_width: usize,
}

impl BoundInputs {
    /// The idealised inputs of `smoe bound`'s what-if mode (THEORY.md §1.7):
    ///
    /// - C = 1/γ; R_m(H) = `expert_complexity`, default 1/sqrt(m) (linear experts with
    ///   ||w|| ||x|| <= 1);
    /// - the router's complexity from [`RouterComplexity::new`]; D1 uses the *upper* Natarajan
    ///   form, as the worked examples do;
    /// - inputs of unit norm (Σ ||x||² = m) and balanced loads m_j = k m / T (the first
    ///   k m mod T experts take one more), each expert at R̂_j = R sqrt(m / m_j) with scale
    ///   A_j = R sqrt(m) and no floor — at most two [`ExpertGroup`]s, whatever T is;
    /// - the VC shape at J = depth + 1 layers of width max(width, 1);
    /// - the gate of `w.gate` (default the uniform gate A1 of the worked examples), router
    ///   logits of idealised row norm R_t = 1 for `d1_a2`, X = max ||x|| = 1 (unit-norm inputs,
    ///   the same convention as Σ ||x||² = m), the BFT complexity of `zhao` set to R_m(H)/γ (the
    ///   ramp-loss class of an R_m(H)-complexity class, by contraction; so `zhao` and
    ///   `zhao_golowich` agree here), and a fixed γ (no margin price).
    ///
    /// Every input is checked here, before anything is computed, so any question gets an
    /// answer or one typed error; nothing is allocated per expert.
    ///
    /// # Errors
    /// [`TheoryError::InvalidDelta`] unless 0 < δ < 1; [`TheoryError::InvalidParameter`]
    /// unless γ is finite and > 0, if d = 0, if R_m(H) is negative, or if k m, d + 1 or
    /// depth + 1 overflows; [`TheoryError::NonFinite`] for a NaN or infinite R_m(H);
    /// [`TheoryError::EmptySample`] if m = 0; [`TheoryError::InvalidTopK`] unless
    /// 1 <= k <= T; the router's errors ([`RouterComplexity::new`]).
    pub fn what_if(w: &WhatIf) -> Result<BoundInputs> {
        if !(w.gamma.is_finite() && w.gamma > 0.0) {
            return Err(TheoryError::InvalidParameter {
                name: "gamma",
                value: w.gamma,
                requirement: "finite and > 0",
            });
        }
        check_delta(w.delta)?;
        let mf = check_m(w.m)?;
        check_topk(w.k, w.t)?;
        if w.d == 0 {
            return Err(TheoryError::InvalidParameter {
                name: "input width d",
                value: 0.0,
                requirement: ">= 1",
            });
        }
        let overflow = |name| TheoryError::InvalidParameter {
            name,
            value: f64::INFINITY,
            requirement: "representable as usize",
        };
        let expert_layers = w
            .expert_depth
            .checked_add(1)
            .ok_or_else(|| overflow("expert depth + 1"))?;
        let r = match w.expert_complexity {
            Some(r) => non_negative("expert complexity R_m(H)", r)?,
            None => 1.0 / mf.sqrt(),
        };
        let lipschitz = 1.0 / w.gamma;
        let router = RouterComplexity::new(&w.router, w.router_bias, w.d, w.t, w.k, w.m)?;
        let total = w.k.checked_mul(w.m).ok_or_else(|| overflow("k m"))?;
        Ok(BoundInputs {
            m: w.m,
            k: w.k,
            t: w.t,
            d: w.d,
            delta: w.delta,
            lipschitz,
            routing_log_count: router.natarajan.upper,
            router,
            experts: balanced_groups(total, w.t, w.m, r),
            rademacher_m: r,
            rademacher_m_bft: r * lipschitz,
            gate: w.gate,
            router_scales: Some(vec![ScaleGroup {
                count: w.t,
                scale: 1.0,
            }]),
            max_norm: 1.0,
            margin_log_count: 0.0,
            sum_sq_norms: mf,
            expert_layers,
            expert_width: w.expert_width.max(1),
        })
    }

    /// Every bound of the registry ([`crate::bounds`]) on these inputs, in registry order.
    ///
    /// # Errors
    /// The first bound's error, if one fails (see [`crate::Bound::evaluate`]).
    pub fn evaluate(&self) -> Result<Vec<BoundValue>> {
        crate::bounds().iter().map(|b| b.evaluate(self)).collect()
    }
}

/// Balanced loads m_j summing to `total` = k m over T = `t` experts (the first `total mod t`
/// take one more), each expert at R̂_j = R sqrt(m / m_j) (0 without inputs) with scale
/// A_j = R sqrt(m): one group per distinct load, at most two.
fn balanced_groups(total: usize, t: usize, m: usize, r: f64) -> Vec<ExpertGroup> {
    let (base, extra) = (total / t, total % t);
    let stat = |load: usize| ExpertStat {
        load,
        complexity: if load > 0 {
            r * (m as f64 / load as f64).sqrt()
        } else {
            0.0
        },
        // A_j = R sqrt(m) with inputs of unit norm (Σ ||x||² = m): R̂ <= A_j sqrt(n)/n
        scale: r * (m as f64).sqrt(),
        floor: 0.0,
    };
    [(extra, base + 1), (t - extra, base)]
        .into_iter()
        .filter(|&(count, _)| count > 0)
        .map(|(count, load)| ExpertGroup {
            count,
            stat: stat(load),
        })
        .collect()
}

/// The numbers of a what-if question (`smoe bound` without a checkpoint); see
/// [`BoundInputs::what_if`]. The defaults are THEORY.md §1.7's first worked example with a
/// router bias: k = 2, T = 8, m = 10⁴, d = 16, δ = 0.05, γ = 1, linear router, R_m(H) =
/// 1/sqrt(m), experts of depth 1 and width 64.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatIf {
    /// k: experts selected per input.
    pub k: usize,
    /// T: experts in total.
    pub t: usize,
    /// m: training samples.
    pub m: usize,
    /// d: input width.
    pub d: usize,
    /// δ: failure probability, in (0, 1).
    pub delta: f64,
    /// γ: ramp-loss margin (C = 1/γ).
    pub gamma: f64,
    /// The router whose d_N the bounds use.
    pub router: RouterConfig,
    /// Whether a linear router has a bias (ignored for an MLP router).
    pub router_bias: bool,
    /// R_m(H); `None`: 1/sqrt(m).
    pub expert_complexity: Option<f64>,
    /// Hidden layers of one expert (the VC shape uses depth + 1 layers).
    pub expert_depth: usize,
    /// Width of one expert (the VC shape).
    pub expert_width: usize,
    /// The gate's case (default [`GateWeights::Uniform`], the A1 gate of THEORY.md §1.7).
    pub gate: GateWeights,
}

impl Default for WhatIf {
    fn default() -> Self {
        Self {
            k: 2,
            t: 8,
            m: 10_000,
            d: 16,
            delta: 0.05,
            gamma: 1.0,
            router: RouterConfig::Linear,
            router_bias: true,
            expert_complexity: None,
            expert_depth: 1,
            expert_width: 64,
            gate: GateWeights::Uniform,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_if_balances_loads_over_every_expert() {
        let w = WhatIf {
            k: 2,
            t: 3,
            m: 10,
            ..Default::default()
        };
        let i = BoundInputs::what_if(&w).unwrap();
        let loads: Vec<(usize, usize)> = i.experts.iter().map(|g| (g.count, g.stat.load)).collect();
        assert_eq!(loads, vec![(2, 7), (1, 6)]);
        assert_eq!(i.routing_log_count, i.router.natarajan.upper);
        assert_eq!(i.sum_sq_norms, 10.0);
        assert_eq!((i.expert_layers, i.expert_width), (2, 64));
        assert_eq!(i.rademacher_m, 1.0 / 10f64.sqrt());
        assert_eq!(i.router.d_n, 17.0 * 2.0);
    }

    #[test]
    fn what_if_rejects_a_bad_margin_and_bad_top_k() {
        for gamma in [0.0, -1.0, f64::NAN] {
            let w = WhatIf {
                gamma,
                ..Default::default()
            };
            assert!(matches!(
                BoundInputs::what_if(&w),
                Err(TheoryError::InvalidParameter { name: "gamma", .. })
            ));
        }
        let w = WhatIf {
            k: 9,
            ..Default::default()
        };
        assert!(matches!(
            BoundInputs::what_if(&w),
            Err(TheoryError::InvalidTopK { k: 9, experts: 8 })
        ));
    }

    #[test]
    fn mlp_router_is_shape_only_without_an_arrangement_count() {
        let r =
            RouterComplexity::new(&RouterConfig::Mlp { hidden: 5 }, true, 6, 4, 2, 100).unwrap();
        assert_eq!(r.kind, "mlp");
        assert_eq!(r.d_n_validity, Validity::Shape);
        assert!(r.arrangement.is_none());
        assert_eq!(r.scalars().len(), 5);
        // low rank: min(r, T-1)(d+1), whatever T once T - 1 >= r; r >= T-1 gives the linear value
        for (t, r, want) in [
            (4, 2, 14),
            (64, 2, 14),
            (4096, 2, 14),
            (4, 3, 21),
            (4, 9, 21),
        ] {
            let lr = RouterComplexity::new(&RouterConfig::LowRank { rank: r }, true, 6, t, 2, 100)
                .unwrap();
            assert_eq!(
                (lr.kind.as_str(), lr.d_n),
                ("low_rank", want as f64),
                "T = {t}, r = {r}"
            );
            assert_eq!(lr.d_n_validity, Validity::Valid);
            assert!(lr.arrangement.is_none());
        }
        let lin = RouterComplexity::new(&RouterConfig::Linear, true, 6, 4, 2, 100).unwrap();
        assert_eq!(lin.d_n, 21.0);
        assert!(low_rank_router_natarajan_dim(6, 4, 0).is_err());
        assert!(low_rank_router_natarajan_dim(6, 0, 2).is_err());
        assert_eq!(low_rank_router_natarajan_dim(6, 1, 2).unwrap(), 0);
        let r = RouterComplexity::new(&RouterConfig::Linear, false, 6, 4, 2, 100).unwrap();
        assert_eq!(r.d_n, 18.0);
        assert_eq!(r.scalars().len(), 9);
    }
}
