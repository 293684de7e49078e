//! Scalar loss functions on the model output `f` and labels `y ∈ {−1, +1}`.

use smoe_nn::Float;

/// Mean logistic loss `(1/b) Σ log(1 + exp(−y f))` and its gradient `dL/df`
/// (`−y σ(−y f) / b`), computed stably for large margins.
///
/// # Shapes
/// `f [b]`, `y [b] -> (loss, df [b])`.
pub fn logistic<F: Float>(f: &[F], y: &[F]) -> (f64, Vec<F>) {
    let b = f.len().max(1) as f64;
    let mut total = 0.0f64;
    let df = f
        .iter()
        .zip(y)
        .map(|(&f, &y)| {
            let (f, y) = (f.to_f64c(), y.to_f64c());
            let m = y * f;
            total += softplus(-m);
            F::from_f64c(-y * sigmoid(-m) / b)
        })
        .collect();
    (total / b, df)
}

/// `log(1 + exp(u))` without overflow.
pub fn softplus(u: f64) -> f64 {
    if u > 0.0 {
        u + (-u).exp().ln_1p()
    } else {
        u.exp().ln_1p()
    }
}

/// `1 / (1 + exp(−u))`.
pub fn sigmoid(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

/// 0-1 error of the prediction `sign(f)` (with `sign(0) = +1`).
pub fn zero_one(f: f64, y: f64) -> f64 {
    let pred = if f >= 0.0 { 1.0 } else { -1.0 };
    if pred == y { 0.0 } else { 1.0 }
}

/// Ramp loss with margin γ: 1 if `y f ≤ 0`, `1 − y f / γ` if `0 < y f < γ`, 0 if `y f ≥ γ`.
/// Values in [0, 1], 1/γ-Lipschitz in f; it bounds the 0-1 error from above (up to the
/// convention at `f = 0`).
pub fn ramp(f: f64, y: f64, gamma: f64) -> f64 {
    let m = y * f;
    if m <= 0.0 {
        1.0
    } else if m >= gamma {
        0.0
    } else {
        1.0 - m / gamma
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_by_hand() {
        let (l, df) = logistic(&[0.0f32, 2.0], &[1.0, -1.0]);
        let want = (2f64.ln() + (1.0 + 2f64.exp()).ln()) / 2.0;
        assert!((l - want).abs() < 1e-12);
        assert!((df[0] as f64 + 0.25).abs() < 1e-7);
        assert!((df[1] as f64 - sigmoid(2.0) / 2.0).abs() < 1e-7);
        // stable far out
        let (l, _) = logistic(&[-1000.0f64], &[1.0]);
        assert!((l - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn ramp_and_zero_one() {
        assert_eq!(ramp(-0.5, 1.0, 1.0), 1.0);
        assert_eq!(ramp(0.25, 1.0, 0.5), 0.5);
        assert_eq!(ramp(2.0, 1.0, 1.0), 0.0);
        assert_eq!(zero_one(0.0, 1.0), 0.0);
        assert_eq!(zero_one(0.0, -1.0), 1.0);
        assert_eq!(zero_one(-0.1, -1.0), 0.0);
    }
}
