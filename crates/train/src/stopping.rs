//! Stopping rules of mini-batch training: the budget (`train.epochs` or `train.steps`), a
//! training-loss target (`train.target_loss`) and early stopping on a validation split carved
//! from the training set (`[train.early_stopping]`), and what the record says about them.

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use smoe_nn::stream_rng;
use smoe_tasks::Dataset;

use crate::{Result, TrainError};

/// `[train.early_stopping]`: before training, a seeded share `fraction` of the training set
/// is set aside as a validation set ([`validation_split`]); the model trains on the rest (the
/// *fit set*, whose size is the `m` of the train metrics and of the bounds). Every `every`
/// epochs, and after the budget's last epoch, the loss's `loss` metric (e.g. the mean logistic
/// loss) is measured on the validation set; a check *improves* when its loss is strictly below
/// the best so far. Training stops after `patience` checks in a row without improvement, and in
/// every case the parameters of the best check are restored before the final evaluation
/// (the model's progress hook is set back to where that check was taken).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EarlyStoppingConfig {
    /// Share of the training set held out for validation, in (0, 1) (default 0.1); the
    /// validation set has `round(fraction · m)` samples, clamped to `1..=m − 1`.
    pub fraction: f64,
    /// Checks without improvement before stopping, at least 1 (default 5).
    pub patience: usize,
    /// Epochs between checks, at least 1 (default 1).
    pub every: usize,
}

impl Default for EarlyStoppingConfig {
    fn default() -> Self {
        Self {
            fraction: 0.1,
            patience: 5,
            every: 1,
        }
    }
}

/// Which rule ended mini-batch training (`stopping.rule` of a record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopRule {
    /// The epoch budget `train.epochs`.
    Epochs,
    /// The step budget `train.steps`.
    Steps,
    /// `train.target_loss`.
    TargetLoss,
    /// `[train.early_stopping]`.
    EarlyStopping,
}

/// The validation set of early stopping and the best model's metrics on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationRecord {
    /// Validation samples.
    pub n: usize,
    /// The best (restored) model's validation `loss` (`None` if no check was finite).
    pub loss: Option<f64>,
    /// Its validation 0-1 error (`None` for a loss without one).
    pub error: Option<f64>,
}

/// How mini-batch training ended (`stopping` of a record; absent in full-batch runs and in
/// old records).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoppingRecord {
    /// The configured rule: `target_loss` or `early_stopping` when set, else the budget's
    /// kind (`epochs` or `steps`).
    pub rule: StopRule,
    /// Whether the rule stopped training before the budget ran out (always false for the
    /// budget rules `epochs` and `steps`, and for a diverged run).
    pub fired: bool,
    /// The last epoch trained (from 1; the last epoch of a `steps` budget may be partial).
    pub epoch: usize,
    /// Optimiser steps taken.
    pub step: usize,
    /// The budget in steps (`epochs × ⌈m / batch⌉`, or `train.steps`): the length the LR
    /// schedule and the progress hook are defined over.
    pub budget_steps: usize,
    /// Early stopping: the epoch of the best check, whose parameters the final model has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_epoch: Option<usize>,
    /// Early stopping: the validation set and the best model's metrics on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationRecord>,
}

/// The seeded validation split of `m` training samples: the indices `0..m` are shuffled
/// with `stream_rng(seed, "val-split", 0)`; the validation set is the first
/// `round(fraction · m)` of them, clamped to `1..=m − 1`, the fit set the rest; both sorted.
/// Returns `(fit, validation)` indices.
///
/// # Errors
/// [`TrainError::InvalidConfig`] if `fraction ∉ (0, 1)` or `m < 2`.
pub fn validation_indices(m: usize, fraction: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(TrainError::InvalidConfig {
            field: "train.early_stopping.fraction",
            value: fraction.to_string(),
            reason: "must be in (0, 1)",
        });
    }
    if m < 2 {
        return Err(TrainError::InvalidConfig {
            field: "train.early_stopping",
            value: format!("{m} training samples"),
            reason: "a validation split needs at least 2 training samples",
        });
    }
    let n_val = validation_size(m, fraction);
    let mut idx: Vec<usize> = (0..m).collect();
    idx.shuffle(&mut stream_rng(seed, "val-split", 0));
    let mut val = idx[..n_val].to_vec();
    let mut fit = idx[n_val..].to_vec();
    val.sort_unstable();
    fit.sort_unstable();
    Ok((fit, val))
}

/// The validation set's size for `m ≥ 2` training samples: `round(fraction · m)` clamped to
/// `1..=m − 1` (0 for m < 2).
pub fn validation_size(m: usize, fraction: f64) -> usize {
    if m < 2 {
        return 0;
    }
    ((fraction * m as f64).round() as usize).clamp(1, m - 1)
}

/// Splits `train` by [`validation_indices`] into `(fit, validation)` datasets.
///
/// # Errors
/// Those of [`validation_indices`].
pub fn validation_split(
    train: &Dataset<f32>,
    cfg: &EarlyStoppingConfig,
    seed: u64,
) -> Result<(Dataset<f32>, Dataset<f32>)> {
    let (fit, val) = validation_indices(train.len(), cfg.fraction, seed)?;
    Ok((train.select(&fit), train.select(&val)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_seeded_disjoint_and_sized() {
        let (fit, val) = validation_indices(100, 0.1, 3).unwrap();
        assert_eq!((fit.len(), val.len()), (90, 10));
        let mut all: Vec<usize> = fit.iter().chain(&val).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(validation_indices(100, 0.1, 3).unwrap().1, val);
        assert_ne!(validation_indices(100, 0.1, 4).unwrap().1, val);
        // its own stream: not the data's train/test split of the same seed
        let (_, data_test) = smoe_tasks::split_indices(100, 0.1, 3).unwrap();
        assert_ne!(data_test, val);
        assert_eq!(validation_indices(2, 0.01, 0).unwrap().1.len(), 1);
        assert!(validation_indices(1, 0.5, 0).is_err());
        assert!(validation_indices(10, 0.0, 0).is_err());
        assert!(validation_indices(10, 1.0, 0).is_err());
    }
}
