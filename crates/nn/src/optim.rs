//! Optimisers: SGD with momentum and weight decay, Adam and AdamW (PyTorch semantics).

use serde::{Deserialize, Serialize};

use pulp::{Arch, Simd, WithSimd};
use rayon::prelude::*;

use crate::{Float, NnError, ParamMut, Result};

/// From this many parameters on, Adam updates its tensors in parallel (each tensor's update is
/// independent, so the result does not depend on the thread count).
const ADAM_PARALLEL_MIN: usize = 1 << 16;

/// One optimisation step over a parameter list, in the same order every call.
pub trait Optimizer<F: Float> {
    /// Updates `params` from their gradients (gradients are left as they are).
    ///
    /// # Errors
    /// [`NnError::OptimizerState`] if the list differs in number or size from earlier steps.
    fn step(&mut self, params: &mut [ParamMut<'_, F>]) -> Result<()>;
    /// The current learning rate.
    fn lr(&self) -> f64;
    /// Sets the learning rate (for schedules).
    fn set_lr(&mut self, lr: f64);
}

fn check_finite_nonneg(name: &'static str, value: f64) -> Result<()> {
    if !value.is_finite() || value < 0.0 {
        return Err(NnError::InvalidHyperParameter {
            name,
            value,
            reason: "must be finite and >= 0",
        });
    }
    Ok(())
}

fn check_unit(name: &'static str, value: f64) -> Result<()> {
    if !(0.0..1.0).contains(&value) {
        return Err(NnError::InvalidHyperParameter {
            name,
            value,
            reason: "must be in [0, 1)",
        });
    }
    Ok(())
}

/// Lazily sized per-parameter state, checked against the parameter list every step.
fn ensure_state<F: Float>(state: &mut Vec<Vec<F>>, params: &[ParamMut<'_, F>]) -> Result<()> {
    if state.is_empty() {
        *state = params
            .iter()
            .map(|p| vec![F::zero(); p.value.len()])
            .collect();
    }
    if state.len() != params.len()
        || state
            .iter()
            .zip(params)
            .any(|(s, p)| s.len() != p.value.len())
    {
        return Err(NnError::OptimizerState(format!(
            "{} tensors in state, {} given",
            state.len(),
            params.len()
        )));
    }
    Ok(())
}

/// Hyper-parameters of [`Sgd`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SgdConfig {
    /// Learning rate (default 0.1).
    pub lr: f64,
    /// Momentum μ in `[0, 1)` (default 0: plain SGD).
    pub momentum: f64,
    /// L2 weight decay λ added to the gradient (default 0).
    pub weight_decay: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            lr: 0.1,
            momentum: 0.0,
            weight_decay: 0.0,
        }
    }
}

/// SGD as PyTorch: `g = ∇ + λp`; `b = μb + g` (b = g at the first step); `p -= lr·b`.
#[derive(Debug, Clone)]
pub struct Sgd<F> {
    cfg: SgdConfig,
    velocity: Vec<Vec<F>>,
}

impl<F: Float> Sgd<F> {
    /// A new optimiser.
    ///
    /// # Errors
    /// [`NnError::InvalidHyperParameter`] for a negative or non-finite value, or momentum ≥ 1.
    pub fn new(cfg: SgdConfig) -> Result<Self> {
        check_finite_nonneg("lr", cfg.lr)?;
        check_unit("momentum", cfg.momentum)?;
        check_finite_nonneg("weight_decay", cfg.weight_decay)?;
        Ok(Self {
            cfg,
            velocity: Vec::new(),
        })
    }
}

impl<F: Float> Optimizer<F> for Sgd<F> {
    fn step(&mut self, params: &mut [ParamMut<'_, F>]) -> Result<()> {
        let lr = F::from_f64c(self.cfg.lr);
        let wd = F::from_f64c(self.cfg.weight_decay);
        let mu = F::from_f64c(self.cfg.momentum);
        let first = self.velocity.is_empty();
        ensure_state(&mut self.velocity, params)?;
        for (p, buf) in params.iter_mut().zip(self.velocity.iter_mut()) {
            for ((v, g), b) in p.value.iter_mut().zip(p.grad.iter()).zip(buf.iter_mut()) {
                let g = *g + wd * *v;
                let d = if self.cfg.momentum == 0.0 {
                    g
                } else {
                    *b = if first { g } else { mu * *b + g };
                    *b
                };
                *v -= lr * d;
            }
        }
        Ok(())
    }
    fn lr(&self) -> f64 {
        self.cfg.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.cfg.lr = lr;
    }
}

/// Hyper-parameters of [`Adam`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamConfig {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// β₁ (default 0.9).
    pub beta1: f64,
    /// β₂ (default 0.999).
    pub beta2: f64,
    /// ε (default 1e-8).
    pub eps: f64,
    /// Weight decay λ (default 0).
    pub weight_decay: f64,
    /// `true`: decoupled decay `p *= 1 − lr·λ` (AdamW); `false`: L2 added to the gradient (Adam).
    pub decoupled: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }
}

