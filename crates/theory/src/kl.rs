//! The binary relative entropy kl(q‖p), its upper inverse kl⁻¹ (THEORY §5), and the
//! binomial-tail (test-set) bound on a classifier's error.

use crate::error::{Result, TheoryError, check_delta, non_negative};
use crate::special::log_binomial;

/// Bisection steps of [`kl_inverse_upper`] and [`binomial_tail_bound`]: the bracket shrinks
/// by 2^-200, far below f64 resolution; the loop stops earlier once it cannot shrink.
const BISECTION_STEPS: usize = 200;

fn probability(name: &'static str, v: f64) -> Result<f64> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(TheoryError::InvalidParameter {
            name,
            value: v,
            requirement: "in [0, 1]",
        })
    }
}

/// x ln(x / y) with 0 ln(0 / y) = 0 and x ln(x / 0) = ∞ for x > 0.
fn x_ln_x_over_y(x: f64, y: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else if y == 0.0 {
        f64::INFINITY
    } else {
        x * (x / y).ln()
    }
}

/// kl(q‖p) = q ln(q/p) + (1 − q) ln((1 − q)/(1 − p)), the relative entropy of two Bernoulli
/// distributions (∞ when p ∈ {0, 1} and q ≠ p).
///
/// # Errors
/// q or p outside [0, 1] or not finite.
pub fn kl_bernoulli(q: f64, p: f64) -> Result<f64> {
    let (q, p) = (probability("q", q)?, probability("p", p)?);
    Ok((x_ln_x_over_y(q, p) + x_ln_x_over_y(1.0 - q, 1.0 - p)).max(0.0))
}

