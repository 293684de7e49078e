//! The logistic loss for labels ±1, with the 0-1 error and the ramp loss as metrics.

use smoe_tasks::Targets;

use super::functions::{logistic, ramp, softplus, zero_one};
use super::{Loss, LossConfig, Metrics};

/// `log(1 + exp(−y f))` for labels `y ∈ {−1, +1}`; evaluated by the mean logistic loss
/// (`loss`), the 0-1 error of `sign f` (`error`, `sign 0 = +1`) and the ramp loss with margin
/// γ (`ramp`: 1 if `y f ≤ 0`, `1 − y f / γ` below γ, 0 above; 1/γ-Lipschitz, in [0, 1]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Logistic {
    /// Margin γ > 0 of the ramp loss.
    pub gamma: f64,
}

impl Loss for Logistic {
    fn config(&self) -> LossConfig {
        LossConfig::Logistic
    }

    fn targets(&self) -> Targets {
        Targets::Labels
    }

    fn value_and_grad(&self, f: &[f32], y: &[f32]) -> (f64, Vec<f32>) {
        logistic(f, y)
    }

    fn batch_error(&self, f: &[f32], y: &[f32]) -> Option<f64> {
        Some(
            f.iter()
                .zip(y)
                .map(|(&f, &y)| zero_one(f as f64, y as f64))
                .sum::<f64>()
                / y.len().max(1) as f64,
        )
    }

    fn metrics(&self, f: &[f64], y: &[f64]) -> Metrics {
        let (mut loss, mut error, mut rmp) = (0.0, 0.0, 0.0);
        for (&f, &y) in f.iter().zip(y) {
            loss += softplus(-y * f);
            error += zero_one(f, y);
            rmp += ramp(f, y, self.gamma);
        }
        let n = f.len().max(1) as f64;
        vec![("loss", loss / n), ("error", error / n), ("ramp", rmp / n)]
    }

    fn gaps(&self) -> Vec<(&'static str, &'static str)> {
        vec![("gap_01", "error"), ("gap_ramp", "ramp")]
    }

    fn bound_lipschitz(&self) -> Option<f64> {
        Some(1.0 / self.gamma)
    }

    fn with_margin(&self, gamma: f64) -> Option<Box<dyn Loss>> {
        Some(Box::new(Logistic { gamma }))
    }
}
