//! A bound report never calls a bound valid for a gate its proof does not cover: every bound of
//! a model with a new gate (dense-to-sparse, sigmoid, hierarchical softmax) is labelled
//! `outside_assumptions` with the reason in its note, while the canonical gate keeps its labels;
//! a low-rank router's d_N is the proved min(r, T−1)(d+1).

use ndarray::Array2;
use smoe_gating::GateConfig;
use smoe_model::{SparseConfig, SparseMoe};
use smoe_router::RouterConfig;
use smoe_theory::{BoundSettings, Validity, bound_report, gate_outside_proofs};

const SETTINGS: BoundSettings = BoundSettings {
    delta: 0.05,
    gamma: 0.5,
    mc_draws: 16,
    seed: 0,
    margin_log_count: 0.0,
};

fn report(gate: GateConfig, router: RouterConfig) -> smoe_theory::BoundReport {
    let cfg = SparseConfig {
        experts: 4,
        k: 2,
        router,
        gate,
        ..Default::default()
    };
    let model = SparseMoe::<f64>::new(&cfg, 3, 1).expect("model");
    let x = Array2::from_shape_fn((40, 3), |(i, j)| ((i * 3 + j) as f64 * 0.77).sin());
    bound_report(&model, x.view(), &SETTINGS).expect("report")
}

#[test]
fn new_gates_are_outside_the_proofs() {
    let base = report(GateConfig::TopkSoftmax, RouterConfig::Linear);
    // topk_softmax at k = 2 is case A2: the remark's d1_a2 is the proved bound
    assert!(base.bounds.iter().any(|b| b.validity == Validity::ValidA2));
    assert!(
        base.bounds
            .iter()
            .all(|b| b.validity != Validity::OutsideAssumptions)
    );
    for gate in GateConfig::examples() {
        let Some(reason) = gate_outside_proofs(&gate) else {
            continue;
        };
        if gate.validate(2, 4).is_err() {
            continue;
        }
        let r = report(gate.clone(), RouterConfig::Linear);
        assert_eq!(r.bounds.len(), base.bounds.len());
        for (b, b0) in r.bounds.iter().zip(&base.bounds) {
            assert!(
                !matches!(
                    b.validity,
                    Validity::Valid | Validity::ValidA2 | Validity::Restated
                ),
                "{}: {} is {:?}",
                gate.kind(),
                b.name,
                b.validity
            );
            if matches!(
                b0.validity,
                Validity::Valid | Validity::ValidA2 | Validity::Restated
            ) {
                assert_eq!(b.validity, Validity::OutsideAssumptions, "{}", b.name);
            }
            assert!(
                b.note.as_deref().is_some_and(|n| n.contains(reason)),
                "{:?}",
                b.note
            );
        }
    }
}

#[test]
fn low_rank_router_d_n_in_the_report() {
    let r = report(GateConfig::SoftmaxTopk, RouterConfig::LowRank { rank: 2 });
    assert_eq!(r.router.kind, "low_rank");
    assert_eq!(r.router.d_n, 2.0 * 4.0); // min(2, 3) (3 + 1)
    assert_eq!(r.router.d_n_validity, Validity::Valid);
}
