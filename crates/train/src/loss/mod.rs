//! The loss interface and its two implementations.
//!
//! A [`Loss`] gives the training value and gradient on the model output `f`, the evaluation
//! metrics a record shows for it, and which of them have a generalization gap. The run
//! record, the sweep summary and the report show exactly the metrics of the run's loss.
//!
//! - [`Logistic`]: labels ±1; trains on `log(1 + exp(−y f))`; metrics `loss`, `error`
//!   (0-1 error of `sign f`) and `ramp` (ramp loss with margin γ); gaps `gap_01`, `gap_ramp`;
//! - [`Squared`]: real targets; trains on `(f − y)² / 2`; metrics `loss` (= `mse / 2`), `mse`,
//!   `r2`; gap `gap_mse`;
//! - [`LossConfig`]: the config form (`[loss] kind = "logistic"`), [`build_loss`];
//! - [`functions`]: the scalar functions (softplus, sigmoid, 0-1, ramp).

pub mod functions;
mod logistic;
mod squared;

use serde::{Deserialize, Deserializer, Serialize};
use smoe_tasks::Targets;

pub use functions::{logistic, ramp, sigmoid, softplus, zero_one};
pub use logistic::Logistic;
pub use squared::Squared;

/// Named evaluation metrics of a loss, in a fixed order.
pub type Metrics = Vec<(&'static str, f64)>;

/// A training loss with its evaluation metrics.
///
/// Implement it to train with your own loss: `fit` takes any `&dyn Loss`.
pub trait Loss: Send + Sync + std::fmt::Debug {
    /// The config that names this loss in a record.
    fn config(&self) -> LossConfig;
    /// Which targets it needs (labels ±1 or real values); `fit` checks the datasets.
    fn targets(&self) -> Targets;
    /// Mean training loss over the batch and its gradient `dL/df`, `[b]` (already divided
    /// by b).
    ///
    /// # Shapes
    /// `f [b]`, `y [b] -> (loss, df [b])`.
    fn value_and_grad(&self, f: &[f32], y: &[f32]) -> (f64, Vec<f32>);
    /// The running error of a training batch shown per epoch (the 0-1 error for
    /// classification), if the loss has one.
    fn batch_error(&self, _f: &[f32], _y: &[f32]) -> Option<f64> {
        None
    }
    /// Evaluation metrics on `f` and `y` (f64), in a fixed order; the first is `loss`.
    fn metrics(&self, f: &[f64], y: &[f64]) -> Metrics;
    /// The metrics that have a generalization gap (test − train), as `(gap name, metric)`.
    fn gaps(&self) -> Vec<(&'static str, &'static str)>;
    /// The Lipschitz constant of the bounded surrogate the generalization bounds apply to
    /// (1/γ for the ramp loss), or `None` when no bound of smoe covers this loss.
    fn bound_lipschitz(&self) -> Option<f64> {
        None
    }
    /// The same loss with ramp margin `gamma`, for a loss whose metrics have a margin (the
    /// logistic loss's `ramp`); `None` (the default) for a loss without one, which then
    /// ignores `eval.gamma` (see [`crate::MarginRule`]).
    fn with_margin(&self, _gamma: f64) -> Option<Box<dyn Loss>> {
        None
    }
}

/// Which loss to train with: `[loss] kind = "logistic"` (default) or `"squared"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LossConfig {
    /// [`Logistic`] for labels ±1 (the ramp margin γ comes from `eval.gamma`).
    #[default]
    Logistic,
    /// [`Squared`] for real targets.
    Squared,
    /// A loss defined outside smoe; `name` is what records show.
    Custom {
        /// The loss's name.
        name: String,
    },
}

impl LossConfig {
    /// The config's `kind` as written in TOML (a custom loss's name).
    pub fn kind(&self) -> &str {
        match self {
            LossConfig::Logistic => "logistic",
            LossConfig::Squared => "squared",
            LossConfig::Custom { name } => name,
        }
    }

    /// One example of every loss smoe builds (the catalogue shared tests iterate).
    pub fn examples() -> Vec<LossConfig> {
        vec![LossConfig::Logistic, LossConfig::Squared]
    }
}

/// Reads a [`LossConfig`] whose `kind` may be omitted (default `logistic`); for
/// `#[serde(deserialize_with = "...")]`.
///
/// # Errors
/// Unknown kinds or fields.
pub fn deserialize_loss<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<LossConfig, D::Error> {
    smoe_nn::with_default_kind(d, "logistic")
}

/// Builds the loss of `cfg`; `gamma` is the ramp-loss margin of the evaluation.
///
/// # Errors
/// [`crate::TrainError::InvalidConfig`] for a custom loss (pass it to `fit` yourself) or a
/// margin that is not finite and positive.
pub fn build_loss(cfg: &LossConfig, gamma: f64) -> crate::Result<Box<dyn Loss>> {
    match cfg {
        LossConfig::Logistic => {
            if !(gamma.is_finite() && gamma > 0.0) {
                return Err(crate::TrainError::InvalidConfig {
                    field: "eval.gamma",
                    value: gamma.to_string(),
                    reason: "must be finite and > 0",
                });
            }
            Ok(Box::new(Logistic { gamma }))
        }
        LossConfig::Squared => Ok(Box::new(Squared)),
        LossConfig::Custom { name } => Err(crate::TrainError::InvalidConfig {
            field: "loss.kind",
            value: name.clone(),
            reason: "a custom loss is built by its user and passed to fit",
        }),
    }
}
