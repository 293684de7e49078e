//! [`GateActivation`]: the activation the "activation dense-to-sparse" gate applies to the
//! router output before its tempered softmax (Nguyen et al., arXiv 2401.13875; THEORY §7.4).

use serde::{Deserialize, Serialize};
use smoe_nn::Float;

/// An activation `a = act(z)` applied to every router logit before the softmax, with its
/// exact derivative. Every choice is non-decreasing, so the top-k of `act(z)` is the top-k of
/// `z` (the gates select on `z` itself, which saturating activations cannot tie).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GateActivation {
    /// `act(z) = z`, `act'(z) = 1` (the plain dense-to-sparse gate; default).
    #[default]
    None,
    /// `act(z) = tanh(z)`, `act'(z) = 1 − tanh²(z)`.
    Tanh,
    /// `act(z) = σ(z) = 1 / (1 + e^{−z})`, `act'(z) = σ(z)(1 − σ(z))`.
    Sigmoid,
}

/// The logistic function `σ(u) = 1 / (1 + e^{−u})`, evaluated without overflow.
pub(crate) fn sigmoid<F: Float>(u: F) -> F {
    if u >= F::zero() {
        F::one() / (F::one() + (-u).exp())
    } else {
        let e = u.exp();
        e / (F::one() + e)
    }
}

impl GateActivation {
    /// The name as written in TOML.
    pub fn name(self) -> &'static str {
        match self {
            GateActivation::None => "none",
            GateActivation::Tanh => "tanh",
            GateActivation::Sigmoid => "sigmoid",
        }
    }

    /// `act(z)`.
    pub fn apply<F: Float>(self, z: F) -> F {
        match self {
            GateActivation::None => z,
            GateActivation::Tanh => z.tanh(),
            GateActivation::Sigmoid => sigmoid(z),
        }
    }

    /// `act'(z)`.
    pub fn derivative<F: Float>(self, z: F) -> F {
        match self {
            GateActivation::None => F::one(),
            GateActivation::Tanh => {
                let t = z.tanh();
                F::one() - t * t
            }
            GateActivation::Sigmoid => {
                let s = sigmoid(z);
                s * (F::one() - s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_central_differences() {
        for act in [
            GateActivation::None,
            GateActivation::Tanh,
            GateActivation::Sigmoid,
        ] {
            for z in [-3.0_f64, -0.4, 0.0, 0.7, 2.5, -40.0, 40.0] {
                let h = 1e-6;
                let num = (act.apply(z + h) - act.apply(z - h)) / (2.0 * h);
                assert!((num - act.derivative(z)).abs() < 1e-8, "{act:?} at {z}");
            }
        }
        assert_eq!(GateActivation::Sigmoid.apply(-800.0_f64), 0.0);
        assert_eq!(GateActivation::Sigmoid.apply(800.0_f64), 1.0);
        assert!((GateActivation::Tanh.apply(0.5_f64) - 0.5_f64.tanh()).abs() < 1e-16);
    }
}
