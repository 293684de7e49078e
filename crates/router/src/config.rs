use serde::{Deserialize, Deserializer, Serialize};
use smoe_nn::{Float, Init, stream_rng};

use crate::{LinearRouter, MlpRouter, Result, Router, RouterError};

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
        vec![RouterConfig::Linear, RouterConfig::Mlp { hidden: 5 }]
    }

    /// Parameters of the router for inputs of width `d` and `experts` experts (with biases);
    /// `None` if the count overflows `usize`.
    pub fn parameter_count(&self, d: usize, experts: usize) -> Option<usize> {
        match self {
            RouterConfig::Linear => d.checked_add(1)?.checked_mul(experts),
            RouterConfig::Mlp { hidden } => d
                .checked_add(1)?
                .checked_mul(*hidden)?
                .checked_add(hidden.checked_add(1)?.checked_mul(experts)?),
        }
    }

    /// The config's `kind` as written in TOML.
    pub fn kind(&self) -> &'static str {
        match self {
            RouterConfig::Linear => "linear",
            RouterConfig::Mlp { .. } => "mlp",
        }
    }

    /// Checks the config on its own.
    ///
    /// # Errors
    /// [`RouterError::ZeroDim`] for an MLP router with `hidden = 0`.
    pub fn validate(&self) -> Result<()> {
        if let RouterConfig::Mlp { hidden: 0 } = self {
            return Err(RouterError::ZeroDim(smoe_nn::ZeroDim {
                what: "router hidden width",
            }));
        }
        Ok(())
    }
}

/// Builds the router of `cfg` for inputs of width `d` and `experts` experts, drawing its
/// initial weights (PyTorch-default uniform) from the stream `("router", 0)` of `seed`.
///
/// # Errors
/// [`RouterError::ZeroDim`] if `d`, `experts` or the hidden width is 0.
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
    })
}
