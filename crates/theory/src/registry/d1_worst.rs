//! Theorem D1, worst case over routing patterns (Step-4 form), as a [`Bound`] (THEORY.md §1.6).

use super::{OFF_GRID, SHAPE_ROUTER, d1_report, d1_value, rounded_experts};
use crate::{Bound, BoundInputs, BoundValue, GateWeights, Result, Validity};

/// `d1_worst`: [`crate::d1_bound`]'s worst case over patterns with each expert scale A_j of
/// [`BoundInputs::experts`] rounded **up** to the fixed grid {2^i : i = −30..30} (the expert
/// term grows by at most 2) and the union bound's price T ln 61 (`budget_log_count`) plus the
/// margin's (`margin_log_count`) added to ln(2/δ) under the confidence root (THEORY.md §1.8
/// item 2). Terms: `expert_term`, `routing_term`, `confidence_term` (the summands),
/// `expert_complexity` (the bound on max_p R̂_S(F_p) at the rounded budgets),
/// `routing_log_count`, `budget_log_count`, `margin_log_count`.
///
/// Labels (THEORY.md §1.8 item 2):
/// - [`Validity::Valid`] only when the gate is case A1 ([`GateWeights::Uniform`]: in smoe
///   `topk_softmax` at k = 1, where the one weight is 1), every budget is on the grid (so it
///   is paid for) and d_N is exact (linear or low-rank router, or k = T);
/// - [`Validity::Shape`] when d_N is a shape (MLP router), whatever else holds;
/// - [`Validity::Heuristic`] for an A2 gate (`topk_softmax`/`noisy_topk` at k >= 2,
///   `softmax_topk`, `dense_softmax`: the Step-4 form is proved for uniform gates only, see
///   `d1_a2`) or a budget outside the grid;
/// - `outside_assumptions` (set by [`crate::bound_report`]) for gates and experts outside
///   the proofs.
#[derive(Debug, Clone, Copy, Default)]
pub struct D1WorstCase;

impl Bound for D1WorstCase {
    fn name(&self) -> &'static str {
        "d1_worst"
    }

    fn evaluate(&self, inputs: &BoundInputs) -> Result<BoundValue> {
        let rounded = rounded_experts(&inputs.experts);
        let budget_log = rounded.log_count();
        let r = d1_report(
            inputs,
            &rounded.groups,
            budget_log + inputs.margin_log_count,
        )?;
        let mut notes = vec![
            "worst case over routing patterns, budgets rounded up to the grid 2^i and paid for \
             (THEORY.md §1.6, §1.8)"
                .to_string(),
        ];
        let shape = inputs.router.d_n_validity == Validity::Shape;
        let a2 = inputs.gate != GateWeights::Uniform;
        if shape {
            notes.push(SHAPE_ROUTER.into());
        }
        if a2 {
            notes.push("A2: the Step-4 form is proved for uniform gates only".into());
        }
        if !rounded.on_grid {
            notes.push(OFF_GRID.into());
        }
        let validity = if shape {
            Validity::Shape
        } else if a2 || !rounded.on_grid {
            Validity::Heuristic
        } else {
            Validity::Valid
        };
        Ok(d1_value(
            self.name(),
            (&r.worst_case, validity),
            r.expert_complexity_worst,
            &r,
            (budget_log, inputs.margin_log_count),
            notes.join("; "),
        ))
    }
}
