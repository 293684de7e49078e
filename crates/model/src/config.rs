use serde::{Deserialize, Deserializer, Serialize};
use smoe_experts::ExpertConfig;
use smoe_gating::{GateConfig, deserialize_gate};
use smoe_router::{RouterConfig, deserialize_router};

use crate::{ModelError, Result, SoftConfig};

/// Which model to build: a tagged table, `[model] kind = "sparse"` (the default kind, so it
/// may be left out). The input width d and the seed are not part of it: they come from the
/// data and the run and are passed to [`crate::build_model`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelConfig {
    /// A top-k sparse MoE ([`crate::SparseMoe`]).
    Sparse(SparseConfig),
    /// A Soft MoE ([`crate::SoftMoe`], `kind = "soft"`).
    Soft(SoftConfig),
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig::Sparse(SparseConfig::default())
    }
}

/// Reads a [`ModelConfig`] whose `kind` may be omitted (default `sparse`); for
/// `#[serde(deserialize_with = "...")]`.
///
/// # Errors
/// Unknown kinds or fields.
pub fn deserialize_model<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<ModelConfig, D::Error> {
    smoe_nn::with_default_kind(d, "sparse")
}

impl ModelConfig {
    /// The model's `kind` as written in TOML.
    pub fn kind(&self) -> &'static str {
        match self {
            ModelConfig::Sparse(_) => "sparse",
            ModelConfig::Soft(_) => "soft",
        }
    }

    /// Experts in total T (n for a soft model).
    pub fn experts(&self) -> usize {
        match self {
            ModelConfig::Sparse(c) => c.experts,
            ModelConfig::Soft(c) => c.experts,
        }
    }

    /// Experts used per input k. A soft model uses all of its n experts on every input
    /// (each sees a convex combination of the tokens), so its k is n.
    pub fn k(&self) -> usize {
        match self {
            ModelConfig::Sparse(c) => c.k,
            ModelConfig::Soft(c) => c.experts,
        }
    }

    /// The sparse config, if this is a sparse model.
    pub fn as_sparse(&self) -> Option<&SparseConfig> {
        match self {
            ModelConfig::Sparse(c) => Some(c),
            ModelConfig::Soft(_) => None,
        }
    }

    /// The soft config, if this is a soft model.
    pub fn as_soft(&self) -> Option<&SoftConfig> {
        match self {
            ModelConfig::Soft(c) => Some(c),
            ModelConfig::Sparse(_) => None,
        }
    }

    /// Checks the config for inputs of width `d`.
    ///
    /// # Errors
    /// As [`SparseConfig::validate`] or [`SoftConfig::validate`].
    pub fn validate(&self, d: usize) -> Result<()> {
        match self {
            ModelConfig::Sparse(c) => c.validate(d),
            ModelConfig::Soft(c) => c.validate(d),
        }
    }

    /// Parameters of the model for inputs of width `d` (see [`SparseConfig::parameter_count`]);
    /// `None` on overflow.
    pub fn parameter_count(&self, d: usize) -> Option<usize> {
        match self {
            ModelConfig::Sparse(c) => c.parameter_count(d),
            ModelConfig::Soft(c) => c.parameter_count(d),
        }
    }

    /// The widest per-row array a pass allocates (see [`SparseConfig::widest_row`]); `None`
    /// on overflow.
    pub fn widest_row(&self, d: usize) -> Option<usize> {
        match self {
            ModelConfig::Sparse(c) => c.widest_row(d),
            ModelConfig::Soft(c) => c.widest_row(d),
        }
    }

    /// One example config of every model kind, with every router, gate and expert of the
    /// component catalogues at T = 4 and a k each gate supports, then the Soft MoE examples
    /// ([`SoftConfig::examples`], valid at every d divisible by 3): what the shared model
    /// tests iterate.
    pub fn examples() -> Vec<ModelConfig> {
        let mut out = Vec::new();
        let t = 4;
        for router in RouterConfig::examples() {
            for gate in GateConfig::examples() {
                let ks: Vec<usize> = if gate.properties().needs_k_equal_t {
                    vec![t]
                } else {
                    // the k the gate supports at T (a hierarchical layout splits only some)
                    [1, 2, t]
                        .into_iter()
                        .filter(|&k| gate.validate(k, t).is_ok())
                        .collect()
                };
                for k in ks {
                    out.push(ModelConfig::Sparse(SparseConfig {
                        experts: t,
                        k,
                        router,
                        gate: gate.clone(),
                        expert: ExpertConfig {
                            width: 5,
                            ..Default::default()
                        },
                        capacity_factor: None,
                    }));
                }
            }
        }
        for expert in ExpertConfig::examples() {
            out.push(ModelConfig::Sparse(SparseConfig {
                experts: t,
                k: 2,
                expert,
                ..Default::default()
            }));
        }
        out.extend(SoftConfig::examples().into_iter().map(ModelConfig::Soft));
        out
    }
}

