//! The sparse dispatch equals the dense oracle (every expert on every row, masked): outputs,
//! input gradient and every parameter gradient, to 1e-12 in f64.

mod common;

use common::{normal, rng, uniform};
use smoe_experts::ExpertConfig;
use smoe_gating::GateConfig;
use smoe_model::{MoeConfig, SparseMoe, oracle::dense_forward_backward};
use smoe_nn::{ActivationKind, grad_vector};

const TOL: f64 = 1e-12;

fn max_abs_diff(a: impl IntoIterator<Item = f64>, b: impl IntoIterator<Item = f64>) -> f64 {
    a.into_iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Returns how many experts received no rows.
fn compare(cfg: &MoeConfig, b: usize) -> usize {
    let mut sparse = SparseMoe::<f64>::new(cfg).expect("model");
    let mut dense = sparse.clone();
    let mut r = rng(&format!("{cfg:?}"));
    let x = normal(b, cfg.d, &mut r);
    let df = uniform(b, &mut r);
    let out = sparse.forward(x.view(), true).expect("forward");
    let dx = sparse.backward(df.view()).expect("backward");
    let (f, dx_dense) =
        dense_forward_backward(&mut dense, x.view(), None, df.view()).expect("oracle");
    let tag = format!("T={} k={} b={b}", cfg.experts, cfg.k);
    assert!(
        max_abs_diff(out.f.iter().copied(), f.iter().copied()) <= TOL,
        "{tag}: f"
    );
    assert!(
        max_abs_diff(dx.iter().copied(), dx_dense.iter().copied()) <= TOL,
        "{tag}: dx"
    );
    let (gs, gd) = (grad_vector(&sparse.params()), grad_vector(&dense.params()));
    assert_eq!(gs.len(), gd.len());
    assert!(
        max_abs_diff(gs.iter().copied(), gd.iter().copied()) <= TOL,
        "{tag}: grads"
    );
    // the gradient is not trivially zero
    assert!(
        gs.iter().any(|g| g.abs() > 1e-3),
        "{tag}: all gradients vanish"
    );
    assert_eq!(out.counts.iter().sum::<usize>() + out.dropped, b * cfg.k);
    out.counts.iter().filter(|&&c| c == 0).count()
}

#[test]
fn sparse_equals_dense_for_every_t_and_k() {
    let mut saw_empty_expert = false;
    for t in [1, 2, 7, 16] {
        for k in [1, 2, t] {
            if k > t {
                continue;
            }
            for gate in [GateConfig::TopkSoftmax, GateConfig::SoftmaxTopk] {
                let cfg = MoeConfig {
                    d: 17,
                    experts: t,
                    k,
                    gate,
                    expert: ExpertConfig {
                        depth: 2,
                        width: 24,
                        activation: ActivationKind::Prelu,
                        ..Default::default()
                    },
                    seed: (t * 10 + k) as u64,
                    ..Default::default()
                };
                // 6 rows: many experts empty at T = 16; 40 rows: large groups (GEMM path)
                for b in [6, 40] {
                    saw_empty_expert |= compare(&cfg, b) > 0;
                }
            }
        }
    }
    assert!(saw_empty_expert, "no case left an expert without rows");
}

#[test]
fn sparse_equals_dense_with_capacity_drops() {
    let cfg = MoeConfig {
        d: 4,
        experts: 4,
        k: 2,
        capacity_factor: Some(0.5),
        seed: 3,
        ..Default::default()
    };
    let mut model = SparseMoe::<f64>::new(&cfg).expect("model");
    let x = normal(32, 4, &mut rng("cap"));
    let out = model.forward(x.view(), false).expect("forward");
    // capacity ceil(0.5 · 32 · 2 / 4) = 8 per expert
    assert!(out.counts.iter().all(|&c| c <= 8), "{:?}", out.counts);
    assert!(out.dropped > 0);
    assert_eq!(out.counts.iter().sum::<usize>() + out.dropped, 64);
    compare(&cfg, 32);
}

mod capacity {
    use proptest::prelude::*;
    use smoe_model::Dispatch;

    proptest! {
        /// No expert ever holds more than its capacity; kept + dropped = b·k; every kept
        /// assignment has exactly one buffer position.
        #[test]
        fn capacity_never_exceeded(
            b in 1usize..40,
            t in 1usize..9,
            kk in 1usize..4,
            cf in 0.1f64..3.0,
            seed in proptest::collection::vec(0usize..1000, 1..50),
        ) {
            let k = kk.min(t);
            // k distinct experts per row
            let idx = ndarray::Array2::from_shape_fn((b, k), |(r, s)| (seed[r % seed.len()] + s) % t);
            let cap = Dispatch::capacity(cf, b, k, t);
            let plan = Dispatch::plan(&idx, t, Some(cap));
            let counts = plan.counts();
            prop_assert!(counts.iter().all(|&c| c <= cap));
            prop_assert_eq!(counts.iter().sum::<usize>() + plan.dropped, b * k);
            let mut seen = vec![false; plan.rows.len()];
            for p in plan.pos.iter().filter(|&&p| p != usize::MAX) {
                prop_assert!(!seen[*p]);
                seen[*p] = true;
            }
            prop_assert!(seen.iter().all(|s| *s));
        }
    }
}
