//! PAC-Bayes pieces of Dziugaite & Roy (2017) as THEORY §5 states them: the KL divergence of
//! a diagonal Gaussian posterior from an isotropic Gaussian prior, the prior-variance grid
//! λ = c·e^{−j/b} with its union-bound price, the bound term B_RE and the final certificate
//! from a Monte Carlo error estimate.

use serde::Serialize;

use crate::error::{Result, TheoryError, check_delta, check_m, non_negative, positive};
use crate::kl::kl_inverse_upper;

/// The λ grid of THEORY §5: λ_j = c·e^{−j/b}, j = 1, 2, …, with the implementation's
/// c = 0.1 and b = 100 by default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PriorGrid {
    /// c: the largest prior variance (j = 0 would be c itself).
    pub c: f64,
    /// b: grid points per e-fold of λ.
    pub b: f64,
}

impl Default for PriorGrid {
    fn default() -> Self {
        Self { c: 0.1, b: 100.0 }
    }
}

impl PriorGrid {
    /// λ_j = c·e^{−j/b}.
    pub fn lambda(&self, j: u64) -> f64 {
        self.c * (-(j as f64) / self.b).exp()
    }

    /// The grid indices j ≥ 1 on either side of `lambda` (floor and ceil of b ln(c/λ), at
    /// least 1); equal when `lambda` is a grid point.
    ///
    /// # Errors
    /// λ not positive or not finite, or a grid with c ≤ 0 or b ≤ 0.
    pub fn neighbours(&self, lambda: f64) -> Result<(u64, u64)> {
        positive("lambda", lambda)?;
        positive("grid c", self.c)?;
        positive("grid b", self.b)?;
        let x = (self.b * (self.c / lambda).ln()).max(1.0);
        if x > 1e15 {
            return Err(TheoryError::InvalidParameter {
                name: "lambda",
                value: lambda,
                requirement: "within 1e15 grid steps of c",
            });
        }
        // a value within rounding of an integer is that grid point
        let r = x.round();
        if (x - r).abs() < 1e-9 * r.max(1.0) {
            return Ok((r as u64, r as u64));
        }
        Ok((x.floor().max(1.0) as u64, x.ceil() as u64))
    }

    /// The union-bound price of choosing grid point j with weight 6/(π² j²):
    /// ln(π²/6) + 2 ln j nats.
    pub fn log_price(j: u64) -> f64 {
        (std::f64::consts::PI.powi(2) / 6.0).ln() + 2.0 * (j.max(1) as f64).ln()
    }
}

/// KL(Q‖P) for Q = N(w, diag(s)) and P = N(w₀, λ I) over N parameters (THEORY §5, the
/// implementation's `KLdivTimes2` halved):
/// `½ [ (‖s‖₁ + ‖w − w₀‖²) / λ − N + N ln λ − Σ ln s_i ]`.
///
/// # Errors
/// Slices of different lengths, a variance s_i ≤ 0, λ ≤ 0, a non-finite value.
pub fn gaussian_kl(w: &[f64], s: &[f64], w0: &[f64], lambda: f64) -> Result<f64> {
    positive("lambda", lambda)?;
    if w.len() != s.len() || w.len() != w0.len() {
        return Err(TheoryError::TooFew {
            need: w.len(),
            got: s.len().min(w0.len()),
        });
    }
    let n = w.len() as f64;
    let (mut trace, mut dist, mut log_det) = (0.0, 0.0, 0.0);
    for ((&wi, &si), &w0i) in w.iter().zip(s).zip(w0) {
        positive("posterior variance", si)?;
        let d = wi - w0i;
        if !d.is_finite() {
            return Err(TheoryError::NonFinite {
                name: "w - w0",
                value: d,
            });
        }
        trace += si;
        dist += d * d;
        log_det += si.ln();
    }
    let kl = 0.5 * ((trace + dist) / lambda - n + n * lambda.ln() - log_det);
    Ok(kl.max(0.0))
}

/// B_RE of THEORY §5 for a prior with one grid-chosen variance per parameter block (one block:
/// the paper's form; router and experts apart: two blocks, each paying its own grid price):
/// `( KL + Σ_blocks [ln(π²/6) + 2 ln j_b] + ln(m/δ) ) / (m − 1)`.
/// With one block this is the paper's `(KL + 2 ln(b ln(c/λ)) + ln(π² m / (6δ))) / (m − 1)`.
///
/// # Errors
/// m < 2, δ outside (0, 1), a negative or non-finite KL, no block.
pub fn b_re(kl: f64, grid_indices: &[u64], m: usize, delta: f64) -> Result<f64> {
    let kl = non_negative("KL", kl)?;
    let delta = check_delta(delta)?;
    let mf = check_m(m)?;
    if m < 2 {
        return Err(TheoryError::TooFew { need: 2, got: m });
    }
    if grid_indices.is_empty() {
        return Err(TheoryError::TooFew { need: 1, got: 0 });
    }
    let price: f64 = grid_indices.iter().map(|&j| PriorGrid::log_price(j)).sum();
    Ok((kl + price + (mf / delta).ln()) / (mf - 1.0))
}

