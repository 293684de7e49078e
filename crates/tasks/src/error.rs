//! The error type of this crate.

use smoe_nn::NnError;
use thiserror::Error;

/// Errors of the data layer: task generators, datasets, data sources and files.
///
/// Configuration errors ([`TaskError::ZeroDim`], [`TaskError::InvalidParameter`],
/// [`TaskError::InvalidTopK`]) come from [`crate::TaskConfig::validate`], and
/// [`TaskError::InvalidDataConfig`] from [`crate::DataConfig::validate`]; the others from
/// sampling and from operations on data ([`TaskError::EmptyDataset`],
/// [`TaskError::Shape`], [`TaskError::IndexOutOfRange`], [`TaskError::InvalidLabel`], …) and
/// from reading files ([`TaskError::Io`], [`TaskError::Npy`], [`TaskError::Csv`], …, every
/// one naming its file; errors in the data of a file come wrapped in [`TaskError::InFile`]).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TaskError {
    /// A dimension that must be at least 1 was 0.
    #[error(transparent)]
    ZeroDim(#[from] smoe_nn::ZeroDim),
    /// A size beyond the cap ([`smoe_nn::MAX_ELEMENTS`]): a dataset, a file's header.
    #[error(transparent)]
    TooLarge(#[from] smoe_nn::TooLarge),
    /// A data file larger than [`crate::npy::MAX_FILE_BYTES`].
    #[error("{path}: {bytes} bytes is larger than the {max} bytes smoe reads")]
    FileTooLarge {
        /// The file.
        path: String,
        /// Its size.
        bytes: u64,
        /// The cap.
        max: u64,
    },
    /// A hyper-parameter is out of its range (noise NaN or outside `[0, 0.5]`, a count of 0,
    /// a parity support larger than `d`, a structure too large to allocate…).
    #[error("invalid task parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter's name as in the config (`noise`, `clusters`, `support`, …).
        name: &'static str,
        /// Its value (counts converted to `f64`).
        value: f64,
        /// What it must satisfy.
        reason: String,
    },
    /// The teacher's `k` is 0 or larger than its number of experts.
    #[error("teacher top-k must satisfy 1 <= k <= experts, got k = {k}, experts = {experts}")]
    InvalidTopK {
        /// The requested `k`.
        k: usize,
        /// The number of experts.
        experts: usize,
    },
    /// A dataset of zero samples was asked for (or an empty index list given).
    #[error("{what} must contain at least one sample")]
    EmptyDataset {
        /// What was empty.
        what: &'static str,
    },
    /// An array had the wrong shape.
    #[error(transparent)]
    Shape(#[from] smoe_nn::ShapeError),
    /// A sample index is not below the dataset's length.
    #[error("sample index {index} out of range for a dataset of {len} samples")]
    IndexOutOfRange {
        /// The offending index.
        index: usize,
        /// The dataset's length.
        len: usize,
    },
    /// A label is not exactly −1 or +1 (0/1 labels are rejected, not mapped).
    #[error("label {index} is {value}: labels must be -1 or +1")]
    InvalidLabel {
        /// Its position.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// An input value is NaN or infinite (or, after a cast, outside the target type's range).
    #[error("input x[{row}, {col}] is {value}, not a finite {ty} value")]
    NonFiniteInput {
        /// Its row (sample).
        row: usize,
        /// Its column (feature).
        col: usize,
        /// Its value (before any cast).
        value: f64,
        /// The scalar type it must fit: `"f32"` or `"f64"`.
        ty: &'static str,
    },
    /// A real target is NaN or infinite (or, after a cast, outside the target type's range).
    #[error("target y[{index}] is {value}, not a finite {ty} value")]
    NonFiniteTarget {
        /// Its position.
        index: usize,
        /// Its value (before any cast).
        value: f64,
        /// The scalar type it must fit: `"f32"` or `"f64"`.
        ty: &'static str,
    },
    /// A classification-only operation (clean labels, Bayes error) was asked of a task with
    /// real targets.
    #[error("{op} needs a classification task, but {kind} has real targets")]
    NotClassification {
        /// The operation.
        op: &'static str,
        /// The task's `kind`.
        kind: &'static str,
    },
    /// A data source config is invalid (from [`crate::DataConfig::validate`]).
    #[error("invalid data config: {field}: {reason}")]
    InvalidDataConfig {
        /// The field, as in the config (`m_train`, `test_fraction`, …).
        field: &'static str,
        /// What it must satisfy.
        reason: String,
    },
    /// Too few samples for an operation (a train/test split needs at least 2).
    #[error("{what} needs at least {needed} samples, got {got}")]
    TooFewSamples {
        /// The operation.
        what: &'static str,
        /// The minimum.
        needed: usize,
        /// The number available.
        got: usize,
    },
    /// A file could not be read or written.
    #[error("cannot {action} {path}: {message}")]
    Io {
        /// `"read"` or `"write"`.
        action: &'static str,
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// An `.npy` file is malformed: bad magic, version or header, an unsupported dtype, or a
    /// shape of the wrong number of dimensions.
    #[error("invalid .npy file {path}: {reason}")]
    Npy {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// An `.npy` file's data section does not hold exactly the bytes its header implies
    /// (a truncated file, or a corrupt header claiming a huge shape).
    #[error(
        "invalid .npy file {path}: shape {shape:?} of {item_bytes}-byte values needs \
         {expected} data bytes, the file has {got}"
    )]
    NpyLength {
        /// The file.
        path: String,
        /// The shape in the header.
        shape: Vec<u64>,
        /// Size of one stored value.
        item_bytes: usize,
        /// Bytes the header implies (saturating at `u128::MAX`).
        expected: u128,
        /// Bytes after the header.
        got: usize,
    },
    /// A CSV file could not be parsed (syntax, encoding, no feature column…).
    #[error("{path}, line {line}: {reason}")]
    Csv {
        /// The file.
        path: String,
        /// The 1-based line (0 when not known).
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A CSV row has another number of fields than the header.
    #[error("{path}, line {line}: {got} fields, the header has {expected}")]
    CsvRagged {
        /// The file.
        path: String,
        /// The 1-based line.
        line: u64,
        /// Fields in the header.
        expected: usize,
        /// Fields in the row.
        got: usize,
    },
    /// A CSV cell is not a finite number.
    #[error("{path}, line {line}, column {column:?}: {value:?} is not a finite number")]
    CsvCell {
        /// The file.
        path: String,
        /// The 1-based line.
        line: u64,
        /// The column's name.
        column: String,
        /// The cell's text.
        value: String,
    },
    /// A CSV file has no header or no data row.
    #[error("{path}: {what}")]
    CsvEmpty {
        /// The file.
        path: String,
        /// `"empty file (a header row is required)"` or `"no data rows"`.
        what: &'static str,
    },
    /// The label column is not in a CSV file's header.
    #[error("{path}: no column {column:?}; the columns are {available:?}")]
    CsvMissingColumn {
        /// The file.
        path: String,
        /// The requested column.
        column: String,
        /// The header's columns.
        available: Vec<String>,
    },
    /// A test CSV file's header differs from the training file's.
    #[error("{path}: columns {got:?} differ from the training file's {expected:?}")]
    CsvHeaderMismatch {
        /// The test file.
        path: String,
        /// The training file's columns.
        expected: Vec<String>,
        /// The test file's columns.
        got: Vec<String>,
    },
    /// An error about the data read from a file (a bad label, a non-finite value, mismatched
    /// lengths), with the file it came from.
    #[error("{path}: {source}")]
    InFile {
        /// The file (or files, joined by `" + "`).
        path: String,
        /// The error.
        source: Box<TaskError>,
    },
    /// An error of the dense building blocks (not expected after validation).
    #[error(transparent)]
    Nn(#[from] NnError),
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, TaskError>;
