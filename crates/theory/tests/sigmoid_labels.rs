//! Sigmoid experts break the bounds' assumptions (ReLU/identity activations, positively
//! homogeneous with act(0) = 0): every valid or restated bound of their report is labelled `outside_assumptions`, every note gives the
//! reason, while the same model with ReLU or linear experts keeps its labels.

use ndarray::Array2;
use smoe_experts::ExpertConfig;
use smoe_model::{ModelConfig, SparseConfig, build_model};
use smoe_nn::ActivationKind;
use smoe_theory::{BoundSettings, Validity, bound_report};

const SETTINGS: BoundSettings = BoundSettings {
    delta: 0.05,
    gamma: 0.5,
    mc_draws: 16,
    seed: 0,
    margin_log_count: 0.0,
};

fn report(expert: ExpertConfig) -> smoe_theory::BoundReport {
    let cfg = ModelConfig::Sparse(SparseConfig {
        experts: 3,
        k: 2,
        expert,
        ..Default::default()
    });
    let model = build_model::<f64>(&cfg, 4, 1).expect("model");
    let x = Array2::from_shape_fn((40, 4), |(i, j)| ((i * 4 + j) as f64 * 0.37).sin());
    bound_report(model.as_ref(), x.view(), &SETTINGS).expect("report")
}

#[test]
fn sigmoid_experts_are_not_covered() {
    let width = 5;
    let covered = [
        ExpertConfig {
            width,
            ..Default::default()
        },
        ExpertConfig {
            depth: 0,
            ..Default::default()
        },
    ];
    for e in covered {
        let r = report(e);
        assert!(
            r.bounds
                .iter()
                .all(|b| b.validity != Validity::OutsideAssumptions),
            "{e:?}"
        );
    }
    let sigmoid = [
        ExpertConfig {
            width,
            activation: ActivationKind::Sigmoid,
            ..Default::default()
        },
        ExpertConfig {
            depth: 0,
            output_activation: ActivationKind::Sigmoid,
            ..Default::default()
        },
        ExpertConfig {
            width,
            output_activation: ActivationKind::Sigmoid,
            ..Default::default()
        },
    ];
    for e in sigmoid {
        let r = report(e);
        assert_eq!(r.bounds.len(), 6);
        assert!(
            r.bounds
                .iter()
                .any(|b| b.validity == Validity::OutsideAssumptions),
            "{e:?}"
        );
        for b in &r.bounds {
            assert!(
                !matches!(
                    b.validity,
                    Validity::Valid | Validity::ValidA2 | Validity::Restated
                ),
                "{e:?} {}: {}",
                b.name,
                b.validity
            );
            let note = b.note.as_deref().unwrap_or("");
            assert!(note.contains("not covered: experts with"), "{note}");
            assert!(note.contains("σ(0) = 1/2"), "{note}");
        }
    }
}
