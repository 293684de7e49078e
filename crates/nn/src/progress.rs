//! Where training is: what the trainer tells every component before each optimiser step.

use serde::{Deserialize, Serialize};

/// Training progress, passed to every component's `on_progress` hook before each optimiser
/// step (gates with temperature schedules, for instance, read `fraction`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Progress {
    /// Optimiser steps taken so far (0 before the first).
    pub step: usize,
    /// Total optimiser steps of the run.
    pub total_steps: usize,
    /// The current epoch, from 1.
    pub epoch: usize,
    /// `step / total_steps`, in [0, 1].
    pub fraction: f64,
}

impl Progress {
    /// Progress at `step` of `total_steps` in `epoch`.
    pub fn at(step: usize, total_steps: usize, epoch: usize) -> Self {
        Self {
            step,
            total_steps,
            epoch,
            fraction: if total_steps == 0 {
                0.0
            } else {
                (step as f64 / total_steps as f64).min(1.0)
            },
        }
    }
}
