//! What a certificate records: the bound and every part of it, the budget it used, and the
//! baselines beside it.

use serde::{Deserialize, Serialize};

/// One prior block's variance and KL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockRecord {
    /// `all`, `router` or `experts`.
    pub name: String,
    /// Parameters in the block.
    pub params: usize,
    /// λ: the block's prior variance, a grid point.
    pub lambda: f64,
    /// Its grid index j (λ = c·e^{−j/b}; the bound pays ln(π²/6) + 2 ln j).
    pub grid_j: u64,
    /// KL(Q‖P) over the block.
    pub kl: f64,
}

/// Where the prior's mean came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorRecord {
    /// `init` (the run's initialisation) or `data_dependent`.
    pub kind: String,
    /// Training rows the prior mean was fitted on (0 for `init`).
    pub m_prior: usize,
    /// The prior model's error on the rows the certificate uses (data-dependent only).
    pub prior_error: Option<f64>,
    /// Where Q's mean started: `trained` (the run's weights) or `prior` (the prior's mean).
    pub start: String,
}

impl PriorRecord {
    /// The initialisation prior.
    pub fn init() -> Self {
        Self {
            kind: "init".into(),
            m_prior: 0,
            prior_error: None,
            start: "trained".into(),
        }
    }
}

/// A PAC-Bayes certificate of a trained model and its parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateRecord {
    /// The certified bound on the stochastic model's error, kl⁻¹(mc_bound, B_RE), with
    /// probability ≥ `confidence`.
    pub bound: f64,
    /// ê_M: the mean training error of the M sampled networks (hard top-k, re-routed).
    pub mc_error: f64,
    /// kl⁻¹(ê_M, ln(2/δ′)/M): an upper bound on ê(Q) with probability ≥ 1 − δ′.
    pub mc_bound: f64,
    /// M.
    pub samples: usize,
    /// B_RE at the grid-rounded λ.
    pub b_re: f64,
    /// KL(Q‖P) in nats, summed over the blocks.
    pub kl: f64,
    /// N: parameters of the model (every one is stochastic).
    pub params: usize,
    /// KL / N.
    pub kl_per_param: f64,
    /// m: the training rows the bound holds for.
    pub m: usize,
    /// δ of the PAC-Bayes bound.
    pub delta: f64,
    /// δ′ of the Monte Carlo step.
    pub delta_mc: f64,
    /// 1 − δ − δ′.
    pub confidence: f64,
    /// The prior's blocks.
    pub blocks: Vec<BlockRecord>,
    /// The prior's mean.
    pub prior: PriorRecord,
    /// The surrogate routing used in the optimisation (`dense` or `hard`).
    pub surrogate: String,
    /// The surrogate asked for (differs when the model has no dense form).
    pub surrogate_requested: String,
    /// Optimisation steps (the budget).
    pub steps: usize,
    /// Minibatch size of the optimisation.
    pub batch_size: usize,
    /// Mean surrogate loss (bits) over the first 100 steps.
    pub surrogate_loss_start: f64,
    /// Mean surrogate loss over the last 100 steps.
    pub surrogate_loss_end: f64,
    /// The optimised objective `loss + sqrt(B_RE/2)` at the start.
    pub objective_start: f64,
    /// The objective at the end.
    pub objective_end: f64,
    /// The geometric mean of the posterior standard deviations.
    pub sigma_geometric_mean: f64,
    /// ‖w_Q − w_start‖₂: how far the optimisation moved the mean from where it started.
    pub mean_shift: f64,
    /// The error of the deterministic model Q starts from (`prior.start`) on the
    /// certificate's training rows.
    pub train_error: f64,
    /// That deterministic model's test error.
    pub test_error: Option<f64>,
    /// The stochastic model's test error (mean over its test draws).
    pub stochastic_test_error: Option<f64>,
    /// The hold-out bound: the binomial-tail upper bound on that deterministic model's error
    /// from its test errors, with probability ≥ 1 − `delta_holdout`.
    pub holdout_bound: Option<f64>,
    /// δ of the hold-out bound.
    pub delta_holdout: f64,
    /// Test rows.
    pub m_test: Option<usize>,
    /// Seconds in the optimisation.
    pub optimise_secs: f64,
    /// Seconds in the Monte Carlo step on the training rows.
    pub sample_secs: f64,
    /// Seconds in all (prior fitting not included).
    pub total_secs: f64,
}

impl CertificateRecord {
    /// Every number under one name, for sweep summaries (`certificate.bound`, ...).
    pub fn scalars(&self) -> Vec<(String, f64)> {
        let mut v = vec![
            ("certificate.bound".to_string(), self.bound),
            ("certificate.mc_error".into(), self.mc_error),
            ("certificate.mc_bound".into(), self.mc_bound),
            ("certificate.b_re".into(), self.b_re),
            ("certificate.kl".into(), self.kl),
            ("certificate.kl_per_param".into(), self.kl_per_param),
            ("certificate.train_error".into(), self.train_error),
            (
                "certificate.sigma_geometric_mean".into(),
                self.sigma_geometric_mean,
            ),
            ("certificate.secs".into(), self.total_secs),
        ];
        for (name, x) in [
            ("test_error", self.test_error),
            ("stochastic_test_error", self.stochastic_test_error),
            ("holdout_bound", self.holdout_bound),
        ] {
            if let Some(x) = x {
                v.push((format!("certificate.{name}"), x));
            }
        }
        for b in &self.blocks {
            v.push((format!("certificate.lambda_{}", b.name), b.lambda));
        }
        v
    }
}
