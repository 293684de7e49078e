//! Training for smoe: from a [`TrainConfig`] to a trained model and its [`RunRecord`].
//!
//! - [`loss`]: the logistic training loss, the 0-1 error and the ramp loss with margin γ;
//! - [`aux`]: auxiliary routing losses — Switch load balancing, router z-loss, importance CV²;
//! - [`LrSchedule`]: constant or cosine, with linear warm-up;
//! - [`metrics`]: evaluation with routing statistics (load, entropy, dead experts, distinct
//!   k-subsets, routing margin, agreement with ground-truth groups);
//! - [`train`]: the seeded, deterministic training loop;
//! - [`RunRecord`]: one JSON line per run.
//!
//! # Example
//! ```
//! use smoe_train::{TrainConfig, train};
//!
//! let mut cfg = TrainConfig::default();
//! cfg.data.m_train = 256;
//! cfg.data.m_test = 256;
//! cfg.train.epochs = 2;
//! let out = train(&cfg, &mut |_| {}).unwrap();
//! assert_eq!(out.record.epochs.len(), 2);
//! let fin = out.record.final_eval.expect("ran to the end");
//! assert!(fin.test.error <= 1.0);
//! ```

pub mod aux;
mod config;
mod error;
pub mod loss;
pub mod metrics;
mod record;
mod schedule;
mod trainer;

pub use config::{
    AuxConfig, DataConfig, EvalConfig, ModelSpec, OptimKind, ScheduleKind, TrainConfig,
    TrainSection,
};
pub use error::TrainError;
pub use metrics::{EvalMetrics, evaluate};
pub use record::{EpochEval, EpochRecord, RunRecord, RunStatus, Timings};
pub use schedule::LrSchedule;
pub use trainer::{TrainOutcome, train};

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, TrainError>;
