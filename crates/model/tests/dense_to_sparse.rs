//! Issue 11, done-when 4: with a temperature schedule that ends small (τ: 1 → 0.01, geometric),
//! the `dense_to_sparse` gate ends with routing as concentrated as top-k.
//!
//! The measure is [`smoe_gating::topk_mass`]: the mean over inputs of the total weight of the
//! k largest gate weights; "as concentrated as top-k" means `M_k ≥ 0.99` (a top-k gate has
//! `M_k = 1`). The model is dense (k = T = 4, every expert weighted by `softmax(z/τ)`), trained
//! for 300 steps on a small regression, with `on_progress` called before each step exactly as
//! the trainer does; the mass is measured on fresh inputs at the end, and compared with the
//! same trained router at the schedule's start (τ = 1), where the routing is far from sparse.

use crate::common;
use common::{normal, rng};
use ndarray::{Array1, Axis};
use smoe_experts::ExpertConfig;
use smoe_gating::{GateActivation, GateConfig, TauSchedule, topk_mass};
use smoe_model::{SparseConfig, SparseMoe};
use smoe_nn::{Optimizer, Progress, Sgd, SgdConfig};

const D: usize = 3;
const T: usize = 4;
const STEPS: usize = 300;

fn gate(topk_below: Option<f64>) -> GateConfig {
    GateConfig::DenseToSparse {
        tau: 1.0,
        tau_end: Some(0.01),
        schedule: Some(TauSchedule::Geometric),
        learn_tau: false,
        activation: GateActivation::None,
        topk_below,
    }
}

/// Trains `cfg` with SGD on `y = sin(x₀) + x₁ x₂` (squared loss), the schedule driven by
/// `on_progress` before every step.
fn train(cfg: &SparseConfig) -> SparseMoe<f64> {
    let mut model = SparseMoe::<f64>::new(cfg, D, 3).expect("model");
    let mut opt = Sgd::<f64>::new(SgdConfig {
        lr: 0.05,
        ..Default::default()
    })
    .expect("sgd");
    let mut r = rng("dense_to_sparse/train");
    for step in 0..STEPS {
        let x = normal(32, D, &mut r);
        let y: Array1<f64> = x
            .axis_iter(Axis(0))
            .map(|row| row[0].sin() + row[1] * row[2])
            .collect();
        model.on_progress(&Progress::at(step, STEPS, 1));
        model.zero_grad();
        let out = model.forward(x.view(), true).expect("forward");
        let df = (&out.f - &y) * (2.0 / 32.0);
        model.backward(df.view()).expect("backward");
        opt.step(&mut model.params_mut()).expect("step");
    }
    model
}

#[test]
fn a_schedule_ending_small_routes_as_concentrated_as_top_k() {
    let cfg = SparseConfig {
        experts: T,
        k: T,
        gate: gate(None),
        expert: ExpertConfig {
            width: 8,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut model = train(&cfg);
    let x = normal(1000, D, &mut rng("dense_to_sparse/eval"));
    let end = model.infer(x.view()).expect("infer");
    assert_eq!(end.routing.weight.dim(), (1000, T));
    let (m1, m2) = (
        topk_mass(end.routing.weight.view(), 1).expect("mass"),
        topk_mass(end.routing.weight.view(), 2).expect("mass"),
    );
    // the same trained router at the schedule's start
    model.on_progress(&Progress::at(0, STEPS, 1));
    let start = model.infer(x.view()).expect("infer");
    let (s1, s2) = (
        topk_mass(start.routing.weight.view(), 1).expect("mass"),
        topk_mass(start.routing.weight.view(), 2).expect("mass"),
    );
    eprintln!("top-1 / top-2 mass: at τ = 1 {s1:.4} / {s2:.4}, at the end {m1:.4} / {m2:.4}");
    assert!(m2 >= 0.99, "top-2 mass at the end {m2}");
    assert!(m1 >= 0.97, "top-1 mass at the end {m1}");
    assert!(
        s2 < 0.9 && s1 < 0.7,
        "at τ = 1 the routing is dense: {s1}, {s2}"
    );
}

/// With k = 2 < T and `topk_below = 0.1`, the gate switches to the renormalised top-2 during
/// training: at the end every row's two weights sum to 1 (exactly top-k), while at the start
/// the two weights are the dense softmax's mass on them (< 1).
#[test]
fn a_schedule_with_a_switch_ends_at_top_k() {
    let cfg = SparseConfig {
        experts: T,
        k: 2,
        gate: gate(Some(0.1)),
        expert: ExpertConfig {
            width: 8,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut model = train(&cfg);
    let x = normal(200, D, &mut rng("dense_to_sparse/eval2"));
    let end = model.infer(x.view()).expect("infer");
    for row in end.routing.weight.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-12, "{row}");
    }
    model.on_progress(&Progress::at(0, STEPS, 1));
    let start = model.infer(x.view()).expect("infer");
    let mean: f64 = start.routing.weight.sum_axis(Axis(1)).mean().expect("rows");
    assert!(
        mean < 0.95,
        "dense phase: the top-2 carry {mean} of the softmax"
    );
}
