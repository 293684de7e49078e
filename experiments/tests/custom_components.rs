//! A user's own gate and loss, defined here through the public API only (no library crate
//! knows them): a tempered top-k gate whose temperature is annealed by the progress hook, and
//! the squared hinge loss. The test trains a model with them on its own arrays, checks the
//! record, gradient-checks the gate through the model in f64, then writes the records as a
//! sweep folder and builds the report from it.

use crate::common;
use common::Gen;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ndarray::{Array1, Array2, ArrayView2};
use smoe::prelude::*;
use smoe::{
    ExpertConfig, GateConfig, GatingError, LossConfig, Progress, RouterConfig, Routing, Targets,
    TopKWeights, check_gradient,
};
use smoe_experiments::sweep::{LineStatus, SweepLine};

const GATE_NAME: &str = "tempered_topk";
const LOSS_NAME: &str = "squared_hinge";
const D: usize = 4;
const T: usize = 4;
const K: usize = 2;

// ---------------------------------------------------------------------------------------
// The custom gate
// ---------------------------------------------------------------------------------------

/// What the gate's progress hook saw, shared with the test (a boxed gate inside the model
/// cannot be downcast back to its concrete type).
#[derive(Debug, Default)]
struct HookProbe {
    calls: AtomicUsize,
    /// `f64::to_bits` of the last `progress.fraction`.
    last_fraction: AtomicU64,
}

impl HookProbe {
    fn last_fraction(&self) -> f64 {
        f64::from_bits(self.last_fraction.load(Ordering::Relaxed))
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }
}

/// Top-k with a temperature: `S(x)` = top-k of z (ties: lower index first), `w = softmax(z_S / τ)`.
/// Backward: `dz_S = w ⊙ (g − Σ w g) / τ`, 0 outside S. τ is annealed linearly from
/// `tau_start` to `tau_end` over training by the progress hook.
#[derive(Debug, Clone)]
struct TemperedTopK {
    k: usize,
    experts: usize,
    tau_start: f64,
    tau_end: f64,
    tau: f64,
    probe: Arc<HookProbe>,
}

impl TemperedTopK {
    fn new(k: usize, experts: usize, tau_start: f64, tau_end: f64) -> smoe::gating::Result<Self> {
        smoe::gating::check_k(k, experts)?;
        if !(tau_start > 0.0 && tau_end > 0.0 && tau_start.is_finite() && tau_end.is_finite()) {
            return Err(GatingError::InvalidConfig {
                gate: GATE_NAME.into(),
                reason: format!(
                    "temperatures must be finite and > 0, got {tau_start} and {tau_end}"
                ),
            });
        }
        Ok(Self {
            k,
            experts,
            tau_start,
            tau_end,
            tau: tau_start,
            probe: Arc::default(),
        })
    }
}

