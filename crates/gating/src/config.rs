use serde::{Deserialize, Deserializer, Serialize};
use smoe_nn::Float;

use crate::hierarchical::check_layout;
use crate::{
    DenseSoftmax, DenseToSparse, Gate, GateActivation, GatingError, HierarchicalSoftmax, NoisyTopK,
    Result, SigmoidGate, SoftmaxTopK, TauSchedule, Temperature, TopKSoftmax,
};

fn default_tau() -> f64 {
    1.0
}

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
    /// [`DenseToSparse`]: `softmax(act(z) / τ)` over the top-k of z (k = T: dense). τ is fixed
    /// (`tau`), scheduled (`tau` → `tau_end`) or learned (`learn_tau`).
    DenseToSparse {
        /// τ, or τ₀ of a schedule, or the initial τ of a learned one (default 1).
        #[serde(default = "default_tau")]
        tau: f64,
        /// τ₁: with it, τ moves from `tau` to `tau_end` over training (default: none, fixed τ).
        #[serde(default)]
        tau_end: Option<f64>,
        /// The schedule's path, `"geometric"` (default) or `"linear"`; only with `tau_end`.
        #[serde(default)]
        schedule: Option<TauSchedule>,
        /// Learn τ = exp(θ) as the gate parameter `gate.log_tau` (default false; not with
        /// `tau_end`).
        #[serde(default)]
        learn_tau: bool,
        /// The activation before the softmax: `"none"` (default), `"tanh"` or `"sigmoid"`
        /// (the activation dense-to-sparse gate).
        #[serde(default)]
        activation: GateActivation,
        /// Renormalise over the k selected experts once τ ≤ this (default: never).
        #[serde(default)]
        topk_below: Option<f64>,
    },
    /// [`SigmoidGate`]: `w_j = σ(z_j)` on the top-k, no normalisation (k = T: dense).
    Sigmoid,
    /// [`HierarchicalSoftmax`]: `groups` groups of T/G contiguous experts, the top
    /// `top_groups` groups (default all G) and `k / top_groups` experts in each.
    HierarchicalSoftmax {
        /// G, which must divide T.
        groups: usize,
        /// kg, `1 ≤ kg ≤ G`, dividing k (default G).
        #[serde(default)]
        top_groups: Option<usize>,
    },
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
    /// The router gets a gradient at k = 1 (for a gate with a schedule: as built, before
    /// training moves it).
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
            GateConfig::DenseToSparse { .. } => "dense_to_sparse",
            GateConfig::Sigmoid => "sigmoid",
            GateConfig::HierarchicalSoftmax { .. } => "hierarchical_softmax",
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
            // the dense tempered softmax (k = T) or its top-k mass (k < T)
            GateConfig::dense_to_sparse(1.0),
            // learned temperature, activation dense-to-sparse
            GateConfig::DenseToSparse {
                tau: 0.5,
                tau_end: None,
                schedule: None,
                learn_tau: true,
                activation: GateActivation::Tanh,
                topk_below: None,
            },
            // a schedule 1 -> 0.01 switching to the renormalised top-k at 0.1
            GateConfig::DenseToSparse {
                tau: 1.0,
                tau_end: Some(0.01),
                schedule: Some(TauSchedule::Geometric),
                learn_tau: false,
                activation: GateActivation::None,
                topk_below: Some(0.1),
            },
            // sparse from the start: the renormalised tempered top-k
            GateConfig::DenseToSparse {
                tau: 0.5,
                tau_end: None,
                schedule: None,
                learn_tau: false,
                activation: GateActivation::Sigmoid,
                topk_below: Some(1.0),
            },
            GateConfig::Sigmoid,
            GateConfig::HierarchicalSoftmax {
                groups: 2,
                top_groups: None,
            },
            GateConfig::HierarchicalSoftmax {
                groups: 2,
                top_groups: Some(1),
            },
        ]
    }

    /// A `dense_to_sparse` gate with the fixed temperature `tau` and no activation or switch.
    pub fn dense_to_sparse(tau: f64) -> Self {
        GateConfig::DenseToSparse {
            tau,
            tau_end: None,
            schedule: None,
            learn_tau: false,
            activation: GateActivation::None,
            topk_below: None,
        }
    }

    /// The gate's own parameter tensors for inputs of width `d` and `experts` experts, as
    /// (name after the `gate.` prefix, shape), in [`Gate::params`] order: `noise.weight [T, d]`
    /// (noisy top-k), `log_tau [1]` (learned temperature), `outer.weight [G, d]` and
    /// `outer.bias [G]` (hierarchical); none for the others.
    pub fn param_shapes(&self, d: usize, experts: usize) -> Vec<(&'static str, Vec<usize>)> {
        match self {
            GateConfig::NoisyTopk => vec![("noise.weight", vec![experts, d])],
            GateConfig::DenseToSparse {
                learn_tau: true, ..
            } => vec![("log_tau", vec![1])],
            GateConfig::HierarchicalSoftmax { groups, .. } => vec![
                ("outer.weight", vec![*groups, d]),
                ("outer.bias", vec![*groups]),
            ],
            _ => Vec::new(),
        }
    }

    /// Number of the gate's own parameters (see [`GateConfig::param_shapes`]); `None` on
    /// overflow.
    pub fn parameter_count(&self, d: usize, experts: usize) -> Option<usize> {
        match self {
            GateConfig::NoisyTopk => experts.checked_mul(d),
            GateConfig::DenseToSparse {
                learn_tau: true, ..
            } => Some(1),
            GateConfig::HierarchicalSoftmax { groups, .. } => groups.checked_mul(d.checked_add(1)?),
            _ => Some(0),
        }
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
            GateConfig::DenseToSparse {
                tau,
                tau_end,
                learn_tau,
                topk_below,
                ..
            } => GateProperties {
                // the k weights sum to 1 only in the sparse phase (or at k = T): declared
                // only when the gate is sparse for good (fixed τ at or below the switch)
                weights_sum_to_one: tau_end.is_none()
                    && !learn_tau
                    && topk_below.is_some_and(|b| *tau <= b),
                // at k = 1 the sparse phase's weight is 1: the router learns while the gate
                // is dense, as it is when built unless τ starts at or below the switch (a
                // scheduled gate stops learning at k = 1 once it switches)
                router_learns_at_k1: topk_below.is_none_or(|b| *tau > b),
                ..base
            },
            GateConfig::Sigmoid => GateProperties {
                weights_sum_to_one: false,
                weights_at_most_one: false,
                router_learns_at_k1: true,
                ..base
            },
            GateConfig::HierarchicalSoftmax { .. } => GateProperties {
                selects_top_k_logits: false,
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
    /// the gate needs k = T (dense) and k < T, or a hierarchical layout cannot split k;
    /// [`GatingError::InvalidConfig`] for a bad temperature (see [`GateConfig::temperature`])
    /// or a hierarchical layout whose groups do not divide T.
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
        match self {
            GateConfig::DenseToSparse { .. } => {
                self.temperature()?;
            }
            GateConfig::HierarchicalSoftmax { groups, top_groups } => {
                check_layout(k, experts, *groups, top_groups.unwrap_or(*groups))?;
            }
            _ => {}
        }
        Ok(())
    }

    /// The [`Temperature`] of a `dense_to_sparse` config (`Fixed` for any other gate).
    ///
    /// # Errors
    /// [`GatingError::InvalidConfig`] for a τ, `tau_end` or `topk_below` that is not finite
    /// and positive, `learn_tau` with `tau_end`, or `schedule` without `tau_end`.
    pub fn temperature(&self) -> Result<Temperature> {
        let GateConfig::DenseToSparse {
            tau,
            tau_end,
            schedule,
            learn_tau,
            topk_below,
            ..
        } = self
        else {
            return Ok(Temperature::Fixed(1.0));
        };
        let bad = |reason: String| GatingError::InvalidConfig {
            gate: "dense_to_sparse".into(),
            reason,
        };
        for (what, v) in [
            ("tau", Some(*tau)),
            ("tau_end", *tau_end),
            ("topk_below", *topk_below),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                return Err(bad(format!("{what} = {v} must be finite and > 0")));
            }
        }
        match (tau_end, schedule, learn_tau) {
            (Some(_), _, true) => Err(bad(
                "learn_tau = true and tau_end: a temperature is either learned or scheduled".into(),
            )),
            (None, Some(s), _) => Err(bad(format!(
                "schedule = {s:?} needs tau_end (the temperature at the end of training)"
            ))),
            (Some(end), s, false) => Ok(Temperature::Schedule {
                start: *tau,
                end: *end,
                shape: s.unwrap_or_default(),
            }),
            (None, None, true) => Ok(Temperature::Learnable { init: *tau }),
            (None, None, false) => Ok(Temperature::Fixed(*tau)),
        }
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
/// As [`GateConfig::validate`]; [`GatingError::ZeroDim`] if `d = 0` for the noisy or the
/// hierarchical gate;
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
        GateConfig::DenseToSparse {
            activation,
            topk_below,
            ..
        } => Box::new(DenseToSparse::<F>::new(
            k,
            experts,
            cfg.temperature()?,
            *activation,
            *topk_below,
        )?),
        GateConfig::Sigmoid => Box::new(SigmoidGate::new(k, experts)?),
        GateConfig::HierarchicalSoftmax { groups, top_groups } => Box::new(
            HierarchicalSoftmax::<F>::new(k, experts, *groups, top_groups.unwrap_or(*groups), d)?,
        ),
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

    #[test]
    fn new_gates_read_and_check() {
        let h: Holder = toml::from_str(
            "[gate]\nkind = \"dense_to_sparse\"\ntau_end = 0.01\nactivation = \"tanh\"\ntopk_below = 0.1",
        )
        .unwrap();
        assert!(matches!(
            h.gate.temperature(),
            Ok(Temperature::Schedule {
                start: 1.0,
                end: 0.01,
                shape: TauSchedule::Geometric
            })
        ));
        assert!(toml::from_str::<Holder>("[gate]\nkind = \"sigmoid\"\ntau = 1").is_err());
        assert!(toml::from_str::<Holder>("[gate]\nkind = \"dense_to_sparse\"\ntemp = 1").is_err());
        let h: Holder =
            toml::from_str("[gate]\nkind = \"hierarchical_softmax\"\ngroups = 4").unwrap();
        let e = h.gate.validate(2, 6).unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid gate hierarchical_softmax: T = 6 is not divisible by groups = 4"
        );
        assert!(toml::from_str::<Holder>("[gate]\nkind = \"hierarchical_softmax\"").is_err());
        let both = GateConfig::DenseToSparse {
            tau: 1.0,
            tau_end: Some(0.1),
            schedule: None,
            learn_tau: true,
            activation: GateActivation::None,
            topk_below: None,
        };
        assert!(
            both.validate(1, 2)
                .unwrap_err()
                .to_string()
                .contains("learned or scheduled")
        );
        let e = GateConfig::dense_to_sparse(0.0)
            .validate(1, 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("tau = 0 must be finite and > 0"), "{e}");
    }
}
