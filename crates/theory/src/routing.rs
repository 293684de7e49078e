//! Routing complexity: log-counts of the top-k selection patterns a router can realise on a
//! sample, and the Natarajan dimension d_N of a router (THEORY.md §1.6 Step 3, §2).

use serde::{Deserialize, Serialize};

use crate::Validity;
use crate::error::{Result, TheoryError, check_m, check_topk, non_negative};
use crate::special::{log_binomial, log_binomial_upper};

/// The Natarajan routing log-count of THEORY.md §1.6 Step 3 / §2.2, in both forms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NatarajanLogCount {
    /// Natarajan dimension d_N of the selection class.
    pub d_n: f64,
    /// Sample size m.
    pub m: usize,
    /// Experts in total, T.
    pub t: usize,
    /// Experts per input, k.
    pub k: usize,
    /// ln C(T, k), exact (log-gamma).
    pub log_labels_exact: f64,
    /// k (1 + ln(T/k)), the upper form of ln C(T, k).
    pub log_labels_upper: f64,
    /// `d_N ln m + 2 d_N ln C(T,k)`: the sharper valid count.
    pub exact: f64,
    /// `d_N ln m + 2 k d_N (1 + ln(T/k))`: the form printed in the bounds (>= `exact`).
    pub upper: f64,
}

/// Natarajan routing log-count (THEORY.md §1.6 Step 3 and §2.2, Natarajan's lemma with C(T,k)
/// labels on the m points of S):
///
/// `ln|𝒢|_S| <= d_N ln m + 2 d_N ln C(T,k) <= d_N ln m + 2 k d_N (1 + ln(T/k))`.
///
/// Both forms are returned; ln C(T,k) is computed exactly with [`log_binomial`]. Valid for any
/// router, given a d_N of its selection class (e.g. [`linear_router_natarajan_dim`]).
///
/// # Errors
/// [`TheoryError::InvalidTopK`] unless 1 <= k <= T; [`TheoryError::EmptySample`] if m = 0;
/// [`TheoryError::NonFinite`] / [`TheoryError::InvalidParameter`] if d_N is NaN or negative.
pub fn natarajan_log_count(d_n: f64, m: usize, t: usize, k: usize) -> Result<NatarajanLogCount> {
    check_topk(k, t)?;
    let mf = check_m(m)?;
    non_negative("d_N", d_n)?;
    let log_labels_exact = log_binomial(t as u64, k as u64)?;
    let log_labels_upper = log_binomial_upper(t as u64, k as u64)?;
    let base = d_n * mf.ln();
    Ok(NatarajanLogCount {
        d_n,
        m,
        t,
        k,
        log_labels_exact,
        log_labels_upper,
        exact: base + 2.0 * d_n * log_labels_exact,
        upper: base + 2.0 * d_n * log_labels_upper,
    })
}

/// The hyperplane-arrangement routing log-count of a linear router (THEORY.md §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArrangementLogCount {
    /// Effective input dimension: d, or d + 1 with a bias (the augmented input (x, 1)).
    pub d_eff: usize,
    /// Effective parameter dimension D = d_eff (T - 1).
    pub dimension: f64,
    /// Number of central hyperplanes N = m T (T - 1) / 2.
    pub hyperplanes: f64,
    /// The log-count ln|𝒢|_S| (see [`arrangement_log_count`] for the form used).
    pub log_count: f64,
}

