//! The registry of bounds: [`bounds`] lists every [`Bound`] the per-model report and
//! `smoe bound` evaluate, one file per bound. Adding a bound is a file here implementing
//! [`Bound`] plus one line in [`bounds`].

mod d1_learned;
mod d1_worst;
mod kratsios;
mod zhao;

pub use d1_learned::D1LearnedPattern;
pub use d1_worst::D1WorstCase;
pub use kratsios::KratsiosVcShape;
pub use zhao::ZhaoRestated;

use crate::bounds::d1_grouped;
use crate::{Bound, BoundInputs, BoundValue, D1Bound, D1Inputs, D1Report, Result};

/// Every bound, in report order: restated Zhao (`zhao`), D1 at the learned pattern
/// (`d1_learned`), D1 worst case (`d1_worst`), Kratsios VC shape (`kratsios`).
pub fn bounds() -> Vec<Box<dyn Bound>> {
    vec![
        Box::new(ZhaoRestated),
        Box::new(D1LearnedPattern),
        Box::new(D1WorstCase),
        Box::new(KratsiosVcShape),
    ]
}

/// Both forms of D1 on `inputs` (shared by its two bounds).
fn d1_report(inputs: &BoundInputs) -> Result<D1Report> {
    let d1 = D1Inputs {
        k: inputs.k,
        t: inputs.t,
        m: inputs.m,
        delta: inputs.delta,
        lipschitz: inputs.lipschitz,
        routing_log_count: inputs.routing_log_count,
        experts: &[], // the groups below
        sum_sq_norms: inputs.sum_sq_norms,
    };
    d1_grouped(&d1, inputs.experts.iter().copied())
}

/// One form of D1 as a [`BoundValue`]: the three summands, then R̂_S(F_p) of that form and
/// the routing log-count.
fn d1_value(
    name: &str,
    form: &D1Bound,
    expert_complexity: f64,
    report: &D1Report,
    note: &str,
) -> BoundValue {
    BoundValue {
        name: name.into(),
        validity: form.validity,
        total: form.total,
        terms: vec![
            ("expert_term".into(), form.expert_term),
            ("routing_term".into(), form.routing_term),
            ("confidence_term".into(), form.confidence_term),
            ("expert_complexity".into(), expert_complexity),
            ("routing_log_count".into(), report.routing_log_count),
        ],
        note: Some(note.into()),
        loss: crate::GapLoss::Ramp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Validity, WhatIf};

    #[test]
    fn registry_names_are_unique_and_in_report_order() {
        let names: Vec<&str> = bounds().iter().map(|b| b.name()).collect();
        assert_eq!(names, ["zhao", "d1_learned", "d1_worst", "kratsios"]);
    }

    /// Every bound names itself, and its total is the sum of its leading terms (the summands).
    #[test]
    fn every_value_is_named_and_sums_its_summands() {
        let inputs = BoundInputs::what_if(&WhatIf::default()).unwrap();
        let values = inputs.evaluate().unwrap();
        let summands = [2, 3, 3, 2];
        for ((b, v), n) in bounds().iter().zip(&values).zip(summands) {
            assert_eq!(v.name, b.name());
            let sum = v.terms[..n].iter().fold(0.0, |acc, (_, x)| acc + x);
            assert_eq!(sum, v.total, "{}", v.name);
            assert!(v.note.is_some());
        }
        let labels: Vec<Validity> = values.iter().map(|v| v.validity).collect();
        assert_eq!(
            labels,
            [
                Validity::Restated,
                Validity::Heuristic,
                Validity::Valid,
                Validity::ShapeOnly
            ]
        );
    }
}
