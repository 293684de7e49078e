//! The Kratsios et al. VC bound as a shape, as a [`Bound`] (THEORY.md §4).

use crate::{Bound, BoundInputs, BoundValue, Result, VcInputs, kratsios_vc_shape};

/// `kratsios`: [`kratsios_vc_shape`] at T experts of [`BoundInputs::expert_layers`] layers and
/// [`BoundInputs::expert_width`] units on inputs of width d. Terms: `complexity_term`,
/// `confidence_term` (the summands), `vc_dim`, `growth_log`, `constant` (1). Validity
/// [`crate::Validity::Shape`].
#[derive(Debug, Clone, Copy, Default)]
pub struct KratsiosVcShape;

impl Bound for KratsiosVcShape {
    fn name(&self) -> &'static str {
        "kratsios"
    }

    fn evaluate(&self, inputs: &BoundInputs) -> Result<BoundValue> {
        let v = kratsios_vc_shape(&VcInputs {
            experts: inputs.t,
            input_dim: inputs.d,
            expert_depth: inputs.expert_layers,
            expert_width: inputs.expert_width,
            m: inputs.m,
            delta: inputs.delta,
        })?;
        Ok(BoundValue {
            name: self.name().into(),
            validity: v.validity,
            total: v.total,
            terms: vec![
                ("complexity_term".into(), v.complexity_term),
                ("confidence_term".into(), v.confidence_term),
                ("vc_dim".into(), v.vc_dim),
                ("growth_log".into(), v.growth_log),
                ("constant".into(), v.constant),
            ],
            note: Some(
                "constant 1 and single-expert routing: for trends only (THEORY.md §4)".into(),
            ),
            loss: crate::GapLoss::ZeroOne,
        })
    }
}