/// Adam / AdamW as PyTorch (bias-corrected moments, ε outside the square root).
#[derive(Debug, Clone)]
pub struct Adam<F> {
    cfg: AdamConfig,
    t: i32,
    m: Vec<Vec<F>>,
    v: Vec<Vec<F>>,
}

impl<F: Float> Adam<F> {
    /// A new optimiser.
    ///
    /// # Errors
    /// [`NnError::InvalidHyperParameter`] for a negative or non-finite value, or β ∉ [0, 1).
    pub fn new(cfg: AdamConfig) -> Result<Self> {
        check_finite_nonneg("lr", cfg.lr)?;
        check_unit("beta1", cfg.beta1)?;
        check_unit("beta2", cfg.beta2)?;
        check_finite_nonneg("eps", cfg.eps)?;
        check_finite_nonneg("weight_decay", cfg.weight_decay)?;
        Ok(Self {
            cfg,
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
        })
    }
}

impl<F: Float> Optimizer<F> for Adam<F> {
    fn step(&mut self, params: &mut [ParamMut<'_, F>]) -> Result<()> {
        ensure_state(&mut self.m, params)?;
        ensure_state(&mut self.v, params)?;
        self.t += 1;
        let c = &self.cfg;
        let bc1 = 1.0 - c.beta1.powi(self.t);
        let bc2 = 1.0 - c.beta2.powi(self.t);
        let step = F::from_f64c(c.lr / bc1);
        let inv_sqrt_bc2 = F::from_f64c(1.0 / bc2.sqrt());
        let (b1, b2) = (F::from_f64c(c.beta1), F::from_f64c(c.beta2));
        let (one_b1, one_b2) = (F::from_f64c(1.0 - c.beta1), F::from_f64c(1.0 - c.beta2));
        let eps = F::from_f64c(c.eps);
        let wd = F::from_f64c(c.weight_decay);
        let shrink = F::from_f64c(1.0 - c.lr * c.weight_decay);
        let k = AdamStep {
            step,
            inv_sqrt_bc2,
            b1,
            b2,
            one_b1,
            one_b2,
            eps,
            wd,
            shrink,
            decoupled: c.decoupled,
        };
        let update = |x: &mut [F], g: &[F], m: &mut [F], v: &mut [F]| {
            Arch::new().dispatch(AdamOp { k: &k, x, g, m, v })
        };
        let total: usize = params.iter().map(|p| p.value.len()).sum();
        if total >= ADAM_PARALLEL_MIN && rayon::current_num_threads() > 1 {
            params
                .par_iter_mut()
                .zip(self.m.par_iter_mut())
                .zip(self.v.par_iter_mut())
                .for_each(|((p, m), v)| update(p.value, p.grad, m, v));
        } else {
            for ((p, m), v) in params.iter_mut().zip(&mut self.m).zip(&mut self.v) {
                update(p.value, p.grad, m, v);
            }
        }
        Ok(())
    }
    fn lr(&self) -> f64 {
        self.cfg.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.cfg.lr = lr;
    }
}

/// The constants of one Adam step, in `F`.
#[derive(Clone, Copy)]
struct AdamStep<F> {
    step: F,
    inv_sqrt_bc2: F,
    b1: F,
    b2: F,
    one_b1: F,
    one_b2: F,
    eps: F,
    wd: F,
    shrink: F,
    decoupled: bool,
}

/// [`adam_update`] as a pulp operation: a named type, whose body pulp inlines into its
/// target-feature wrapper (the closure form of `dispatch` was left out of line in pulp 0.22
/// and ran as SSE code).
struct AdamOp<'a, F> {
    k: &'a AdamStep<F>,
    x: &'a mut [F],
    g: &'a [F],
    m: &'a mut [F],
    v: &'a mut [F],
}

