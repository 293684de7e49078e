//! Learning-rate schedules.

use serde::{Deserialize, Serialize};

use crate::ScheduleKind;

/// The learning rate at each optimiser step: linear warm-up from 0 over `warmup` steps, then
/// constant or cosine decay to 0 at `total` steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    /// Peak learning rate.
    pub lr: f64,
    /// Constant or cosine after the warm-up.
    pub kind: ScheduleKind,
    /// Warm-up steps.
    pub warmup: usize,
    /// Total steps.
    pub total: usize,
}

impl LrSchedule {
    /// Learning rate of step `step` (0-based).
    pub fn at(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.lr * (step + 1) as f64 / self.warmup as f64;
        }
        match self.kind {
            ScheduleKind::Constant => self.lr,
            ScheduleKind::Cosine => {
                let span = self.total.saturating_sub(self.warmup).max(1) as f64;
                let t = (step - self.warmup) as f64 / span;
                0.5 * self.lr * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_cosine() {
        let s = LrSchedule {
            lr: 1.0,
            kind: ScheduleKind::Cosine,
            warmup: 4,
            total: 104,
        };
        assert_eq!(s.at(0), 0.25);
        assert_eq!(s.at(3), 1.0);
        assert_eq!(s.at(4), 1.0);
        assert!((s.at(54) - 0.5).abs() < 1e-12);
        assert!(s.at(103) < 1e-3);
        let c = LrSchedule {
            kind: ScheduleKind::Constant,
            warmup: 0,
            ..s
        };
        assert_eq!(c.at(77), 1.0);
    }
}
