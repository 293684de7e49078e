//! Full-batch fitting (`[train.full_batch]`): L-BFGS reaches the least-squares solution of a
//! linear model, beats mini-batch Adam at the same budget, keeps the best of several restarts
//! and is deterministic.

use ndarray::{Array1, Array2};
use rand::RngExt;
use smoe_experts::ExpertConfig;
use smoe_gating::GateConfig;
use smoe_model::{Model, ModelConfig, SparseConfig, build_model};
use smoe_nn::{ActivationKind, stream_rng};
use smoe_tasks::{DataConfig, Dataset, LoadedData, SyntheticData, TaskConfig};
use smoe_train::{
    FullBatchConfig, FullBatchOptimizer, LossConfig, RunRecord, Squared, TrainConfig, TrainError,
    fit, train,
};

/// y = w·x + b + noise, x ~ U[-1, 1]^d; `m` training and 200 test rows.
fn linear_data(d: usize, m: usize, seed: u64) -> LoadedData {
    let mut rng = stream_rng(seed, "test-data", 0);
    let w: Vec<f64> = (0..d).map(|j| 0.5 * j as f64 - 1.0).collect();
    let mut make = |n: usize| {
        let x = Array2::from_shape_fn((n, d), |_| rng.random_range(-1.0..1.0f32));
        let y = Array1::from_shape_fn(n, |i| {
            let clean: f64 = (0..d).map(|j| w[j] * x[[i, j]] as f64).sum::<f64>() + 0.3;
            (clean + 0.1 * rng.random_range(-1.0..1.0f64)) as f32
        });
        Dataset::regression(x, y, None).expect("dataset")
    };
    let (train, test) = (make(m), make(200));
    LoadedData::given("linear regression (test)", train, test).expect("data")
}

/// One linear expert (T = 1, k = 1, depth 0): f(x) = aᵀx + b, plain linear regression.
fn linear_model() -> ModelConfig {
    ModelConfig::Sparse(SparseConfig {
        experts: 1,
        k: 1,
        expert: ExpertConfig {
            depth: 0,
            ..Default::default()
        },
        ..Default::default()
    })
}

fn full_batch(restarts: usize, max_iters: usize) -> FullBatchConfig {
    FullBatchConfig {
        restarts,
        max_iters,
        ..Default::default()
    }
}

fn settings(fb: Option<FullBatchConfig>) -> TrainConfig {
    let mut cfg = TrainConfig {
        loss: LossConfig::Squared,
        ..Default::default()
    };
    cfg.eval.bounds = false;
    cfg.train.full_batch = fb;
    cfg
}

/// Solves the p × p system held as rows `[A | b]` by Gauss-Jordan with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>) -> Vec<f64> {
    let p = a.len();
    for c in 0..p {
        let piv = (c..p)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .expect("rows");
        a.swap(c, piv);
        let pivot = a[c].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != c {
                let f = row[c] / pivot[c];
                row.iter_mut().zip(&pivot).for_each(|(x, y)| *x -= f * y);
            }
        }
    }
    a.iter()
        .enumerate()
        .map(|(i, row)| row[p] / row[i])
        .collect()
}

/// Solves the normal equations XᵀX θ = Xᵀy for θ = (a, b) in f64 (Gaussian elimination with
/// partial pivoting), returning θ and the minimum of ½ mean (f − y)².
fn least_squares(data: &Dataset<f32>) -> (Vec<f64>, f64) {
    let (m, d) = data.x.dim();
    let p = d + 1;
    let row = |i: usize| -> Vec<f64> {
        let mut r: Vec<f64> = data.x.row(i).iter().map(|&v| v as f64).collect();
        r.push(1.0);
        r
    };
    let mut a = vec![vec![0.0; p + 1]; p];
    for i in 0..m {
        let r = row(i);
        for u in 0..p {
            for v in 0..p {
                a[u][v] += r[u] * r[v];
            }
            a[u][p] += r[u] * data.y[i] as f64;
        }
    }
    let theta = solve(a);
    let loss = (0..m)
        .map(|i| {
            let f: f64 = row(i).iter().zip(&theta).map(|(x, t)| x * t).sum();
            0.5 * (f - data.y[i] as f64).powi(2)
        })
        .sum::<f64>()
        / m as f64;
    (theta, loss)
}

