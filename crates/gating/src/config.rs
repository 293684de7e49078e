use serde::{Deserialize, Deserializer, Serialize};
use smoe_nn::Float;

use crate::{DenseSoftmax, Gate, GatingError, NoisyTopK, Result, SoftmaxTopK, TopKSoftmax};

/// Which gate to build: a tagged table, `[model.gate] kind = "topk_softmax"` (a bare string
/// `gate = "topk_softmax"` and a table without `kind` are read as the same; the default kind
/// is `topk_softmax`). New gates add a variant carrying their parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GateConfig {
    /// [`TopKSoftmax`] (default).
    #[default]
    TopkSoftmax,
    /// [`SoftmaxTopK`].
    SoftmaxTopk,
    /// [`DenseSoftmax`]; needs k = T.
    DenseSoftmax,
    /// [`NoisyTopK`].
    NoisyTopk,
    /// A gate built outside smoe (passed to `SparseMoe::from_parts`); `name` is what records
    /// show. [`build_gate`] cannot build it.
    Custom {
        /// The gate's name.
        name: String,
    },
}

/// What a gate guarantees, declared once per gate so that shared tests check exactly what
/// holds (not every gate's weights sum to 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateProperties {
    /// The k weights of a row sum to 1.
    pub weights_sum_to_one: bool,
    /// The k weights of a row sum to at most 1.
    pub weights_at_most_one: bool,
    /// Every selected weight is > 0.
    pub weights_positive: bool,
    /// The selection is the top-k of the router logits (ties: lower index first).
    pub selects_top_k_logits: bool,
    /// Only k = T is valid.
    pub needs_k_equal_t: bool,
    /// The router gets a gradient at k = 1.
    pub router_learns_at_k1: bool,
    /// Routing uses noise in training.
    pub uses_noise: bool,
}

impl GateConfig {
    /// The config's `kind` as written in TOML.
    pub fn kind(&self) -> &str {
        match self {
            GateConfig::TopkSoftmax => "topk_softmax",
            GateConfig::SoftmaxTopk => "softmax_topk",
            GateConfig::DenseSoftmax => "dense_softmax",
            GateConfig::NoisyTopk => "noisy_topk",
            GateConfig::Custom { name } => name,
        }
    }

    /// One example config of every gate smoe builds: the catalogue the shared gradient-check,
    /// invariant, oracle and checkpoint tests iterate, so a new gate is tested by adding it here.
    pub fn examples() -> Vec<GateConfig> {
        vec![
            GateConfig::TopkSoftmax,
            GateConfig::SoftmaxTopk,
            GateConfig::DenseSoftmax,
            GateConfig::NoisyTopk,
        ]
    }

    /// What this gate guarantees (see [`GateProperties`]).
    pub fn properties(&self) -> GateProperties {
        let base = GateProperties {
            weights_sum_to_one: true,
            weights_at_most_one: true,
            weights_positive: true,
            selects_top_k_logits: true,
            needs_k_equal_t: false,
            router_learns_at_k1: false,
            uses_noise: false,
        };
        match self {
            GateConfig::TopkSoftmax => base,
            GateConfig::SoftmaxTopk => GateProperties {
                weights_sum_to_one: false,
                router_learns_at_k1: true,
                ..base
            },
            GateConfig::DenseSoftmax => GateProperties {
                needs_k_equal_t: true,
                router_learns_at_k1: true,
                ..base
            },
            GateConfig::NoisyTopk => GateProperties {
                uses_noise: true,
                ..base
            },
            GateConfig::Custom { .. } => GateProperties {
                weights_sum_to_one: false,
                weights_at_most_one: false,
                weights_positive: false,
                selects_top_k_logits: false,
                ..base
            },
        }
    }

    /// Checks `k` against `experts` for this gate.
    ///
    /// # Errors
    /// [`GatingError::InvalidTopK`] unless `1 ≤ k ≤ T`; [`GatingError::KNotSupported`] when
    /// the gate needs k = T (dense) and k < T.
    pub fn validate(&self, k: usize, experts: usize) -> Result<()> {
        if experts == 0 {
            return Err(GatingError::ZeroDim(smoe_nn::ZeroDim {
                what: "gate number of experts",
            }));
        }
        if !(1..=experts).contains(&k) {
            return Err(GatingError::InvalidTopK { k, experts });
        }
        if self.properties().needs_k_equal_t && k != experts {
            return Err(GatingError::KNotSupported {
                gate: self.kind().to_string(),
                k,
                experts,
                reason: "it needs k = T",
            });
        }
        Ok(())
    }
}

/// Reads a [`GateConfig`] whose `kind` may be omitted (default `topk_softmax`) or written as a
/// bare string; for `#[serde(deserialize_with = "...")]`.
///
/// # Errors
/// Unknown kinds or fields.
pub fn deserialize_gate<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<GateConfig, D::Error> {
    smoe_nn::with_default_kind(d, "topk_softmax")
}

/// Builds the gate of `cfg` selecting `k` of `experts` for inputs of width `d`.
///
/// # Errors
/// As [`GateConfig::validate`]; [`GatingError::ZeroDim`] if `d = 0` for the noisy gate;
/// [`GatingError::InvalidConfig`] for a custom gate (build it yourself).
pub fn build_gate<F: Float>(
    cfg: &GateConfig,
    k: usize,
    experts: usize,
    d: usize,
) -> Result<Box<dyn Gate<F>>> {
    cfg.validate(k, experts)?;
    Ok(match cfg {
        GateConfig::TopkSoftmax => Box::new(TopKSoftmax::new(k, experts)?),
        GateConfig::SoftmaxTopk => Box::new(SoftmaxTopK::new(k, experts)?),
        GateConfig::DenseSoftmax => Box::new(DenseSoftmax::new(experts)?),
        GateConfig::NoisyTopk => Box::new(NoisyTopK::<F>::new(k, experts, d)?),
        GateConfig::Custom { name } => {
            return Err(GatingError::InvalidConfig {
                gate: name.clone(),
                reason: "a custom gate is built by its user and passed to SparseMoe::from_parts"
                    .into(),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "deserialize_gate")]
        gate: GateConfig,
    }

    #[test]
    fn spellings() {
        let h: Holder = toml::from_str("gate = \"noisy_topk\"").unwrap();
        assert_eq!(h.gate, GateConfig::NoisyTopk);
        let h: Holder = toml::from_str("[gate]\nkind = \"softmax_topk\"").unwrap();
        assert_eq!(h.gate, GateConfig::SoftmaxTopk);
        let h: Holder = toml::from_str("[gate]\n").unwrap();
        assert_eq!(h.gate, GateConfig::TopkSoftmax);
        assert!(toml::from_str::<Holder>("[gate]\nkind = \"topk_softmax\"\ntau = 1").is_err());
        let e = GateConfig::DenseSoftmax
            .validate(2, 4)
            .unwrap_err()
            .to_string();
        assert!(e.contains("dense_softmax") && e.contains("k = T"), "{e}");
    }
}
