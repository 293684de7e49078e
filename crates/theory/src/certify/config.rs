//! The settings of a PAC-Bayes certificate: the posterior optimisation's budget, the surrogate
//! routing, the prior and the confidence levels.

use serde::{Deserialize, Serialize};

use crate::error::{Result, TheoryError};

/// The most optimisation steps a certificate accepts.
pub const MAX_STEPS: usize = 1_000_000;
/// The most sampled networks a certificate accepts.
pub const MAX_SAMPLES: usize = 1_000_000;

/// The routing used while the posterior is optimised. The final evaluation always samples
/// networks with the model's own hard top-k routing (each sample re-routed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Surrogate {
    /// Every expert on every input, weighted by `softmax(z / tau)` (the dense softmax at
    /// τ = 1). Smooth in the router weights, so the posterior sees what router noise does to
    /// the mixture. Used for the softmax-family gates (`topk_softmax`, `softmax_topk`,
    /// `dense_softmax`, `dense_to_sparse` without a learned τ); other models fall back to
    /// [`Surrogate::Hard`] and the record says so.
    Dense {
        /// τ > 0 (default 1).
        #[serde(default = "default_tau")]
        tau: f64,
    },
    /// The model's own routing, re-routed for each sampled network: gradients see the gate
    /// weights of the selected experts but not a routing flip.
    Hard,
}

fn default_tau() -> f64 {
    1.0
}

impl Default for Surrogate {
    fn default() -> Self {
        Surrogate::Dense { tau: 1.0 }
    }
}

impl Surrogate {
    /// The name records show: `dense` or `hard`.
    pub fn name(&self) -> &'static str {
        match self {
            Surrogate::Dense { .. } => "dense",
            Surrogate::Hard => "hard",
        }
    }
}

/// Where the prior's mean comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PriorMean {
    /// The run's initialisation w₀, re-created from its seed (fixed before the data).
    #[default]
    Init,
    /// A model trained (from w₀, with the run's own training settings) on a held-out part of
    /// the training set; the certificate's empirical terms and m are those of the rest.
    DataDependent {
        /// The fraction of the training set the prior is fitted on, in (0, 1) (default 0.5).
        #[serde(default = "default_fraction")]
        fraction: f64,
        /// Start Q's mean at the prior's mean, as later PAC-Bayes work does (default true);
        /// false starts it at the run's trained weights, which may sit far from the prior's.
        #[serde(default = "default_true")]
        from_prior: bool,
    },
}

fn default_fraction() -> f64 {
    0.5
}

fn default_true() -> bool {
    true
}

/// Everything a certificate is computed with (`[certify]` in a run's config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CertifyConfig {
    /// Posterior optimisation steps (one sampled network and one minibatch each; default
    /// 10 000).
    pub steps: usize,
    /// Minibatch size of the optimisation (default 256).
    pub batch_size: usize,
    /// Adam step size of the posterior mean (default 3e-3).
    pub lr: f64,
    /// Adam step size of the posterior log-standard deviations (default 1e-2).
    pub lr_sigma: f64,
    /// Initial posterior standard deviation of every weight (default 1e-3).
    pub sigma_init: f64,
    /// M: networks sampled from Q for the final Monte Carlo estimate (default 1000).
    pub samples: usize,
    /// Networks sampled from Q for the stochastic model's test error, shown beside the
    /// certificate (default 100; 0 skips it).
    pub test_samples: usize,
    /// δ of the PAC-Bayes bound (default 0.025).
    pub delta: f64,
    /// δ′ of the Monte Carlo step (default 0.01).
    pub delta_mc: f64,
    /// δ of the hold-out (test-set) binomial-tail bound shown beside it (default 0.01).
    pub delta_holdout: f64,
    /// c of the prior-variance grid λ = c·e^{−j/b} (default 0.1).
    pub grid_c: f64,
    /// b of the grid (default 100).
    pub grid_b: f64,
    /// A separate prior variance for the router (names `router.*` and `gate.*`) and for the
    /// experts, each paying its own grid price (default false: one λ).
    pub separate_router_prior: bool,
    /// The routing during optimisation (default the dense softmax).
    pub surrogate: Surrogate,
    /// The prior's mean (default the initialisation).
    pub prior: PriorMean,
}

impl Default for CertifyConfig {
    fn default() -> Self {
        Self {
            steps: 10000,
            batch_size: 256,
            lr: 3e-3,
            lr_sigma: 1e-2,
            sigma_init: 1e-3,
            samples: 1000,
            test_samples: 100,
            delta: 0.025,
            delta_mc: 0.01,
            delta_holdout: 0.01,
            grid_c: 0.1,
            grid_b: 100.0,
            separate_router_prior: false,
            surrogate: Surrogate::default(),
            prior: PriorMean::default(),
        }
    }
}

fn bad(name: &'static str, value: f64, requirement: &'static str) -> TheoryError {
    TheoryError::InvalidParameter {
        name,
        value,
        requirement,
    }
}

impl CertifyConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`TheoryError::InvalidParameter`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        let pos = |name, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(bad(name, v, "finite and > 0"))
            }
        };
        let prob = |name, v: f64| {
            if v > 0.0 && v < 1.0 {
                Ok(())
            } else {
                Err(bad(name, v, "in (0, 1)"))
            }
        };
        if self.steps == 0 || self.steps > MAX_STEPS {
            return Err(bad("certify.steps", self.steps as f64, "between 1 and 1e6"));
        }
        if self.batch_size == 0 {
            return Err(bad("certify.batch_size", 0.0, "at least 1"));
        }
        if self.samples == 0 || self.samples > MAX_SAMPLES {
            return Err(bad(
                "certify.samples",
                self.samples as f64,
                "between 1 and 1e6",
            ));
        }
        if self.test_samples > MAX_SAMPLES {
            return Err(bad(
                "certify.test_samples",
                self.test_samples as f64,
                "at most 1e6",
            ));
        }
        pos("certify.lr", self.lr)?;
        pos("certify.lr_sigma", self.lr_sigma)?;
        pos("certify.sigma_init", self.sigma_init)?;
        pos("certify.grid_c", self.grid_c)?;
        pos("certify.grid_b", self.grid_b)?;
        prob("certify.delta", self.delta)?;
        prob("certify.delta_mc", self.delta_mc)?;
        prob("certify.delta_holdout", self.delta_holdout)?;
        if let Surrogate::Dense { tau } = self.surrogate {
            pos("certify.surrogate.tau", tau)?;
        }
        if let PriorMean::DataDependent { fraction, .. } = self.prior {
            prob("certify.prior.fraction", fraction)?;
        }
        Ok(())
    }
}