/// A top-k sparse MoE: T experts, k per input, router, gate, experts' shape, capacity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SparseConfig {
    /// Number of experts T (default 8).
    pub experts: usize,
    /// Experts selected per input k, `1 ≤ k ≤ T` (default 2).
    pub k: usize,
    /// Router (default linear).
    #[serde(deserialize_with = "deserialize_router")]
    pub router: RouterConfig,
    /// Gate (default topk_softmax).
    #[serde(deserialize_with = "deserialize_gate")]
    pub gate: GateConfig,
    /// Experts' shape (default depth 1, width 32, relu).
    pub expert: ExpertConfig,
    /// Capacity factor cf > 0: each expert takes at most `ceil(cf · b · k / T)` assignments
    /// of a batch of b rows (clamped to b), slot 0 of every row first; the rest are dropped
    /// and counted. `None` (default): dropless.
    pub capacity_factor: Option<f64>,
}

impl Default for SparseConfig {
    fn default() -> Self {
        Self {
            experts: 8,
            k: 2,
            router: RouterConfig::Linear,
            gate: GateConfig::TopkSoftmax,
            expert: ExpertConfig::default(),
            capacity_factor: None,
        }
    }
}

impl SparseConfig {
    /// Checks every field, for inputs of width `d`, before anything is built; each
    /// component's own message reaches the caller.
    ///
    /// # Errors
    /// [`ModelError::InvalidTopK`] unless `1 ≤ k ≤ T`; the gate's, router's and experts' own
    /// errors (e.g. the dense gate needs k = T); [`ModelError::InvalidConfig`] for `d = 0`,
    /// `T = 0` or a capacity factor that is not finite and positive; [`ModelError::TooLarge`]
    /// when the parameters would exceed [`smoe_nn::MAX_ELEMENTS`].
    pub fn validate(&self, d: usize) -> Result<()> {
        if d == 0 {
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
        if !matches!(self.gate, GateConfig::Custom { .. }) {
            self.gate.validate(self.k, self.experts)?;
        }
        self.expert.validate()?;
        self.router.validate()?;
        if let Some(cf) = self.capacity_factor
            && !(cf.is_finite() && cf > 0.0)
        {
            return Err(ModelError::InvalidConfig {
                field: "capacity_factor",
                value: cf.to_string(),
                reason: "must be finite and > 0 (omit it for dropless)",
            });
        }
        // the total bounds every single tensor of the build too
        smoe_nn::check_elements("the model's parameters", self.parameter_count(d))?;
        smoe_nn::check_elements(
            "the router's fixed expert embeddings",
            self.router.buffer_count(self.experts),
        )?;
        Ok(())
    }

    /// Parameters of the model for inputs of width `d`: router, `T` experts and the gate's own
    /// parameters ([`GateConfig::parameter_count`], e.g. the noisy gate's `T × d`); `None` if
    /// the count overflows `usize`.
    pub fn parameter_count(&self, d: usize) -> Option<usize> {
        self.router
            .parameter_count(d, self.experts)?
            .checked_add(self.expert.parameter_count(d)?.checked_mul(self.experts)?)?
            .checked_add(self.gate.parameter_count(d, self.experts)?)
    }

    /// The widest per-row array a forward or backward pass allocates: the router's logits
    /// (`T`), the inputs (`d`), an MLP router's hidden layer or a low-rank router's rank, or the `k` selected experts'
    /// hidden layers gathered side by side (`k × width`); `None` on overflow. Times the rows
    /// of a batch, it is that batch's largest array.
    pub fn widest_row(&self, d: usize) -> Option<usize> {
        let hidden = self.router.hidden_width();
        let experts = self.k.checked_mul(self.expert.width.max(1))?;
        Some(self.experts.max(d).max(hidden).max(experts))
    }
}
