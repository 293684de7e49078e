use smoe_model::ModelError;
use smoe_nn::NnError;
use smoe_tasks::{Targets, TaskError};
use smoe_theory::TheoryError;
use thiserror::Error;

/// Errors of training.
#[derive(Debug, Error)]
pub enum TrainError {
    /// A size beyond the cap (a batch's or an evaluation block's activations).
    #[error(transparent)]
    TooLarge(#[from] smoe_nn::TooLarge),
    /// A config value is out of range (checked before anything runs).
    #[error("invalid config: {field} = {value}: {reason}")]
    InvalidConfig {
        /// Dotted field name.
        field: &'static str,
        /// Its value, as text.
        value: String,
        /// What it must satisfy.
        reason: &'static str,
    },
    /// A dataset's targets are not what the loss needs.
    #[error(
        "the {set} set holds {} but the {loss} loss needs {}",
        describe(*got),
        describe(*needs)
    )]
    Targets {
        /// `training` or `test`.
        set: &'static str,
        /// The loss.
        loss: String,
        /// What the loss needs.
        needs: Targets,
        /// What the data holds.
        got: Targets,
    },
    /// From the bounds.
    #[error(transparent)]
    Theory(#[from] TheoryError),
    /// From the data source or task generator.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// From the model.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// From the optimiser.
    #[error(transparent)]
    Nn(#[from] NnError),
}

/// Targets in words, for messages.
fn describe(t: Targets) -> &'static str {
    match t {
        Targets::Labels => "labels (-1/+1)",
        Targets::Real => "real targets",
    }
}
