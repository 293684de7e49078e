//! Shared helpers of the model's integration tests.
#![allow(dead_code)]

use ndarray::{Array1, Array2};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use smoe_nn::{SmoeRng, stream_rng};

/// Standard-normal matrix.
pub fn normal(rows: usize, cols: usize, rng: &mut SmoeRng) -> Array2<f64> {
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(rng))
}

/// Uniform vector on [-1, 1].
pub fn uniform(n: usize, rng: &mut SmoeRng) -> Array1<f64> {
    Array1::from_shape_simple_fn(n, || rng.random_range(-1.0..1.0))
}

/// Gap between the k-th and (k+1)-th largest entry of each row (infinite when k = T).
pub fn min_topk_margin(scores: &Array2<f64>, k: usize) -> f64 {
    let mut m = f64::INFINITY;
    for row in scores.rows() {
        let mut v = row.to_vec();
        v.sort_by(|a, b| b.partial_cmp(a).unwrap_or(std::cmp::Ordering::Equal));
        if k < v.len() {
            m = m.min(v[k - 1] - v[k]);
        }
    }
    m
}

/// A seeded generator for a test.
pub fn rng(tag: &str) -> SmoeRng {
    stream_rng(2024, tag, 0)
}