fn fit_linear(
    fb: Option<FullBatchConfig>,
    data: &LoadedData,
    seed: u64,
) -> (RunRecord, Box<dyn Model<f32>>) {
    let mut model = build_model::<f32>(&linear_model(), data.train.dim(), seed).expect("model");
    let mut cfg = settings(fb);
    cfg.seed = seed;
    let rec = fit(&cfg, model.as_mut(), &Squared, data, &mut |_| {}).expect("fit");
    (rec, model)
}

fn expert_params(model: &dyn Model<f32>) -> Vec<f64> {
    let params = model.params();
    let get = |name: &str| {
        params
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .value
            .iter()
            .map(|&v| v as f64)
            .collect::<Vec<f64>>()
    };
    let mut v = get("experts.0.layers.0.weight");
    v.extend(get("experts.0.layers.0.bias"));
    v
}

#[test]
fn lbfgs_reaches_the_least_squares_solution_of_a_linear_expert() {
    // m = 3000 > EVAL_BLOCK: two blocks, so the block weights must give the exact mean
    let data = linear_data(5, 3000, 1);
    let (theta, ls_loss) = least_squares(&data.train);
    let (rec, model) = fit_linear(Some(full_batch(1, 200)), &data, 3);
    let fb = rec.full_batch.as_ref().expect("full-batch record");
    let got = expert_params(model.as_ref());
    let err = got
        .iter()
        .zip(&theta)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let objective = fb.best_objective.expect("finite");
    eprintln!(
        "L-BFGS vs normal equations: max |θ - θ*| = {err:.3e}, J = {objective:.12}, LS min {ls_loss:.12}, {} iterations, stop {}",
        fb.restarts[0].iterations, fb.restarts[0].stop
    );
    // the model computes in f32: parameters to ~1e-6, the objective to ~1e-7 relative
    assert!(err < 2e-5, "parameter error {err}");
    assert!(
        (objective - ls_loss).abs() <= 1e-6 * ls_loss,
        "objective {objective} vs least squares {ls_loss}"
    );
    assert!(objective >= ls_loss * (1.0 - 1e-6), "below the minimum?");
    // the recorded objective is the training loss the evaluation reports (no aux, no decay)
    let train_loss = rec.final_eval.as_ref().unwrap().train.get("loss").unwrap();
    assert!((objective - train_loss).abs() <= 1e-9 * train_loss);
    assert!(fb.restarts[0].iterations < 200, "{:?}", fb.restarts[0]);
}

#[test]
fn weight_decay_is_part_of_the_objective() {
    // ridge: (XᵀX/m + λ I) θ = Xᵀy/m on every parameter; with one linear expert the router's
    // parameters get only the decay and go to 0
    let data = linear_data(3, 500, 2);
    let lambda = 0.05;
    let mut model = build_model::<f32>(&linear_model(), 3, 0).expect("model");
    let mut fb = full_batch(1, 300);
    fb.tol = 1e-9;
    fb.ftol = 0.0;
    let mut cfg = settings(Some(fb));
    cfg.train.weight_decay = lambda;
    let rec = fit(&cfg, model.as_mut(), &Squared, &data, &mut |_| {}).expect("fit");
    let (m, d) = data.train.x.dim();
    // the ridge system (p = 4 unknowns)
    let p = d + 1;
    let mut a = vec![vec![0.0; p + 1]; p];
    for i in 0..m {
        let mut r: Vec<f64> = data.train.x.row(i).iter().map(|&v| v as f64).collect();
        r.push(1.0);
        for u in 0..p {
            for v in 0..p {
                a[u][v] += r[u] * r[v] / m as f64;
            }
            a[u][p] += r[u] * data.train.y[i] as f64 / m as f64;
        }
    }
    for (u, row) in a.iter_mut().enumerate() {
        row[u] += lambda;
    }
    let ridge = solve(a);
    let got = expert_params(model.as_ref());
    // f32 rounding floors the objective's resolution near the minimum (the line search stops
    // at ‖∇J‖_∞ ~ 1e-5 here), so the parameters agree to ~1e-5, far closer than the
    // least-squares solution (λ = 0) is
    let (ls, _) = least_squares(&data.train);
    let dist = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    assert!(dist(&got, &ridge) < 1e-4, "ridge {ridge:?} got {got:?}");
    assert!(
        dist(&ls, &ridge) > 1e-2,
        "ridge {ridge:?} vs least squares {ls:?}"
    );
    let router: f64 = model
        .params()
        .iter()
        .filter(|p| p.name.starts_with("router"))
        .flat_map(|p| p.value.iter())
        .map(|&v| (v as f64).abs())
        .fold(0.0, f64::max);
    assert!(router < 1e-5, "router parameters {router}");
    let fb = rec.full_batch.unwrap();
    eprintln!("ridge: {got:?} vs {ridge:?}, {:?}", fb.restarts[0]);
    assert!(fb.objective.contains("lambda = 0.05"), "{}", fb.objective);
}