/// The final certificate from its parts (THEORY §5, steps 2–3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Certificate {
    /// ê_M: the error of M networks sampled from Q (each re-routed), averaged.
    pub mc_error: f64,
    /// M.
    pub samples: usize,
    /// δ′ of the Monte Carlo step.
    pub delta_mc: f64,
    /// kl⁻¹(ê_M, ln(2/δ′)/M): an upper bound on ê(Q) with probability ≥ 1 − δ′.
    pub mc_bound: f64,
    /// B_RE.
    pub b_re: f64,
    /// kl⁻¹(mc_bound, B_RE): the certified bound on the stochastic model's error, with
    /// probability ≥ 1 − δ − δ′.
    pub bound: f64,
}

/// The certificate from the Monte Carlo error `mc_error` of `samples` sampled networks and
/// B_RE.
///
/// # Errors
/// mc_error outside [0, 1], no sample, δ′ outside (0, 1), B_RE negative.
pub fn certificate(mc_error: f64, samples: usize, delta_mc: f64, b_re: f64) -> Result<Certificate> {
    let delta_mc = check_delta(delta_mc)?;
    let mf = check_m(samples)?;
    let mc_bound = kl_inverse_upper(mc_error, (2.0 / delta_mc).ln() / mf)?;
    let bound = kl_inverse_upper(mc_bound, non_negative("B_RE", b_re)?)?;
    Ok(Certificate {
        mc_error,
        samples,
        delta_mc,
        mc_bound,
        b_re,
        bound,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kl::kl_bernoulli;

    #[test]
    fn gaussian_kl_matches_a_hand_value() {
        // N = 2, w − w0 = (1, −2), s = (0.5, 2), λ = 1:
        // ½ [(2.5 + 5)/1 − 2 + 0 − ln(0.5·2)] = ½ · 5.5 = 2.75
        let kl = gaussian_kl(&[1.0, -1.0], &[0.5, 2.0], &[0.0, 1.0], 1.0).unwrap();
        assert!((kl - 2.75).abs() < 1e-14, "{kl}");
        // λ = 2: ½ [7.5/2 − 2 + 2 ln 2 − 0] = ½ (1.75 + 1.386294) = 1.568147
        let kl = gaussian_kl(&[1.0, -1.0], &[0.5, 2.0], &[0.0, 1.0], 2.0).unwrap();
        assert!((kl - 0.5 * (1.75 + 2.0 * 2f64.ln())).abs() < 1e-14, "{kl}");
        // Q = P: 0
        assert_eq!(
            gaussian_kl(&[0.3; 4], &[0.1; 4], &[0.3; 4], 0.1).unwrap(),
            0.0
        );
        assert!(gaussian_kl(&[0.0], &[0.0], &[0.0], 1.0).is_err());
        assert!(gaussian_kl(&[0.0, 1.0], &[1.0], &[0.0], 1.0).is_err());
    }

    #[test]
    fn lambda_grid_terms() {
        let g = PriorGrid::default();
        // λ_j = 0.1 e^{−j/100}; a grid point maps back to its own j
        let l = g.lambda(250);
        assert!((l - 0.1 * (-2.5f64).exp()).abs() < 1e-16);
        assert_eq!(g.neighbours(l).unwrap(), (250, 250));
        // between points: floor and ceil
        assert_eq!(g.neighbours(0.1 * (-2.505f64).exp()).unwrap(), (250, 251));
        // above c: the first point
        assert_eq!(g.neighbours(1.0).unwrap(), (1, 1));
        // price: ln(π²/6) + 2 ln j
        assert!((PriorGrid::log_price(1) - 0.497_700).abs() < 1e-6);
        assert!((PriorGrid::log_price(250) - (0.497_700 + 2.0 * 250f64.ln())).abs() < 1e-6);
        // B_RE with one block is the paper's form
        let (kl, m, delta) = (5000.0, 55_000, 0.025);
        let j = 250;
        let paper = (kl
            + 2.0 * (g.b * (g.c / g.lambda(j)).ln()).ln()
            + (std::f64::consts::PI.powi(2) * m as f64 / (6.0 * delta)).ln())
            / (m as f64 - 1.0);
        assert!((b_re(kl, &[j], m, delta).unwrap() - paper).abs() < 1e-12);
        // two blocks pay two prices
        let two = b_re(kl, &[j, 10], m, delta).unwrap();
        let want = paper + PriorGrid::log_price(10) / (m as f64 - 1.0);
        assert!((two - want).abs() < 1e-12);
        assert!(b_re(kl, &[], m, delta).is_err());
        assert!(b_re(kl, &[1], 1, delta).is_err());
    }

    #[test]
    fn certificate_chains_the_two_inversions() {
        let c = certificate(0.03, 1000, 0.01, 0.02).unwrap();
        assert!(c.mc_bound > 0.03 && c.bound > c.mc_bound && c.bound < 1.0);
        let c_mc = (2.0f64 / 0.01).ln() / 1000.0;
        assert!((kl_bernoulli(0.03, c.mc_bound).unwrap() - c_mc).abs() < 1e-9);
        assert!((kl_bernoulli(c.mc_bound, c.bound).unwrap() - 0.02).abs() < 1e-9);
        // a huge B_RE is vacuous: 1
        assert_eq!(certificate(0.03, 1000, 0.01, 50.0).unwrap().bound, 1.0);
        assert!(certificate(0.03, 0, 0.01, 0.1).is_err());
    }
}
