//! The stochastic model Q = N(w, diag(σ²)) over every parameter, the prior P = N(w₀, λ_b I)
//! with one variance per block, and the KL between them with its gradient.

use crate::error::{Result, TheoryError};
use crate::pac_bayes::{PriorGrid, gaussian_kl};

/// A block of parameters sharing one prior variance: a range of the flat parameter vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The block's name in records: `all`, `router` or `experts`.
    pub name: &'static str,
    /// The flat ranges it covers (in parameter order).
    pub ranges: Vec<std::ops::Range<usize>>,
}

impl Block {
    /// Number of parameters in the block.
    pub fn len(&self) -> usize {
        self.ranges.iter().map(|r| r.len()).sum()
    }

    /// Whether the block is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn gather(&self, v: &[f64]) -> Vec<f64> {
        self.ranges
            .iter()
            .flat_map(|r| v[r.clone()].iter().copied())
            .collect()
    }
}

/// The prior blocks of a model whose parameters have these (name, length) in order: one
/// block `all`, or `router` (names starting `router.` or `gate.`, a soft model's `phi`) and
/// `experts` (the rest) when `separate` — a block that would be empty is left out.
pub fn blocks(params: &[(String, usize)], separate: bool) -> Vec<Block> {
    let total: usize = params.iter().map(|p| p.1).sum();
    if !separate {
        return vec![Block {
            name: "all",
            ranges: std::iter::once(0..total).collect(),
        }];
    }
    let is_router = |n: &str| n.starts_with("router.") || n.starts_with("gate.") || n == "phi";
    let (mut router, mut experts) = (Vec::new(), Vec::new());
    let mut at = 0;
    for (name, len) in params {
        let r = at..at + len;
        at += len;
        if is_router(name) {
            router.push(r);
        } else {
            experts.push(r);
        }
    }
    [("router", router), ("experts", experts)]
        .into_iter()
        .map(|(name, ranges)| Block { name, ranges })
        .filter(|b| !b.is_empty())
        .collect()
}

/// The posterior's parameters and the prior's mean and blocks.
#[derive(Debug, Clone)]
pub struct Posterior {
    /// w: the mean.
    pub mean: Vec<f64>,
    /// ρ = ln σ per parameter.
    pub log_sigma: Vec<f64>,
    /// w₀: the prior's mean.
    pub prior_mean: Vec<f64>,
    /// The prior's blocks, each with its own λ.
    pub blocks: Vec<Block>,
}

