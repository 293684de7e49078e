//! The data layer of smoe: datasets with labels or real targets, seeded synthetic tasks, and
//! data sources that read `.npy` and CSV files.
//!
//! - [`Dataset`]: `x [m, d]` and `y [m]` holding labels in `{−1, +1}` or real targets
//!   ([`Targets`]), optional ground-truth groups; checked constructors [`Dataset::new`]
//!   (labels) and [`Dataset::regression`] (real targets);
//! - [`TaskConfig`]: which synthetic task (`kind = "mixture-of-linear" | "teacher-moe" |
//!   "l2-norm" | "norm-regression" | "sparse-parity" | "gaussian-mixture" |
//!   "softmax-gated-regression" | "l2-norm-regression"`) and its hyper-parameters, with
//!   documented defaults; each variant's doc gives its formula and its Bayes error;
//! - [`SoftmaxGatedTeacher`]: the true parameters `(β₀, β₁, a, b)` of the softmax-gated
//!   regression teacher (THEORY.md §7.5), from [`Task::softmax_gated_teacher`];
//! - [`Task`]: a validated config in dimension `d` with its hidden [`Structure`] drawn from
//!   `stream_rng(seed, "task-structure", 0)`; [`Task::sample`] draws a [`Dataset`] from any
//!   stream, [`Task::train_test`] a train and a test set sharing the structure;
//!   [`Task::score`] is the clean decision function (the Bayes classifier's sign);
//! - data sources: [`DataConfig`] (`kind = "synthetic" | "npy" | "csv"`, read with
//!   [`deserialize_data_config`] so `kind` may be left out) and the one entry point
//!   [`load_data`], which returns both sets in `f32` with a [`DataDescription`] (kind, files,
//!   content hash from [`ContentHasher`]); [`split_indices`] is its seeded train/test split;
//! - [`npy`]: the project's `.npy` reader and writer (header checked against the file size
//!   before anything is allocated);
//! - [`TaskError`]: every way a config, a call or a file can be wrong.
//!
//! The same config, dimension and seeds give bit-identical data.
//!
//! # Example
//! ```
//! use smoe_tasks::{DataConfig, SyntheticData, Task, TaskConfig, load_data};
//!
//! let cfg = TaskConfig::TeacherMoe { experts: 4, k: 2, width: 8, noise: 0.0 };
//! let task = Task::new(&cfg, 10, 7).unwrap();
//! let (train, test) = task.train_test::<f32>(500, 200, 7).unwrap();
//! assert_eq!((train.len(), train.dim(), test.len()), (500, 10, 200));
//! assert!(train.y.iter().all(|y| *y == 1.0 || *y == -1.0));
//! // without noise the labels are the planted model's sign
//! assert_eq!(task.clean_labels(train.x.view()).unwrap(), train.y);
//! assert_eq!(task.bayes_error(), Some(0.0));
//!
//! // configs come from TOML/JSON with defaults for omitted fields
//! let parity: TaskConfig = serde_json::from_str(r#"{"kind": "sparse-parity"}"#).unwrap();
//! assert_eq!(parity, TaskConfig::SparseParity { support: 3 });
//!
//! // a data source gives the same synthetic data, with its description
//! let source = DataConfig::Synthetic(SyntheticData { d: 10, m_train: 500, m_test: 200, task: cfg, fresh_batches: false });
//! let data = load_data(&source, 7, None).unwrap();
//! assert_eq!((data.train, data.test), (train, test));
//! assert_eq!((data.description.kind.as_str(), data.description.content_hash), ("synthetic", None));
//! ```

mod chi2;
mod config;
mod csv_file;
mod dataset;
mod error;
mod gaussian_mixture;
mod hash;
mod linear_clusters;
mod load;
pub mod npy;
mod softmax_gated;
mod source;
mod split;
mod structure;
mod task;
mod teacher;
mod util;

pub use config::{MAX_STRUCTURE_ELEMENTS, TaskConfig};
pub use dataset::{Dataset, Targets};
pub use error::{Result, TaskError};
pub use gaussian_mixture::GaussianMixture;
pub use hash::{ContentHasher, content_hash};
pub use linear_clusters::LinearClusters;
pub use load::{DataDescription, LoadedData, data_content_hash, load_data};
pub use softmax_gated::{ExpertForm, RANDOM_SLOPE_SCALE, SoftmaxGatedTeacher};
pub use source::{CsvData, DataConfig, GivenData, NpyData, SyntheticData, deserialize_data_config};
pub use split::{split_indices, train_test_split};
pub use structure::Structure;
pub use task::{REFERENCE_SAMPLES, Task};
pub use teacher::{Teacher, TeacherExpert};