impl<F: Float> WithSimd for AdamOp<'_, F> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        adam_update(self.k, self.x, self.g, self.m, self.v);
    }
}

/// One Adam update of one tensor (slices as arguments, so the compiler knows they do not
/// alias and vectorises the loop).
#[inline(always)]
fn adam_update<F: Float>(k: &AdamStep<F>, x: &mut [F], g: &[F], m: &mut [F], v: &mut [F]) {
    let n = x.len().min(g.len()).min(m.len()).min(v.len());
    let (x, g, m, v) = (&mut x[..n], &g[..n], &mut m[..n], &mut v[..n]);
    let k = *k;
    if k.decoupled {
        for (((x, g), mi), vi) in x.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            *x *= k.shrink;
            *mi = k.b1 * *mi + k.one_b1 * *g;
            *vi = k.b2 * *vi + k.one_b2 * *g * *g;
            *x -= k.step * *mi / (vi.sqrt() * k.inv_sqrt_bc2 + k.eps);
        }
    } else {
        for (((x, g), mi), vi) in x.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            let g = *g + k.wd * *x;
            *mi = k.b1 * *mi + k.one_b1 * g;
            *vi = k.b2 * *vi + k.one_b2 * g * g;
            *x -= k.step * *mi / (vi.sqrt() * k.inv_sqrt_bc2 + k.eps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one<'a>(v: &'a mut [f64], g: &'a mut [f64]) -> Vec<ParamMut<'a, f64>> {
        vec![ParamMut {
            name: "p".into(),
            shape: vec![v.len()],
            value: v,
            grad: g,
        }]
    }

    #[test]
    fn sgd_momentum_matches_pytorch_by_hand() {
        let mut opt = Sgd::<f64>::new(SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 0.5,
        })
        .unwrap();
        let (mut v, mut g) = ([1.0], [2.0]);
        opt.step(&mut one(&mut v, &mut g)).unwrap();
        // g' = 2 + 0.5 = 2.5; b = 2.5; p = 1 - 0.25
        assert!((v[0] - 0.75).abs() < 1e-15);
        opt.step(&mut one(&mut v, &mut g)).unwrap();
        // g' = 2 + 0.375 = 2.375; b = 0.9*2.5 + 2.375 = 4.625; p = 0.75 - 0.4625
        assert!((v[0] - 0.2875).abs() < 1e-15);
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        let mut opt = Adam::<f64>::new(AdamConfig {
            lr: 0.01,
            ..Default::default()
        })
        .unwrap();
        let (mut v, mut g) = ([1.0, -1.0], [3.0, -0.5]);
        opt.step(&mut one(&mut v, &mut g)).unwrap();
        // bias-corrected first step is lr * sign(g) (up to eps)
        assert!((v[0] - 0.99).abs() < 1e-9 && (v[1] + 0.99).abs() < 1e-9);
    }

    #[test]
    fn adamw_decays_decoupled() {
        let mut opt = Adam::<f64>::new(AdamConfig {
            lr: 0.1,
            weight_decay: 0.5,
            decoupled: true,
            ..Default::default()
        })
        .unwrap();
        let (mut v, mut g) = ([2.0], [0.0]);
        opt.step(&mut one(&mut v, &mut g)).unwrap();
        assert!((v[0] - 1.9).abs() < 1e-12);
    }

    #[test]
    fn bad_hyper_parameters_are_errors() {
        assert!(
            Sgd::<f32>::new(SgdConfig {
                lr: f64::NAN,
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            Sgd::<f32>::new(SgdConfig {
                lr: -1.0,
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            Adam::<f32>::new(AdamConfig {
                beta1: 1.0,
                ..Default::default()
            })
            .is_err()
        );
    }

    #[test]
    fn changed_parameter_list_is_an_error() {
        let mut opt = Sgd::<f64>::new(SgdConfig::default()).unwrap();
        let (mut v, mut g) = ([1.0], [1.0]);
        opt.step(&mut one(&mut v, &mut g)).unwrap();
        let (mut v2, mut g2) = ([1.0, 2.0], [1.0, 1.0]);
        assert!(matches!(
            opt.step(&mut one(&mut v2, &mut g2)),
            Err(NnError::OptimizerState(_))
        ));
    }
}