/// Only the weighting and its backward are written here: `TopKWeights` gives the gate its
/// input checks and its top-k selection (and `Gate` with them).
impl TopKWeights for TemperedTopK {
    const NAME: &'static str = "TemperedTopK";
    fn k(&self) -> usize {
        self.k
    }
    fn num_experts(&self) -> usize {
        self.experts
    }
    fn weigh<F: smoe::Float>(&self, z: ArrayView2<'_, F>, idx: &Array2<usize>) -> Array2<F> {
        let inv_tau = F::from_f64c(1.0 / self.tau);
        let mut weight = Array2::<F>::zeros(idx.dim());
        for ((zr, ir), mut wr) in z.rows().into_iter().zip(idx.rows()).zip(weight.rows_mut()) {
            let max = ir.iter().map(|&i| zr[i]).fold(F::neg_infinity(), F::max);
            for (w, &i) in wr.iter_mut().zip(ir) {
                *w = ((zr[i] - max) * inv_tau).exp();
            }
            let sum: F = wr.iter().copied().sum();
            wr.mapv_inplace(|w| w / sum);
        }
        weight
    }
    fn weigh_backward<F: smoe::Float>(
        &self,
        z: ArrayView2<'_, F>,
        routing: &Routing<F>,
        dweight: ArrayView2<'_, F>,
    ) -> Array2<F> {
        let inv_tau = F::from_f64c(1.0 / self.tau);
        let mut dlogits = Array2::<F>::zeros((z.nrows(), self.experts));
        for (((wr, gr), ir), mut dr) in routing
            .weight
            .rows()
            .into_iter()
            .zip(dweight.rows())
            .zip(routing.idx.rows())
            .zip(dlogits.rows_mut())
        {
            let wg: F = wr.iter().zip(gr).map(|(&w, &g)| w * g).sum();
            for ((&w, &g), &i) in wr.iter().zip(gr).zip(ir) {
                dr[i] += w * (g - wg) * inv_tau;
            }
        }
        dlogits
    }
    fn on_progress(&mut self, progress: &Progress) {
        let f = progress.fraction.clamp(0.0, 1.0);
        self.tau = self.tau_start + (self.tau_end - self.tau_start) * f;
        self.probe.calls.fetch_add(1, Ordering::Relaxed);
        self.probe
            .last_fraction
            .store(progress.fraction.to_bits(), Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------------------------------
// The custom loss
// ---------------------------------------------------------------------------------------

/// `max(0, 1 − y f)²` for labels ±1; metrics `loss`, `error` (0-1 error of `sign f`,
/// `sign 0 = +1`) and `violation` (share of margins `y f < 1`); gap `gap_01` on `error`.
/// No bound of smoe covers it.
#[derive(Debug, Clone, Copy)]
struct SquaredHinge;

/// Mean squared hinge and its gradient `dL/df` (divided by b), in f64.
fn squared_hinge(f: &[f64], y: &[f64]) -> (f64, Vec<f64>) {
    let b = f.len().max(1) as f64;
    let mut loss = 0.0;
    let df = f
        .iter()
        .zip(y)
        .map(|(&f, &y)| {
            let s = (1.0 - y * f).max(0.0);
            loss += s * s;
            -2.0 * y * s / b
        })
        .collect();
    (loss / b, df)
}

fn zero_one(f: f64, y: f64) -> f64 {
    let pred = if f >= 0.0 { 1.0 } else { -1.0 };
    if pred == y { 0.0 } else { 1.0 }
}

impl Loss for SquaredHinge {
    fn config(&self) -> LossConfig {
        LossConfig::Custom {
            name: LOSS_NAME.into(),
        }
    }
    fn targets(&self) -> Targets {
        Targets::Labels
    }
    fn value_and_grad(&self, f: &[f32], y: &[f32]) -> (f64, Vec<f32>) {
        let f64s = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
        let (loss, df) = squared_hinge(&f64s(f), &f64s(y));
        (loss, df.into_iter().map(|g| g as f32).collect())
    }
    fn batch_error(&self, f: &[f32], y: &[f32]) -> Option<f64> {
        let e: f64 = f
            .iter()
            .zip(y)
            .map(|(&f, &y)| zero_one(f as f64, y as f64))
            .sum();
        Some(e / y.len().max(1) as f64)
    }
    fn metrics(&self, f: &[f64], y: &[f64]) -> Vec<(&'static str, f64)> {
        let n = f.len().max(1) as f64;
        let (loss, _) = squared_hinge(f, y);
        let error = f.iter().zip(y).map(|(&f, &y)| zero_one(f, y)).sum::<f64>() / n;
        let violation = f.iter().zip(y).filter(|&(&f, &y)| y * f < 1.0).count() as f64 / n;
        vec![("loss", loss), ("error", error), ("violation", violation)]
    }
    fn gaps(&self) -> Vec<(&'static str, &'static str)> {
        vec![("gap_01", "error")]
    }
}

// ---------------------------------------------------------------------------------------
// Our own arrays: a seeded mixture of two Gaussians in d = 4
// ---------------------------------------------------------------------------------------

/// Label ±1 with equal odds, `x = y μ + N(0, I)`, `|μ| ≈ 1.53` (Bayes error ≈ 0.063).
fn two_gaussians(m: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    const MU: [f64; D] = [1.2, -0.8, 0.5, 0.0];
    let mut g = Gen(seed);
    let mut x = Array2::zeros((m, D));
    let mut y = Array1::zeros(m);
    for i in 0..m {
        let label = if g.uniform() < 0.5 { -1.0 } else { 1.0 };
        y[i] = label;
        for j in 0..D {
            x[[i, j]] = label * MU[j] + g.normal();
        }
    }
    (x, y)
}

fn data() -> LoadedData {
    let (x, y) = two_gaussians(1536, 42);
    let all = Dataset::new(x.mapv(|v| v as f32), y.mapv(|v| v as f32), None).expect("dataset");
    let (train, test) = train_test_split(&all, 0.5, 7).expect("split");
    LoadedData::given("two gaussians (test arrays)", train, test).expect("given data")
}

// ---------------------------------------------------------------------------------------
// Model assembly
// ---------------------------------------------------------------------------------------

fn model_config() -> SparseConfig {
    SparseConfig {
        experts: T,
        k: K,
        router: RouterConfig::Linear,
        gate: GateConfig::Custom {
            name: GATE_NAME.into(),
        },
        expert: ExpertConfig {
            depth: 1,
            width: 8,
            ..Default::default()
        },
        capacity_factor: None,
    }
}

fn build<F: smoe::Float>(gate: TemperedTopK, seed: u64) -> SparseMoe<F> {
    let cfg = model_config();
    let router = smoe::router::build_router::<F>(&cfg.router, D, T, seed).expect("router");
    let experts = smoe::experts::build_experts::<F>(&cfg.expert, D, T, seed).expect("experts");
    SparseMoe::<F>::from_parts(cfg, D, seed, router, Box::new(gate), experts).expect("model")
}

/// Trains one model with the custom gate and loss; returns the record, the model and the
/// gate's hook probe.
fn run(data: &LoadedData, seed: u64, lr: f64) -> (RunRecord, SparseMoe<f32>, Arc<HookProbe>) {
    let gate = TemperedTopK::new(K, T, 2.0, 1.0).expect("gate");
    let probe = Arc::clone(&gate.probe);
    let mut model = build::<f32>(gate, seed);
    let settings = TrainConfig {
        seed,
        train: smoe::training::TrainSection {
            epochs: 12,
            batch_size: 32,
            lr,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut seen = 0;
    let record = fit(&settings, &mut model, &SquaredHinge, data, &mut |_| {
        seen += 1
    })
    .expect("fit");
    assert_eq!(seen, settings.train.epochs, "on_epoch sees every epoch");
    (record, model, probe)
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[test]
fn tempered_gate_routes_by_its_formula() {
    let mut gate = TemperedTopK::new(2, 4, 2.0, 1.0).unwrap();
    let z = ndarray::array![[1.0_f64, 3.0, 2.0, 0.0], [0.5, 0.5, -1.0, 0.5]];
    let x = Array2::<f64>::zeros((2, 3));
    let r = Gate::<f64>::route(&gate, x.view(), z.view(), None).unwrap();
    assert_eq!(r.idx.row(0).to_vec(), vec![1, 2]);
    assert_eq!(
        r.idx.row(1).to_vec(),
        vec![0, 1],
        "ties go to the lower index"
    );
    // τ = 2: w = softmax([1.5, 1.0])
    let w0 = 1.0 / (1.0 + (-0.5_f64).exp());
    assert!((r.weight[[0, 0]] - w0).abs() < 1e-15);
    assert!((r.weight[[0, 1]] - (1.0 - w0)).abs() < 1e-15);
    // halfway through training τ = 1.5
    Gate::<f64>::on_progress(&mut gate, &Progress::at(5, 10, 1));
    assert!((gate.tau - 1.5).abs() < 1e-15);
    let r = Gate::<f64>::route(&gate, x.view(), z.view(), None).unwrap();
    let w0 = 1.0 / (1.0 + (-1.0_f64 / 1.5).exp());
    assert!((r.weight[[0, 0]] - w0).abs() < 1e-15);
    // errors: wrong width, non-finite logit, bad k
    let bad = Array2::<f64>::zeros((2, 3));
    assert!(matches!(
        Gate::<f64>::route(&gate, x.view(), bad.view(), None),
        Err(GatingError::Shape(_))
    ));
    let mut nan = z.clone();
    nan[[1, 2]] = f64::NAN;
    assert_eq!(
        Gate::<f64>::route(&gate, x.view(), nan.view(), None).unwrap_err(),
        GatingError::NonFinite { row: 1, expert: 2 }
    );
    assert!(TemperedTopK::new(0, 4, 2.0, 1.0).is_err());
    assert!(TemperedTopK::new(5, 4, 2.0, 1.0).is_err());
}

/// The custom gate's backward, through the whole model in f64, against central differences:
/// every parameter (router included) and the input.
#[test]
fn tempered_gate_backward_is_exact_through_the_model() {
    let mut gate = TemperedTopK::new(K, T, 2.0, 1.0).unwrap();
    // τ = 1.7, so a missing 1/τ in the backward would show
    Gate::<f64>::on_progress(&mut gate, &Progress::at(3, 10, 1));
    assert!((gate.tau - 1.7).abs() < 1e-12);
    let mut model = build::<f64>(gate, 3);
    let (x, y) = two_gaussians(24, 5);
    let y = y.to_vec();
    let loss_of = |f: &Array1<f64>| squared_hinge(f.as_slice().unwrap(), &y).0;

    model.zero_grad();
    let out = model.forward(x.view(), false).unwrap();
    let (l0, df) = squared_hinge(out.f.as_slice().unwrap(), &y);
    assert!(l0 > 0.1, "the loss is not flat at this point: {l0}");
    let dx = model.backward(Array1::from(df).view()).unwrap();

    let params = model.params();
    let analytic = smoe::nn::grad_vector(&params);
    let p0 = smoe::nn::param_vector(&params);
    let router_grad: f64 = params
        .iter()
        .filter(|p| p.name.starts_with("router."))
        .flat_map(|p| p.grad.iter())
        .map(|g| g.abs())
        .sum();
    drop(params);
    assert!(
        router_grad > 1e-4,
        "the router learns through the gate: {router_grad}"
    );

    let base = model.clone();
    let mut by_params = |p: &[f64]| {
        let mut m = base.clone();
        smoe::nn::set_param_vector(&mut m.params_mut(), p).unwrap();
        loss_of(&m.infer(x.view()).unwrap().f)
    };
    let c = check_gradient(&mut by_params, &p0, &analytic, None, 1e-6, 1e-7);
    assert!(
        c.max_rel_err < 1e-5,
        "parameter gradient off at {} (analytic, numeric) = {:?}, rel err {}",
        c.worst,
        c.worst_pair,
        c.max_rel_err
    );
    assert_eq!(c.checked, p0.len());

    let x0: Vec<f64> = x.iter().copied().collect();
    let analytic_x: Vec<f64> = dx.iter().copied().collect();
    let mut by_input = |v: &[f64]| {
        let xv = Array2::from_shape_vec(x.dim(), v.to_vec()).unwrap();
        loss_of(&base.infer(xv.view()).unwrap().f)
    };
    let c = check_gradient(&mut by_input, &x0, &analytic_x, None, 1e-6, 1e-7);
    assert!(
        c.max_rel_err < 1e-5,
        "input gradient off at {} (analytic, numeric) = {:?}, rel err {}",
        c.worst,
        c.worst_pair,
        c.max_rel_err
    );
}

fn read_svgs(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.ends_with(".svg") {
            let text = std::fs::read_to_string(e.path()).unwrap();
            let doc = roxmltree::Document::parse(&text)
                .unwrap_or_else(|err| panic!("{name} is not XML: {err}"));
            assert_eq!(doc.root_element().tag_name().name(), "svg", "{name}");
            names.push(name);
        }
    }
    names.sort();
    names
}

#[test]
fn custom_gate_and_loss_train_and_report() {
    let data = data();
    assert_eq!(data.description.kind, "given");
    let lrs = [0.003, 0.01];
    let seeds = 0..3u64;
    let dir = tempfile::tempdir().unwrap();
    let mut jsonl = String::new();
    let mut gaps: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (cell, &lr) in lrs.iter().enumerate() {
        for seed in seeds.clone() {
            let (record, model, probe) = run(&data, seed, lr);

            // the record names the custom gate and loss
            let m = record.config.model.as_sparse().expect("sparse model");
            assert_eq!(
                m.gate,
                GateConfig::Custom {
                    name: GATE_NAME.into()
                }
            );
            assert_eq!(
                record.config.loss,
                LossConfig::Custom {
                    name: LOSS_NAME.into()
                }
            );
            assert_eq!((m.k, m.experts), (K, T));
            assert_eq!(record.seed, seed);
            assert_eq!(record.config.train.lr, lr);

            // the hook was called before every step and once more at progress 1 before the
            // final evaluation, so τ ended annealed to exactly 1
            let steps = record.config.train.epochs * data.train.len().div_ceil(32);
            assert_eq!(
                probe.calls(),
                steps + 1,
                "on_progress before every step, then at the end"
            );
            let last = probe.last_fraction();
            assert_eq!(last, 1.0, "last fraction seen {last}");
            // the trained model's gate routes with τ = 2 − last = 1
            let z = ndarray::array![[0.0_f32, 2.0, 1.0, -1.0]];
            let r = model
                .gate
                .route(Array2::<f32>::zeros((1, D)).view(), z.view(), None)
                .unwrap();
            let tau = 2.0 - last;
            let w0 = 1.0 / (1.0 + (-1.0 / tau).exp());
            assert!((tau - 1.0).abs() < 0.01);
            assert!((r.weight[[0, 0]] as f64 - w0).abs() < 1e-6);

            // it learned
            let first = record.epochs.first().unwrap().running_loss;
            let final_loss = record.epochs.last().unwrap().running_loss;
            assert!(
                final_loss < 0.7 * first,
                "running loss {first} -> {final_loss}"
            );
            let fin = record.final_eval.as_ref().expect("ran to the end");
            let (tr, te) = (
                fin.train.get("error").unwrap(),
                fin.test.get("error").unwrap(),
            );
            assert!(te < 0.2, "test error {te} (chance 0.5, Bayes ≈ 0.063)");
            for set in [&fin.train, &fin.test] {
                for name in ["loss", "error", "violation"] {
                    assert!(set.get(name).is_some_and(f64::is_finite), "{name}");
                }
                assert!(set.get("ramp").is_none(), "only the loss's own metrics");
            }
            let gap = fin.gap("gap_01").expect("the loss's gap");
            assert_eq!(gap, te - tr);
            assert_eq!(fin.gaps.len(), 1, "{:?}", fin.gaps);
            assert!(record.epochs.iter().all(|e| e.running_error.is_some()));

            // no bound covers this loss; the data is ours, hashed
            assert!(record.bounds.is_none());
            assert_eq!(record.data.kind, "given");
            assert!(record.data.paths.is_empty());
            let hash = record.data.content_hash.as_deref().expect("content hash");
            assert_eq!(hash.len(), 64);
            assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
            assert_eq!(
                (record.data.m_train, record.data.m_test, record.data.d),
                (768, 768, D)
            );

            gaps.entry(format!("{lr}")).or_default().push(gap);
            let line = SweepLine {
                key: format!("custom-lr{lr}-seed{seed}"),
                cell,
                coords: BTreeMap::from([
                    ("train.lr".to_string(), serde_json::json!(lr)),
                    ("seed".to_string(), serde_json::json!(seed)),
                ]),
                status: LineStatus::Ok,
                failure: None,
                record: Some(record),
            };
            jsonl.push_str(&serde_json::to_string(&line).unwrap());
            jsonl.push('\n');
        }
    }
    std::fs::write(dir.path().join("runs.jsonl"), jsonl).unwrap();
    let report = smoe_experiments::report::write_report(dir.path()).expect("report");
    assert_eq!(report, dir.path().join("report.md"));

    // report.md shows the custom gate, the custom loss and the loss's own metrics
    let md = std::fs::read_to_string(&report).unwrap();
    for needle in [
        GATE_NAME,
        LOSS_NAME,
        "test error",
        "train error",
        "test violation",
        "0-1 gap",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle:?}:\n{md}");
    }
    assert!(
        !md.contains("test ramp") && !md.contains("ramp-loss gap"),
        "no metric the loss does not define"
    );

    // summary.csv: one row per learning rate, gap_01_mean is the mean over its seeds
    let mut rd = csv::Reader::from_path(dir.path().join("summary.csv")).unwrap();
    let header = rd.headers().unwrap().clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("summary.csv lacks {name}: {header:?}"))
    };
    let (lr_col, gap_col, runs_col) = (col("train.lr"), col("gap_01_mean"), col("runs"));
    col("test.violation_mean");
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), lrs.len());
    for row in &rows {
        let lr: f64 = row[lr_col].parse().unwrap();
        let v = &gaps[&format!("{lr}")];
        let want = v.iter().sum::<f64>() / v.len() as f64;
        let got: f64 = row[gap_col].parse().unwrap();
        assert!((got - want).abs() < 1e-12, "lr {lr}: {got} vs {want}");
        assert_eq!(&row[runs_col], "3");
    }

    // the plots are well-formed SVG, the gap against the swept learning rate among them
    let svgs = read_svgs(dir.path());
    assert!(svgs.iter().any(|n| n == "gap_vs_lr.svg"), "{svgs:?}");
    for name in &svgs {
        assert!(md.contains(name.as_str()), "report.md links {name}");
    }
}
