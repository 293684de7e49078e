//! Activations: ReLU, PReLU with a learnable slope, the logistic sigmoid, identity.

use serde::{Deserialize, Serialize};

use crate::{Float, ParamMut, ParamRef};

/// Which activation a hidden layer uses (config form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ActivationKind {
    /// `max(0, a)`; derivative 0 at `a = 0` (PyTorch's convention).
    #[default]
    Relu,
    /// `a` if `a > 0`, else `s a` with a learnable slope `s` (initially 0.25, as `nn.PReLU`).
    Prelu,
    /// The logistic sigmoid `σ(a) = 1 / (1 + exp(-a))`, with `σ'(a) = σ(a) (1 - σ(a))`.
    /// Values in (0, 1); 1/4-Lipschitz; σ(0) = 1/2, so not positively homogeneous (Nguyen et
    /// al.'s FFN experts `h(x) = σ(aᵀx + b)`, THEORY.md §7.2).
    Sigmoid,
    /// The identity: a layer without it is linear.
    None,
}

/// `σ(a) = 1 / (1 + exp(-a))`, evaluated without overflow on either side
/// (`exp(a) / (1 + exp(a))` for `a < 0`).
pub fn sigmoid<F: Float>(a: F) -> F {
    let one = F::one();
    if a >= F::zero() {
        one / (one + (-a).exp())
    } else {
        let e = a.exp();
        e / (one + e)
    }
}

/// PReLU's learnable slope, one scalar per layer (as PyTorch's `nn.PReLU()` default).
#[derive(Debug, Clone, PartialEq)]
pub struct Prelu<F> {
    /// The slope for negative inputs, `[1]`.
    pub slope: [F; 1],
    /// Its gradient.
    pub slope_grad: [F; 1],
}

impl<F: Float> Default for Prelu<F> {
    fn default() -> Self {
        Self {
            slope: [F::from_f64c(0.25)],
            slope_grad: [F::zero()],
        }
    }
}

/// An activation with its parameters (only PReLU has one).
#[derive(Debug, Clone, PartialEq)]
pub enum Activation<F> {
    /// See [`ActivationKind::Relu`].
    Relu,
    /// See [`ActivationKind::Prelu`].
    Prelu(Prelu<F>),
    /// See [`ActivationKind::Sigmoid`].
    Sigmoid,
    /// See [`ActivationKind::None`].
    Identity,
}

impl<F: Float> Activation<F> {
    /// A freshly initialised activation of the given kind.
    pub fn new(kind: ActivationKind) -> Self {
        match kind {
            ActivationKind::Relu => Self::Relu,
            ActivationKind::Prelu => Self::Prelu(Prelu::default()),
            ActivationKind::Sigmoid => Self::Sigmoid,
            ActivationKind::None => Self::Identity,
        }
    }

    /// Its kind.
    pub fn kind(&self) -> ActivationKind {
        match self {
            Self::Relu => ActivationKind::Relu,
            Self::Prelu(_) => ActivationKind::Prelu,
            Self::Sigmoid => ActivationKind::Sigmoid,
            Self::Identity => ActivationKind::None,
        }
    }

    /// `h = act(a)` element-wise.
    ///
    /// # Shapes
    /// `a` and `h` have the same length.
    pub fn forward(&self, a: &[F], h: &mut [F]) {
        let n = a.len().min(h.len());
        let (a, h) = (&a[..n], &mut h[..n]);
        match self {
            Self::Relu => {
                for i in 0..n {
                    let ai = a[i];
                    h[i] = if ai > F::zero() { ai } else { F::zero() };
                }
            }
            Self::Prelu(p) => {
                let s = p.slope[0];
                for (hi, ai) in h.iter_mut().zip(a) {
                    *hi = if *ai > F::zero() { *ai } else { s * *ai };
                }
            }
            Self::Sigmoid => {
                for (hi, ai) in h.iter_mut().zip(a) {
                    *hi = sigmoid(*ai);
                }
            }
            Self::Identity => h.copy_from_slice(a),
        }
    }

