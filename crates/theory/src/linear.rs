//! The linear expert class {x ↦ <w, x> : ||w||_2 <= B}: its empirical Rademacher complexity in
//! closed form, exactly by enumeration, and by Monte Carlo with a confidence interval
//! (THEORY.md §3.2, §3.3).

use ndarray::{Array1, ArrayView2};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use smoe_nn::SmoeRng;

use crate::error::{Result, TheoryError, check_delta, check_m, finite, non_negative};
use crate::norms::sum_sq_row_norms;

/// Largest sample for [`linear_rademacher_exact`] (2^(n-1) sign vectors).
pub const EXACT_MAX_N: usize = 20;

/// Most sign draws [`linear_rademacher_monte_carlo`] (and the bound report's
/// [`crate::BoundSettings::mc_draws`]) accept: 10⁵ draws already put the interval's
/// half-width under 1 % of the closed-form bound (δ' = 0.05), and each draw is a pass over
/// the sample.
pub const MAX_MC_DRAWS: usize = 100_000;

/// The closed-form bracket of the linear class's empirical Rademacher complexity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinearClosedForm {
    /// Sample size n.
    pub n: usize,
    /// Norm bound B.
    pub norm_bound: f64,
    /// Σ_i ||x_i||².
    pub sum_sq_norms: f64,
    /// Khintchine–Kahane (Szarek) lower bound `(B / (sqrt(2) n)) sqrt(Σ||x_i||²)`.
    pub lower: f64,
    /// Jensen upper bound `(B / n) sqrt(Σ||x_i||²)`: the value D1's worst case uses.
    pub upper: f64,
}

/// Closed form of THEORY.md §3.2: `R̂_S(F) = (B/n) E_σ ||Σ_i σ_i x_i||_2`, bracketed by
/// `(B/(sqrt(2) n)) sqrt(Σ||x_i||²) <= R̂_S(F) <= (B/n) sqrt(Σ||x_i||²)`.
///
/// # Shapes
/// `x` is `[n, d]` (the expert's routed inputs).
///
/// # Errors
/// [`TheoryError::EmptySample`] if n = 0; [`TheoryError::InvalidParameter`] /
/// [`TheoryError::NonFinite`] if B < 0 or an input is NaN/inf.
pub fn linear_rademacher_closed_form(
    x: ArrayView2<'_, f64>,
    norm_bound: f64,
) -> Result<LinearClosedForm> {
    let nf = check_m(x.nrows())?;
    non_negative("norm bound B", norm_bound)?;
    let sum_sq_norms = sum_sq_row_norms(x)?;
    let upper = finite(
        "linear Rademacher upper bound",
        norm_bound * sum_sq_norms.sqrt() / nf,
    )?;
    Ok(LinearClosedForm {
        n: x.nrows(),
        norm_bound,
        sum_sq_norms,
        lower: upper / std::f64::consts::SQRT_2,
        upper,
    })
}

/// 1 <= M <= [`MAX_MC_DRAWS`] is checked by the callers; this is the upper half.
pub(crate) fn check_draws(draws: usize) -> Result<()> {
    if draws > MAX_MC_DRAWS {
        Err(TheoryError::TooManyDraws {
            draws,
            max: MAX_MC_DRAWS,
        })
    } else {
        Ok(())
    }
}

/// The exact `(B/n) E_σ ||Σ_i σ_i x_i||_2` by enumerating the sign vectors (σ_1 fixed to +1, as
/// ||-v|| = ||v||): 2^(n-1) terms. A reference for small samples and for tests.
///
/// # Shapes
/// `x` is `[n, d]` with n <= [`EXACT_MAX_N`].
///
/// # Errors
/// [`TheoryError::EmptySample`] if n = 0; [`TheoryError::TooLarge`] if n > [`EXACT_MAX_N`];
/// [`TheoryError::InvalidParameter`] / [`TheoryError::NonFinite`] as in
/// [`linear_rademacher_closed_form`].
pub fn linear_rademacher_exact(x: ArrayView2<'_, f64>, norm_bound: f64) -> Result<f64> {
    let n = x.nrows();
    let nf = check_m(n)?;
    if n > EXACT_MAX_N {
        return Err(TheoryError::TooLarge {
            size: n,
            max: EXACT_MAX_N,
        });
    }
    non_negative("norm bound B", norm_bound)?;
    sum_sq_row_norms(x)?;
    let count = 1usize << (n - 1);
    let mut total = 0.0;
    let mut s = Array1::<f64>::zeros(x.ncols());
    for mask in 0..count {
        s.assign(&x.row(0));
        for i in 1..n {
            if mask >> (i - 1) & 1 == 1 {
                s -= &x.row(i);
            } else {
                s += &x.row(i);
            }
        }
        total += s.dot(&s).sqrt();
    }
    Ok(norm_bound * total / (count as f64 * nf))
}

/// A Monte Carlo estimate of the linear class's empirical Rademacher complexity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinearMonteCarlo {
    /// Sample size n.
    pub n: usize,
    /// Number of sign draws M.
    pub draws: usize,
    /// Failure probability δ' of the interval.
    pub delta: f64,
    /// Mean over the draws of `(B/n) ||Σ_i σ_i x_i||`.
    pub estimate: f64,
    /// `(B/n) sqrt(2 Σ_i ||x_i||² ln(2/δ') / M)`.
    pub half_width: f64,
    /// `estimate - half_width`.
    pub ci_low: f64,
    /// `estimate + half_width`.
    pub ci_high: f64,
    /// The closed-form bracket on the same sample.
    pub closed_form: LinearClosedForm,
}

