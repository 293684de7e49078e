use smoe_model::ModelError;
use smoe_nn::NnError;
use smoe_tasks::TaskError;
use thiserror::Error;

/// Errors of training.
#[derive(Debug, Error)]
pub enum TrainError {
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
    /// From the task generator.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// From the model.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// From the optimiser.
    #[error(transparent)]
    Nn(#[from] NnError),
}
