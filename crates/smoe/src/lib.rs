//! **smoe** — train sparse Mixture-of-Experts models on the CPU and put learning theory to
//! the test.
//!
//! This facade re-exports the public API of the smoe crates, so `use smoe::...` (or
//! `use smoe::prelude::*`) is all a user needs:
//!
//! - model: the [`Model`] interface, [`SparseMoe`], [`ModelConfig`] / [`SparseConfig`],
//!   [`ModelOutput`] with its [`RoutingDiagnostics`], [`build_model`], [`checkpoint`],
//!   [`oracle`]; Soft MoE: [`SoftMoe`] / [`SoftConfig`], [`SoftRouting`], expert-subset
//!   selection ([`SubsetRule`], [`soft`]);
//! - parts: [`Router`], [`LinearRouter`], [`MlpRouter`]; [`Gate`], [`TopKSoftmax`],
//!   [`SoftmaxTopK`], [`DenseSoftmax`], [`NoisyTopK`], [`Routing`]; [`Expert`], [`MlpExpert`];
//! - data: [`Dataset`] (labels or real targets), [`DataConfig`], [`LoadedData`] (including
//!   [`LoadedData::given`] for your own arrays), [`load_data`], synthetic tasks
//!   ([`TaskConfig`], [`Task`]), [`npy`];
//! - training: [`fit`] (any model, any [`Loss`], given data), [`train`] (a config),
//!   [`TrainConfig`], [`Logistic`], [`Squared`], [`RunRecord`], [`evaluate`];
//! - theory: [`bound_report`], [`BoundReport`], the [`Bound`] interface and its registry
//!   [`bounds`]; PAC-Bayes certificates: [`CertifyConfig`] (a run config's `[certify]`),
//!   [`certify_run`] for a trained run, [`CertificateRecord`];
//! - dense blocks and tools: [`Linear`], [`Activation`], [`Init`], [`Sgd`], [`Adam`],
//!   [`Optimizer`], [`check_gradient`], [`stream_rng`], [`Progress`];
//! - the crates themselves as [`nn`], [`router`], [`gating`], [`experts`], [`model`],
//!   [`tasks`], [`theory`], [`training`].
//!
//! # Example: train on your own arrays and read the record
//! ```
//! use ndarray::{Array1, Array2};
//! use smoe::prelude::*;
//!
//! // 400 inputs of width 5; the label is the sign of the first coordinate
//! let x = Array2::<f32>::from_shape_fn((400, 5), |(i, j)| ((7 * i + 3 * j) as f32 * 0.37).sin());
//! let y: Array1<f32> = x.column(0).mapv(|v| if v >= 0.0 { 1.0 } else { -1.0 });
//! let all = Dataset::new(x, y, None)?;
//! let (train_set, test_set) = train_test_split(&all, 0.25, 0)?;
//! let data = LoadedData::given("my arrays", train_set, test_set)?;
//!
//! let mut settings = TrainConfig::default();
//! settings.train.epochs = 5;
//! let model_cfg = SparseConfig { experts: 4, k: 2, ..Default::default() };
//! let mut model = SparseMoe::<f32>::new(&model_cfg, data.train.dim(), settings.seed)?;
//! let record = fit(&settings, &mut model, &Logistic { gamma: 1.0 }, &data, &mut |_| {})?;
//! let fin = record.final_eval.as_ref().expect("ran to the end");
//! assert!(fin.test.get("error").expect("0-1 error") < 0.5);
//! assert!(record.bounds.as_ref().is_some_and(|b| b.get("zhao").is_some()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use smoe_experts as experts;
pub use smoe_gating as gating;
pub use smoe_model as model;
pub use smoe_nn as nn;
pub use smoe_router as router;
pub use smoe_tasks as tasks;
pub use smoe_theory as theory;
pub use smoe_train as training;

pub use smoe_experts::{Expert, ExpertConfig, ExpertError, MlpExpert, Tape};
pub use smoe_gating::{
    DenseSoftmax, DenseToSparse, Gate, GateActivation, GateConfig, GateGrad, GateProperties,
    GatingError, HierarchicalSoftmax, NoisyTopK, Routing, SigmoidGate, SoftmaxTopK, TauSchedule,
    Temperature, TopKSoftmax, TopKWeights, check_dweight, check_inputs, check_k, select_topk,
    topk_mass,
};
pub use smoe_model::{
    AuxGrad, Dispatch, Model, ModelConfig, ModelError, ModelOutput, MoeOutput, RoutingDiagnostics,
    SparseConfig, SparseMoe, TopKRouting, build_model, checkpoint, oracle,
};
pub use smoe_model::{SoftConfig, SoftHead, SoftMoe, SoftRouting, SubsetRule, soft};
pub use smoe_nn::{
    Activation, ActivationKind, Adam, AdamConfig, Float, Init, Linear, NnError, Optimizer,
    ParamMut, ParamRef, Progress, Sgd, SgdConfig, ShapeError, SmoeRng, check_gradient, stream_rng,
};
pub use smoe_router::{LinearRouter, LowRankRouter, MlpRouter, Router, RouterConfig, RouterError};
pub use smoe_tasks::{
    DataConfig, DataDescription, Dataset, ExpertForm, LoadedData, SoftmaxGatedTeacher, Targets,
    Task, TaskConfig, TaskError, load_data, npy, train_test_split,
};
pub use smoe_theory::certify::{CertificateRecord, CertifyConfig};
pub use smoe_theory::{
    Bound, BoundReport, BoundSettings, BoundValue, MixingMeasure, VoronoiLoss, bound_report,
    bounds, model_voronoi_loss, voronoi_loss,
};
pub use smoe_train::certify::certify_run;
pub use smoe_train::{
    EvalMetrics, Logistic, Loss, LossConfig, RunRecord, Squared, TrainConfig, TrainError, evaluate,
    fit, train,
};

/// The names most programs need: `use smoe::prelude::*`.
pub mod prelude {
    pub use crate::{
        Dataset, Gate, LoadedData, Logistic, Loss, Model, ModelConfig, Optimizer, RunRecord,
        SparseConfig, SparseMoe, Squared, TrainConfig, fit, train, train_test_split,
    };
}

/// The README's code blocks, compiled and run by `cargo test` as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
