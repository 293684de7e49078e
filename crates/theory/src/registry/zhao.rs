//! The restated Zhao et al. Theorem 1 as a [`Bound`] (THEORY.md §1.3).

use crate::{Bound, BoundInputs, BoundValue, Result, ZhaoInputs, zhao_restated};

/// `zhao`: [`zhao_restated`] with R_m(H) = [`BoundInputs::rademacher_m`] and the router's d_N.
/// Terms: `expert_term`, `routing_term` (the summands), `routing_log_count`, `confidence_log`
/// (inside the root). Validity [`crate::Validity::Restated`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ZhaoRestated;

impl Bound for ZhaoRestated {
    fn name(&self) -> &'static str {
        "zhao"
    }

    fn evaluate(&self, inputs: &BoundInputs) -> Result<BoundValue> {
        let z = zhao_restated(&ZhaoInputs {
            lipschitz: inputs.lipschitz,
            rademacher: inputs.rademacher_m,
            k: inputs.k,
            t: inputs.t,
            d_n: inputs.router.d_n,
            m: inputs.m,
            delta: inputs.delta,
        })?;
        Ok(BoundValue {
            name: self.name().into(),
            validity: z.validity,
            total: z.total,
            terms: vec![
                ("expert_term".into(), z.expert_term),
                ("routing_term".into(), z.routing_term),
                ("routing_log_count".into(), z.routing_log_count),
                ("confidence_log".into(), z.confidence_log),
            ],
            note: Some(
                "known only as restated; the expert term does not depend on k or T (THEORY.md §1.3)"
                    .into(),
            ),
            loss: crate::GapLoss::Ramp,
        })
    }
}
