//! One run: train, then put every bound beside the measured gaps.

use anyhow::Result;
use smoe_theory::{BoundSettings, bound_report};
use smoe_train::{TrainConfig, TrainOutcome, train};

use crate::git;

/// Trains `cfg`, computes the bound report on its training sample (unless `eval.bounds` is
/// off or the run diverged) and fills the record's git commit.
///
/// # Errors
/// Config, training and bound errors.
pub fn run_one(
    cfg: &TrainConfig,
    on_epoch: &mut dyn FnMut(&smoe_train::EpochRecord),
) -> Result<TrainOutcome> {
    let mut outcome = train(cfg, on_epoch)?;
    if cfg.eval.bounds && outcome.record.final_eval.is_some() {
        let report = bound_report(
            &outcome.model,
            outcome.train_set.x.view(),
            &BoundSettings {
                delta: cfg.eval.delta,
                gamma: cfg.eval.gamma,
                mc_draws: cfg.eval.mc_draws,
                seed: cfg.seed,
            },
        )?;
        outcome.record.bounds = Some(serde_json::to_value(&report)?);
    }
    outcome.record.git_commit = git::commit();
    Ok(outcome)
}
