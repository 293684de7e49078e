//! Special functions for Student's t distribution, written by hand (no dependency: `statrs`
//! would pull `nalgebra` with its default features, and these four functions are short).
//!
//! - ln Γ(x) from [`smoe_nn::ln_gamma`] (the workspace's one implementation);
//! - the regularised incomplete beta function
//!   I_x(a, b) = B(x; a, b) / B(a, b) = x^a (1 − x)^b / (a B(a, b)) · 1 / (1 + d₁/(1 + d₂/(1 + …)))
//!   with d_{2j+1} = −(a + j)(a + b + j) x / ((a + 2j)(a + 2j + 1)) and
//!   d_{2j} = j (b − j) x / ((a + 2j − 1)(a + 2j)), evaluated by the modified Lentz method, and
//!   through I_x(a, b) = 1 − I_{1−x}(b, a) when x > (a + 1)/(a + b + 2), where the fraction
//!   converges fast;
//! - Student's t with ν degrees of freedom: P(|T| ≥ |t|) = I_{ν/(ν + t²)}(ν/2, 1/2), so
//!   F(t) = 1 − I/2 for t ≥ 0 and I/2 for t < 0;
//! - its quantile by bisection of F to the last bit (F is monotone; 200 halvings of a
//!   bracket found by doubling).

use super::StatsError;

/// ln Γ(x): the workspace's one implementation ([`smoe_nn::ln_gamma`]: Stirling's series for
/// x ≥ 10, Lanczos below, the reflection formula for x < ½).
pub use smoe_nn::ln_gamma;

/// The continued fraction of I_x(a, b) (modified Lentz), without the prefactor.
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..10_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        // even step d_{2m}
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        // odd step d_{2m+1}
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The regularised incomplete beta function I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1 (module doc).
///
/// # Errors
/// Parameters outside their range or non-finite.
pub fn reg_inc_beta(x: f64, a: f64, b: f64) -> Result<f64, StatsError> {
    let ok = x.is_finite() && a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0;
    if !ok || !(0.0..=1.0).contains(&x) {
        return Err(StatsError::Domain {
            what: "incomplete beta",
            detail: format!("needs a, b > 0 and x in [0, 1], got x = {x}, a = {a}, b = {b}"),
        });
    }
    if x == 0.0 || x == 1.0 {
        return Ok(x);
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        Ok(front * beta_fraction(x, a, b) / a)
    } else {
        Ok(1.0 - front * beta_fraction(1.0 - x, b, a) / b)
    }
}

fn check_df(df: f64) -> Result<(), StatsError> {
    if df.is_finite() && df > 0.0 {
        Ok(())
    } else {
        Err(StatsError::Domain {
            what: "Student t",
            detail: format!("degrees of freedom must be positive and finite, got {df}"),
        })
    }
}

/// Student's t CDF F_ν(t) = P(T ≤ t) (module doc); t = ±∞ gives 1 or 0.
///
/// # Errors
/// ν not positive and finite, or t NaN.
pub fn t_cdf(t: f64, df: f64) -> Result<f64, StatsError> {
    check_df(df)?;
    if t.is_nan() {
        return Err(StatsError::NonFinite {
            what: "Student t CDF",
            value: t,
        });
    }
    if t.is_infinite() {
        return Ok(if t > 0.0 { 1.0 } else { 0.0 });
    }
    let tail = reg_inc_beta(df / (df + t * t), 0.5 * df, 0.5)?;
    Ok(if t >= 0.0 {
        1.0 - 0.5 * tail
    } else {
        0.5 * tail
    })
}

/// The two-sided p-value P(|T| ≥ |t|) = I_{ν/(ν + t²)}(ν/2, 1/2) (exact in the tails, where
/// 1 − F would lose digits); |t| = ∞ gives 0.
///
/// # Errors
/// As [`t_cdf`].
pub fn t_two_sided_p(t: f64, df: f64) -> Result<f64, StatsError> {
    check_df(df)?;
    if t.is_nan() {
        return Err(StatsError::NonFinite {
            what: "Student t p-value",
            value: t,
        });
    }
    if t.is_infinite() {
        return Ok(0.0);
    }
    reg_inc_beta(df / (df + t * t), 0.5 * df, 0.5)
}

/// The quantile t_{q,ν}: the t with F_ν(t) = q, for 0 < q < 1 (bisection, module doc).
///
/// # Errors
/// q outside (0, 1) or ν not positive and finite.
pub fn t_quantile(q: f64, df: f64) -> Result<f64, StatsError> {
    check_df(df)?;
    if !(q > 0.0 && q < 1.0) {
        return Err(StatsError::Domain {
            what: "Student t quantile",
            detail: format!("the probability must be in (0, 1), got {q}"),
        });
    }
    if q == 0.5 {
        return Ok(0.0);
    }
    if q < 0.5 {
        return Ok(-t_quantile(1.0 - q, df)?);
    }
    let mut hi = 1.0;
    while t_cdf(hi, df)? < q {
        hi *= 2.0;
        if hi > 1e300 {
            return Ok(f64::INFINITY);
        }
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if t_cdf(mid, df)? < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_at_integers_and_half() {
        // Γ(5) = 24, Γ(1/2) = √π, Γ(1) = 1
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-13);
        assert!(ln_gamma(1.0).abs() < 1e-14);
    }

    #[test]
    fn t_with_one_and_two_df_in_closed_form() {
        // ν = 1 is Cauchy: F(t) = 1/2 + atan(t)/π; ν = 2: F(t) = 1/2 + t / (2 sqrt(2 + t²))
        for t in [-3.0, -0.4, 0.0, 0.7, 5.0] {
            let c = 0.5 + f64::atan(t) / std::f64::consts::PI;
            assert!((t_cdf(t, 1.0).unwrap() - c).abs() < 1e-14, "{t}");
            let c2 = 0.5 + t / (2.0 * (2.0 + t * t).sqrt());
            assert!((t_cdf(t, 2.0).unwrap() - c2).abs() < 1e-14, "{t}");
        }
        // the 97.5 % quantile at ν = 2 is sqrt(2) · 0.95 / sqrt(1 − 0.95²) = 4.302652729749...
        let q = 2f64.sqrt() * 0.95 / (1.0 - 0.95f64 * 0.95).sqrt();
        assert!((t_quantile(0.975, 2.0).unwrap() - q).abs() < 1e-12);
        assert!(t_quantile(1.0, 2.0).is_err());
        assert!(t_cdf(1.0, 0.0).is_err());
    }
}
