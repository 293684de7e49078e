//! Parameter recovery on `softmax-gated-regression` (THEORY.md §7.3, §7.5): the run record
//! carries the Voronoi loss for a softmax-gated model and not otherwise, and the least-squares
//! fit started near the truth recovers the parameters better at n = 10⁴ than at n = 10³.
//!
//! The estimator is the least-squares fit itself (Levenberg–Marquardt in f64 over the mixing
//! measure's parameters, to convergence), not the trainer's Adam: full-batch Adam in f32 fits
//! the regression function to the noise level (train MSE ≈ ν) long before it settles in the
//! valley of the parameters, and left D₁ between 0.1 and 4.6 with no order in n after 600
//! cosine-annealed steps. A full-batch L-BFGS option of the trainer can replace
//! [`least_squares`] here.

use ndarray::{Array1, Array2};
use rand::RngExt;
use smoe_model::{ModelConfig, SparseConfig, build_model};
use smoe_tasks::{
    DataConfig, ExpertForm, SoftmaxGatedTeacher, SyntheticData, TaskConfig, load_data,
};
use smoe_theory::{MixingMeasure, model_voronoi_loss, voronoi_loss};
use smoe_train::{LossConfig, TrainConfig, train};

fn config(n: usize, seed: u64, model: ModelConfig) -> TrainConfig {
    let mut cfg = TrainConfig {
        seed,
        data: DataConfig::Synthetic(SyntheticData {
            d: 1,
            m_train: n,
            m_test: 500,
            task: TaskConfig::softmax_gated_regression(),
            fresh_batches: false,
        }),
        model,
        loss: LossConfig::Squared,
        ..Default::default()
    };
    cfg.train.epochs = 3;
    cfg.train.batch_size = 64;
    cfg.eval.bounds = false;
    cfg
}

#[test]
fn the_record_has_the_voronoi_loss_for_a_softmax_gated_model_only() {
    let rec = train(
        &config(200, 0, MixingMeasure::model_config(3, ExpertForm::Sigmoid)),
        &mut |_| {},
    )
    .expect("train")
    .record;
    let r = rec.recovery.as_ref().expect("recovery");
    assert!(r.total.is_finite() && r.total > 0.0);
    assert_eq!(r.cells.len(), 2);
    assert_eq!(r.cells.iter().map(Vec::len).sum::<usize>(), 3);
    let scalars = rec.scalars();
    let get = |name: &str| {
        scalars
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| *v)
    };
    assert_eq!(get("recovery.total"), Some(r.total));
    assert_eq!(get("recovery.over"), Some(r.over));
    assert!(rec.to_json_line().contains("\"recovery\""));
    // linear experts against the sigmoid teacher, and the default ReLU model: absent
    for model in [
        MixingMeasure::model_config(2, ExpertForm::Linear),
        ModelConfig::Sparse(SparseConfig {
            experts: 2,
            k: 1,
            ..Default::default()
        }),
    ] {
        let rec = train(&config(200, 0, model), &mut |_| {})
            .expect("train")
            .record;
        assert!(rec.recovery.is_none());
        assert!(!rec.to_json_line().contains("\"recovery\""));
    }
}

/// The teacher's form with parameters `p = (β₀ [2], β₁ [2], a [2], b [2])` (d = 1, k = 2).
fn measure_fn(p: &[f64]) -> SoftmaxGatedTeacher {
    SoftmaxGatedTeacher {
        beta0: Array1::from(p[0..2].to_vec()),
        beta1: Array2::from_shape_vec((2, 1), p[2..4].to_vec()).expect("shape"),
        a: Array2::from_shape_vec((2, 1), p[4..6].to_vec()).expect("shape"),
        b: Array1::from(p[6..8].to_vec()),
        experts: ExpertForm::Sigmoid,
    }
}

fn residuals(p: &[f64], x: &Array2<f64>, y: &Array1<f64>) -> Array1<f64> {
    y - &measure_fn(p).output(x.view()).0
}

/// Solves the small symmetric positive definite system `a δ = g` by Gaussian elimination
/// with partial pivoting.
fn solve(mut a: Array2<f64>, mut g: Array1<f64>) -> Array1<f64> {
    let n = g.len();
    for c in 0..n {
        let piv = (c..n)
            .max_by(|&i, &j| a[[i, c]].abs().total_cmp(&a[[j, c]].abs()))
            .unwrap_or(c);
        for k in 0..n {
            a.swap([c, k], [piv, k]);
        }
        g.swap(c, piv);
        for r in c + 1..n {
            let f = a[[r, c]] / a[[c, c]];
            for k in c..n {
                a[[r, k]] -= f * a[[c, k]];
            }
            g[r] -= f * g[c];
        }
    }
    let mut out = Array1::zeros(n);
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[[r, k]] * out[k]).sum();
        out[r] = (g[r] - s) / a[[r, r]];
    }
    out
}

