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
    /// The input width is not divisible by the number of tokens of a soft model.
    #[error("invalid model config: d = {d} is not divisible by tokens = {tokens}")]
    TokensDoNotDivide {
        /// The input width.
        d: usize,
        /// The tokens it is cut into.
        tokens: usize,
    },
    /// Auxiliary-loss gradients on top-k routing were passed to a model without it.
    #[error(
        "a {kind} model has no top-k routing: auxiliary routing losses do not apply (set aux.* to 0)"
    )]
    AuxNotSupported {
        /// The model kind.
        kind: &'static str,
    },
    /// An array had the wrong shape.
    #[error(transparent)]
    Shape(#[from] smoe_nn::ShapeError),
    /// A size beyond the cap (parameters, activations, a file's header).
    #[error(transparent)]
    TooLarge(#[from] smoe_nn::TooLarge),
    /// An input value is NaN or infinite.
    #[error("input x has a non-finite value (NaN or infinite) at row {row}, column {col}")]
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
    /// A checkpoint tensor's dtype is not the one its config declares (every tensor has it).
    #[error("checkpoint {path}: tensor {name} has dtype {dtype}, the config declares {expected}")]
    TensorDtype {
        /// The file.
        path: String,
        /// The tensor.
        name: String,
        /// The dtype found.
        dtype: String,
        /// The dtype the checkpoint's config declares (`F32` or `F64`).
        expected: String,
    },
    /// A checkpoint tensor holds a NaN or infinite value (or a value that overflows the
    /// model's float type).
    #[error("checkpoint {path}: tensor {name} has a non-finite value {value} at index {index}")]
    NonFiniteParam {
        /// The file.
        path: String,
        /// The tensor.
        name: String,
        /// Row-major index of the first such value.
        index: usize,
        /// The value, after conversion to the model's float type.
        value: f64,
    },
    /// A field of a checkpoint's JSON config is missing, unknown or of the wrong form:
    /// a checkpoint must be complete, no default is filled in.
    #[error("checkpoint {path}: field {field} {problem}")]
    CheckpointField {
        /// The JSON file.
        path: String,
        /// The field, dotted (e.g. `model.k`).
        field: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A checkpoint file is larger than smoe reads, or holds more values than it loads.
    #[error("checkpoint {path}: {what} is {size}, more than the limit of {limit}")]
    CheckpointTooLarge {
        /// The file.
        path: String,
        /// What was measured (e.g. `the JSON config's size in bytes`).
        what: &'static str,
        /// Its value.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A safetensors file's size disagrees with its header (truncated or padded).
    #[error(
        "checkpoint {path}: the header describes a file of {expected} bytes but the file has {actual} bytes (truncated or padded)"
    )]
    CheckpointFileSize {
        /// The file.
        path: String,
        /// The size the header implies (8 + header + tensor data).
        expected: u64,
        /// The size on disk.
        actual: u64,
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