/// The norm-regression task with a small nonlinear MoE.
fn nonlinear(fb: Option<FullBatchConfig>, epochs: usize) -> TrainConfig {
    let mut cfg = settings(fb);
    cfg.data = DataConfig::Synthetic(SyntheticData {
        d: 4,
        m_train: 512,
        m_test: 512,
        task: TaskConfig::NormRegression {},
        fresh_batches: false,
    });
    cfg.model = ModelConfig::Sparse(SparseConfig {
        experts: 4,
        k: 2,
        gate: GateConfig::SoftmaxTopk,
        expert: ExpertConfig {
            depth: 1,
            width: 8,
            activation: ActivationKind::Relu,
            ..Default::default()
        },
        ..Default::default()
    });
    cfg.train.epochs = epochs;
    cfg.train.batch_size = 32;
    cfg.train.lr = 0.01;
    cfg.train.eval_every = 0;
    cfg
}

/// Softmax-gated linear experts (dense gate, k = T = 4) on norm-regression: a smooth
/// objective, the model class of the rate experiments.
fn smooth(fb: Option<FullBatchConfig>, epochs: usize) -> TrainConfig {
    let mut cfg = nonlinear(fb, epochs);
    cfg.model = ModelConfig::Sparse(SparseConfig {
        experts: 4,
        k: 4,
        gate: GateConfig::DenseSoftmax,
        expert: ExpertConfig {
            depth: 0,
            ..Default::default()
        },
        ..Default::default()
    });
    cfg
}

#[test]
fn full_batch_lbfgs_beats_mini_batch_adam_at_the_same_budget() {
    // budget: 100 passes over the training set (mini-batch: 100 epochs of 16 steps;
    // L-BFGS: at most 100 objective-and-gradient evaluations)
    let sgd = train(&smooth(None, 100), &mut |_| {}).expect("mini-batch");
    let mut fb = full_batch(1, 60);
    fb.tol = 0.0;
    fb.ftol = 0.0;
    let lb = train(&smooth(Some(fb), 1), &mut |_| {})
        .expect("full batch")
        .record;
    let r = &lb.full_batch.as_ref().unwrap().restarts[0];
    assert!(r.evaluations <= 100, "{r:?}");
    let loss = |rec: &RunRecord| rec.final_eval.as_ref().unwrap().train.get("loss").unwrap();
    eprintln!(
        "training loss: mini-batch Adam {:.5}, full-batch L-BFGS {:.5} ({} evaluations, stop {})",
        loss(&sgd.record),
        loss(&lb),
        r.evaluations,
        r.stop
    );
    assert!(
        loss(&lb) < loss(&sgd.record),
        "L-BFGS {} vs mini-batch {}",
        loss(&lb),
        loss(&sgd.record)
    );
}