/// The least-squares estimator near `start`: Levenberg–Marquardt in f64 over all eight
/// parameters (central-difference Jacobian; the damping λI also fixes the two flat directions
/// of the common translation, along which the gradient is 0), to a relative change of the
/// residual sum of squares below 1e-13.
fn least_squares(start: Vec<f64>, x: &Array2<f64>, y: &Array1<f64>) -> Vec<f64> {
    let mut p = start;
    let mut r = residuals(&p, x, y);
    let mut sse = r.dot(&r);
    let mut lambda = 1e-3;
    for _ in 0..200 {
        let n = y.len();
        let mut j = Array2::zeros((n, 8));
        for c in 0..8 {
            let h = 1e-6 * p[c].abs().max(1.0);
            let (mut up, mut down) = (p.clone(), p.clone());
            up[c] += h;
            down[c] -= h;
            // r = y - f, so dr/dp = -(f(p + h) - f(p - h)) / 2h = (r(p + h) - r(p - h)) / 2h
            let col = (residuals(&up, x, y) - residuals(&down, x, y)) / (2.0 * h);
            j.column_mut(c).assign(&col);
        }
        let jtj = j.t().dot(&j);
        let g = -j.t().dot(&r);
        let mut improved = false;
        for _ in 0..30 {
            let step = solve(&jtj + &(lambda * Array2::<f64>::eye(8)), g.clone());
            let trial: Vec<f64> = p.iter().zip(&step).map(|(a, b)| a + b).collect();
            let rt = residuals(&trial, x, y);
            let st = rt.dot(&rt);
            if st < sse {
                let done = (sse - st) <= 1e-13 * sse;
                (p, r, sse) = (trial, rt, st);
                lambda = (lambda / 3.0).max(1e-12);
                improved = !done;
                break;
            }
            lambda *= 4.0;
        }
        if !improved {
            break;
        }
    }
    p
}

/// D₁ of the least-squares fit (exactly fitted, k = k* = 2, sigmoid experts) from the
/// teacher's parameters plus N(0, 0.1²) noise, on the task's training set of size n.
fn fitted_loss(n: usize, seed: u64) -> f64 {
    let cfg = config(n, seed, MixingMeasure::model_config(2, ExpertForm::Sigmoid));
    let data = load_data(&cfg.data, seed, None).expect("data");
    let teacher = data
        .task
        .as_ref()
        .and_then(|t| t.softmax_gated_teacher())
        .expect("teacher");
    let truth = MixingMeasure::from_teacher(teacher);
    let mut rng = smoe_nn::stream_rng(seed, "init-noise", 0);
    // Box–Muller: 0.1 · N(0, 1) per parameter
    let t = teacher;
    let start: Vec<f64> = t
        .beta0
        .iter()
        .chain(&t.beta1)
        .chain(&t.a)
        .chain(&t.b)
        .map(|v| {
            let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
            v + 0.1 * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        })
        .collect();
    let x = data.train.x.mapv(f64::from);
    let y = data.train.y.mapv(f64::from);
    let p = least_squares(start, &x, &y);
    let fit = measure_fn(&p);
    // the same numbers through the model: written into a softmax-gated SparseMoe and read back
    let mut model = build_model::<f64>(&cfg.model, 1, seed).expect("model");
    MixingMeasure::from_teacher(&fit)
        .write_to_model(model.as_mut())
        .expect("write");
    let through_model = model_voronoi_loss(model.as_ref(), teacher)
        .expect("loss")
        .total;
    let direct = voronoi_loss(&MixingMeasure::from_teacher(&fit), &truth, 1)
        .expect("loss")
        .total;
    assert!((through_model - direct).abs() <= 1e-12 * direct.max(1.0));
    direct
}

/// Ten seeds (the same seeds, so the same teacher noise stream, at both sizes). The
/// exactly-fitted teacher of THEORY.md §7.5 is badly conditioned at these n (expert 2 is seen
/// only on x < 0.32, where its (a, b) are nearly collinear, and both experts are near 1 where
/// the gates switch), so D₁ of one seed is noisy (0.06 to 12 here) and the assertion is on the
/// median and the geometric mean: at n = 10⁴ they are 0.74 and 0.66, at n = 10³ 1.33 and 1.59.
#[test]
fn more_data_recovers_the_parameters_better() {
    let mut small = Vec::new();
    let mut large = Vec::new();
    for seed in 0..10 {
        small.push(fitted_loss(1_000, seed));
        large.push(fitted_loss(10_000, seed));
    }
    eprintln!("D1 at n = 1e3: {small:?}; at n = 1e4: {large:?}");
    let geo = |v: &[f64]| (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp();
    let (gs, gl) = (geo(&small), geo(&large));
    assert!(
        gl < 0.6 * gs,
        "geometric mean D1: {gl} at 1e4 vs {gs} at 1e3"
    );
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        0.5 * (v[v.len() / 2 - 1] + v[v.len() / 2])
    };
    let (ms, ml) = (median(&mut small), median(&mut large));
    assert!(ml < ms, "median D1: {ml} at 1e4 vs {ms} at 1e3");
}
