//! Evaluation under the margin rule `eval.gamma`: the training set's outputs choose γ
//! (`"p10"`) and the train and test metrics are computed with the loss at that γ.

use smoe_model::Model;
use smoe_tasks::Dataset;

use crate::loss::Loss;
use crate::margin::{MarginRecord, MarginRule, p10_margin};
use crate::metrics::{Scalars, evaluate_with, to_scalars};
use crate::record::EpochEval;
use crate::{EvalMetrics, Result, evaluate};

/// The loss at the chosen margin and the margin's record.
pub(crate) struct Chosen {
    /// The loss at γ (`None`: the loss has no margin; use it as given).
    loss: Option<Box<dyn Loss>>,
    /// The margin (`None` for a loss without one).
    pub margin: Option<MarginRecord>,
}

impl Chosen {
    /// The loss to evaluate with.
    pub fn loss<'a>(&'a self, base: &'a dyn Loss) -> &'a dyn Loss {
        self.loss.as_deref().unwrap_or(base)
    }

    /// The γ in use, if any.
    pub fn gamma(&self) -> Option<f64> {
        self.margin.as_ref().map(|m| m.gamma)
    }
}

/// The loss at the margin `rule` gives for outputs `f` on targets `y` of the training set.
fn choose(loss: &dyn Loss, rule: MarginRule, f: &[f64], y: &[f64]) -> Chosen {
    let margin = match rule {
        MarginRule::Fixed(g) => MarginRecord::fixed(g),
        MarginRule::P10 => p10_margin(f, y),
    };
    match loss.with_margin(margin.gamma) {
        Some(l) => Chosen {
            loss: Some(l),
            margin: Some(margin),
        },
        None => Chosen {
            loss: None,
            margin: None,
        },
    }
}

/// Evaluates `model` on `train` with the margin chosen by `rule` from its training outputs;
/// returns the metrics and the choice.
///
/// # Errors
/// Model errors.
pub(crate) fn evaluate_train(
    model: &dyn Model<f32>,
    loss: &dyn Loss,
    rule: MarginRule,
    train: &Dataset<f32>,
) -> Result<(EvalMetrics, Chosen)> {
    let mut chosen = None;
    let metrics = evaluate_with(model, train, &mut |f, y| -> Scalars {
        let c = choose(loss, rule, f, y);
        let m = to_scalars(&c.loss(loss).metrics(f, y));
        chosen = Some(c);
        m
    })?;
    // evaluate_with calls the closure exactly once; a fixed rule needs no outputs
    let chosen =
        chosen.unwrap_or_else(|| choose(loss, MarginRule::Fixed(rule.initial()), &[], &[]));
    Ok((metrics, chosen))
}

/// Train and test evaluation of `model` with the margin `rule` chooses from the training
/// outputs (the same γ for both sets), the gaps `gaps` and the γ recorded in the result.
///
/// # Errors
/// Model errors.
pub(crate) fn evaluate_pair(
    model: &dyn Model<f32>,
    loss: &dyn Loss,
    rule: MarginRule,
    train: &Dataset<f32>,
    test: &Dataset<f32>,
    gaps: &[(&'static str, &'static str)],
) -> Result<(EpochEval, Option<MarginRecord>)> {
    let (tr, chosen) = evaluate_train(model, loss, rule, train)?;
    let te = evaluate(model, chosen.loss(loss), test)?;
    let mut e = EpochEval::new(tr, te, gaps);
    e.gamma = chosen.gamma();
    Ok((e, chosen.margin))
}

/// The test metrics of `model` with the margin `rule` chooses from its training outputs
/// (`init_test`): with `"p10"` the training set is evaluated first to read its margins.
///
/// # Errors
/// Model errors.
pub(crate) fn evaluate_test(
    model: &dyn Model<f32>,
    loss: &dyn Loss,
    rule: MarginRule,
    train: &Dataset<f32>,
    test: &Dataset<f32>,
) -> Result<EvalMetrics> {
    let chosen = match rule {
        MarginRule::Fixed(_) => choose(loss, rule, &[], &[]),
        MarginRule::P10 => evaluate_train(model, loss, rule, train)?.1,
    };
    evaluate(model, chosen.loss(loss), test)
}