/// Monte Carlo estimate of `(B/n) E_σ ||Σ_i σ_i x_i||_2` over M sign draws, with the
/// bounded-differences interval of THEORY.md §3.3: with probability >= 1 - δ' the mean lies
/// within `(B/n) sqrt(2 Σ_i ||x_i||² ln(2/δ') / M)` of the true value. Signs come from the
/// caller's stream (`rng.random::<bool>()`), so the result is reproducible.
///
/// # Shapes
/// `x` is `[n, d]`.
///
/// # Errors
/// [`TheoryError::EmptySample`] if n = 0 or M = 0; [`TheoryError::TooManyDraws`] if
/// M > [`MAX_MC_DRAWS`]; [`TheoryError::InvalidDelta`] unless
/// 0 < δ' < 1; [`TheoryError::InvalidParameter`] / [`TheoryError::NonFinite`] as in
/// [`linear_rademacher_closed_form`].
pub fn linear_rademacher_monte_carlo(
    x: ArrayView2<'_, f64>,
    norm_bound: f64,
    draws: usize,
    delta: f64,
    rng: &mut SmoeRng,
) -> Result<LinearMonteCarlo> {
    let closed_form = linear_rademacher_closed_form(x, norm_bound)?;
    let mf = check_m(draws)?;
    check_draws(draws)?;
    check_delta(delta)?;
    let n = x.nrows();
    let scale = norm_bound / n as f64;
    let mut s = Array1::<f64>::zeros(x.ncols());
    let mut total = 0.0;
    for _ in 0..draws {
        s.fill(0.0);
        for row in x.rows() {
            if rng.random::<bool>() {
                s += &row;
            } else {
                s -= &row;
            }
        }
        total += s.dot(&s).sqrt();
    }
    let estimate = finite("Monte Carlo estimate", scale * total / mf)?;
    let half_width = scale * (2.0 * closed_form.sum_sq_norms * (2.0 / delta).ln() / mf).sqrt();
    Ok(LinearMonteCarlo {
        n,
        draws,
        delta,
        estimate,
        half_width,
        ci_low: estimate - half_width,
        ci_high: estimate + half_width,
        closed_form,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};
    use smoe_nn::stream_rng;

    /// A fixed 12 x 3 sample.
    fn sample() -> Array2<f64> {
        Array2::from_shape_fn((12, 3), |(i, j)| {
            ((i * 7 + j * 3) % 5) as f64 - 2.0 + 0.25 * j as f64
        })
    }

    #[test]
    fn exact_by_hand() {
        // x = (1), (1): E|σ1 + σ2| = 1, so B/2.
        let x = array![[1.0], [1.0]];
        assert!((linear_rademacher_exact(x.view(), 3.0).unwrap() - 1.5).abs() < 1e-15);
        // Orthonormal rows: ||σ|| = sqrt(2) always.
        let e = array![[1.0, 0.0], [0.0, 1.0]];
        assert!(
            (linear_rademacher_exact(e.view(), 1.0).unwrap() - 2f64.sqrt() / 2.0).abs() < 1e-15
        );
        let cf = linear_rademacher_closed_form(e.view(), 1.0).unwrap();
        assert!((cf.upper - 2f64.sqrt() / 2.0).abs() < 1e-15);
        assert!((cf.lower - 0.5).abs() < 1e-15);
    }

    #[test]
    fn closed_form_inside_monte_carlo_interval() {
        let x = sample();
        let b = 2.0;
        let exact = linear_rademacher_exact(x.view(), b).unwrap();
        let mut rng = stream_rng(42, "linear-mc-test", 0);
        let mc = linear_rademacher_monte_carlo(x.view(), b, 4000, 0.05, &mut rng).unwrap();
        assert!(
            mc.ci_low <= exact && exact <= mc.ci_high,
            "exact {exact} outside [{}, {}]",
            mc.ci_low,
            mc.ci_high
        );
        // The interval is informative: narrower than 10% of the value.
        assert!(mc.half_width < 0.1 * exact, "half width {}", mc.half_width);
        let cf = mc.closed_form;
        assert!(
            cf.lower <= exact && exact <= cf.upper,
            "{} <= {exact} <= {}",
            cf.lower,
            cf.upper
        );
        // Same seed, same estimate.
        let mut rng2 = stream_rng(42, "linear-mc-test", 0);
        let again = linear_rademacher_monte_carlo(x.view(), b, 4000, 0.05, &mut rng2).unwrap();
        assert_eq!(mc.estimate, again.estimate);
    }

    #[test]
    fn linear_rejects_bad_inputs() {
        let x = sample();
        let mut rng = stream_rng(1, "t", 0);
        assert!(matches!(
            linear_rademacher_monte_carlo(x.view(), 1.0, 10, 1.0, &mut rng),
            Err(TheoryError::InvalidDelta { .. })
        ));
        assert_eq!(
            linear_rademacher_monte_carlo(x.view(), 1.0, 0, 0.1, &mut rng),
            Err(TheoryError::EmptySample)
        );
        assert!(linear_rademacher_closed_form(x.view(), -1.0).is_err());
        let big = Array2::<f64>::zeros((21, 1));
        assert!(matches!(
            linear_rademacher_exact(big.view(), 1.0),
            Err(TheoryError::TooLarge { .. })
        ));
        let empty = Array2::<f64>::zeros((0, 2));
        assert_eq!(
            linear_rademacher_closed_form(empty.view(), 1.0),
            Err(TheoryError::EmptySample)
        );
    }
}
