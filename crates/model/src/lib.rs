//! The sparse Mixture-of-Experts model: router + gate + experts.
//!
//! [`SparseMoe`] computes `f(x) = Σ_{j∈S(x)} w_j(x) h_j(x)` with compute that follows
//! sparsity: the (row, slot) assignments are counting-sorted by expert into one contiguous
//! buffer, each expert runs once on its slice, and the weighted outputs are scatter-added
//! back. [`SparseMoe::backward`] walks the same path in reverse and fills every gradient.
//!
//! - [`Model`]: the interface every layer above the model uses (forward, backward, infer,
//!   parameters, config, progress hook), with [`ModelOutput`] = `f` + typed
//!   [`RoutingDiagnostics`]; [`build_model`] builds any [`ModelConfig`];
//! - [`ModelConfig`] (`kind = "sparse"` or `"soft"`) / [`SparseConfig`] / [`SoftConfig`]:
//!   the model as one validated, serde config (d and the seed are passed in);
//! - [`SparseMoe`]: forward, backward, inference, parameters;
//! - [`soft`]: [`SoftMoe`] (tokens, slots, dispatch and combine softmaxes, THEORY §8.1) and
//!   expert-subset selection at inference ([`SubsetRule`], §8.4);
//! - [`Dispatch`]: the counting-sort plan (with optional capacity and drop accounting);
//! - [`oracle`]: the dense reference path (every expert on every row), a test oracle only;
//! - [`checkpoint`]: safetensors + JSON config, PyTorch layouts.
//!
//! # Example
//! ```
//! use ndarray::Array2;
//! use smoe_model::{SparseConfig, SparseMoe};
//!
//! let cfg = SparseConfig { experts: 8, k: 2, ..Default::default() };
//! let mut model = SparseMoe::<f64>::new(&cfg, 4, 0).unwrap(); // d = 4, seed 0
//! let x = Array2::from_shape_fn((16, 4), |(i, j)| ((i * 4 + j) as f64).sin());
//! let out = model.forward(x.view(), false).unwrap();
//! assert_eq!(out.f.len(), 16);
//! assert_eq!(out.counts.iter().sum::<usize>(), 32);
//! let dx = model.backward(ndarray::Array1::ones(16).view()).unwrap();
//! assert_eq!(dx.dim(), (16, 4));
//! ```

pub mod checkpoint;
mod config;
mod dispatch;
mod error;
mod model;
mod moe;
pub mod oracle;
pub mod soft;

pub use config::{ModelConfig, SparseConfig, deserialize_model};
pub use dispatch::{DROPPED, Dispatch};
pub use error::ModelError;
pub use model::{Model, ModelOutput, RoutingDiagnostics, TopKRouting, build_model};
pub use moe::{AuxGrad, MoeOutput, SparseMoe};
pub use soft::{SoftConfig, SoftHead, SoftMoe, SoftRouting, SubsetRule};

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, ModelError>;
