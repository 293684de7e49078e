use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2};
use rand_distr::{Distribution, StandardNormal};
use smoe_nn::{Float, Init, Linear, ParamMut, ParamRef, SmoeRng};

use crate::{Result, Router, RouterError};

/// The low-rank router `z = E (P x + c)`: `P [r, d]` and `c [r]` learned (parameters
/// `router.proj.weight`, `router.proj.bias`), `E [T, r]` fixed random expert embeddings with
/// entries `N(0, 1/r)`, **not trained**.
///
/// # Why this form
/// The logit of expert y is `s_y(x) = ⟨e_y, P x + c⟩ = ⟨vec[P c], e_y ⊗ [x; 1]⟩`: a linear
/// multiclass predictor over a fixed class-sensitive feature map of dimension r(d+1), so the
/// Natarajan dimension of its argmax (and of its top-k, see `smoe_theory`) is at most
/// `r(d+1)` **whatever T** (THEORY §2.4). A free bias `b ∈ R^T` (`z = E P x + b`) would add T
/// free parameters and T feature dimensions, bringing back a T-dependence; the bias is
/// therefore rank r too, `b = E c`.
///
/// `r > T` or `r > d` is allowed: the map is then no longer of low rank (the logits span at
/// most `min(r, T)` directions and P x at most `min(r, d)`), and the bound `r(d+1)` is looser
/// than the linear router's `(d+1)(T−1)`.
///
/// # The fixed embeddings and checkpoints
/// E is drawn from its own seeded stream (`("router_embed", 0)` of the model seed, see
/// [`crate::build_router`]) and is re-created from the seed when a checkpoint is loaded (the
/// checkpoint stores the seed), so it reloads bit-identically and is neither a checkpoint
/// tensor nor a parameter: [`Router::params`] lists only P and c, the optimiser never sees E,
/// and it does not count as a trainable parameter.
///
/// Backward: `dh = dz E [b, r]`, `dP += dhᵀ x`, `dc += Σ_rows dh`, `dx = dh P`.
#[derive(Debug, Clone, PartialEq)]
pub struct LowRankRouter<F> {
    /// `x -> P x + c`, `[r, d]` and `[r]`.
    pub proj: Linear<F>,
    /// The fixed expert embeddings `E [T, r]`.
    embed: Array2<F>,
}

impl<F: Float> LowRankRouter<F> {
    /// A router for width `d`, `experts` experts and rank `rank`: P and c from `init` with
    /// `rng`, E with entries `N(0, 1/r)` from `embed_rng`.
    ///
    /// # Errors
    /// [`RouterError::Nn`] if `d` or `rank` is 0; [`RouterError::ZeroDim`] if `experts` is 0.
    pub fn new(
        d: usize,
        experts: usize,
        rank: usize,
        init: Init,
        rng: &mut SmoeRng,
        embed_rng: &mut SmoeRng,
    ) -> Result<Self> {
        if experts == 0 {
            return Err(RouterError::ZeroDim(smoe_nn::ZeroDim {
                what: "router number of experts",
            }));
        }
        let proj = Linear::new(d, rank, init, rng)?;
        let std = 1.0 / (rank as f64).sqrt();
        let embed = Array2::from_shape_simple_fn((experts, rank), || {
            let v: f64 = StandardNormal.sample(embed_rng);
            F::from_f64c(std * v)
        });
        Ok(Self { proj, embed })
    }

    /// The rank r.
    pub fn rank(&self) -> usize {
        self.embed.ncols()
    }

    /// The fixed expert embeddings `E [T, r]`.
    pub fn embeddings(&self) -> ArrayView2<'_, F> {
        self.embed.view()
    }
}

impl<F: Float> Router<F> for LowRankRouter<F> {
    fn input_dim(&self) -> usize {
        self.proj.d_in()
    }
    fn num_experts(&self) -> usize {
        self.embed.nrows()
    }
    fn forward(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        let h = self.proj.forward(x)?;
        let mut z = Array2::zeros((x.nrows(), self.embed.nrows()));
        general_mat_mul(F::one(), &h, &self.embed.t(), F::zero(), &mut z);
        Ok(z)
    }
    fn backward(&mut self, x: ArrayView2<'_, F>, dz: ArrayView2<'_, F>) -> Result<Array2<F>> {
        if dz.dim() != (x.nrows(), self.embed.nrows()) {
            return Err(RouterError::from(smoe_nn::ShapeError {
                op: "LowRankRouter::backward (dz)",
                expected: vec![x.nrows(), self.embed.nrows()],
                got: dz.shape().to_vec(),
            }));
        }
        let mut dh = Array2::zeros((x.nrows(), self.embed.ncols()));
        general_mat_mul(F::one(), &dz, &self.embed, F::zero(), &mut dh);
        Ok(self.proj.backward(x, dh.view())?)
    }
    fn params<'a>(&'a self, prefix: &str, out: &mut Vec<ParamRef<'a, F>>) {
        self.proj.params(&format!("{prefix}.proj"), out);
    }
    fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<ParamMut<'a, F>>) {
        self.proj.params_mut(&format!("{prefix}.proj"), out);
    }
    fn boxed_clone(&self) -> Box<dyn Router<F>> {
        Box::new(self.clone())
    }
}
