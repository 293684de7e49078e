//! Routers for smoe: map an input batch `x [b, d]` to expert logits `z [b, T]`.
//!
//! - [`Router`]: the trait a user implements to plug in their own router;
//! - [`LinearRouter`]: `z = x Wᵀ + b`, `W [T, d]`;
//! - [`MlpRouter`]: one ReLU hidden layer, `z = relu(x W₀ᵀ + b₀) W₁ᵀ + b₁`;
//! - [`LowRankRouter`]: `z = E (P x + c)`, E `[T, r]` fixed random, P `[r, d]` learned;
//! - [`RouterConfig`] and [`build_router`]: the config form.
//!
//! # Example
//! ```
//! use ndarray::Array2;
//! use smoe_router::{Router, RouterConfig, build_router};
//!
//! let mut router = build_router::<f64>(&RouterConfig::Linear, 4, 8, 42).unwrap();
//! let x = Array2::<f64>::ones((3, 4));
//! let z = router.forward(x.view()).unwrap();
//! assert_eq!(z.dim(), (3, 8));
//! let dx = router.backward(x.view(), Array2::ones((3, 8)).view()).unwrap();
//! assert_eq!(dx.dim(), (3, 4));
//! ```

mod config;
mod error;
mod linear;
mod low_rank;
mod mlp;

pub use config::{RouterConfig, build_router, deserialize_router};
pub use error::RouterError;
pub use linear::LinearRouter;
pub use low_rank::LowRankRouter;
pub use mlp::MlpRouter;

use ndarray::{Array2, ArrayView2};
use smoe_nn::{Float, ParamMut, ParamRef, Progress};

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, RouterError>;

/// A router: input rows to one logit per expert.
///
/// Forward is pure (`&self`); backward receives the same input again and recomputes what it
/// needs, so a router holds no per-batch state and can be shared across threads.
pub trait Router<F: Float>: Send + Sync + std::fmt::Debug {
    /// Input width d.
    fn input_dim(&self) -> usize;
    /// Number of experts T (width of the logits).
    fn num_experts(&self) -> usize;
    /// Logits.
    ///
    /// # Shapes
    /// `x [b, d] -> z [b, T]`.
    ///
    /// # Errors
    /// [`RouterError::Shape`] if `x` has not `d` columns.
    fn forward(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>>;
    /// Accumulates the parameter gradients for `dL/dz` and returns `dL/dx`.
    ///
    /// # Shapes
    /// `x [b, d]`, `dz [b, T] -> dx [b, d]`.
    ///
    /// # Errors
    /// [`RouterError::Shape`] on wrong shapes.
    fn backward(&mut self, x: ArrayView2<'_, F>, dz: ArrayView2<'_, F>) -> Result<Array2<F>>;
    /// Parameters named `{prefix}.…`, appended to `out`.
    fn params<'a>(&'a self, prefix: &str, out: &mut Vec<ParamRef<'a, F>>);
    /// Mutable parameters, same names and order as [`Router::params`].
    fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<ParamMut<'a, F>>);
    /// Training-progress hook, called before each optimiser step (default: nothing).
    fn on_progress(&mut self, _progress: &Progress) {}
    /// A boxed copy (so models holding `Box<dyn Router>` can be cloned).
    fn boxed_clone(&self) -> Box<dyn Router<F>>;
}

impl<F: Float> Clone for Box<dyn Router<F>> {
    fn clone(&self) -> Self {
        self.boxed_clone()
    }
}
