//! Theorem D1, worst case over routing patterns, as a [`Bound`] (THEORY.md §1.6).

use super::{d1_report, d1_value};
use crate::{Bound, BoundInputs, BoundValue, Result};

/// `d1_worst`: [`crate::d1_bound`]'s worst case over patterns, with the scales A_j and floors
/// c_j of [`BoundInputs::experts`]. Terms: `expert_term`, `routing_term`, `confidence_term`
/// (the summands), `expert_complexity` (the bound on max_p R̂_S(F_p)), `routing_log_count`.
/// Validity [`crate::Validity::Valid`].
#[derive(Debug, Clone, Copy, Default)]
pub struct D1WorstCase;

impl Bound for D1WorstCase {
    fn name(&self) -> &'static str {
        "d1_worst"
    }

    fn evaluate(&self, inputs: &BoundInputs) -> Result<BoundValue> {
        let r = d1_report(inputs)?;
        Ok(d1_value(
            self.name(),
            &r.worst_case,
            r.expert_complexity_worst,
            &r,
            "worst case over routing patterns; proved for uniform top-k gates, \
             see THEORY.md §1.6 for softmax gates",
        ))
    }
}
