//! Training for smoe: from a [`TrainConfig`] — or a model, a loss and data of your own — to a
//! trained model and its [`RunRecord`].
//!
//! - [`fit`]: trains any [`smoe_model::Model`] with any [`Loss`] on given train/test
//!   datasets and returns the typed record (bounds included); [`train`] builds the data, the
//!   model and the loss of a config and calls it;
//! - [`loss`]: the [`Loss`] interface, [`Logistic`] (0-1 error, ramp loss with margin γ) and
//!   [`Squared`] (MSE, R²), their config [`LossConfig`];
//! - [`aux`]: auxiliary routing losses — Switch load balancing, router z-loss, importance CV²;
//! - [`LrSchedule`]: constant or cosine, with linear warm-up, over the run's budget of
//!   `train.epochs` or `train.steps`;
//! - [`stopping`]: the stopping rules — a training-loss target and early stopping on a seeded
//!   validation split ([`EarlyStoppingConfig`]) — and the record's [`StoppingRecord`];
//! - [`margin`]: the ramp margin γ, fixed or `"p10"` ([`MarginRule`], [`MarginRecord`]);
//! - full-batch fitting (`[train.full_batch]`, [`FullBatchConfig`]): L-BFGS or Adam on the
//!   whole training set from several restarts, the best kept ([`FullBatchRecord`]);
//! - [`metrics`]: evaluation with routing statistics (load, entropy, dead experts, distinct
//!   k-subsets, routing margin, agreement with ground-truth groups; a soft model's dispatch
//!   and combine entropies and combine mass);
//! - [`subsets`]: a soft model's test metrics with only k experts kept per input, per rule;
//! - [`certify`]: the PAC-Bayes certificate of a trained run (`[certify]`, the prior at the
//!   initialisation or fitted on held-out rows), [`certify::certify_run`];
//! - [`RunRecord`]: one JSON line per run, typed to its bounds, with a [`SCHEMA`] version and
//!   [`RunRecord::scalars`], the one list of its named scalars.
//!
//! # Example
//! ```
//! use smoe_tasks::{DataConfig, SyntheticData};
//! use smoe_train::{TrainConfig, train};
//!
//! let mut cfg = TrainConfig::default();
//! cfg.data = DataConfig::Synthetic(SyntheticData { m_train: 256, m_test: 256, ..Default::default() });
//! cfg.train.epochs = 2;
//! let out = train(&cfg, &mut |_| {}).unwrap();
//! assert_eq!(out.record.epochs.len(), 2);
//! let fin = out.record.final_eval.expect("ran to the end");
//! assert!(fin.test.get("error").unwrap() <= 1.0);
//! assert!(fin.gap("gap_ramp").is_some());
//! assert!(out.record.bounds.is_some()); // every bound, beside the measured gaps
//! ```

pub mod aux;
pub mod certify;
mod config;
mod error;
mod full_batch;
pub mod loss;
pub mod margin;
mod margin_eval;
pub mod metrics;
mod minibatch;
mod record;
mod schedule;
mod step;
pub mod stopping;
pub mod subsets;
mod trainer;

pub use config::{
    AuxConfig, DEFAULT_EPOCHS, EvalConfig, FullBatchConfig, FullBatchOptimizer, MAX_EPOCHS,
    MAX_HISTORY, MAX_MC_DRAWS, MAX_RESTARTS, MAX_STEPS, OptimKind, ScheduleKind, SubsetEvalConfig,
    TrainConfig, TrainSection,
};
pub use error::TrainError;
pub use loss::{Logistic, Loss, LossConfig, Squared, build_loss};
pub use margin::{MarginRecord, MarginRule};
pub use metrics::{EvalMetrics, Scalars, evaluate};
pub use record::{
    EpochEval, EpochRecord, FullBatchRecord, RestartRecord, RunRecord, RunStatus, SCHEMA, Timings,
};
pub use schedule::LrSchedule;
pub use stopping::{
    EarlyStoppingConfig, StopRule, StoppingRecord, ValidationRecord, validation_split,
};
pub use subsets::{SubsetEval, evaluate_subsets};
pub use trainer::{TrainOutcome, fit, train, train_in};

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, TrainError>;