    /// Backward: `da = act'(a) ⊙ dh` (overwritten); PReLU's slope gradient accumulates
    /// `Σ_{a ≤ 0} a dh`; sigmoid's derivative is `σ(a) (1 - σ(a))` (recomputed from `a`).
    pub fn backward(&mut self, a: &[F], dh: &[F], da: &mut [F]) {
        let n = da.len().min(a.len()).min(dh.len());
        let (a, dh, da) = (&a[..n], &dh[..n], &mut da[..n]);
        match self {
            Self::Relu => {
                // branch-free (a compare and a select per element): the sign of a is random
                // data, so a branch would mispredict half the time
                for i in 0..n {
                    let (ai, g) = (a[i], dh[i]);
                    da[i] = if ai > F::zero() { g } else { F::zero() };
                }
            }
            Self::Prelu(p) => {
                let s = p.slope[0];
                let mut ds = F::zero();
                for ((d, ai), g) in da.iter_mut().zip(a).zip(dh) {
                    if *ai > F::zero() {
                        *d = *g;
                    } else {
                        *d = s * *g;
                        ds += *ai * *g;
                    }
                }
                p.slope_grad[0] += ds;
            }
            Self::Sigmoid => {
                for ((d, ai), g) in da.iter_mut().zip(a).zip(dh) {
                    let s = sigmoid(*ai);
                    *d = s * (F::one() - s) * *g;
                }
            }
            Self::Identity => da.copy_from_slice(dh),
        }
    }

    /// The slope (PReLU only), named `{prefix}.weight` with shape `[1]`.
    pub fn params<'a>(&'a self, prefix: &str, out: &mut Vec<ParamRef<'a, F>>) {
        if let Self::Prelu(p) = self {
            out.push(ParamRef {
                name: format!("{prefix}.weight"),
                shape: vec![1],
                value: &p.slope,
                grad: &p.slope_grad,
            });
        }
    }

    /// Mutable form of [`Activation::params`].
    pub fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<ParamMut<'a, F>>) {
        if let Self::Prelu(p) = self {
            out.push(ParamMut {
                name: format!("{prefix}.weight"),
                shape: vec![1],
                value: &mut p.slope,
                grad: &mut p.slope_grad,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prelu_forward_backward_by_hand() {
        let mut act = Activation::<f64>::new(ActivationKind::Prelu);
        let a = [2.0, -4.0, 0.0];
        let mut h = [0.0; 3];
        act.forward(&a, &mut h);
        assert_eq!(h, [2.0, -1.0, 0.0]);
        let mut da = [0.0; 3];
        act.backward(&a, &[1.0, 1.0, 3.0], &mut da);
        assert_eq!(da, [1.0, 0.25, 0.75]);
        let Activation::Prelu(p) = act else {
            panic!("kind changed")
        };
        assert_eq!(p.slope_grad, [-4.0]);
    }

    #[test]
    fn sigmoid_values_and_derivative() {
        let mut act = Activation::<f64>::new(ActivationKind::Sigmoid);
        assert_eq!(act.kind(), ActivationKind::Sigmoid);
        let a = [0.0, 2.0, -2.0, -800.0, 800.0];
        let mut h = [0.0; 5];
        act.forward(&a, &mut h);
        assert_eq!(h[0], 0.5);
        assert!((h[1] - 1.0 / (1.0 + (-2.0f64).exp())).abs() < 1e-15);
        assert!((h[1] + h[2] - 1.0).abs() < 1e-15);
        assert_eq!((h[3], h[4]), (0.0, 1.0));
        let mut da = [0.0; 5];
        act.backward(&a, &[2.0; 5], &mut da);
        assert_eq!(da[0], 0.5);
        for i in 1..3 {
            let (ap, am) = (sigmoid(a[i] + 1e-6), sigmoid(a[i] - 1e-6));
            assert!((da[i] - 2.0 * (ap - am) / 2e-6).abs() < 1e-9);
        }
        assert_eq!((da[3], da[4]), (0.0, 0.0));
    }

    #[test]
    fn relu_has_zero_derivative_at_zero() {
        let mut act = Activation::<f32>::new(ActivationKind::Relu);
        let mut da = [9.0; 2];
        act.backward(&[0.0, 1.0], &[5.0, 5.0], &mut da);
        assert_eq!(da, [0.0, 5.0]);
    }
}
