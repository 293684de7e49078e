use smoe_experts::ExpertError;
use smoe_gating::GatingError;
use smoe_nn::NnError;
use smoe_router::RouterError;
use thiserror::Error;

/// Errors of the assembled model, its inputs and its checkpoints.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A config value is out of range (checked before anything is built).
    #[error("invalid model config: {field} = {value}: {reason}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// Its value, as text.
        value: String,
        /// What it must satisfy.
        reason: &'static str,
    },
    /// k must satisfy 1 ≤ k ≤ T.
    #[error("invalid top-k: k = {k} with {experts} experts (need 1 <= k <= T)")]
    InvalidTopK {
        /// Requested k.
        k: usize,
        /// Number of experts T.
        experts: usize,
    },
    /// An array had the wrong shape.
    #[error(transparent)]
    Shape(#[from] smoe_nn::ShapeError),
    /// A size beyond the cap (parameters, activations, a file's header).
    #[error(transparent)]
    TooLarge(#[from] smoe_nn::TooLarge),
    /// An input value is NaN or infinite.
    #[error("non-finite input at row {row}, column {col}")]
    NonFiniteInput {
        /// Row.
        row: usize,
        /// Column.
        col: usize,
    },
    /// `backward` was called without a training forward pass before it.
    #[error("backward called without a forward pass (call forward first)")]
    NoForward,
    /// A checkpoint lacks a tensor the config requires.
    #[error("checkpoint {path}: missing tensor {name}")]
    MissingTensor {
        /// The file.
        path: String,
        /// The tensor.
        name: String,
    },
    /// A checkpoint tensor has the wrong shape for the config.
    #[error("checkpoint {path}: tensor {name} has shape {got:?}, the config needs {expected:?}")]
    TensorShape {
        /// The file.
        path: String,
        /// The tensor.
        name: String,
        /// Shape the config implies.
        expected: Vec<usize>,
        /// Shape in the file.
        got: Vec<usize>,
    },
    /// A checkpoint tensor has a dtype smoe cannot read (or not the model's float type).
    #[error("checkpoint {path}: tensor {name} has dtype {dtype}, expected F32 or F64")]
    TensorDtype {
        /// The file.
        path: String,
        /// The tensor.
        name: String,
        /// The dtype found.
        dtype: String,
    },
    /// A checkpoint holds a tensor the config does not have.
    #[error("checkpoint {path}: unexpected tensor {name} (the config has no such parameter)")]
    UnexpectedTensor {
        /// The file.
        path: String,
        /// The tensor.
        name: String,
    },
    /// A checkpoint file could not be read or parsed.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// From the router.
    #[error(transparent)]
    Router(#[from] RouterError),
    /// From the gate.
    #[error(transparent)]
    Gating(#[from] GatingError),
    /// From an expert.
    #[error(transparent)]
    Expert(#[from] ExpertError),
    /// From a dense layer.
    #[error(transparent)]
    Nn(#[from] NnError),
}
