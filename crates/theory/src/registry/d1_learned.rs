//! Theorem D1 at the learned routing pattern as a [`Bound`] (THEORY.md §1.6).

use super::{d1_report, d1_value};
use crate::{Bound, BoundInputs, BoundValue, Result, Validity};

/// `d1_learned`: [`crate::d1_bound`]'s learned-pattern form, the expert term at the loads and
/// complexities of [`BoundInputs::experts`], with the margin's price
/// ([`BoundInputs::margin_log_count`]) under the confidence root. Terms: `expert_term`,
/// `routing_term`, `confidence_term` (the summands), `expert_complexity`
/// (Σ_j (m_j/(k m)) R̂_{S_j}(H)), `routing_log_count`, `budget_log_count` (0: no budget is
/// used), `margin_log_count`. Validity always [`Validity::Heuristic`]: the max over patterns is
/// replaced by the one the data chose, so it is not a bound.
#[derive(Debug, Clone, Copy, Default)]
pub struct D1LearnedPattern;

impl Bound for D1LearnedPattern {
    fn name(&self) -> &'static str {
        "d1_learned"
    }

    fn evaluate(&self, inputs: &BoundInputs) -> Result<BoundValue> {
        let r = d1_report(inputs, &inputs.experts, inputs.margin_log_count)?;
        Ok(d1_value(
            self.name(),
            (&r.learned_pattern, Validity::Heuristic),
            r.expert_complexity_learned,
            &r,
            (0.0, inputs.margin_log_count),
            "at the routing pattern the data chose: not a bound (THEORY.md §1.6)".into(),
        ))
    }
}
