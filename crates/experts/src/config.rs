use serde::{Deserialize, Serialize};
use smoe_nn::{ActivationKind, Float, Init, stream_rng};

use crate::{Expert, ExpertError, MlpExpert, Result};

/// Shape of the MLP experts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExpertConfig {
    /// Hidden layers (default 1); 0 makes a linear expert.
    pub depth: usize,
    /// Units per hidden layer (default 32, as the model's default); must be ≥ 1 when depth ≥ 1.
    pub width: usize,
    /// Hidden activation (default relu); unused at depth 0.
    pub activation: ActivationKind,
    /// Activation on the output scalar, `y = out_act(h wᵀ + b)` (default `none`: the output
    /// layer is affine, as every expert before this key existed, so old configs read the same).
    /// `"sigmoid"` at depth 0 is Nguyen et al.'s FFN expert `h(x) = σ(aᵀx + b)`. `relu`,
    /// `sigmoid` or `none`; `prelu` is refused (it would add a parameter to the checkpoint
    /// layout). Omitted from the serialised config when `none`.
    #[serde(skip_serializing_if = "is_identity")]
    pub output_activation: ActivationKind,
    /// Initialisation of every layer (default pytorch_uniform).
    pub init: Init,
}

impl Default for ExpertConfig {
    fn default() -> Self {
        Self {
            depth: 1,
            width: 32,
            activation: ActivationKind::Relu,
            output_activation: ActivationKind::None,
            init: Init::PytorchUniform,
        }
    }
}

fn is_identity(kind: &ActivationKind) -> bool {
    *kind == ActivationKind::None
}

impl ExpertConfig {
    /// One example config of every expert shape smoe builds (linear, ReLU, PReLU, sigmoid,
    /// identity, two hidden layers, the sigmoid FFN expert `σ(aᵀx + b)` at depth 0 and a
    /// sigmoid output after a ReLU layer): the catalogue the shared tests iterate.
    pub fn examples() -> Vec<ExpertConfig> {
        let base = ExpertConfig {
            width: 5,
            ..Default::default()
        };
        vec![
            ExpertConfig { depth: 0, ..base },
            base,
            ExpertConfig {
                activation: ActivationKind::Prelu,
                ..base
            },
            ExpertConfig {
                activation: ActivationKind::None,
                ..base
            },
            ExpertConfig { depth: 2, ..base },
            ExpertConfig {
                activation: ActivationKind::Sigmoid,
                ..base
            },
            ExpertConfig {
                depth: 0,
                output_activation: ActivationKind::Sigmoid,
                ..base
            },
            ExpertConfig {
                output_activation: ActivationKind::Sigmoid,
                ..base
            },
        ]
    }

    /// Parameters of one expert for inputs of width `d` (weights, biases and PReLU slopes);
    /// `None` if the count overflows `usize`.
    pub fn parameter_count(&self, d: usize) -> Option<usize> {
        if self.depth == 0 {
            return d.checked_add(1);
        }
        let w = self.width;
        let first = d.checked_add(1)?.checked_mul(w)?;
        let hidden = w
            .checked_add(1)?
            .checked_mul(w)?
            .checked_mul(self.depth - 1)?;
        let slopes = match self.activation {
            ActivationKind::Prelu => self.depth,
            _ => 0,
        };
        first
            .checked_add(hidden)?
            .checked_add(w.checked_add(1)?)?
            .checked_add(slopes)
    }

    /// Checks the config.
    ///
    /// # Errors
    /// [`ExpertError::ZeroDim`] for `width = 0` with `depth ≥ 1`;
    /// [`ExpertError::OutputActivation`] for `output_activation = "prelu"`.
    pub fn validate(&self) -> Result<()> {
        if self.output_activation == ActivationKind::Prelu {
            return Err(ExpertError::OutputActivation {
                activation: self.output_activation,
            });
        }
        if self.depth > 0 && self.width == 0 {
            return Err(ExpertError::ZeroDim(smoe_nn::ZeroDim {
                what: "expert hidden width",
            }));
        }
        Ok(())
    }
}

/// Builds `count` MLP experts for inputs of width `d`; expert j draws from the stream
/// `("expert", j)` of `seed`, so adding an expert never changes another's weights.
///
/// # Errors
/// [`ExpertError::ZeroDim`] if `d`, `count` or the width is 0.
pub fn build_experts<F: Float>(
    cfg: &ExpertConfig,
    d: usize,
    count: usize,
    seed: u64,
) -> Result<Vec<Box<dyn Expert<F>>>> {
    cfg.validate()?;
    if count == 0 {
        return Err(ExpertError::ZeroDim(smoe_nn::ZeroDim {
            what: "expert number of experts",
        }));
    }
    (0..count)
        .map(|j| {
            let mut rng = stream_rng(seed, "expert", j as u64);
            MlpExpert::new(d, cfg, &mut rng).map(|e| Box::new(e) as Box<dyn Expert<F>>)
        })
        .collect()
}
