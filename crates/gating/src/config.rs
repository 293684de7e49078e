use serde::{Deserialize, Serialize};
use smoe_nn::Float;

use crate::{DenseSoftmax, Gate, GatingError, NoisyTopK, Result, SoftmaxTopK, TopKSoftmax};

/// Which gate to build (config form, e.g. `gate = "topk_softmax"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
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
}

impl GateConfig {
    /// Checks `k` against `experts` for this gate.
    ///
    /// # Errors
    /// [`GatingError::InvalidTopK`] unless `1 ≤ k ≤ T` (and `k = T` for the dense gate).
    pub fn validate(&self, k: usize, experts: usize) -> Result<()> {
        if experts == 0 {
            return Err(GatingError::ZeroDim {
                what: "number of experts",
            });
        }
        let ok = match self {
            GateConfig::DenseSoftmax => k == experts,
            _ => (1..=experts).contains(&k),
        };
        if !ok {
            return Err(GatingError::InvalidTopK { k, experts });
        }
        Ok(())
    }
}

/// Builds the gate of `cfg` selecting `k` of `experts` for inputs of width `d`.
///
/// # Errors
/// As [`GateConfig::validate`]; [`GatingError::ZeroDim`] if `d = 0` for the noisy gate.
pub fn build_gate<F: Float>(
    cfg: GateConfig,
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
    })
}
