//! The registry of bounds: [`bounds`] lists every [`Bound`] the per-model report and
//! `smoe bound` evaluate, one file per bound. Adding a bound is a file here implementing
//! [`Bound`] plus one line in [`bounds`].

mod d1_a2;
mod d1_learned;
mod d1_worst;
mod kratsios;
mod zhao;

pub use d1_a2::D1A2Remark;
pub use d1_learned::D1LearnedPattern;
pub use d1_worst::D1WorstCase;
pub use kratsios::KratsiosVcShape;
pub use zhao::{ZhaoGolowich, ZhaoPaper};

use crate::bounds::d1_grouped;
use crate::budget_grid::{budget_log_count, round_up_to_grid};
use crate::{
    Bound, BoundInputs, BoundValue, D1Bound, D1Inputs, D1Report, ExpertGroup, ExpertStat, Result,
    ScaleGroup, Validity,
};

/// Every bound, in report order: Zhao et al. in the paper's form with BFT experts (`zhao`),
/// the same with Golowich experts (`zhao_golowich`), D1 at the learned pattern
/// (`d1_learned`), D1 worst case, Step-4 form (`d1_worst`), D1 by the A2 remark (`d1_a2`),
/// Kratsios VC shape (`kratsios`).
pub fn bounds() -> Vec<Box<dyn Bound>> {
    vec![
        Box::new(ZhaoPaper),
        Box::new(ZhaoGolowich),
        Box::new(D1LearnedPattern),
        Box::new(D1WorstCase),
        Box::new(D1A2Remark),
        Box::new(KratsiosVcShape),
    ]
}

/// D1 on `inputs` with `groups` as the experts and `extra_log` nats under the confidence root.
fn d1_report(inputs: &BoundInputs, groups: &[ExpertGroup], extra_log: f64) -> Result<D1Report> {
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
    d1_grouped(&d1, groups.iter().copied(), extra_log)
}

/// Data-chosen budgets rounded up to the fixed grid (THEORY.md §1.8 item 2, see
/// `budget_grid.rs`), with the union bound's price.
struct Rounded<T> {
    /// The rounded groups.
    groups: Vec<T>,
    /// How many budgets were rounded (the sum of the counts).
    budgets: usize,
    /// Whether every budget was on the grid.
    on_grid: bool,
}

impl<T> Rounded<T> {
    /// `budgets · ln 61`.
    fn log_count(&self) -> f64 {
        budget_log_count(self.budgets)
    }
}

/// The experts' scales A_j rounded up to the grid (floors c_j are constants, not budgets).
fn rounded_experts(groups: &[ExpertGroup]) -> Rounded<ExpertGroup> {
    let mut on_grid = true;
    let mut budgets = 0usize;
    let groups = groups
        .iter()
        .map(|g| {
            let r = round_up_to_grid(g.stat.scale);
            on_grid &= r.on_grid;
            budgets = budgets.saturating_add(g.count);
            ExpertGroup {
                count: g.count,
                stat: ExpertStat {
                    scale: r.value,
                    ..g.stat
                },
            }
        })
        .collect();
    Rounded {
        groups,
        budgets,
        on_grid,
    }
}

/// The router logits' scales R_t rounded up to the grid.
fn rounded_router(groups: &[ScaleGroup]) -> Rounded<ScaleGroup> {
    let mut on_grid = true;
    let mut budgets = 0usize;
    let groups = groups
        .iter()
        .map(|g| {
            let r = round_up_to_grid(g.scale);
            on_grid &= r.on_grid;
            budgets = budgets.saturating_add(g.count);
            ScaleGroup {
                count: g.count,
                scale: r.value,
            }
        })
        .collect();
    Rounded {
        groups,
        budgets,
        on_grid,
    }
}

/// The note for a budget outside the grid.
const OFF_GRID: &str = "a norm budget lies outside the grid 2^-30..2^30: no union bound pays \
                        for it, so this is not a bound (THEORY.md §1.8 item 2)";

/// The note for an MLP router.
const SHAPE_ROUTER: &str =
    "the router's d_N is a shape with an unknown constant (MLP router, THEORY.md §2.6)";

/// One form of D1 as a [`BoundValue`]: the three summands, then R̂_S(F_p) of that form, the
/// routing log-count and the two union-bound prices.
fn d1_value(
    name: &str,
    (form, validity): (&D1Bound, Validity),
    expert_complexity: f64,
    report: &D1Report,
    (budget_log, margin_log): (f64, f64),
    note: String,
) -> BoundValue {
    BoundValue {
        name: name.into(),
        validity,
        total: form.total,
        terms: vec![
            ("expert_term".into(), form.expert_term),
            ("routing_term".into(), form.routing_term),
            ("confidence_term".into(), form.confidence_term),
            ("expert_complexity".into(), expert_complexity),
            ("routing_log_count".into(), report.routing_log_count),
            ("budget_log_count".into(), budget_log),
            ("margin_log_count".into(), margin_log),
        ],
        note: Some(note),
        loss: crate::GapLoss::Ramp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WhatIf;

    #[test]
    fn registry_names_are_unique_and_in_report_order() {
        let names: Vec<&str> = bounds().iter().map(|b| b.name()).collect();
        assert_eq!(
            names,
            [
                "zhao",
                "zhao_golowich",
                "d1_learned",
                "d1_worst",
                "d1_a2",
                "kratsios"
            ]
        );
    }

    /// A budget above the grid's top 2^30 cannot be paid for: the bounds using it are heuristic.
    #[test]
    fn a_budget_outside_the_grid_is_heuristic() {
        // A_j = R sqrt(m) = 1e8 * 100 = 1e10 > 2^30 = 1.07e9
        let w = WhatIf {
            expert_complexity: Some(1e8),
            ..WhatIf::default()
        };
        let values = BoundInputs::what_if(&w).unwrap().evaluate().unwrap();
        for name in ["d1_worst", "d1_a2"] {
            let v = values.iter().find(|v| v.name == name).unwrap();
            assert_eq!(v.validity, Validity::Heuristic, "{name}");
            assert!(v.note.as_deref().unwrap().contains("outside the grid"));
        }
        // just below the top (A_j ~ 2^29, rounded up to at most 2^30) it is still paid for
        let w = WhatIf {
            expert_complexity: Some(2f64.powi(29) / 100.0),
            ..WhatIf::default()
        };
        let values = BoundInputs::what_if(&w).unwrap().evaluate().unwrap();
        assert_eq!(values[3].validity, Validity::Valid);
    }

    /// Every bound names itself, and its total is the sum of its leading terms (the summands).
    #[test]
    fn every_value_is_named_and_sums_its_summands() {
        let inputs = BoundInputs::what_if(&WhatIf::default()).unwrap();
        let values = inputs.evaluate().unwrap();
        let summands = [3, 3, 3, 3, 4, 2];
        for ((b, v), n) in bounds().iter().zip(&values).zip(summands) {
            assert_eq!(v.name, b.name());
            let sum = v.terms[..n].iter().fold(0.0, |acc, (_, x)| acc + x);
            assert!((sum - v.total).abs() <= 1e-15 * v.total, "{}", v.name);
            assert!(v.note.is_some());
        }
        let labels: Vec<Validity> = values.iter().map(|v| v.validity).collect();
        assert_eq!(
            labels,
            [
                Validity::Restated,
                Validity::Restated,
                Validity::Heuristic,
                Validity::Valid,
                Validity::ValidA2,
                Validity::Shape
            ]
        );
    }
}
