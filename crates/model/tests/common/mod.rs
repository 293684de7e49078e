//! Shared helpers of the model's integration tests.
#![allow(dead_code)]

use ndarray::{Array1, Array2};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use smoe_model::{ModelConfig, SparseConfig, SparseMoe};
use smoe_nn::{Float, SmoeRng, stream_rng};

/// Standard-normal matrix.
pub fn normal(rows: usize, cols: usize, rng: &mut SmoeRng) -> Array2<f64> {
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(rng))
}

/// Uniform vector on [-1, 1].
pub fn uniform(n: usize, rng: &mut SmoeRng) -> Array1<f64> {
    Array1::from_shape_simple_fn(n, || rng.random_range(-1.0..1.0))
}

/// A seeded generator for a test.
pub fn rng(tag: &str) -> SmoeRng {
    stream_rng(2024, tag, 0)
}

/// The sparse config of a catalogue entry (panics for another kind: use [`describe_model`]
/// or filter with `as_sparse` where the catalogue has soft models too).
pub fn sparse(cfg: &ModelConfig) -> &SparseConfig {
    cfg.as_sparse().expect("a sparse model config")
}

/// A short name of any model config for assertion messages.
pub fn describe_model(cfg: &ModelConfig) -> String {
    match cfg {
        ModelConfig::Sparse(c) => describe(c),
        ModelConfig::Soft(c) => format!(
            "soft/n={}/p={}/m={}/head={:?}/normalize={}/expert(depth {}, width {}, {:?})",
            c.experts,
            c.slots,
            c.tokens,
            c.head,
            c.normalize,
            c.expert.depth,
            c.expert.width,
            c.expert.activation
        ),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

/// A short name of a sparse config for assertion messages.
pub fn describe(cfg: &SparseConfig) -> String {
    let e = &cfg.expert;
    format!(
        "{}/{}/T={}/k={}/expert(depth {}, width {}, {:?})/cf={:?}",
        cfg.router.kind(),
        cfg.gate.kind(),
        cfg.experts,
        cfg.k,
        e.depth,
        e.width,
        e.activation,
        cfg.capacity_factor
    )
}

/// Redraws every gate parameter (`gate.*`, e.g. the noisy gate's `W_noise`, which starts at
/// zero) from `scale · N(0, 1)`, so its gradient and its effect on routing are exercised.
pub fn randomize_gate_params<F: Float>(model: &mut SparseMoe<F>, scale: f64, rng: &mut SmoeRng) {
    for p in model.params_mut() {
        if p.name.starts_with("gate.") {
            for v in p.value.iter_mut() {
                let z: f64 = StandardNormal.sample(rng);
                *v = F::from_f64c(scale * z);
            }
        }
    }
}

/// Standard-normal routing noise `[b, T]` for a gate that uses noise, `None` otherwise: what
/// a training forward pass is replayed with.
pub fn noise_for<F: Float>(
    model: &SparseMoe<F>,
    b: usize,
    rng: &mut SmoeRng,
) -> Option<Array2<f64>> {
    model
        .gate
        .uses_noise()
        .then(|| normal(b, model.config().experts, rng))
}
