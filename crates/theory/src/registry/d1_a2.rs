//! Theorem D1 by THEORY.md §1.6's Remark for softmax-weighted gates (case A2), as a [`Bound`].

use super::{OFF_GRID, SHAPE_ROUTER, rounded_experts, rounded_router};
use crate::{Bound, BoundInputs, BoundValue, D1A2Inputs, Result, Validity, d1_a2_bound};

/// `d1_a2`: [`d1_a2_bound`] with the experts' scales A_j and the router logits' scales R_t
/// rounded up to the fixed grid {2^i : i = −30..30}, paying (T + T) ln 61 nats
/// (`budget_log_count`) plus the margin's (`margin_log_count`) under the confidence root.
/// Terms: `expert_term`, `router_term`, `routing_term`, `confidence_term` (the summands), then
/// `map_lipschitz` (L), `output_bound` (B_h), `router_sum`, `expert_sum`, `routing_log_count`,
/// `budget_log_count`, `margin_log_count`.
///
/// Labels:
/// - [`Validity::ValidA2`] when every budget is on the grid and d_N is exact (linear router,
///   or k = T), for any softmax-weighted gate (and the uniform one, a special case);
/// - [`Validity::Shape`] when d_N is a shape (MLP router);
/// - [`Validity::Heuristic`] with a budget outside the grid, or when the router's scales were
///   not measured ([`BoundInputs::router_scales`] `None`, a low-rank router; the router term is
///   then 0 and the number is not a bound);
/// - `outside_assumptions` (set by [`crate::bound_report`]) for gates and experts outside the
///   proofs.
#[derive(Debug, Clone, Copy, Default)]
pub struct D1A2Remark;

impl Bound for D1A2Remark {
    fn name(&self) -> &'static str {
        "d1_a2"
    }

    fn evaluate(&self, inputs: &BoundInputs) -> Result<BoundValue> {
        let experts = rounded_experts(&inputs.experts);
        let zero = [crate::ScaleGroup {
            count: inputs.t,
            scale: 0.0,
        }];
        let measured = inputs.router_scales.as_deref();
        let router = rounded_router(measured.unwrap_or(&zero));
        let budget_log = experts.log_count() + router.log_count();
        let b = d1_a2_bound(&D1A2Inputs {
            k: inputs.k,
            t: inputs.t,
            m: inputs.m,
            delta: inputs.delta,
            lipschitz: inputs.lipschitz,
            routing_log_count: inputs.routing_log_count,
            gate: inputs.gate,
            experts: &experts.groups,
            router: &router.groups,
            sum_sq_norms: inputs.sum_sq_norms,
            max_norm: inputs.max_norm,
            extra_log: budget_log + inputs.margin_log_count,
        })?;
        let mut notes = vec![
            "THEORY.md §1.6 Remark (A2): Maurer's vector contraction over router logits and \
             expert outputs, budgets rounded up to the grid 2^i and paid for"
                .to_string(),
        ];
        let shape = inputs.router.d_n_validity == Validity::Shape;
        let unmeasured = measured.is_none();
        let off_grid = !(experts.on_grid && router.on_grid);
        if shape {
            notes.push(SHAPE_ROUTER.into());
        }
        if unmeasured {
            notes.push(
                "the router's logit scales were not measured (low-rank router): router term \
                 set to 0, not a bound"
                    .into(),
            );
        }
        if off_grid {
            notes.push(OFF_GRID.into());
        }
        let validity = if shape {
            Validity::Shape
        } else if unmeasured || off_grid {
            Validity::Heuristic
        } else {
            Validity::ValidA2
        };
        Ok(BoundValue {
            name: self.name().into(),
            validity,
            total: b.total,
            terms: vec![
                ("expert_term".into(), b.expert_term),
                ("router_term".into(), b.router_term),
                ("routing_term".into(), b.routing_term),
                ("confidence_term".into(), b.confidence_term),
                ("map_lipschitz".into(), b.map_lipschitz),
                ("output_bound".into(), b.output_bound),
                ("router_sum".into(), b.router_sum),
                ("expert_sum".into(), b.expert_sum),
                ("routing_log_count".into(), inputs.routing_log_count),
                ("budget_log_count".into(), budget_log),
                ("margin_log_count".into(), inputs.margin_log_count),
            ],
            note: Some(notes.join("; ")),
            loss: crate::GapLoss::Ramp,
        })
    }
}