impl Posterior {
    /// Q centred at `mean` with every σ = `sigma`, and the prior's mean and blocks.
    ///
    /// # Errors
    /// Means of different lengths, blocks that do not cover the vector, a σ that is not
    /// positive.
    pub fn new(
        mean: Vec<f64>,
        prior_mean: Vec<f64>,
        blocks: Vec<Block>,
        sigma: f64,
    ) -> Result<Self> {
        let covered: usize = blocks.iter().map(Block::len).sum();
        if mean.len() != prior_mean.len() || covered != mean.len() {
            return Err(TheoryError::Certify {
                what: format!(
                    "the posterior has {} parameters, the prior {} and its blocks {covered}",
                    mean.len(),
                    prior_mean.len()
                ),
            });
        }
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(TheoryError::InvalidParameter {
                name: "sigma_init",
                value: sigma,
                requirement: "finite and > 0",
            });
        }
        let log_sigma = vec![sigma.ln(); mean.len()];
        Ok(Self {
            mean,
            log_sigma,
            prior_mean,
            blocks,
        })
    }

    /// Number of parameters N.
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// Whether Q has no parameter.
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    /// The KL-minimising prior variance of each block, `(‖σ²‖₁ + ‖w − w₀‖²) / N_b`, clamped
    /// below the grid's first point λ₁ = c·e^{−1/b}.
    pub fn best_lambdas(&self, grid: &PriorGrid) -> Vec<f64> {
        let top = grid.lambda(1);
        self.blocks
            .iter()
            .map(|b| {
                let mut sum = 0.0;
                for r in &b.ranges {
                    for i in r.clone() {
                        let d = self.mean[i] - self.prior_mean[i];
                        sum += (2.0 * self.log_sigma[i]).exp() + d * d;
                    }
                }
                (sum / b.len() as f64).clamp(f64::MIN_POSITIVE, top)
            })
            .collect()
    }

    /// KL(Q‖P) summed over the blocks, block b with prior variance `lambdas[b]`.
    ///
    /// # Errors
    /// A non-positive λ or σ, a non-finite weight.
    pub fn kl(&self, lambdas: &[f64]) -> Result<f64> {
        let var: Vec<f64> = self.log_sigma.iter().map(|r| (2.0 * r).exp()).collect();
        let mut kl = 0.0;
        for (b, &lambda) in self.blocks.iter().zip(lambdas) {
            kl += gaussian_kl(
                &b.gather(&self.mean),
                &b.gather(&var),
                &b.gather(&self.prior_mean),
                lambda,
            )?;
        }
        Ok(kl)
    }

    /// Adds `scale · ∂KL/∂w` to `grad_mean` and `scale · ∂KL/∂ρ` to `grad_log_sigma`, at the
    /// prior variances `lambdas`: `(w − w₀)/λ` and `σ²/λ − 1`.
    pub fn add_kl_grad(
        &self,
        lambdas: &[f64],
        scale: f64,
        grad_mean: &mut [f64],
        grad_log_sigma: &mut [f64],
    ) {
        for (b, &lambda) in self.blocks.iter().zip(lambdas) {
            for r in &b.ranges {
                for i in r.clone() {
                    grad_mean[i] += scale * (self.mean[i] - self.prior_mean[i]) / lambda;
                    let var = (2.0 * self.log_sigma[i]).exp();
                    grad_log_sigma[i] += scale * (var / lambda - 1.0);
                }
            }
        }
    }

    /// A network drawn from Q: `w + σ ⊙ ε` with the given standard-normal ε.
    pub fn draw(&self, eps: &[f64], out: &mut [f64]) {
        for (((o, &w), &r), &e) in out.iter_mut().zip(&self.mean).zip(&self.log_sigma).zip(eps) {
            *o = w + r.exp() * e;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<(String, usize)> {
        vec![
            ("router.weight".into(), 6),
            ("router.bias".into(), 2),
            ("experts.0.layers.0.weight".into(), 4),
            ("experts.1.layers.0.weight".into(), 4),
        ]
    }

    #[test]
    fn blocks_split_router_from_experts() {
        let one = blocks(&names(), false);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].len(), 16);
        let two = blocks(&names(), true);
        assert_eq!(
            two.iter().map(|b| b.name).collect::<Vec<_>>(),
            ["router", "experts"]
        );
        assert_eq!(two[0].ranges, vec![0..6, 6..8]);
        assert_eq!(two[1].ranges, vec![8..12, 12..16]);
    }

    #[test]
    fn kl_gradient_matches_finite_differences() {
        let n = 16;
        let mean: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin()).collect();
        let prior: Vec<f64> = (0..n).map(|i| (i as f64 * 0.3).cos() * 0.5).collect();
        let mut q = Posterior::new(mean, prior, blocks(&names(), true), 0.05).unwrap();
        for (i, r) in q.log_sigma.iter_mut().enumerate() {
            *r += 0.1 * i as f64;
        }
        let lambdas = [0.02, 0.3];
        let (mut gw, mut gr) = (vec![0.0; n], vec![0.0; n]);
        q.add_kl_grad(&lambdas, 1.0, &mut gw, &mut gr);
        let h = 1e-6;
        for i in 0..n {
            let mut a = q.clone();
            a.mean[i] += h;
            let mut b = q.clone();
            b.mean[i] -= h;
            let fd = (a.kl(&lambdas).unwrap() - b.kl(&lambdas).unwrap()) / (2.0 * h);
            assert!(
                (fd - gw[i]).abs() < 1e-5 * (1.0 + fd.abs()),
                "w {i}: {fd} vs {}",
                gw[i]
            );
            let mut a = q.clone();
            a.log_sigma[i] += h;
            let mut b = q.clone();
            b.log_sigma[i] -= h;
            let fd = (a.kl(&lambdas).unwrap() - b.kl(&lambdas).unwrap()) / (2.0 * h);
            assert!(
                (fd - gr[i]).abs() < 1e-5 * (1.0 + fd.abs()),
                "ρ {i}: {fd} vs {}",
                gr[i]
            );
        }
    }

    #[test]
    fn best_lambda_minimises_the_kl() {
        let n = 16;
        let mean: Vec<f64> = (0..n).map(|i| (i as f64).sin() * 0.1).collect();
        let q = Posterior::new(mean, vec![0.0; n], blocks(&names(), false), 0.01).unwrap();
        let grid = PriorGrid::default();
        let best = q.best_lambdas(&grid)[0];
        let at = q.kl(&[best]).unwrap();
        for f in [0.8, 0.95, 1.05, 1.25] {
            assert!(q.kl(&[best * f]).unwrap() > at);
        }
    }
}
