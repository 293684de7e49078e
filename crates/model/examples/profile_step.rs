//! Runs many forward + backward steps of the benchmark model, for profilers:
//! `cargo run --release -p smoe-model --example profile_step -- T k steps`.

use ndarray::{Array1, Array2};
use smoe_experts::ExpertConfig;
use smoe_model::{SparseConfig, SparseMoe};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (t, k, steps) = (
        args.first().copied().unwrap_or(16),
        args.get(1).copied().unwrap_or(2),
        args.get(2).copied().unwrap_or(2000),
    );
    let cfg = SparseConfig {
        experts: t,
        k,
        expert: ExpertConfig {
            depth: 1,
            width: 64,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut model = SparseMoe::<f32>::new(&cfg, 32, 0).expect("valid config");
    let x = Array2::from_shape_fn((256, 32), |(i, j)| {
        ((i * 131 + j * 17) as f32 * 0.013).sin()
    });
    let df = Array1::from_elem(256, 1.0 / 256.0);
    let start = std::time::Instant::now();
    for _ in 0..steps {
        model.zero_grad();
        let _ = model.forward(x.view(), true).expect("forward");
        let _ = model.backward(df.view()).expect("backward");
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / steps as f64;
    println!("T = {t}, k = {k}: {us:.1} µs per step");
}
