//! Synthetic binary classification tasks for smoe, drawn from seeded generators.
//!
//! - [`TaskConfig`]: which task (`kind = "mixture-of-linear" | "teacher-moe" | "l2-norm" |
//!   "sparse-parity" | "gaussian-mixture"`) and its hyper-parameters, with documented
//!   defaults; each variant's doc gives its formula and its Bayes error;
//! - [`Task`]: a validated config in dimension `d` with its hidden [`Structure`] drawn from
//!   `stream_rng(seed, "task-structure", 0)`; [`Task::sample`] draws a [`Dataset`] from any
//!   stream, [`Task::train_test`] a train and a test set sharing the structure;
//!   [`Task::score`] is the clean decision function (the Bayes classifier's sign);
//! - [`Dataset`]: `x [m, d]`, labels `y [m]` in `{−1, +1}`, optional ground-truth groups;
//! - [`TaskError`]: every way a config or a call can be wrong.
//!
//! The same config, dimension and seeds give bit-identical data.
//!
//! # Example
//! ```
//! use smoe_tasks::{Task, TaskConfig};
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
//! ```

mod chi2;
mod config;
mod dataset;
mod error;
mod gaussian_mixture;
mod linear_clusters;
mod structure;
mod task;
mod teacher;
mod util;

pub use config::{MAX_STRUCTURE_ELEMENTS, TaskConfig};
pub use dataset::Dataset;
pub use error::{Result, TaskError};
pub use gaussian_mixture::GaussianMixture;
pub use linear_clusters::LinearClusters;
pub use structure::Structure;
pub use task::{REFERENCE_SAMPLES, Task};
pub use teacher::{Teacher, TeacherExpert};