/// Arrangement log-count for a linear top-k router z = W x (+ b), THEORY.md §2.5:
///
/// `ln|𝒢|_S| <= ln 2 + D ln( e N / D )`, `D = d_eff (T-1)`, `N = m T (T-1) / 2`,
/// so `e N / D = e m T / (2 d_eff)`, with d_eff = d + 1 when the router has a bias (§2.5 project
/// note; smoe's `linear` router has one).
///
/// The bound 2 (eN/D)^D on the number of cells needs N >= D. A central arrangement of N
/// hyperplanes never has more than 2^N cells, so the function returns
/// `min(ln 2 + D ln(eN/D), N ln 2)` when N >= D and `N ln 2` otherwise: the smaller of two valid
/// counts (for the sizes of THEORY.md §1.7 it is the first). With T = 1 there is a single
/// pattern and the count is 0. It does not depend on k and has no factor 2k.
///
/// # Errors
/// [`TheoryError::InvalidTopK`] if T = 0; [`TheoryError::EmptySample`] if m = 0;
/// [`TheoryError::InvalidParameter`] if d_eff = 0 or d + 1 overflows.
pub fn arrangement_log_count(
    d: usize,
    t: usize,
    m: usize,
    bias: bool,
) -> Result<ArrangementLogCount> {
    check_topk(1, t)?;
    let mf = check_m(m)?;
    let d_eff = d
        .checked_add(usize::from(bias))
        .ok_or(TheoryError::InvalidParameter {
            name: "effective input dimension d + 1",
            value: f64::INFINITY,
            requirement: "representable as usize",
        })?;
    if d_eff == 0 {
        return Err(TheoryError::InvalidParameter {
            name: "effective input dimension",
            value: 0.0,
            requirement: ">= 1",
        });
    }
    let tf = t as f64;
    let dimension = d_eff as f64 * (tf - 1.0);
    let hyperplanes = mf * tf * (tf - 1.0) / 2.0;
    let log_count = if t == 1 {
        0.0
    } else {
        let trivial = hyperplanes * std::f64::consts::LN_2;
        if hyperplanes >= dimension {
            let cells =
                std::f64::consts::LN_2 + dimension * (1.0 + (mf * tf / (2.0 * d_eff as f64)).ln());
            cells.min(trivial)
        } else {
            trivial
        }
    };
    Ok(ArrangementLogCount {
        d_eff,
        dimension,
        hyperplanes,
        log_count,
    })
}

/// d_N of a linear top-k router (THEORY.md §2.4, \[DERIVED\]): `(d+1)(T-1)` with a bias,
/// `d(T-1)` without. It does not depend on k.
///
/// # Errors
/// [`TheoryError::InvalidTopK`] if T = 0; [`TheoryError::InvalidParameter`] on overflow.
pub fn linear_router_natarajan_dim(d: usize, t: usize, bias: bool) -> Result<usize> {
    check_topk(1, t)?;
    d.checked_add(usize::from(bias))
        .and_then(|d_eff| d_eff.checked_mul(t - 1))
        .ok_or(TheoryError::InvalidParameter {
            name: "d_N",
            value: f64::INFINITY,
            requirement: "representable as usize",
        })
}

/// d_N of the low-rank top-k router `z = E (P x + c)` (smoe's `low_rank`, E `[T, r]` fixed,
/// P `[r, d]` and c `[r]` learned): `min(r, T−1) · (d+1)`, at most `r(d+1)` whatever T.
///
/// Derivation (\[DERIVED\], the argument of THEORY.md §2.4 with the feature map changed): the
/// score of expert y is `s_y(x) = ⟨e_y, P x + c⟩ = ⟨vec[P c], e_y ⊗ [x; 1]⟩`, with `e_yᵀ` the
/// y-th row of E. The top-k set is the S ∈ S_k maximising `Σ_{y∈S} s_y(x) = ⟨vec[P c],
/// Ψ(x, S)⟩` with the fixed class-sensitive feature map `Ψ(x, S) = (Eᵀ 1_S) ⊗ [x; 1] ∈
/// R^{r(d+1)}`, a linear multiclass predictor H_Ψ, so d_N ≤ r(d+1) (SSBD Thm 29.7; Daniely et
/// al. 2015). As for the linear router, a shattering argument only uses the differences
/// `Ψ(x, S₀) − Ψ(x, S₁) = (Eᵀ (1_{S₀} − 1_{S₁})) ⊗ [x; 1]` with `|S₀| = |S₁|`, which lie in
/// `(Eᵀ 1^⊥) ⊗ R^{d+1}`, of dimension at most `min(r, T−1)(d+1)`. For r ≥ T−1 this is the
/// linear router's `(d+1)(T−1)`; for r < T−1 it does not grow with T. It does not depend on
/// k. (The rank-r bias c is what keeps it so: a free bias b ∈ R^T would add T−1 dimensions.)
///
/// # Errors
/// [`TheoryError::InvalidTopK`] if T = 0; [`TheoryError::InvalidParameter`] for r = 0 or on
/// overflow.
pub fn low_rank_router_natarajan_dim(d: usize, t: usize, rank: usize) -> Result<usize> {
    check_topk(1, t)?;
    if rank == 0 {
        return Err(TheoryError::InvalidParameter {
            name: "rank",
            value: 0.0,
            requirement: "at least 1",
        });
    }
    d.checked_add(1)
        .and_then(|d1| d1.checked_mul(rank.min(t - 1)))
        .ok_or(TheoryError::InvalidParameter {
            name: "d_N",
            value: f64::INFINITY,
            requirement: "representable as usize",
        })
}

