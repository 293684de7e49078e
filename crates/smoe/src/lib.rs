//! **smoe** — train sparse Mixture-of-Experts models on the CPU and put learning theory to
//! the test.
//!
//! This facade re-exports the public API of the smoe crates, so `use smoe::...` is all a user
//! needs:
//!
//! - model: [`SparseMoe`], [`MoeConfig`], [`MoeOutput`], [`Dispatch`], [`checkpoint`], [`oracle`];
//! - parts: [`Router`], [`LinearRouter`], [`MlpRouter`]; [`Gate`], [`TopKSoftmax`],
//!   [`SoftmaxTopK`], [`DenseSoftmax`], [`NoisyTopK`], [`Routing`]; [`Expert`], [`MlpExpert`];
//! - dense blocks and training tools: [`Linear`], [`Activation`], [`Init`], [`Sgd`], [`Adam`],
//!   [`Optimizer`], [`check_gradient`], [`stream_rng`];
//! - the crates themselves as [`nn`], [`router`], [`gating`], [`experts`], [`model`].
//!
//! # Example
//! ```
//! use ndarray::Array2;
//! use smoe::{Adam, AdamConfig, MoeConfig, Optimizer, SparseMoe};
//!
//! let cfg = MoeConfig { d: 8, experts: 4, k: 2, ..Default::default() };
//! let mut model = SparseMoe::<f32>::new(&cfg)?;
//! let x = Array2::<f32>::from_shape_fn((32, 8), |(i, j)| ((i + 3 * j) as f32).cos());
//! let out = model.forward(x.view(), true)?;
//! // logistic loss with every label +1: dL/df = -sigmoid(-f) / b
//! let df = out.f.mapv(|f| -1.0 / (1.0 + f.exp()) / 32.0);
//! model.zero_grad();
//! model.backward(df.view())?;
//! let mut opt = Adam::new(AdamConfig { lr: 1e-2, ..Default::default() })?;
//! opt.step(&mut model.params_mut())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use smoe_experts as experts;
pub use smoe_gating as gating;
pub use smoe_model as model;
pub use smoe_nn as nn;
pub use smoe_router as router;

pub use smoe_experts::{Expert, ExpertConfig, ExpertError, MlpExpert, Tape};
pub use smoe_gating::{
    DenseSoftmax, Gate, GateConfig, GateGrad, GatingError, NoisyTopK, Routing, SoftmaxTopK,
    TopKSoftmax,
};
pub use smoe_model::{Dispatch, ModelError, MoeConfig, MoeOutput, SparseMoe, checkpoint, oracle};
pub use smoe_nn::{
    Activation, ActivationKind, Adam, AdamConfig, Float, Init, Linear, NnError, Optimizer,
    ParamMut, ParamRef, Sgd, SgdConfig, SmoeRng, check_gradient, stream_rng,
};
pub use smoe_router::{LinearRouter, MlpRouter, Router, RouterConfig, RouterError};

/// The README's code blocks, compiled and run by `cargo test` as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