#[test]
fn restarts_are_recorded_and_the_best_is_kept() {
    let cfg = nonlinear(Some(full_batch(3, 60)), 1);
    let mut seen = 0;
    let out = train(&cfg, &mut |_| seen += 1).expect("train");
    let rec = &out.record;
    let fb = rec.full_batch.as_ref().expect("record");
    assert_eq!(seen, 3, "one progress tick per restart");
    assert_eq!(rec.epochs.len(), 3);
    assert_eq!(fb.restarts.len(), 3);
    let finals: Vec<f64> = fb
        .restarts
        .iter()
        .map(|r| r.final_objective.expect("finite"))
        .collect();
    let min = finals.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(fb.best_objective, Some(min));
    assert_eq!(finals[fb.best], min);
    assert!((1..=3).contains(&fb.reached_best));
    let within = finals
        .iter()
        .filter(|v| (*v - min).abs() <= fb.best_rtol * min.abs())
        .count();
    assert_eq!(fb.reached_best, within);
    // distinct initialisations, each one improved on
    for r in &fb.restarts {
        assert!(
            r.final_objective.unwrap() < r.initial_objective.unwrap(),
            "{r:?}"
        );
    }
    assert_ne!(
        fb.restarts[1].initial_objective,
        fb.restarts[2].initial_objective
    );
    assert_ne!(fb.restarts[0].init_seed, fb.restarts[1].init_seed);
    // the kept model is the best restart's: its evaluation is the final one
    assert_eq!(
        rec.final_eval.as_ref(),
        rec.epochs[fb.best].eval.as_ref(),
        "final = the best restart's evaluation"
    );
    let again = smoe_train::evaluate(out.model.as_ref(), &Squared, &out.train_set).unwrap();
    assert_eq!(Some(&again), rec.final_eval.as_ref().map(|e| &e.train));
    // restart 0 starts where a normal run with this seed starts
    let one = train(&nonlinear(Some(full_batch(1, 60)), 1), &mut |_| {}).expect("R = 1");
    assert_eq!(
        one.record.full_batch.unwrap().restarts[0],
        fb.restarts[0],
        "restart 0 = the run with one restart"
    );
    eprintln!(
        "restarts: finals {finals:?}, best {} reached {}",
        fb.best, fb.reached_best
    );
}

#[test]
fn same_seed_same_record_whatever_the_threads() {
    let mut fb = full_batch(2, 30);
    fb.optimizer = FullBatchOptimizer::Lbfgs;
    let cfg = nonlinear(Some(fb), 1);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| train(&cfg, &mut |_| {}).expect("train").record)
    };
    let (a, b, c) = (run(1), run(1), run(2));
    assert_eq!(a.without_timings(), b.without_timings());
    assert_eq!(a.without_timings(), c.without_timings());
    let mut other = cfg.clone();
    other.seed = 1;
    let d = train(&other, &mut |_| {}).expect("train").record;
    assert_ne!(
        a.full_batch.unwrap().best_objective,
        d.full_batch.unwrap().best_objective
    );
}

#[test]
fn full_batch_adam_takes_max_iters_steps_and_descends() {
    let mut fb = full_batch(1, 150);
    fb.optimizer = FullBatchOptimizer::Adam;
    fb.tol = 0.0;
    let rec = train(&nonlinear(Some(fb), 1), &mut |_| {})
        .expect("adam")
        .record;
    let r = &rec.full_batch.as_ref().unwrap().restarts[0];
    assert_eq!(r.iterations, 150);
    assert_eq!(r.stop, "max_iterations");
    // one evaluation per step, the final point's, and the recorded start and end
    assert_eq!(r.evaluations, 153);
    assert!(
        r.final_objective.unwrap() < 0.5 * r.initial_objective.unwrap(),
        "{r:?}"
    );
}

