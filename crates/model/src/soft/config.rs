//! The Soft MoE config: experts, slots, tokens, the experts' shape, the head, normalisation.

use serde::{Deserialize, Serialize};
use smoe_experts::ExpertConfig;
use smoe_nn::ActivationKind;

use crate::{ModelError, Result};

/// How the combined output tokens `Y ∈ R^{m × d_tok}` become the scalar output `f`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SoftHead {
    /// Chung et al.'s non-trainable head: `f = Σ_i Σ_t Y_{it}`, the sum of every output entry.
    #[default]
    Sum,
    /// A trainable affine map of the `m·d_tok` output entries (token-major, the input's own
    /// order): `f = w · vec(Y) + b`, tensors `head.weight [1, m·d_tok]` and `head.bias [1]`
    /// (PyTorch `nn.Linear` initialisation, stream `("head", 0)`).
    Linear,
}

/// A Soft MoE (Puigcerver et al. 2023, as used by Chung et al. 2024; THEORY §8.1):
/// `[model] kind = "soft"`.
///
/// The input `x ∈ R^d` is cut into `m = tokens` tokens of width `d_tok = d / m` in index
/// order (token i is `x[i·d_tok .. (i+1)·d_tok]`), `X ∈ R^{m × d_tok}`. With
/// `Φ ∈ R^{d_tok × n·p}` (slot `c = j·p + s` is slot s of expert j) and `L = X Φ`:
///
/// - dispatch `D_{ic} = exp(L_{ic}) / Σ_{i'} exp(L_{i'c})`, a softmax over tokens (columns sum
///   to 1);
/// - combine `C_{ic} = exp(L_{ic}) / Σ_{c'} exp(L_{ic'})`, a softmax over all `n·p` slots
///   (rows sum to 1);
/// - slot inputs `X̃ = Dᵀ X ∈ R^{n·p × d_tok}`; expert j maps each of its p slot rows,
///   `Ỹ_c = f_j(X̃_c)` for `c = j·p .. (j+1)·p`;
/// - output tokens `Y = C Ỹ ∈ R^{m × d_tok}`, and `f` from the [`SoftHead`].
///
/// With `normalize = true` each token is L2-normalised, `X_i ← X_i / ‖X_i‖`, before
/// everything above (the slots see the normalised tokens too), and each column of Φ is
/// L2-normalised and scaled by a learnable scalar `scale` (initially 1):
/// `Φ_c ← scale · Φ_c / ‖Φ_c‖` (bwconrad/soft-moe's `normalize=True`; `‖v‖` is
/// `max(‖v‖₂, 1e-12)` as `F.normalize`). Normalising the tokens discards their norms, so
/// **it makes the L2-norm target of Chung et al. unlearnable**; keep it off (the default) to
/// replicate their Theorem 1.
///
/// Φ is initialised `N(0, 1/d_tok)` (LeCun normal, as bwconrad/soft-moe and vmoe), from the
/// stream `("phi", 0)` of the seed; expert j from `("expert", j)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SoftConfig {
    /// Experts n (default 4).
    pub experts: usize,
    /// Slots per expert p (default 1: Chung et al.'s setting).
    pub slots: usize,
    /// Tokens m the input is cut into (default 2); d must be divisible by it.
    pub tokens: usize,
    /// The experts' shape, each an MLP `d_tok → width → … → d_tok` with `depth` hidden
    /// layers (depth 0: one affine map `d_tok → d_tok`); every layer has a bias. Default
    /// depth 1, width 32, relu. Chung et al.'s experts are `d → 10d/n → d`: depth 1,
    /// width `10·d_tok/n`.
    pub expert: ExpertConfig,
    /// The head (default `sum`).
    pub head: SoftHead,
    /// L2-normalise the tokens and the columns of Φ (default false; see above).
    pub normalize: bool,
}

impl Default for SoftConfig {
    fn default() -> Self {
        Self {
            experts: 4,
            slots: 1,
            tokens: 2,
            expert: ExpertConfig::default(),
            head: SoftHead::Sum,
            normalize: false,
        }
    }
}

fn invalid(field: &'static str, value: impl ToString, reason: &'static str) -> ModelError {
    ModelError::InvalidConfig {
        field,
        value: value.to_string(),
        reason,
    }
}

impl SoftConfig {
    /// Total slots `n·p`; `None` on overflow.
    pub fn total_slots(&self) -> Option<usize> {
        self.experts.checked_mul(self.slots)
    }

    /// The token width `d_tok = d / m` (0 if `m = 0`).
    pub fn token_dim(&self, d: usize) -> usize {
        d.checked_div(self.tokens).unwrap_or(0)
    }

