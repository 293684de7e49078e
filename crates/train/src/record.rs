//! The run record: one JSON line per run.

use serde::{Deserialize, Serialize};

use crate::{EvalMetrics, TrainConfig};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// All epochs ran.
    Ok,
    /// A non-finite loss or logit stopped the run (see [`RunRecord::failure`]).
    Diverged,
}

/// Metrics of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// Mean logistic loss over the epoch's mini-batches (weights changing as it goes).
    pub running_loss: f64,
    /// Mean 0-1 error over the epoch's mini-batches.
    pub running_error: f64,
    /// Mean balance loss per step (0 when off).
    pub balance_loss: f64,
    /// Mean z-loss per step (0 when off).
    pub z_loss: f64,
    /// Mean importance loss per step (0 when off).
    pub importance_loss: f64,
    /// Full evaluation on the train and test sets, on evaluation epochs.
    pub eval: Option<EpochEval>,
}

/// A full evaluation at the end of an epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochEval {
    /// On the training set.
    pub train: EvalMetrics,
    /// On the test set.
    pub test: EvalMetrics,
    /// Test − train 0-1 error.
    pub gap_01: f64,
    /// Test − train ramp loss.
    pub gap_ramp: f64,
}

impl EpochEval {
    /// Pairs train and test metrics with their gaps.
    pub fn new(train: EvalMetrics, test: EvalMetrics) -> Self {
        Self {
            gap_01: test.error - train.error,
            gap_ramp: test.ramp - train.ramp,
            train,
            test,
        }
    }
}

/// Wall-clock timings (the only part of a record that differs between identical runs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Timings {
    /// Seconds in the training steps.
    pub train_secs: f64,
    /// Seconds in evaluation.
    pub eval_secs: f64,
    /// Seconds for the whole run (data, init, training, evaluation).
    pub total_secs: f64,
    /// Training samples per second (epochs × m / train_secs).
    pub train_samples_per_sec: f64,
    /// Rayon threads the run had.
    pub threads: usize,
}

/// Everything about one run, written as one JSON line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// smoe's version.
    pub smoe_version: String,
    /// Git commit of the source, when known.
    pub git_commit: Option<String>,
    /// The fully resolved config.
    pub config: TrainConfig,
    /// The run's seed (also in `config`).
    pub seed: u64,
    /// How the run ended.
    pub status: RunStatus,
    /// Why it stopped early, if it did.
    pub failure: Option<String>,
    /// Which auxiliary losses were on, with the balance-loss counting convention.
    pub aux_convention: String,
    /// Scalar parameters in the model.
    pub params: usize,
    /// The task's Bayes error where known.
    pub bayes_error: Option<f64>,
    /// Test-set metrics at initialisation (routing agreement before training, etc.).
    pub init_test: EvalMetrics,
    /// Per-epoch metrics.
    pub epochs: Vec<EpochRecord>,
    /// Final evaluation (absent if the run diverged).
    #[serde(rename = "final")]
    pub final_eval: Option<EpochEval>,
    /// Every bound with all its terms, δ and γ (a `smoe_theory::BoundReport`, filled by the
    /// runner after training; absent if the run diverged or `eval.bounds` is off).
    pub bounds: Option<serde_json::Value>,
    /// Wall-clock timings.
    pub timings: Timings,
}

impl RunRecord {
    /// The record as one JSON line (no trailing newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The record as JSON without its timings, for comparing runs.
    pub fn without_timings(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.remove("timings");
        }
        v
    }
}
