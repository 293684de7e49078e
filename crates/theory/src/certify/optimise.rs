//! The posterior optimisation of THEORY §5: minimise `ê_surrogate(Q) + sqrt(B_RE / 2)` over
//! the posterior's mean and log-standard deviations, for a fixed budget of steps, by Adam on
//! one sampled network (the reparametrisation `w + σ ⊙ ε`) and one minibatch per step. Each
//! step puts every block's prior variance at its KL-minimising value; the final certificate
//! then rounds it to the grid and pays for the choice.

use ndarray::{Array1, Axis};
use rand::seq::SliceRandom;
use rand_distr::{Distribution, StandardNormal};
use smoe_model::{AuxGrad, Model};
use smoe_nn::{grad_vector, set_param_vector, stream_rng};
use smoe_tasks::Dataset;

use super::config::CertifyConfig;
use super::posterior::Posterior;
use crate::error::{Result, TheoryError};
use crate::pac_bayes::PriorGrid;

/// B_RE with a continuous grid index `j = max(1, b ln(c/λ))` per block, the form optimised.
pub fn b_re_continuous(kl: f64, lambdas: &[f64], grid: &PriorGrid, m: usize, delta: f64) -> f64 {
    let price: f64 = lambdas
        .iter()
        .map(|&l| {
            let j = (grid.b * (grid.c / l).ln()).max(1.0);
            (std::f64::consts::PI.powi(2) / 6.0).ln() + 2.0 * j.ln()
        })
        .sum();
    let m = m as f64;
    (kl + price + (m / delta).ln()) / (m - 1.0)
}

/// What the optimisation did.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimiseTrace {
    /// Steps run.
    pub steps: usize,
    /// Mean surrogate loss (logistic, in bits) over the first 100 steps.
    pub loss_start: f64,
    /// Mean surrogate loss over the last 100 steps.
    pub loss_end: f64,
    /// The objective `loss + sqrt(B_RE/2)` at the start (first step's values).
    pub objective_start: f64,
    /// The objective at the end (last 100 steps' loss, final B_RE).
    pub objective_end: f64,
}

fn fail(what: impl std::fmt::Display) -> TheoryError {
    TheoryError::Certify {
        what: what.to_string(),
    }
}

/// The logistic loss in bits, `log2(1 + e^{−y f})`, averaged, and its gradient in f.
fn logistic_bits(f: &Array1<f32>, y: &Array1<f32>) -> (f64, Array1<f32>) {
    let b = f.len() as f64;
    let ln2 = std::f64::consts::LN_2;
    let mut loss = 0.0;
    let df = Array1::from_iter(f.iter().zip(y).map(|(&f, &y)| {
        let u = -(y as f64) * f as f64;
        // softplus(u) and its derivative σ(u), stable on both sides
        let (sp, s) = if u > 0.0 {
            (u + (-u).exp().ln_1p(), 1.0 / (1.0 + (-u).exp()))
        } else {
            (u.exp().ln_1p(), u.exp() / (1.0 + u.exp()))
        };
        loss += sp / ln2;
        (-(y as f64) * s / (ln2 * b)) as f32
    }));
    (loss / b, df)
}

struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    fn new(n: usize) -> Self {
        Self {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    fn step(&mut self, x: &mut [f64], g: &[f64], lr: f64) {
        let (b1, b2, eps): (f64, f64, f64) = (0.9, 0.999, 1e-8);
        self.t += 1;
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        for i in 0..x.len() {
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g[i];
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g[i] * g[i];
            x[i] -= lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + eps);
        }
    }
}

