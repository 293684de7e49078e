//! The sparse dispatch equals the dense oracle (every expert on every row, masked): outputs,
//! input gradient and every parameter gradient, to 1e-12 in f64, for every model of the
//! catalogue ([`ModelConfig::examples`]) and every gate of [`GateConfig::examples`] at many
//! T and k, wherever the oracle applies (gates that select the top-k of their scores).

use crate::common;
use common::{describe, noise_for, normal, randomize_gate_params, rng, uniform};
use ndarray::Array2;
use smoe_experts::ExpertConfig;
use smoe_gating::GateConfig;
use smoe_model::{ModelConfig, SparseConfig, SparseMoe, oracle::dense_forward_backward};
use smoe_nn::{ActivationKind, grad_vector};

const TOL: f64 = 1e-12;

fn max_abs_diff(a: impl IntoIterator<Item = f64>, b: impl IntoIterator<Item = f64>) -> f64 {
    a.into_iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Whether the dense oracle applies to this gate: it masks every expert by the routing
/// weights of whatever selection the gate makes (top-k of the logits, or groups first for the
/// hierarchical gate), so every gate smoe builds.
fn oracle_applies(gate: &GateConfig) -> bool {
    !matches!(gate, GateConfig::Custom { .. })
}

/// Compares the sparse and dense paths on `b` rows of width `d` (with replayed noise for a
/// gate that uses noise, and random gate parameters); returns how many experts received no
/// rows.
fn compare(cfg: &SparseConfig, d: usize, seed: u64, b: usize) -> usize {
    let tag = format!("{} d={d} b={b}", describe(cfg));
    let mut sparse = SparseMoe::<f64>::new(cfg, d, seed).expect("model");
    let mut r = rng(&format!("{cfg:?}"));
    randomize_gate_params(&mut sparse, 0.5, &mut r);
    let mut dense = sparse.clone();
    let x = normal(b, d, &mut r);
    let df = uniform(b, &mut r);
    let noise: Option<Array2<f64>> = noise_for(&sparse, b, &mut r);
    let noise = noise.as_ref().map(|n| n.view());
    let out = sparse.forward_with_noise(x.view(), noise).expect("forward");
    let dx = sparse.backward(df.view()).expect("backward");
    let (f, dx_dense) =
        dense_forward_backward(&mut dense, x.view(), noise, df.view()).expect("oracle");
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
fn sparse_equals_dense_for_every_catalogue_model() {
    let mut checked = 0;
    for (i, cfg) in ModelConfig::examples().iter().enumerate() {
        // the dense oracle is of top-k routing; Soft MoE has its own per-token reference
        let Some(cfg) = cfg.as_sparse() else {
            continue;
        };
        if !oracle_applies(&cfg.gate) {
            continue;
        }
        for b in [6, 40] {
            compare(cfg, 5, i as u64, b);
        }
        checked += 1;
    }
    assert!(checked > 0, "the oracle applies to no catalogue model");
}

#[test]
fn sparse_equals_dense_for_every_gate_t_and_k() {
    let mut saw_empty_expert = false;
    let mut checked = 0;
    for t in [1, 2, 7, 16] {
        for gate in GateConfig::examples().into_iter().filter(oracle_applies) {
            let mut ks = if gate.properties().needs_k_equal_t {
                vec![t]
            } else {
                vec![1, 2, t]
            };
            ks.retain(|&k| k <= t);
            ks.dedup();
            // the k (and T) a hierarchical layout supports
            ks.retain(|&k| gate.validate(k, t).is_ok());
            for k in ks {
                let cfg = SparseConfig {
                    experts: t,
                    k,
                    gate: gate.clone(),
                    expert: ExpertConfig {
                        depth: 2,
                        width: 24,
                        activation: ActivationKind::Prelu,
                        ..Default::default()
                    },
                    ..Default::default()
                };
                // 6 rows: many experts empty at T = 16; 40 rows: large groups (GEMM path)
                for b in [6, 40] {
                    saw_empty_expert |= compare(&cfg, 17, (t * 10 + k) as u64, b) > 0;
                }
                checked += 1;
            }
        }
    }
    assert!(saw_empty_expert, "no case left an expert without rows");
    assert!(checked >= 2 * 10, "{checked}");
}

#[test]
fn sparse_equals_dense_with_capacity_drops() {
    // experts of width 64 (the old MoeConfig default, written out)
    let cfg = SparseConfig {
        experts: 4,
        k: 2,
        expert: ExpertConfig {
            width: 64,
            ..Default::default()
        },
        capacity_factor: Some(0.5),
        ..Default::default()
    };
    let mut model = SparseMoe::<f64>::new(&cfg, 4, 3).expect("model");
    let x = normal(32, 4, &mut rng("cap"));
    let out = model.forward(x.view(), false).expect("forward");
    // capacity ceil(0.5 · 32 · 2 / 4) = 8 per expert
    assert!(out.counts.iter().all(|&c| c <= 8), "{:?}", out.counts);
    assert!(out.dropped > 0);
    assert_eq!(out.counts.iter().sum::<usize>() + out.dropped, 64);
    compare(&cfg, 4, 3, 32);
    // and under capacity for every gate of the catalogue it applies to
    for gate in GateConfig::examples().into_iter().filter(oracle_applies) {
        let k = if gate.properties().needs_k_equal_t {
            4
        } else {
            2
        };
        let cfg = SparseConfig {
            k,
            gate,
            ..cfg.clone()
        };
        compare(&cfg, 4, 3, 32);
    }
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
