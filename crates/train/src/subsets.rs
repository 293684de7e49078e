//! Expert-subset evaluation of a soft model (`[eval.subsets]`): the loss's metrics with only
//! k experts kept per input, for each rule and k (THEORY §8.4, [`smoe_model::soft`]).

use ndarray::s;
use serde::{Deserialize, Serialize};
use smoe_model::{Model, SubsetRule};
use smoe_tasks::Dataset;

use crate::loss::Loss;
use crate::metrics::{EVAL_BLOCK, Scalars, to_scalars};
use crate::{Result, SubsetEvalConfig, TrainError};

/// The metrics of one rule and k.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsetEval {
    /// The rule.
    pub rule: SubsetRule,
    /// Experts kept per input.
    pub k: usize,
    /// The loss's metrics on the test set with the subset (logistic: `loss`, `error`,
    /// `ramp`; squared: `loss`, `mse`, `r2`), at the top level of the JSON object.
    #[serde(flatten)]
    pub test: Scalars,
}

/// Evaluates `model` (a soft model) on `data` for every rule × k of `cfg`, in blocks of
/// [`EVAL_BLOCK`] rows. `random` draws from the stream `("subset", 0)` of `seed` + the block
/// index; `exhaustive` scores each subset by the loss of the input's prediction
/// ([`Loss::value_and_grad`] on that one input).
///
/// # Errors
/// [`TrainError::InvalidConfig`] if the model is not soft; model errors (k out of range,
/// `n > 8` for exhaustive).
pub fn evaluate_subsets(
    model: &dyn Model<f32>,
    loss: &dyn Loss,
    data: &Dataset<f32>,
    cfg: &SubsetEvalConfig,
    seed: u64,
) -> Result<Vec<SubsetEval>> {
    let soft = model.as_soft().ok_or_else(|| TrainError::InvalidConfig {
        field: "eval.subsets",
        value: model.config().kind().to_string(),
        reason: "expert-subset evaluation needs a soft model (model.kind = \"soft\")",
    })?;
    let y: Vec<f64> = data.y.iter().map(|&v| v as f64).collect();
    let mut out = Vec::with_capacity(cfg.rules.len() * cfg.k.len());
    for &rule in &cfg.rules {
        for &k in &cfg.k {
            let mut f = Vec::with_capacity(data.len());
            for (bi, start) in (0..data.len()).step_by(EVAL_BLOCK).enumerate() {
                let end = (start + EVAL_BLOCK).min(data.len());
                let x = data.x.slice(s![start..end, ..]);
                let fb = match rule {
                    SubsetRule::Exhaustive => {
                        let score = |r: usize, fr: f64| {
                            loss.value_and_grad(&[fr as f32], &[data.y[start + r]]).0
                        };
                        soft.best_subsets(x, k, &score)?.f
                    }
                    _ => {
                        soft.infer_with_rule(x, rule, k, seed.wrapping_add(bi as u64))?
                            .f
                    }
                };
                f.extend(fb.iter().map(|&v| v as f64));
            }
            out.push(SubsetEval {
                rule,
                k,
                test: to_scalars(&loss.metrics(&f, &y)),
            });
        }
    }
    Ok(out)
}