#[test]
fn bad_full_batch_configs_are_clear_errors() {
    let base = nonlinear(Some(full_batch(1, 10)), 1);
    let msg = |cfg: &TrainConfig| train(cfg, &mut |_| {}).unwrap_err().to_string();
    let mut noisy = base.clone();
    #[allow(irrefutable_let_patterns)] // more model kinds are coming
    if let ModelConfig::Sparse(s) = &mut noisy.model {
        s.gate = GateConfig::NoisyTopk;
    }
    let e = msg(&noisy);
    assert!(
        e.contains("model.gate.kind = noisy_topk") && e.contains("deterministic"),
        "{e}"
    );
    for (edit, field) in [
        (
            FullBatchConfig {
                restarts: 0,
                ..full_batch(1, 10)
            },
            "train.full_batch.restarts = 0",
        ),
        (
            FullBatchConfig {
                max_iters: 0,
                ..full_batch(1, 10)
            },
            "train.full_batch.max_iters = 0",
        ),
        (
            FullBatchConfig {
                history: 0,
                ..full_batch(1, 10)
            },
            "train.full_batch.history = 0",
        ),
        (
            FullBatchConfig {
                tol: f64::NAN,
                ..full_batch(1, 10)
            },
            "train.full_batch.tol = NaN",
        ),
        (
            FullBatchConfig {
                restarts: 1_000_000,
                ..full_batch(1, 10)
            },
            "train.full_batch.restarts = 1000000",
        ),
    ] {
        let mut cfg = base.clone();
        cfg.train.full_batch = Some(edit);
        let e = msg(&cfg);
        assert!(e.contains(field), "{e}");
        assert!(matches!(
            cfg.validate(),
            Err(TrainError::InvalidConfig { .. })
        ));
    }
}

#[test]
fn the_toml_section_reads_and_rejects_unknown_keys() {
    let cfg: TrainConfig =
        toml::from_str("[train.full_batch]\noptimizer = \"adam\"\nrestarts = 4\nmax_iters = 50\n")
            .expect("parses");
    let fb = cfg.train.full_batch.expect("on");
    assert_eq!(
        (fb.optimizer, fb.restarts, fb.max_iters, fb.history),
        (FullBatchOptimizer::Adam, 4, 50, 10)
    );
    assert_eq!(cfg.train.reported_epochs(1000), 4);
    let off: TrainConfig = toml::from_str("").expect("empty");
    assert!(off.train.full_batch.is_none());
    assert!(toml::from_str::<TrainConfig>("[train.full_batch]\nrestart = 2\n").is_err());
    assert!(toml::from_str::<TrainConfig>("[train.full_batch]\noptimizer = \"bfgs\"\n").is_err());
    // a mini-batch config's record has no full_batch key at all
    let text = toml::to_string(&off).expect("writes");
    assert!(!text.contains("full_batch"), "{text}");
    let back: TrainConfig = toml::from_str(&toml::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(back, cfg);
}

#[test]
fn auxiliary_losses_are_part_of_the_objective() {
    let mut cfg = nonlinear(Some(full_batch(2, 20)), 1);
    cfg.aux.balance = 0.01;
    cfg.aux.z_loss = 0.001;
    let rec = train(&cfg, &mut |_| {}).expect("train").record;
    let fb = rec.full_batch.as_ref().unwrap();
    assert!(fb.objective.contains("balance 0.01") && fb.objective.contains("z_loss 0.001"));
    for (r, e) in fb.restarts.iter().zip(&rec.epochs) {
        assert!(e.balance_loss > 0.0 && e.z_loss > 0.0, "{e:?}");
        let parts = e.running_loss + e.balance_loss + e.z_loss + e.importance_loss;
        let j = r.final_objective.unwrap();
        assert!((j - parts).abs() <= 1e-12 * j, "J {j} vs parts {parts}");
    }
}

#[test]
fn a_run_whose_restarts_all_blow_up_is_diverged_not_an_error() {
    let mut fb = full_batch(2, 50);
    fb.optimizer = FullBatchOptimizer::Adam;
    let mut cfg = nonlinear(Some(fb), 1);
    cfg.train.lr = 1e30;
    let rec = train(&cfg, &mut |_| {}).expect("train").record;
    assert_eq!(rec.status, smoe_train::RunStatus::Diverged);
    assert!(
        rec.failure
            .as_deref()
            .unwrap_or("")
            .contains("every restart"),
        "{:?}",
        rec.failure
    );
    assert!(rec.final_eval.is_none());
    let fb = rec.full_batch.unwrap();
    assert_eq!(fb.best_objective, None);
    assert_eq!(fb.reached_best, 0);
    for r in &fb.restarts {
        assert_eq!(
            (r.stop.as_str(), r.final_objective),
            ("diverged", None),
            "{r:?}"
        );
    }
}
