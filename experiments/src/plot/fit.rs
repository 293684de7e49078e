//! Least-squares straight-line fits (with or without an intercept) and their R².

use super::format::fmt_sig;

/// A fitted line `y = slope · x + intercept` and its coefficient of determination.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// `a` in `y = a x + b`.
    pub slope: f64,
    /// `b` in `y = a x + b` (exactly 0 for [`least_squares_through_origin`]).
    pub intercept: f64,
    /// R² = 1 − SS_res / SS_tot, SS_tot taken about the mean of y (see the fitting functions
    /// for the degenerate case where all y are equal).
    pub r2: f64,
}

impl Fit {
    /// The fitted line at `x`.
    pub fn predict(&self, x: f64) -> f64 {
        self.slope * x + self.intercept
    }

    /// The equation as text: `y = 2 x + 1, R² = 1.000` (3 significant digits for the
    /// coefficients, 3 decimals for R²; `y = a x` when the intercept is exactly 0; a negative
    /// intercept is written `y = a x - |b|`).
    pub fn equation(&self) -> String {
        let line = if self.intercept == 0.0 {
            format!("y = {} x", fmt_sig(self.slope, 3))
        } else if self.intercept < 0.0 {
            format!(
                "y = {} x - {}",
                fmt_sig(self.slope, 3),
                fmt_sig(-self.intercept, 3)
            )
        } else {
            format!(
                "y = {} x + {}",
                fmt_sig(self.slope, 3),
                fmt_sig(self.intercept, 3)
            )
        };
        format!("{line}, R² = {:.3}", self.r2)
    }
}

/// Ordinary least squares `y = a x + b` over the finite points of `points` (points with a
/// NaN or infinite coordinate are ignored).
///
/// a = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)², b = ȳ − a x̄, R² = 1 − SS_res / SS_tot with
/// SS_res = Σ(y − a x − b)² and SS_tot = Σ(y − ȳ)². When all y are equal (SS_tot = 0 up to
/// rounding) the fit is exact and R² is reported as 1.
///
/// Returns `None` when fewer than 2 distinct x values remain, or when the result is not
/// finite (coordinates so large that the sums overflow).
pub fn least_squares(points: &[(f64, f64)]) -> Option<Fit> {
    let pts = finite(points);
    let x0 = pts.first()?.0;
    if !pts.iter().any(|&(x, _)| x != x0) {
        return None;
    }
    let n = pts.len() as f64;
    let x_mean = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let y_mean = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - x_mean).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - x_mean) * (p.1 - y_mean)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = y_mean - slope * x_mean;
    let r2 = r_squared(&pts, slope, intercept, y_mean);
    checked(Fit {
        slope,
        intercept,
        r2,
    })
}

/// Least squares through the origin, `y = a x` (intercept exactly 0), over the finite points
/// of `points` (points with a NaN or infinite coordinate are ignored): a = Σxy / Σx².
///
/// R² = 1 − SS_res / SS_tot with SS_tot = Σ(y − ȳ)² about the mean, as for
/// [`least_squares`] (not the uncentred Σy² some packages use for this model), so the two
/// fits' R² compare directly; it can be negative when the line through the origin fits worse
/// than the constant ȳ. When all y are equal (SS_tot = 0 up to rounding), R² is 1 if the line
/// fits exactly and 0 otherwise.
///
/// Returns `None` when no point with x ≠ 0 remains, or when the result is not finite.
pub fn least_squares_through_origin(points: &[(f64, f64)]) -> Option<Fit> {
    let pts = finite(points);
    let sxx: f64 = pts.iter().map(|p| p.0 * p.0).sum();
    if pts.is_empty() || sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = pts.iter().map(|p| p.0 * p.1).sum();
    let slope = sxy / sxx;
    let y_mean = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
    let r2 = r_squared(&pts, slope, 0.0, y_mean);
    checked(Fit {
        slope,
        intercept: 0.0,
        r2,
    })
}

/// The points with both coordinates finite.
fn finite(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect()
}

/// 1 − SS_res / SS_tot; for SS_tot ≈ 0 (all y equal), 1 if SS_res ≈ 0 too, else 0.
fn r_squared(pts: &[(f64, f64)], slope: f64, intercept: f64, y_mean: f64) -> f64 {
    let ss_res: f64 = pts
        .iter()
        .map(|&(x, y)| (y - (slope * x + intercept)).powi(2))
        .sum();
    let ss_tot: f64 = pts.iter().map(|&(_, y)| (y - y_mean).powi(2)).sum();
    // Rounding leaves about (|y| ε)² per point in SS_tot when all y are equal.
    let tiny = 1e-24 * pts.iter().map(|&(_, y)| y * y).sum::<f64>();
    if ss_tot <= tiny {
        if ss_res <= tiny { 1.0 } else { 0.0 }
    } else {
        1.0 - ss_res / ss_tot
    }
}

/// `Some(fit)` if all its numbers are finite.
fn checked(fit: Fit) -> Option<Fit> {
    (fit.slope.is_finite() && fit.intercept.is_finite() && fit.r2.is_finite()).then_some(fit)
}
