//! One run: train (bounds included), then fill the record's git commit.

use anyhow::Result;
use smoe_train::{TrainConfig, TrainOutcome, train_in};

use crate::git;

/// Trains `cfg` (relative data paths resolved against `base_dir`), which computes every bound
/// on its training sample unless `eval.bounds` is off or the run diverged, and fills the
/// record's git commit.
///
/// # Errors
/// Config, data, training and bound errors.
pub fn run_one(
    cfg: &TrainConfig,
    base_dir: Option<&std::path::Path>,
    on_epoch: &mut dyn FnMut(&smoe_train::EpochRecord),
) -> Result<TrainOutcome> {
    let mut outcome = train_in(cfg, base_dir, on_epoch)?;
    outcome.record.git_commit = git::commit();
    Ok(outcome)
}
