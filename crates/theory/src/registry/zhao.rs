//! Zhao et al.'s Theorem 1 in the paper's form (BFT experts) and its Golowich variant, as
//! [`Bound`]s (THEORY.md §1.4–1.5).

use crate::{Bound, BoundInputs, BoundValue, Result, Validity, ZhaoPaperInputs, zhao_paper};

/// `zhao`: [`zhao_paper`] with Bartlett–Foster–Telgarsky experts, the paper's Corollary 4 /
/// Lemma 3 (THEORY.md §1.5): R̂_S = [`BoundInputs::rademacher_m_bft`] with C = 1 (BFT already
/// contains γ), and the router's d_N (§2.4 exact for a linear or low-rank router, §2.6 shape
/// for an MLP router; 0 at k = T). Terms: `expert_term`, `routing_term`, `confidence_term`
/// (the summands), `routing_log_count`, `confidence_log`, `margin_log_count`.
///
/// Labels: [`Validity::Restated`] (the Theorem is known only as restated), [`Validity::Shape`]
/// when d_N is a shape (MLP router); the report relabels gates and experts outside the proofs
/// `outside_assumptions`. The norm budgets inside BFT are read off the trained weights without
/// a union bound (the paper's statement says nothing about them; the label is not `valid`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ZhaoPaper;

/// `zhao_golowich`: the same Theorem with Golowich experts (THEORY.md §3.4), a variant of the
/// paper's form: R̂_S = [`BoundInputs::rademacher_m`] times C = 1/γ. Terms and labels as
/// [`ZhaoPaper`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ZhaoGolowich;

/// [`zhao_paper`] on `inputs` with expert complexity `rademacher` and factor `lipschitz`.
fn zhao_value(
    name: &str,
    inputs: &BoundInputs,
    rademacher: f64,
    lipschitz: f64,
    experts: &str,
) -> Result<BoundValue> {
    let z = zhao_paper(&ZhaoPaperInputs {
        lipschitz,
        rademacher,
        k: inputs.k,
        t: inputs.t,
        d_n: inputs.router.d_n,
        m: inputs.m,
        delta: inputs.delta,
        extra_log: inputs.margin_log_count,
    })?;
    let shape = inputs.router.d_n_validity == Validity::Shape;
    let mut note = format!(
        "Theorem 1 with {experts} experts and the empirical-form confidence term; known only \
         as restated, its expert term does not depend on k or T (THEORY.md §1.3-1.5)"
    );
    if shape {
        note.push_str("; the router's d_N is a shape (MLP router, THEORY.md §2.6)");
    }
    Ok(BoundValue {
        name: name.into(),
        validity: if shape { Validity::Shape } else { z.validity },
        total: z.total,
        terms: vec![
            ("expert_term".into(), z.expert_term),
            ("routing_term".into(), z.routing_term),
            ("confidence_term".into(), z.confidence_term),
            ("routing_log_count".into(), z.routing_log_count),
            ("confidence_log".into(), z.confidence_log),
            ("margin_log_count".into(), inputs.margin_log_count),
        ],
        note: Some(note),
        loss: crate::GapLoss::Ramp,
    })
}

impl Bound for ZhaoPaper {
    fn name(&self) -> &'static str {
        "zhao"
    }

    fn evaluate(&self, inputs: &BoundInputs) -> Result<BoundValue> {
        zhao_value(
            self.name(),
            inputs,
            inputs.rademacher_m_bft,
            1.0,
            "Bartlett-Foster-Telgarsky (gamma inside, C = 1)",
        )
    }
}

impl Bound for ZhaoGolowich {
    fn name(&self) -> &'static str {
        "zhao_golowich"
    }

    fn evaluate(&self, inputs: &BoundInputs) -> Result<BoundValue> {
        zhao_value(
            self.name(),
            inputs,
            inputs.rademacher_m,
            inputs.lipschitz,
            "Golowich (times C = 1/gamma)",
        )
    }
}