/// Optimises `q` through `surrogate` on `data` (labels ±1) for `cfg.steps` steps; `m` is the
/// sample size the bound is computed at, `seed` the run's seed (the stream
/// `certify-optimise`). `tick(done)` is called every 50 steps.
///
/// # Errors
/// The model fails on a batch, or the surrogate loss or a weight becomes non-finite.
pub fn optimise(
    q: &mut Posterior,
    surrogate: &mut dyn Model<f32>,
    data: &Dataset<f32>,
    cfg: &CertifyConfig,
    m: usize,
    seed: u64,
    tick: &mut dyn FnMut(usize),
) -> Result<OptimiseTrace> {
    let grid = PriorGrid {
        c: cfg.grid_c,
        b: cfg.grid_b,
    };
    let n = q.len();
    let rows = data.len();
    if rows == 0 {
        return Err(fail("no training rows to optimise the posterior on"));
    }
    let mut rng = stream_rng(seed, "certify-optimise", 0);
    let mut order: Vec<usize> = (0..rows).collect();
    let mut at = rows;
    let batch = cfg.batch_size.min(rows);
    let (mut eps, mut theta) = (vec![0.0; n], vec![0.0; n]);
    let (mut adam_w, mut adam_r) = (Adam::new(n), Adam::new(n));
    let (mut gw, mut gr) = (vec![0.0; n], vec![0.0; n]);
    let mut losses = Vec::with_capacity(cfg.steps);
    let mut objective_start = f64::NAN;
    for step in 0..cfg.steps {
        if at + batch > rows {
            order.shuffle(&mut rng);
            at = 0;
        }
        let idx = &order[at..at + batch];
        at += batch;
        for e in eps.iter_mut() {
            *e = StandardNormal.sample(&mut rng);
        }
        q.draw(&eps, &mut theta);
        set_param_vector(&mut surrogate.params_mut(), &theta).map_err(fail)?;
        surrogate.zero_grad();
        let x = data.x.select(Axis(0), idx);
        let y = data.y.select(Axis(0), idx);
        let out = surrogate.forward(x.view(), false).map_err(fail)?;
        let (loss, df) = logistic_bits(&out.f, &y);
        if !loss.is_finite() {
            return Err(fail(format!("the surrogate loss is {loss} at step {step}")));
        }
        surrogate
            .backward(df.view(), AuxGrad::default())
            .map_err(fail)?;
        let g = grad_vector(&surrogate.params());
        let lambdas = q.best_lambdas(&grid);
        let kl = q.kl(&lambdas)?;
        let b = b_re_continuous(kl, &lambdas, &grid, m, cfg.delta);
        let term = (b / 2.0).sqrt();
        if step == 0 {
            objective_start = loss + term;
        }
        // d sqrt(B/2) / d KL
        let scale = 1.0 / (4.0 * term * (m as f64 - 1.0));
        for i in 0..n {
            gw[i] = g[i];
            gr[i] = g[i] * eps[i] * q.log_sigma[i].exp();
        }
        q.add_kl_grad(&lambdas, scale, &mut gw, &mut gr);
        adam_w.step(&mut q.mean, &gw, cfg.lr);
        adam_r.step(&mut q.log_sigma, &gr, cfg.lr_sigma);
        if q.mean.iter().chain(&q.log_sigma).any(|v| !v.is_finite()) {
            return Err(fail(format!(
                "a posterior weight is not finite at step {step}"
            )));
        }
        losses.push(loss);
        if (step + 1).is_multiple_of(50) {
            tick(step + 1);
        }
    }
    let mean = |s: &[f64]| {
        if s.is_empty() {
            f64::NAN
        } else {
            s.iter().sum::<f64>() / s.len() as f64
        }
    };
    let w = losses.len().min(100);
    let lambdas = q.best_lambdas(&grid);
    let end_term = (b_re_continuous(q.kl(&lambdas)?, &lambdas, &grid, m, cfg.delta) / 2.0).sqrt();
    let loss_end = mean(&losses[losses.len() - w..]);
    Ok(OptimiseTrace {
        steps: cfg.steps,
        loss_start: mean(&losses[..w]),
        loss_end,
        objective_start,
        objective_end: loss_end + end_term,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_bits_gradient_matches_finite_differences() {
        let f = Array1::from(vec![0.3f32, -2.0, 5.0, -40.0]);
        let y = Array1::from(vec![1.0f32, 1.0, -1.0, -1.0]);
        let (loss, df) = logistic_bits(&f, &y);
        let want: f64 = f
            .iter()
            .zip(&y)
            .map(|(&f, &y)| (1.0 + (-(y as f64) * f as f64).exp()).log2())
            .sum::<f64>()
            / 4.0;
        assert!((loss - want).abs() < 1e-9);
        for i in 0..4 {
            let h = 1e-3f32;
            let (mut a, mut b) = (f.clone(), f.clone());
            a[i] += h;
            b[i] -= h;
            let fd = (logistic_bits(&a, &y).0 - logistic_bits(&b, &y).0) / (2.0 * h as f64);
            assert!((fd - df[i] as f64).abs() < 1e-4, "{i}: {fd} vs {}", df[i]);
        }
    }

    #[test]
    fn continuous_b_re_equals_the_grid_form_at_grid_points() {
        let grid = PriorGrid::default();
        let j = 250;
        let got = b_re_continuous(100.0, &[grid.lambda(j)], &grid, 1000, 0.025);
        let want = crate::pac_bayes::b_re(100.0, &[j], 1000, 0.025).unwrap();
        assert!((got - want).abs() < 1e-12);
    }
}
