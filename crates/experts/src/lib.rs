//! Experts for smoe: each runs on one contiguous group of rows and returns one scalar per row.
//!
//! - [`Expert`]: the trait a user implements to plug in their own expert;
//! - [`MlpExpert`]: `depth` hidden layers of `width` units (ReLU, PReLU, sigmoid or none), then
//!   a linear layer to one scalar, optionally through an output activation; depth 0 is a linear
//!   expert, or with `output_activation = "sigmoid"` the FFN expert `σ(aᵀx + b)`;
//! - [`ExpertConfig`] and [`build_experts`]: the config form, each expert drawing its initial
//!   weights from its own stream so adding an expert never changes another;
//! - [`Tape`]: what a forward pass saves for its backward.
//!
//! # Example
//! ```
//! use ndarray::Array2;
//! use smoe_experts::{Expert, ExpertConfig, build_experts};
//!
//! let cfg = ExpertConfig { depth: 1, width: 8, ..Default::default() };
//! let mut experts = build_experts::<f64>(&cfg, 4, 3, 0).unwrap();
//! let x = Array2::<f64>::ones((5, 4));
//! let mut y = vec![0.0; 5];
//! let tape = experts[0].forward(x.view(), &mut y).unwrap();
//! let mut dx = Array2::<f64>::zeros((5, 4));
//! experts[0].backward(x.view(), &tape, &[1.0; 5], Some(dx.view_mut())).unwrap();
//! ```

mod config;
mod error;
mod mlp;

pub use config::{ExpertConfig, build_experts};
pub use error::ExpertError;
pub use mlp::MlpExpert;

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use smoe_nn::{Float, ParamMut, ParamRef, Progress};

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, ExpertError>;

/// Tensors a forward pass saves for its backward (an expert decides what they mean).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tape<F> {
    /// Saved tensors, in the expert's own order.
    pub saved: Vec<Array2<F>>,
}

/// An expert: rows `x [n, d]` to one scalar each.
pub trait Expert<F: Float>: Send + Sync + std::fmt::Debug {
    /// Input width d.
    fn input_dim(&self) -> usize;
    /// Output for each row, written to `out` (length n); returns the tape for backward.
    ///
    /// # Shapes
    /// `x [n, d] -> out [n]`.
    ///
    /// # Errors
    /// [`ExpertError::Shape`] on wrong shapes.
    fn forward(&self, x: ArrayView2<'_, F>, out: &mut [F]) -> Result<Tape<F>>;
    /// Output without saving anything (evaluation).
    ///
    /// # Errors
    /// As [`Expert::forward`].
    fn infer(&self, x: ArrayView2<'_, F>, out: &mut [F]) -> Result<()> {
        self.forward(x, out).map(|_| ())
    }
    /// Accumulates parameter gradients for `dL/dout` and, if asked, writes `dL/dx` (overwrites).
    ///
    /// # Shapes
    /// `x [n, d]`, `dout [n]`, `dx [n, d]`.
    ///
    /// # Errors
    /// [`ExpertError::Shape`] on wrong shapes or a tape from another expert.
    fn backward(
        &mut self,
        x: ArrayView2<'_, F>,
        tape: &Tape<F>,
        dout: &[F],
        dx: Option<ArrayViewMut2<'_, F>>,
    ) -> Result<()>;
    /// Parameters named `{prefix}.…`, appended to `out`.
    fn params<'a>(&'a self, prefix: &str, out: &mut Vec<ParamRef<'a, F>>);
    /// Mutable parameters, same names and order as [`Expert::params`].
    fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<ParamMut<'a, F>>);
    /// The parameters of [`Expert::params_mut`] in the same order, for the optimiser's step,
    /// which reads neither names nor shapes: an expert may leave them empty (as
    /// [`ParamMut::unnamed`]) to skip building them every step (default: `params_mut("")`).
    fn tensors_mut<'a>(&'a mut self, out: &mut Vec<ParamMut<'a, F>>) {
        self.params_mut("", out);
    }
    /// Sets every gradient to zero (default: through [`Expert::tensors_mut`]).
    fn zero_grad(&mut self) {
        let mut params = Vec::new();
        self.tensors_mut(&mut params);
        smoe_nn::zero_grads(&mut params);
    }
    /// Training-progress hook, called before each optimiser step (default: nothing).
    fn on_progress(&mut self, _progress: &Progress) {}
    /// A boxed copy.
    fn boxed_clone(&self) -> Box<dyn Expert<F>>;
}

impl<F: Float> Clone for Box<dyn Expert<F>> {
    fn clone(&self) -> Self {
        self.boxed_clone()
    }
}