    /// Checks every field for inputs of width `d`, before anything is built.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] for `d = 0`, `experts = 0`, `slots = 0`, `tokens = 0`;
    /// [`ModelError::TokensDoNotDivide`] when `d` is not divisible by `tokens`; the experts'
    /// own errors; [`ModelError::TooLarge`] when the parameters would exceed
    /// [`smoe_nn::MAX_ELEMENTS`].
    pub fn validate(&self, d: usize) -> Result<()> {
        if d == 0 {
            return Err(invalid("d", 0, "the input width must be at least 1"));
        }
        if self.experts == 0 {
            return Err(invalid("experts", 0, "there must be at least one expert"));
        }
        if self.slots == 0 {
            return Err(invalid("slots", 0, "every expert needs at least one slot"));
        }
        if self.tokens == 0 {
            return Err(invalid(
                "tokens",
                0,
                "the input is cut into at least one token",
            ));
        }
        if !d.is_multiple_of(self.tokens) {
            return Err(ModelError::TokensDoNotDivide {
                d,
                tokens: self.tokens,
            });
        }
        self.expert.validate()?;
        smoe_nn::check_elements("the model's parameters", self.parameter_count(d))?;
        smoe_nn::check_elements(
            "the model's widest row (tokens × slots, slots × token width)",
            self.widest_row(d),
        )?;
        Ok(())
    }

    /// Parameters of one expert `d_tok → … → d_tok`: weights, biases and PReLU slopes;
    /// `None` on overflow.
    pub fn expert_parameter_count(&self, d_tok: usize) -> Option<usize> {
        let e = &self.expert;
        if e.depth == 0 {
            return d_tok.checked_add(1)?.checked_mul(d_tok);
        }
        let w = e.width;
        let first = d_tok.checked_add(1)?.checked_mul(w)?;
        let hidden = w.checked_add(1)?.checked_mul(w)?.checked_mul(e.depth - 1)?;
        let last = w.checked_add(1)?.checked_mul(d_tok)?;
        let slopes = if e.activation == ActivationKind::Prelu {
            e.depth
        } else {
            0
        };
        first
            .checked_add(hidden)?
            .checked_add(last)?
            .checked_add(slopes)
    }

    /// Parameters of the model for inputs of width `d`: Φ (`d_tok · n·p`), the `scale` when
    /// normalising, n experts and the linear head (`d + 1`); `None` on overflow.
    pub fn parameter_count(&self, d: usize) -> Option<usize> {
        let dt = self.token_dim(d);
        let phi = dt.checked_mul(self.total_slots()?)?;
        let scale = usize::from(self.normalize);
        let experts = self.expert_parameter_count(dt)?.checked_mul(self.experts)?;
        let head = match self.head {
            SoftHead::Sum => 0,
            SoftHead::Linear => d.checked_add(1)?,
        };
        phi.checked_add(scale)?
            .checked_add(experts)?
            .checked_add(head)
    }

    /// The widest per-input array a pass allocates: the input (`d`), the logits, dispatch
    /// and combine weights (`m · n·p`), the slot inputs and outputs (`n·p · d_tok`), an
    /// expert's hidden layer over its slots (`p · width`); `None` on overflow.
    pub fn widest_row(&self, d: usize) -> Option<usize> {
        let np = self.total_slots()?;
        let dt = self.token_dim(d);
        let weights = self.tokens.checked_mul(np)?;
        let slots = np.checked_mul(dt)?;
        let hidden = self.slots.checked_mul(self.expert.width.max(1))?;
        Some(d.max(weights).max(slots).max(hidden))
    }

    /// Example configs (tokens = 3, so every example runs at d = 3 and d = 6): sum and
    /// linear heads, p = 1 and 2, normalisation off and on, ReLU, PReLU and linear experts.
    pub fn examples() -> Vec<SoftConfig> {
        let expert = ExpertConfig {
            width: 5,
            ..Default::default()
        };
        let base = SoftConfig {
            experts: 3,
            slots: 1,
            tokens: 3,
            expert,
            head: SoftHead::Sum,
            normalize: false,
        };
        vec![
            base.clone(),
            SoftConfig {
                head: SoftHead::Linear,
                ..base.clone()
            },
            SoftConfig {
                slots: 2,
                ..base.clone()
            },
            SoftConfig {
                normalize: true,
                ..base.clone()
            },
            SoftConfig {
                slots: 2,
                head: SoftHead::Linear,
                normalize: true,
                expert: ExpertConfig {
                    activation: ActivationKind::Prelu,
                    ..expert
                },
                ..base.clone()
            },
            SoftConfig {
                experts: 2,
                expert: ExpertConfig { depth: 0, ..expert },
                ..base.clone()
            },
            SoftConfig {
                experts: 1,
                expert: ExpertConfig {
                    depth: 2,
                    width: 4,
                    ..expert
                },
                ..base
            },
        ]
    }
}
