//! The squared loss for real targets, with MSE and R² as metrics.

use smoe_tasks::Targets;

use super::{Loss, LossConfig, Metrics};

/// `(f − y)² / 2` for real targets; evaluated by `loss` (its mean), `mse` (the mean of
/// `(f − y)²`) and `r2` (`1 − SSE / SST`, SST the sum of squares of y about its mean; 0 when
/// every target is equal and the fit is exact, `−inf` is avoided by reporting
/// `1 − SSE / max(SST, ε)` with ε the smallest positive normal f64).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Squared;

impl Loss for Squared {
    fn config(&self) -> LossConfig {
        LossConfig::Squared
    }

    fn targets(&self) -> Targets {
        Targets::Real
    }

    fn value_and_grad(&self, f: &[f32], y: &[f32]) -> (f64, Vec<f32>) {
        let b = f.len().max(1) as f64;
        let mut total = 0.0f64;
        let df = f
            .iter()
            .zip(y)
            .map(|(&f, &y)| {
                let r = f as f64 - y as f64;
                total += 0.5 * r * r;
                (r / b) as f32
            })
            .collect();
        (total / b, df)
    }

    fn metrics(&self, f: &[f64], y: &[f64]) -> Metrics {
        let n = f.len().max(1) as f64;
        let sse: f64 = f.iter().zip(y).map(|(f, y)| (f - y) * (f - y)).sum();
        let mean = y.iter().sum::<f64>() / n;
        let sst: f64 = y.iter().map(|y| (y - mean) * (y - mean)).sum();
        let r2 = 1.0 - sse / sst.max(f64::MIN_POSITIVE);
        vec![("loss", 0.5 * sse / n), ("mse", sse / n), ("r2", r2)]
    }

    fn gaps(&self) -> Vec<(&'static str, &'static str)> {
        vec![("gap_mse", "mse")]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let (l, df) = Squared.value_and_grad(&[1.0, 3.0], &[0.0, 1.0]);
        assert!((l - (0.5 + 2.0) / 2.0).abs() < 1e-12);
        assert_eq!(df, vec![0.5, 1.0]);
        let m = Squared.metrics(&[1.0, 3.0, 2.0], &[1.0, 2.0, 3.0]);
        assert_eq!(m[1], ("mse", 2.0 / 3.0));
        // SST = 2, SSE = 2: R² = 0
        assert!((m[2].1 - 0.0).abs() < 1e-12);
        let perfect = Squared.metrics(&[1.0, 2.0], &[1.0, 2.0]);
        assert_eq!(perfect[2], ("r2", 1.0));
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let f = [0.3f32, -1.2, 2.0];
        let y = [1.0f32, 0.5, -0.25];
        let (_, g) = Squared.value_and_grad(&f, &y);
        for i in 0..3 {
            let (mut up, mut dn) = (f, f);
            up[i] += 1e-3;
            dn[i] -= 1e-3;
            let num =
                (Squared.value_and_grad(&up, &y).0 - Squared.value_and_grad(&dn, &y).0) / 2e-3;
            assert!((num - g[i] as f64).abs() < 1e-4, "{i}: {num} vs {}", g[i]);
        }
    }
}