/// The parameter-count form of d_N for an MLP (ReLU) router (THEORY.md §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MlpRouterDim {
    /// W: the router's parameter count (weights and biases).
    pub params: usize,
    /// L: the router's number of weight layers.
    pub layers: usize,
    /// `W L ln W`, with constant 1.
    pub value: f64,
    /// Always [`Validity::Shape`]: the true constant is unknown.
    pub validity: Validity,
}

/// d_N of a top-k ReLU MLP router in parameter-count form, **shape only** (THEORY.md §2.6):
/// `d_N <= O(W L ln W)` (Bartlett–Harvey–Liaw–Mehrabian via the top-k reduction), evaluated
/// here as `W L ln W` with constant 1. The constant of the O() has not been checked, so the
/// result can be used for trends (how d_N grows with width and T) but not as a certified value.
///
/// `layer_sizes` = `[d, h_1, ..., T]`; every layer has a bias when `bias` is true, so
/// `W = Σ_l (n_l n_{l+1} + n_{l+1})`.
///
/// # Errors
/// [`TheoryError::InvalidParameter`] with fewer than two sizes, if a size is 0 or if W
/// overflows.
pub fn mlp_router_natarajan_shape(layer_sizes: &[usize], bias: bool) -> Result<MlpRouterDim> {
    if layer_sizes.len() < 2 {
        return Err(TheoryError::InvalidParameter {
            name: "number of layer sizes [d, ..., T]",
            value: layer_sizes.len() as f64,
            requirement: ">= 2",
        });
    }
    if layer_sizes.contains(&0) {
        return Err(TheoryError::InvalidParameter {
            name: "layer size",
            value: 0.0,
            requirement: ">= 1",
        });
    }
    let overflow = TheoryError::InvalidParameter {
        name: "router parameter count",
        value: f64::INFINITY,
        requirement: "representable as usize",
    };
    let mut params = 0usize;
    for w in layer_sizes.windows(2) {
        let layer = w[0]
            .checked_mul(w[1])
            .and_then(|p| p.checked_add(if bias { w[1] } else { 0 }))
            .ok_or_else(|| overflow.clone())?;
        params = params.checked_add(layer).ok_or_else(|| overflow.clone())?;
    }
    let layers = layer_sizes.len() - 1;
    let wf = params as f64;
    Ok(MlpRouterDim {
        params,
        layers,
        value: wf * layers as f64 * wf.ln(),
        validity: Validity::Shape,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// THEORY.md §1.7: (d, T, k, m, Natarajan log-count, arrangement log-count), linear router
    /// without bias, d_N = d(T-1); the unrounded fixture values.
    const WORKED: [(usize, usize, usize, usize, f64, f64); 3] = [
        (16, 8, 2, 10_000, 2100.62, 988.99),
        (16, 8, 1, 100_000, 1979.24, 1246.88),
        (32, 16, 2, 100_000, 11438.73, 5341.48),
    ];

    #[test]
    fn worked_examples_match_theory_md() {
        for (d, t, k, m, nat, arr) in WORKED {
            let d_n = linear_router_natarajan_dim(d, t, false).unwrap();
            assert_eq!(d_n, d * (t - 1));
            let n = natarajan_log_count(d_n as f64, m, t, k).unwrap();
            // The table uses the upper form k(1 + ln(T/k)); fixtures have 2 decimals.
            assert!(
                (n.upper - nat).abs() < 0.006,
                "Natarajan {} vs {nat}",
                n.upper
            );
            assert!(n.exact < n.upper);
            let a = arrangement_log_count(d, t, m, false).unwrap();
            assert!(
                (a.log_count - arr).abs() < 0.006,
                "arrangement {} vs {arr}",
                a.log_count
            );
        }
    }

    #[test]
    fn natarajan_exact_form_by_hand() {
        // d_N = 112, m = 1e4, T = 8, k = 2: 112 ln 1e4 + 224 ln 28.
        let n = natarajan_log_count(112.0, 10_000, 8, 2).unwrap();
        let want = 112.0 * 10_000f64.ln() + 224.0 * 28f64.ln();
        assert!((n.exact - want).abs() < 1e-9);
        assert!((n.log_labels_exact - 28f64.ln()).abs() < 1e-12);
        // k = 1 and k = T: ln C = ln T and 0.
        let one = natarajan_log_count(3.0, 10, 5, 1).unwrap();
        assert!((one.log_labels_exact - 5f64.ln()).abs() < 1e-12);
        let all = natarajan_log_count(3.0, 10, 5, 5).unwrap();
        assert!((all.exact - 3.0 * 10f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn linear_router_dim_with_and_without_bias() {
        assert_eq!(linear_router_natarajan_dim(16, 8, true).unwrap(), 17 * 7);
        assert_eq!(linear_router_natarajan_dim(16, 8, false).unwrap(), 16 * 7);
        assert_eq!(linear_router_natarajan_dim(16, 1, true).unwrap(), 0);
        assert!(linear_router_natarajan_dim(16, 0, true).is_err());
    }

    #[test]
    fn arrangement_bias_uses_augmented_dimension_and_small_cases() {
        let a = arrangement_log_count(16, 8, 10_000, true).unwrap();
        let want = 2f64.ln() + 17.0 * 7.0 * (1.0 + (10_000.0 * 8.0 / 34.0f64).ln());
        assert!((a.log_count - want).abs() < 1e-9);
        assert_eq!(a.d_eff, 17);
        // T = 1: one pattern.
        assert_eq!(
            arrangement_log_count(4, 1, 100, true).unwrap().log_count,
            0.0
        );
        // m = 1, T = 2, d = 10: N = 1 < D = 10, so the count is ln 2.
        let s = arrangement_log_count(10, 2, 1, false).unwrap();
        assert!((s.log_count - 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn mlp_router_shape_counts_parameters() {
        // d = 4, hidden 8, T = 3 with biases: W = 4*8+8 + 8*3+3 = 67, L = 2.
        let r = mlp_router_natarajan_shape(&[4, 8, 3], true).unwrap();
        assert_eq!(r.params, 67);
        assert_eq!(r.layers, 2);
        assert!((r.value - 67.0 * 2.0 * 67f64.ln()).abs() < 1e-9);
        assert_eq!(r.validity, Validity::Shape);
        assert!(mlp_router_natarajan_shape(&[4], true).is_err());
        assert!(mlp_router_natarajan_shape(&[4, 0, 2], true).is_err());
    }

    #[test]
    fn log_counts_reject_bad_inputs() {
        assert!(matches!(
            natarajan_log_count(1.0, 10, 4, 5),
            Err(TheoryError::InvalidTopK { k: 5, experts: 4 })
        ));
        assert!(matches!(
            natarajan_log_count(1.0, 10, 4, 0),
            Err(TheoryError::InvalidTopK { .. })
        ));
        assert_eq!(
            natarajan_log_count(1.0, 0, 4, 2),
            Err(TheoryError::EmptySample)
        );
        assert!(natarajan_log_count(f64::NAN, 10, 4, 2).is_err());
        assert!(natarajan_log_count(-1.0, 10, 4, 2).is_err());
        assert_eq!(
            arrangement_log_count(3, 4, 0, true),
            Err(TheoryError::EmptySample)
        );
        assert!(arrangement_log_count(0, 4, 10, false).is_err());
    }
}
