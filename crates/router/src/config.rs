use serde::{Deserialize, Deserializer, Serialize};
use smoe_nn::{Float, Init, stream_rng};

use crate::{LinearRouter, LowRankRouter, MlpRouter, Result, Router, RouterError};

/// Which router to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RouterConfig {
    /// [`LinearRouter`] (the default).
    #[default]
    Linear,
    /// [`MlpRouter`] with `hidden` ReLU units.
    Mlp {
        /// Hidden width (no default: must be given, ≥ 1).
        hidden: usize,
    },
    /// [`LowRankRouter`] `z = E (P x + c)` of rank `rank`, E fixed: d_N ≤ r(d+1) whatever T.
    LowRank {
        /// The rank r ≥ 1 (no default; r > T or r > d is allowed, see [`LowRankRouter`]).
        rank: usize,
    },
}

/// Reads a [`RouterConfig`] whose `kind` may be omitted (default `linear`) or written as a bare
/// string; for `#[serde(deserialize_with = "...")]`.
///
/// # Errors
/// Unknown kinds or fields.
pub fn deserialize_router<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<RouterConfig, D::Error> {
    smoe_nn::with_default_kind(d, "linear")
}

impl RouterConfig {
    /// One example config of every router: the catalogue the shared tests iterate.
    pub fn examples() -> Vec<RouterConfig> {
        vec![
            RouterConfig::Linear,
            RouterConfig::Mlp { hidden: 5 },
            RouterConfig::LowRank { rank: 2 },
        ]
    }

    /// Trainable parameters of the router for inputs of width `d` and `experts` experts (with
    /// biases; a low-rank router's fixed embeddings are not counted, see
    /// [`RouterConfig::buffer_count`]); `None` if the count overflows `usize`.
    pub fn parameter_count(&self, d: usize, experts: usize) -> Option<usize> {
        match self {
            RouterConfig::Linear => d.checked_add(1)?.checked_mul(experts),
            RouterConfig::Mlp { hidden } => d
                .checked_add(1)?
                .checked_mul(*hidden)?
                .checked_add(hidden.checked_add(1)?.checked_mul(experts)?),
            RouterConfig::LowRank { rank } => d.checked_add(1)?.checked_mul(*rank),
        }
    }

    /// Fixed (untrained) values the router holds besides its parameters: the low-rank
    /// router's embeddings `E [T, r]`, 0 for the others; `None` on overflow. Checked against
    /// [`smoe_nn::MAX_ELEMENTS`] before they are drawn.
    pub fn buffer_count(&self, experts: usize) -> Option<usize> {
        match self {
            RouterConfig::LowRank { rank } => experts.checked_mul(*rank),
            _ => Some(0),
        }
    }

    /// The widest per-row array the router allocates besides its logits: an MLP router's
    /// hidden layer, a low-rank router's `P x + c` (r), 0 for a linear router.
    pub fn hidden_width(&self) -> usize {
        match self {
            RouterConfig::Linear => 0,
            RouterConfig::Mlp { hidden } => *hidden,
            RouterConfig::LowRank { rank } => *rank,
        }
    }

    /// The config's `kind` as written in TOML.
    pub fn kind(&self) -> &'static str {
        match self {
            RouterConfig::Linear => "linear",
            RouterConfig::Mlp { .. } => "mlp",
            RouterConfig::LowRank { .. } => "low_rank",
        }
    }

    /// Checks the config on its own.
    ///
    /// # Errors
    /// [`RouterError::ZeroDim`] for an MLP router with `hidden = 0` or a low-rank router with
    /// `rank = 0`.
    pub fn validate(&self) -> Result<()> {
        match self {
            RouterConfig::Mlp { hidden: 0 } => Err(RouterError::ZeroDim(smoe_nn::ZeroDim {
                what: "router hidden width",
            })),
            RouterConfig::LowRank { rank: 0 } => Err(RouterError::ZeroDim(smoe_nn::ZeroDim {
                what: "router rank",
            })),
            _ => Ok(()),
        }
    }
}

/// Builds the router of `cfg` for inputs of width `d` and `experts` experts, drawing its
/// initial weights (PyTorch-default uniform) from the stream `("router", 0)` of `seed`, and a
/// low-rank router's fixed embeddings from `("router_embed", 0)`.
///
/// # Errors
/// [`RouterError::ZeroDim`] if `d`, `experts`, the hidden width or the rank is 0;
/// [`RouterError::TooLarge`] if the parameters or embeddings would exceed
/// [`smoe_nn::MAX_ELEMENTS`].
pub fn build_router<F: Float>(
    cfg: &RouterConfig,
    d: usize,
    experts: usize,
    seed: u64,
) -> Result<Box<dyn Router<F>>> {
    cfg.validate()?;
    if d == 0 {
        return Err(RouterError::ZeroDim(smoe_nn::ZeroDim {
            what: "router input width",
        }));
    }
    if experts == 0 {
        return Err(RouterError::ZeroDim(smoe_nn::ZeroDim {
            what: "router number of experts",
        }));
    }
    smoe_nn::check_elements("the router's parameters", cfg.parameter_count(d, experts))?;
    smoe_nn::check_elements(
        "the router's fixed expert embeddings",
        cfg.buffer_count(experts),
    )?;
    let mut rng = stream_rng(seed, "router", 0);
    Ok(match *cfg {
        RouterConfig::Linear => Box::new(LinearRouter::new(
            d,
            experts,
            Init::PytorchUniform,
            &mut rng,
        )?),
        RouterConfig::Mlp { hidden } => Box::new(MlpRouter::new(
            d,
            hidden,
            experts,
            Init::PytorchUniform,
            &mut rng,
        )?),
        RouterConfig::LowRank { rank } => Box::new(LowRankRouter::new(
            d,
            experts,
            rank,
            Init::PytorchUniform,
            &mut rng,
            &mut stream_rng(seed, "router_embed", 0),
        )?),
    })
}
