//! D1 against the public API: for linear experts, the expert term at any routing pattern never
//! exceeds the worst-case term (THEORY.md §1.6 Step 4), and BFT/Golowich stats plug in.

use ndarray::{Array1, Array2};
use rand::RngExt;
use smoe_nn::stream_rng;
use smoe_theory::{
    D1Inputs, ExpertStat, LayerWeights, d1_bound, golowich_complexity, golowich_scale,
    linear_rademacher_closed_form, sum_sq_row_norms,
};

/// A fixed sample of m points in R^d.
fn sample(m: usize, d: usize) -> Array2<f64> {
    let mut rng = stream_rng(3, "d1-sample", 0);
    Array2::from_shape_fn((m, d), |_| rng.random_range(-1.0..1.0))
}

/// A random top-k pattern: for each input, k distinct experts.
fn pattern(m: usize, t: usize, k: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = stream_rng(seed, "d1-pattern", 0);
    (0..m)
        .map(|_| {
            let mut chosen = Vec::with_capacity(k);
            while chosen.len() < k {
                let j = rng.random_range(0..t);
                if !chosen.contains(&j) {
                    chosen.push(j);
                }
            }
            chosen
        })
        .collect()
}

/// Rows of `x` routed to each expert.
fn routed(x: &Array2<f64>, p: &[Vec<usize>], t: usize) -> Vec<Array2<f64>> {
    (0..t)
        .map(|j| {
            let rows: Vec<usize> = (0..x.nrows()).filter(|&i| p[i].contains(&j)).collect();
            x.select(ndarray::Axis(0), &rows)
        })
        .collect()
}

#[test]
fn learned_pattern_never_exceeds_worst_case_for_linear_experts() {
    let (m, d, t, k, b) = (60, 3, 5, 2, 1.5);
    let x = sample(m, d);
    let sum_sq = sum_sq_row_norms(x.view()).unwrap();
    for seed in 0..20 {
        let p = pattern(m, t, k, seed);
        let experts: Vec<ExpertStat> = routed(&x, &p, t)
            .iter()
            .map(|xs| ExpertStat {
                load: xs.nrows(),
                complexity: if xs.nrows() == 0 {
                    0.0
                } else {
                    linear_rademacher_closed_form(xs.view(), b).unwrap().upper
                },
                scale: b,
                floor: 0.0,
            })
            .collect();
        let r = d1_bound(&D1Inputs {
            k,
            t,
            m,
            delta: 0.05,
            lipschitz: 2.0,
            routing_log_count: 50.0,
            experts: &experts,
            sum_sq_norms: sum_sq,
        })
        .unwrap();
        assert!(
            r.expert_complexity_learned <= r.expert_complexity_worst * (1.0 + 1e-12),
            "seed {seed}: {} > {}",
            r.expert_complexity_learned,
            r.expert_complexity_worst
        );
        let closed = b * (t as f64 * sum_sq / (k * m * m) as f64).sqrt();
        assert!((r.expert_complexity_worst - closed).abs() < 1e-12);
    }
}

#[test]
fn golowich_stats_plug_into_d1() {
    let (m, d, t, k) = (30, 2, 3, 1);
    let x = sample(m, d);
    let w1 = Array2::from_shape_fn((4, d), |(i, j)| 0.1 * (i as f64 - j as f64));
    let b1 = Array1::from_elem(4, 0.05);
    let w2 = Array2::from_shape_fn((1, 4), |(_, j)| 0.2 * j as f64 - 0.3);
    let b2 = Array1::from_elem(1, -0.1);
    let layers = [
        LayerWeights::new(w1.view(), b1.view()),
        LayerWeights::new(w2.view(), b2.view()),
    ];
    let p = pattern(m, t, k, 9);
    let experts: Vec<ExpertStat> = routed(&x, &p, t)
        .iter()
        .map(|xs| match golowich_complexity(&layers, xs.view()) {
            Ok(c) => ExpertStat::from_norm(xs.nrows(), &c),
            Err(_) => ExpertStat {
                load: 0,
                complexity: 0.0,
                scale: golowich_scale(&layers).unwrap(),
                floor: 0.0,
            },
        })
        .collect();
    // Biases are folded: Σ (||x_i||² + 1).
    let sum_sq = sum_sq_row_norms(x.view()).unwrap() + m as f64;
    let r = d1_bound(&D1Inputs {
        k,
        t,
        m,
        delta: 0.1,
        lipschitz: 1.0,
        routing_log_count: 10.0,
        experts: &experts,
        sum_sq_norms: sum_sq,
    })
    .unwrap();
    assert!(r.expert_complexity_learned > 0.0);
    assert!(r.expert_complexity_learned <= r.expert_complexity_worst * (1.0 + 1e-12));
    let a = golowich_scale(&layers).unwrap();
    let closed = a * (t as f64 * sum_sq / (k * m * m) as f64).sqrt();
    assert!((r.expert_complexity_worst - closed).abs() < 1e-12);
}
