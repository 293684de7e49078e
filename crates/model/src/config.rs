use serde::{Deserialize, Serialize};
use smoe_experts::ExpertConfig;
use smoe_gating::GateConfig;
use smoe_router::RouterConfig;

use crate::{ModelError, Result};

/// The whole model as one config. A config plus its seed determines the initial weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MoeConfig {
    /// Input width d (default 32).
    pub d: usize,
    /// Number of experts T (default 16).
    pub experts: usize,
    /// Experts selected per input k, `1 ≤ k ≤ T` (default 2).
    pub k: usize,
    /// Router (default linear).
    pub router: RouterConfig,
    /// Gate (default topk_softmax).
    pub gate: GateConfig,
    /// Experts' shape (default depth 1, width 64, relu).
    pub expert: ExpertConfig,
    /// Capacity factor cf > 0: each expert takes at most `ceil(cf · b · k / T)` assignments
    /// of a batch of b rows (clamped to b), slot 0 of every row first; the rest are dropped
    /// and counted. `None` (default): dropless.
    pub capacity_factor: Option<f64>,
    /// Seed of the initial weights and of the routing noise (default 0).
    pub seed: u64,
}

impl Default for MoeConfig {
    fn default() -> Self {
        Self {
            d: 32,
            experts: 16,
            k: 2,
            router: RouterConfig::Linear,
            gate: GateConfig::TopkSoftmax,
            expert: ExpertConfig::default(),
            capacity_factor: None,
            seed: 0,
        }
    }
}

impl MoeConfig {
    /// Checks every field before anything is built.
    ///
    /// # Errors
    /// [`ModelError::InvalidTopK`] unless `1 ≤ k ≤ T` (and k = T for the dense gate);
    /// [`ModelError::InvalidConfig`] for `d = 0`, `T = 0`, width 0, a router hidden width 0, or
    /// a capacity factor that is not finite and positive.
    pub fn validate(&self) -> Result<()> {
        if self.d == 0 {
            return Err(ModelError::InvalidConfig {
                field: "d",
                value: "0".into(),
                reason: "the input width must be at least 1",
            });
        }
        if self.experts == 0 {
            return Err(ModelError::InvalidConfig {
                field: "experts",
                value: "0".into(),
                reason: "there must be at least one expert",
            });
        }
        if self.k == 0 || self.k > self.experts {
            return Err(ModelError::InvalidTopK {
                k: self.k,
                experts: self.experts,
            });
        }
        self.gate
            .validate(self.k, self.experts)
            .map_err(|_| ModelError::InvalidConfig {
                field: "gate",
                value: "dense_softmax".into(),
                reason: "the dense gate needs k = T",
            })?;
        if self.expert.depth > 0 && self.expert.width == 0 {
            return Err(ModelError::InvalidConfig {
                field: "expert.width",
                value: "0".into(),
                reason: "hidden layers need at least one unit",
            });
        }
        if let RouterConfig::Mlp { hidden: 0 } = self.router {
            return Err(ModelError::InvalidConfig {
                field: "router.hidden",
                value: "0".into(),
                reason: "the router's hidden layer needs at least one unit",
            });
        }
        if let Some(cf) = self.capacity_factor
            && !(cf.is_finite() && cf > 0.0)
        {
            return Err(ModelError::InvalidConfig {
                field: "capacity_factor",
                value: cf.to_string(),
                reason: "must be finite and > 0 (omit it for dropless)",
            });
        }
        Ok(())
    }
}
