//! Dense building blocks for smoe.
//!
//! Everything a sparse Mixture-of-Experts model is made of below the level of routing:
//!
//! - [`Float`]: the scalar type (f32 for training, f64 for gradient checks);
//! - [`Linear`]: a batched affine layer `y = x Wᵀ + b` with its exact backward pass, fast for
//!   both tiny groups of rows and large batches;
//! - [`Activation`] and [`Prelu`]: ReLU, PReLU (learnable slope), the logistic [`sigmoid`] and
//!   identity;
//! - [`ParamRef`]/[`ParamMut`]: named parameter tensors with their gradients, the common currency
//!   of optimisers and checkpoints;
//! - [`Init`] and [`stream_rng`]: PyTorch-default and Kaiming initialisation, each component
//!   drawing from its own seeded stream;
//! - [`Sgd`], [`Adam`]: optimisers behind the [`Optimizer`] trait; [`Lbfgs`]: L-BFGS over a
//!   flat parameter vector with the [`strong_wolfe`] line search (full-batch fitting);
//! - [`check_gradient`]: the central-difference gradient checker every crate's tests use;
//! - [`ShapeError`]: the one shape error every crate wraps; [`TooLarge`] and [`check_elements`]:
//!   the size cap ([`MAX_ELEMENTS`]) checked before any allocation sized by user input;
//!   [`read_capped`]: the one reader of user files, their size checked first; [`ln_gamma`];
//! - [`softmax_in_place`] and [`Float::exp_in_place`]: the vectorised exponential;
//! - [`tagged`]: config kinds as tagged tables with a default `kind`.
//!
//! # Example
//! ```
//! use ndarray::array;
//! use smoe_nn::{Init, Linear, stream_rng};
//!
//! let mut rng = stream_rng(7, "example", 0);
//! let mut layer = Linear::<f64>::new(3, 2, Init::PytorchUniform, &mut rng).unwrap();
//! let x = array![[1.0, 2.0, 3.0]];
//! let y = layer.forward(x.view()).unwrap();
//! assert_eq!(y.dim(), (1, 2));
//! let dy = array![[1.0, 0.0]];
//! let dx = layer.backward(x.view(), dy.view()).unwrap();
//! assert_eq!(dx.dim(), (1, 3));
//! ```

mod activation;
mod error;
mod file;
mod float;
mod gradcheck;
mod init;
pub mod kernels;
mod lbfgs;
mod line_search;
mod linear;
mod optim;
mod param;
mod progress;
mod shape;
mod simd;
mod size;
mod special;
pub mod tagged;
mod vexp;

pub use activation::{Activation, ActivationKind, Prelu, sigmoid};
pub use error::NnError;
pub use file::{ReadCapped, read_capped};
pub use float::Float;
pub use gradcheck::{GradCheck, central_difference, check_gradient, relative_error};
pub use init::{Init, SmoeRng, stream_rng, stream_seed};
pub use lbfgs::{CURVATURE_EPS, Lbfgs, LbfgsConfig, LbfgsOutcome, LbfgsStop};
pub use line_search::{LinePoint, LineSearchOutcome, WolfeParams, strong_wolfe};
pub use linear::Linear;
pub use optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
pub use param::{ParamMut, ParamRef, grad_vector, param_vector, set_param_vector, zero_grads};
pub use progress::Progress;
pub use shape::{ShapeError, ZeroDim};
pub use simd::Lane;
pub use size::{MAX_ELEMENTS, TooLarge, check_elements};
pub use special::ln_gamma;
pub use tagged::with_default_kind;
pub use vexp::softmax_in_place;

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, NnError>;