/// kl⁻¹(q, c) = sup{p ∈ [q, 1] : kl(q‖p) ≤ c}, by bisection (THEORY §5 asks for bisection,
/// not Newton: it is safe near 0 and 1), returning the upper end of the final bracket so
/// the result is never below the supremum. Returns 1 when kl(q‖1) ≤ c or the supremum is
/// within one ulp of 1.
///
/// # Errors
/// q outside [0, 1], c negative or not finite.
pub fn kl_inverse_upper(q: f64, c: f64) -> Result<f64> {
    let q = probability("q", q)?;
    let c = non_negative("c", c)?;
    if q >= 1.0 || kl_bernoulli(q, 1.0)? <= c {
        return Ok(1.0);
    }
    let (mut lo, mut hi) = (q, 1.0);
    for _ in 0..BISECTION_STEPS {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if kl_bernoulli(q, mid)? <= c {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // the bracket's upper end: never below the true supremum (an upper bound stays one)
    Ok(hi)
}

/// P(Bin(n, p) ≤ k), summed in log space.
fn binomial_cdf(k: u64, n: u64, p: f64) -> Result<f64> {
    if p <= 0.0 {
        return Ok(1.0);
    }
    if p >= 1.0 {
        return Ok(if k >= n { 1.0 } else { 0.0 });
    }
    // ln of the i-th term C(n, i) p^i (1 − p)^(n − i), from the one before; re-anchored
    // exactly every 256 terms so rounding cannot accumulate
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let odds = lp - lq;
    let mut log_term = n as f64 * lq;
    let mut sum = 0.0;
    for i in 0..=k.min(n) {
        if i % 256 == 0 {
            log_term = log_binomial(n, i)? + i as f64 * lp + (n - i) as f64 * lq;
        }
        sum += log_term.exp();
        log_term += ((n - i) as f64).ln() - ((i + 1) as f64).ln() + odds;
    }
    Ok(sum.min(1.0))
}

/// The test-set (binomial-tail) bound: with probability ≥ 1 − δ over an independent sample
/// of n points on which a fixed classifier makes k errors, its error is at most
/// sup{p : P(Bin(n, p) ≤ k) ≥ δ} (Langford 2005, Theorem 3.3), found by bisection.
///
/// # Errors
/// n = 0, k > n, δ outside (0, 1).
pub fn binomial_tail_bound(errors: u64, n: u64, delta: f64) -> Result<f64> {
    if n == 0 {
        return Err(TheoryError::EmptySample);
    }
    if errors > n {
        return Err(TheoryError::InvalidBinomial { n, k: errors });
    }
    let delta = check_delta(delta)?;
    if errors == n {
        return Ok(1.0);
    }
    let (mut lo, mut hi) = (errors as f64 / n as f64, 1.0);
    for _ in 0..BISECTION_STEPS {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if binomial_cdf(errors, n, mid)? >= delta {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_matches_hand_values_and_edges() {
        // kl(0.1 ‖ 0.5) = 0.1 ln 0.2 + 0.9 ln 1.8 = 0.368064
        assert!((kl_bernoulli(0.1, 0.5).unwrap() - 0.368_064_0).abs() < 1e-6);
        assert_eq!(kl_bernoulli(0.3, 0.3).unwrap(), 0.0);
        assert_eq!(kl_bernoulli(0.0, 0.0).unwrap(), 0.0);
        assert_eq!(kl_bernoulli(0.2, 0.0).unwrap(), f64::INFINITY);
        assert_eq!(kl_bernoulli(0.2, 1.0).unwrap(), f64::INFINITY);
        // kl(0 ‖ p) = −ln(1 − p)
        assert!((kl_bernoulli(0.0, 0.25).unwrap() + 0.75f64.ln()).abs() < 1e-15);
        assert!(kl_bernoulli(1.5, 0.5).is_err());
        assert!(kl_bernoulli(0.5, f64::NAN).is_err());
    }

    #[test]
    fn kl_inverse_round_trips_including_near_0_and_1() {
        for &q in &[0.0, 1e-12, 1e-6, 0.01, 0.2, 0.5, 0.9, 0.999, 1.0 - 1e-9] {
            for &c in &[1e-9, 1e-4, 0.01, 0.1, 1.0] {
                let p = kl_inverse_upper(q, c).unwrap();
                assert!(p >= q && p <= 1.0, "q {q} c {c}: {p}");
                if p < 1.0 {
                    let back = kl_bernoulli(q, p).unwrap();
                    assert!(
                        (back - c).abs() <= 1e-9 * c.max(1e-3),
                        "q {q} c {c}: kl {back}"
                    );
                }
            }
        }
        // kl(0 ‖ p) = −ln(1 − p) = c  ⇒  p = 1 − e^{−c}
        let p = kl_inverse_upper(0.0, 0.1).unwrap();
        assert!((p - (1.0 - (-0.1f64).exp())).abs() < 1e-14);
        let p = kl_inverse_upper(0.3, 0.0).unwrap();
        assert!((0.3..0.3 + 1e-8).contains(&p), "{p}");
        assert_eq!(kl_inverse_upper(1.0, 0.5).unwrap(), 1.0);
        // large c: within 1e-9 of 1, still the exact inverse
        let p = kl_inverse_upper(0.5, 10.0).unwrap();
        assert!(p > 1.0 - 1e-9 && (kl_bernoulli(0.5, p).unwrap() - 10.0).abs() < 1e-6);
        assert!(kl_inverse_upper(0.5, -1.0).is_err());
    }

    #[test]
    fn binomial_tail_bound_inverts_the_cdf() {
        // 0 errors in n: (1 − p)^n = δ  ⇒  p = 1 − δ^{1/n}
        let b = binomial_tail_bound(0, 1000, 0.01).unwrap();
        assert!((b - (1.0 - 0.01f64.powf(1e-3))).abs() < 1e-12, "{b}");
        // 5 errors of 100 at δ = 0.05: P(Bin(100, b) ≤ 5) = 0.05 (Clopper–Pearson one-sided
        // 95 % upper limit, beta.ppf(0.95, 6, 95) ≈ 0.1024)
        let b = binomial_tail_bound(5, 100, 0.05).unwrap();
        assert!((binomial_cdf(5, 100, b).unwrap() - 0.05).abs() < 1e-9);
        assert!((b - 0.1024).abs() < 1e-3, "{b}");
        // a test set of 10 000 with 500 errors: near the normal approximation
        // 0.05 + 1.645 sqrt(0.05 · 0.95 / 10⁴) = 0.0536, and the CDF there is δ
        let b = binomial_tail_bound(500, 10_000, 0.05).unwrap();
        assert!((b - 0.0536).abs() < 1e-3, "{b}");
        assert!((binomial_cdf(500, 10_000, b).unwrap() - 0.05).abs() < 1e-9);
        // never below the empirical error, and 1 when every point is an error
        assert!(binomial_tail_bound(30, 100, 0.5).unwrap() >= 0.3);
        assert_eq!(binomial_tail_bound(7, 7, 0.05).unwrap(), 1.0);
        assert!(binomial_tail_bound(8, 7, 0.05).is_err());
        assert!(binomial_tail_bound(0, 0, 0.05).is_err());
    }
}
