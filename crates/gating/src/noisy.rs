use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2};
use smoe_nn::{Float, ParamMut, ParamRef};

use crate::routing::{check_dweight, check_inputs, check_k};
use crate::topk_softmax::{backward_topk_softmax, route_topk_softmax};
use crate::{Gate, GateGrad, GatingError, Result, Routing};

/// Noisy top-k gating of Shazeer et al. (2017), eqs. (3)–(5):
/// `H = z + ε ⊙ softplus(x W_noiseᵀ)`, `ε ~ N(0, 1)` **while training only**;
/// `S(x)` = top-k of H; `w = softmax(H)` over S.
///
/// The noise is added to a routing-only copy of the logits: the experts' inputs are never
/// touched. At evaluation (`noise = None`) `H = z`, and the gate is [`crate::TopKSoftmax`].
/// `W_noise [T, d]` (parameter `gate.noise.weight`) starts at zero, as in the paper.
///
/// Backward: with `dH` from the selected softmax, `dz = dH`,
/// `dW_noise += (dH ⊙ ε ⊙ σ(x W_noiseᵀ))ᵀ x` and `dx = (dH ⊙ ε ⊙ σ(x W_noiseᵀ)) W_noise`.
/// Zero router gradient at k = 1 (as TopKSoftmax), and no gradient to `W_noise` without noise.
#[derive(Debug, Clone, PartialEq)]
pub struct NoisyTopK<F> {
    k: usize,
    /// Noise weight `[T, d]`.
    pub w_noise: Array2<F>,
    /// Its gradient.
    pub w_noise_grad: Array2<F>,
}

fn softplus<F: Float>(u: F) -> F {
    if u > F::zero() {
        u + (-u).exp().ln_1p()
    } else {
        u.exp().ln_1p()
    }
}

fn sigmoid<F: Float>(u: F) -> F {
    F::one() / (F::one() + (-u).exp())
}

impl<F: Float> NoisyTopK<F> {
    /// A gate selecting `k` of `experts` for inputs of width `d`.
    ///
    /// # Errors
    /// [`GatingError::InvalidTopK`] unless `1 ≤ k ≤ experts`; [`GatingError::ZeroDim`] if `d = 0`.
    pub fn new(k: usize, experts: usize, d: usize) -> Result<Self> {
        check_k(k, experts)?;
        if d == 0 {
            return Err(GatingError::ZeroDim(smoe_nn::ZeroDim {
                what: "gate input width",
            }));
        }
        Ok(Self {
            k,
            w_noise: Array2::zeros((experts, d)),
            w_noise_grad: Array2::zeros((experts, d)),
        })
    }

    fn check_noise(&self, x: ArrayView2<'_, F>, noise: ArrayView2<'_, F>) -> Result<()> {
        if x.ncols() != self.w_noise.ncols() || noise.dim() != (x.nrows(), self.w_noise.nrows()) {
            return Err(GatingError::from(smoe_nn::ShapeError {
                op: "NoisyTopK (x or noise)",
                expected: vec![x.nrows(), self.w_noise.nrows(), self.w_noise.ncols()],
                got: vec![noise.nrows(), noise.ncols(), x.ncols()],
            }));
        }
        Ok(())
    }

    /// `u = x W_noiseᵀ [b, T]`.
    fn noise_pre(&self, x: ArrayView2<'_, F>) -> Array2<F> {
        let mut u = Array2::zeros((x.nrows(), self.w_noise.nrows()));
        general_mat_mul(F::one(), &x, &self.w_noise.t(), F::zero(), &mut u);
        u
    }
}

impl<F: Float> Gate<F> for NoisyTopK<F> {
    fn k(&self) -> usize {
        self.k
    }
    fn num_experts(&self) -> usize {
        self.w_noise.nrows()
    }
    fn uses_noise(&self) -> bool {
        true
    }
    fn route(
        &self,
        x: ArrayView2<'_, F>,
        z: ArrayView2<'_, F>,
        noise: Option<ArrayView2<'_, F>>,
    ) -> Result<Routing<F>> {
        check_inputs("NoisyTopK::route", x, z, self.w_noise.nrows())?;
        let Some(eps) = noise else {
            return Ok(route_topk_softmax(z, self.k));
        };
        self.check_noise(x, eps)?;
        let u = self.noise_pre(x);
        let mut h = z.to_owned();
        ndarray::Zip::from(&mut h)
            .and(&eps)
            .and(&u)
            .for_each(|h, &e, &u| *h += e * softplus(u));
        let mut routing = route_topk_softmax(h.view(), self.k);
        routing.noise = Some(eps.to_owned());
        Ok(routing)
    }
    fn backward(
        &mut self,
        x: ArrayView2<'_, F>,
        z: ArrayView2<'_, F>,
        routing: &Routing<F>,
        dweight: ArrayView2<'_, F>,
    ) -> Result<GateGrad<F>> {
        check_dweight("NoisyTopK::backward", routing, z, dweight)?;
        let dh = backward_topk_softmax(routing, dweight, self.w_noise.nrows());
        let Some(eps) = routing.noise.as_ref() else {
            return Ok(GateGrad {
                dlogits: dh,
                dx: None,
            });
        };
        self.check_noise(x, eps.view())?;
        let u = self.noise_pre(x);
        let mut du = dh.clone();
        ndarray::Zip::from(&mut du)
            .and(eps)
            .and(&u)
            .for_each(|d, &e, &u| *d *= e * sigmoid(u));
        general_mat_mul(F::one(), &du.t(), &x, F::one(), &mut self.w_noise_grad);
        let mut dx = Array2::zeros(x.dim());
        general_mat_mul(F::one(), &du, &self.w_noise, F::zero(), &mut dx);
        Ok(GateGrad {
            dlogits: dh,
            dx: Some(dx),
        })
    }
    fn params<'a>(&'a self, prefix: &str, out: &mut Vec<ParamRef<'a, F>>) {
        out.push(ParamRef {
            name: format!("{prefix}.noise.weight"),
            shape: self.w_noise.shape().to_vec(),
            value: self.w_noise.as_slice().unwrap_or(&[]),
            grad: self.w_noise_grad.as_slice().unwrap_or(&[]),
        });
    }
    fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<ParamMut<'a, F>>) {
        out.push(ParamMut {
            name: format!("{prefix}.noise.weight"),
            shape: self.w_noise.shape().to_vec(),
            value: self.w_noise.as_slice_mut().unwrap_or(&mut []),
            grad: self.w_noise_grad.as_slice_mut().unwrap_or(&mut []),
        });
    }
    fn boxed_clone(&self) -> Box<dyn Gate<F>> {
        Box::new(self.clone())
    }
}
