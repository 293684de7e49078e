//! `smoe inspect` end to end: the real binary writes its files, which are checked against the
//! model's own forward pass, a recomputation of the loss, and central differences of that loss
//! for a sample of entries of every tensor.

use crate::common;
use common::Gen;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use safetensors::SafeTensors;
use safetensors::tensor::Dtype;
use smoe::ExpertConfig;
use smoe_experiments::inspect::{self, InspectArgs, LossParts};
use smoe_model::{SparseConfig, SparseMoe};
use smoe_tasks::npy::{self, read_array1_f64, read_array2_f64, write_array1, write_array2};

/// A sparse model's shape with the d and seed it is built with.
#[derive(Debug, Clone)]
struct MoeConfig {
    d: usize,
    experts: usize,
    k: usize,
    expert: ExpertConfig,
    seed: u64,
}

impl Default for MoeConfig {
    fn default() -> Self {
        Self {
            d: 32,
            experts: 16,
            k: 2,
            expert: ExpertConfig::default(),
            seed: 0,
        }
    }
}

impl MoeConfig {
    fn sparse(&self) -> SparseConfig {
        SparseConfig {
            experts: self.experts,
            k: self.k,
            expert: self.expert,
            ..Default::default()
        }
    }
}
use smoe_train::aux::{BALANCE_CONVENTION, balance};
use smoe_train::loss::logistic;

/// Largest relative error accepted between the written gradient and central differences.
const MAX_REL_ERR: f64 = 1e-6;
/// Step of the central differences.
const H: f64 = 1e-5;
/// Rows whose k-th and (k+1)-th largest logits are closer than this are not used.
const MIN_TOPK_GAP: f64 = 0.05;
/// Rows with a hidden pre-activation of a selected expert closer to 0 than this are not used.
const MIN_KINK_GAP: f64 = 0.01;

/// Writes an `.npy` version 1.0 file of `descr`, order and `shape` around `data` (header
/// unpadded: the reader must not care), for the dtypes and orders `smoe_tasks::npy` does not
/// write.
fn write_raw(path: &Path, descr: &str, fortran: bool, shape: &str, data: &[u8]) {
    let f = if fortran { "True" } else { "False" };
    let header = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}\n");
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&u16::try_from(header.len()).expect("short").to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    std::fs::write(path, out).expect("write npy");
}

/// The labels `y` as a 1-D integer file of `descr` (`<i8`, `<i4`, `|i1`, `>i2`, …).
fn write_int_labels(path: &Path, descr: &str, y: &Array1<f64>) {
    let data: Vec<u8> = y
        .iter()
        .flat_map(|&v| match descr {
            "<i8" => (v as i64).to_le_bytes().to_vec(),
            "<i4" => (v as i32).to_le_bytes().to_vec(),
            ">i2" => (v as i16).to_be_bytes().to_vec(),
            "|i1" | "|u1" => (v as i8).to_le_bytes().to_vec(),
            other => panic!("no writer for {other}"),
        })
        .collect();
    write_raw(path, descr, false, &format!("({},)", y.len()), &data);
}

/// The `topk_idx.npy` that `numpy.save(path, idx.astype("<i8"))` writes: version 1.0, C order,
/// header padded with spaces to 64 bytes and ended by a newline.
fn numpy_i64_file(idx: &Array2<i64>) -> Vec<u8> {
    let (n, k) = idx.dim();
    let dict = format!("{{'descr': '<i8', 'fortran_order': False, 'shape': ({n}, {k}), }}");
    let pad = (64 - (10 + dict.len() + 1) % 64) % 64;
    let header = format!("{dict}{}\n", " ".repeat(pad));
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&u16::try_from(header.len()).expect("short").to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend(idx.iter().flat_map(|v| v.to_le_bytes()));
    out
}

fn smoe_bin() -> &'static str {
    env!("CARGO_BIN_EXE_smoe")
}

/// A seeded f64 model with every parameter moved a little off its initialisation.
fn build_model(cfg: &MoeConfig, seed: u64) -> SparseMoe<f64> {
    let mut model = SparseMoe::<f64>::new(&cfg.sparse(), cfg.d, cfg.seed).expect("valid config");
    let mut g = Gen(seed);
    for p in model.params_mut() {
        for v in p.value.iter_mut() {
            *v += 0.1 * g.normal();
        }
    }
    model
}

/// Value of the parameter called `name`.
fn param(model: &SparseMoe<f64>, name: &str) -> Vec<f64> {
    model
        .params()
        .into_iter()
        .find(|p| p.name == name)
        .map(|p| p.value.to_vec())
        .unwrap_or_else(|| panic!("no parameter {name}"))
}

/// Whether row `x` is safely away from top-k ties and from the ReLU kinks of its experts
/// (depth-1 ReLU experts), so small perturbations change neither routing nor activations.
fn is_safe_row(model: &SparseMoe<f64>, x: ArrayView1<'_, f64>) -> bool {
    let cfg = model.config();
    let (t, k, d) = (cfg.experts, cfg.k, model.input_dim());
    let xr = x.to_owned().insert_axis(ndarray::Axis(0));
    let out = model.infer(xr.view()).expect("forward");
    let mut z: Vec<f64> = out.logits.row(0).to_vec();
    z.sort_by(|a, b| b.total_cmp(a));
    if k < t && z[k - 1] - z[k] < MIN_TOPK_GAP {
        return false;
    }
    out.routing.idx.row(0).iter().all(|&j| {
        let w = param(model, &format!("experts.{j}.layers.0.weight"));
        let b = param(model, &format!("experts.{j}.layers.0.bias"));
        (0..b.len()).all(|u| {
            let a = b[u] + (0..d).map(|c| w[u * d + c] * x[c]).sum::<f64>();
            a.abs() >= MIN_KINK_GAP
        })
    })
}

/// `n` standard-normal rows that pass [`is_safe_row`], and labels ±1.
fn draw_data(model: &SparseMoe<f64>, n: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let d = model.input_dim();
    let mut g = Gen(seed);
    let mut rows = Vec::with_capacity(n * d);
    let mut tries = 0;
    while rows.len() < n * d {
        tries += 1;
        assert!(tries < 100 * n, "could not draw {n} safe rows");
        let row = Array1::from_shape_simple_fn(d, || g.normal());
        if is_safe_row(model, row.view()) {
            rows.extend(row);
        }
    }
    let x = Array2::from_shape_vec((n, d), rows).expect("shape");
    let y = Array1::from_shape_simple_fn(n, || if g.uniform() < 0.5 { -1.0 } else { 1.0 });
    (x, y)
}

fn run_bin(ckpt: &Path, x: &Path, y: &Path, out: &Path, alpha: f64) -> Output {
    Command::new(smoe_bin())
        .arg("inspect")
        .arg("--checkpoint")
        .arg(ckpt)
        .arg("--x")
        .arg(x)
        .arg("--y")
        .arg(y)
        .arg("--out")
        .arg(out)
        .arg("--alpha")
        .arg(alpha.to_string())
        .output()
        .expect("run smoe")
}

/// What `smoe inspect` wrote.
struct Written {
    f: Array1<f64>,
    logits: Array2<f64>,
    /// `topk_idx.npy` as read (its exact bytes, `<i8`, are checked against `raw`).
    idx: Array2<f64>,
    w: Array2<f64>,
    loss: serde_json::Value,
    grads: Vec<u8>,
    /// The bytes of `f.npy`, `router_logits.npy`, `topk_idx.npy`, `topk_w.npy`.
    raw: [Vec<u8>; 4],
}

fn read_written(out: &Path) -> Written {
    let loss = std::fs::read_to_string(out.join("loss.json")).expect("loss.json");
    let raw = ["f.npy", "router_logits.npy", "topk_idx.npy", "topk_w.npy"]
        .map(|name| std::fs::read(out.join(name)).expect(name));
    Written {
        f: read_array1_f64(out.join("f.npy")).expect("f.npy"),
        logits: read_array2_f64(out.join("router_logits.npy")).expect("router_logits.npy"),
        idx: read_array2_f64(out.join("topk_idx.npy")).expect("topk_idx.npy"),
        w: read_array2_f64(out.join("topk_w.npy")).expect("topk_w.npy"),
        loss: serde_json::from_str(&loss).expect("loss.json is JSON"),
        grads: std::fs::read(out.join("grads.safetensors")).expect("grads.safetensors"),
        raw,
    }
}

fn num(v: &serde_json::Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("loss.json has no number {key}: {v}"))
}

/// Saves `model`, writes `x`/`y`, runs the binary with `alpha` and reads its files back.
fn inspect_with_binary(
    dir: &Path,
    model: &SparseMoe<f64>,
    x: &Array2<f64>,
    y: &Array1<f64>,
    alpha: f64,
) -> (PathBuf, Written) {
    let ckpt = dir.join("model.safetensors");
    model.save(&ckpt).expect("save");
    let (xp, yp, out) = (dir.join("x.npy"), dir.join("y.npy"), dir.join("out"));
    write_array2(&xp, x).expect("write x");
    write_array1(&yp, y).expect("write y");
    let res = run_bin(&ckpt, &xp, &yp, &out, alpha);
    assert!(
        res.status.success(),
        "smoe inspect failed: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    (ckpt, read_written(&out))
}

/// Central difference of the objective in entry `e` of parameter `pi`, after checking that
/// the perturbation changes no routing decision.
fn central_difference(
    model: &mut SparseMoe<f64>,
    pi: usize,
    e: usize,
    x: ArrayView2<'_, f64>,
    y: &[f64],
    alpha: f64,
    idx0: &Array2<usize>,
) -> f64 {
    let set = |model: &mut SparseMoe<f64>, v: Option<f64>| -> f64 {
        let mut ps = model.params_mut();
        let old = ps[pi].value[e];
        if let Some(v) = v {
            ps[pi].value[e] = v;
        }
        old
    };
    let theta = set(model, None);
    let mut at = |v: f64| -> f64 {
        set(model, Some(v));
        let routing = model.infer(x).expect("forward").routing;
        assert_eq!(&routing.idx, idx0, "routing changed under the perturbation");
        inspect::loss(model, x, y, alpha).expect("loss").total
    };
    let (up, down) = (at(theta + H), at(theta - H));
    set(model, Some(theta));
    (up - down) / (2.0 * H)
}

/// The whole check of one model: forward outputs, loss terms and gradients.
fn check_inspect(cfg: &MoeConfig, n: usize, alpha: f64, seed: u64) -> (SparseMoe<f64>, Written) {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = build_model(cfg, seed);
    let (x, y) = draw_data(&model, n, seed + 1);
    let (ckpt, got) = inspect_with_binary(dir.path(), &model, &x, &y, alpha);
    let mut model = SparseMoe::<f64>::load(&ckpt).expect("load");
    let yv = y.to_vec();

    // (1) the model's own forward pass and routing
    let out = model.forward_with_noise(x.view(), None).expect("forward");
    assert_eq!(got.f, out.f, "f.npy");
    assert_eq!(got.logits, out.logits, "router_logits.npy");
    assert_eq!(got.w, out.routing.weight, "topk_w.npy");
    assert_eq!(got.idx, out.routing.idx.mapv(|j| j as f64), "topk_idx.npy");
    assert_eq!(got.idx.dim(), (n, cfg.k));
    // the files byte for byte: f64 files as smoe_tasks::npy encodes them, topk_idx as numpy's
    // i64 (version 1.0, C order, header padded to 64 bytes)
    let idx = out.routing.idx.mapv(|j| i64::try_from(j).expect("i64"));
    let want = [
        npy::encode_array1(&out.f),
        npy::encode_array2(&out.logits),
        numpy_i64_file(&idx),
        npy::encode_array2(&out.routing.weight),
    ];
    for (file, (bytes, expected)) in ["f", "router_logits", "topk_idx", "topk_w"]
        .iter()
        .zip(got.raw.iter().zip(&want))
    {
        assert!(
            bytes == expected,
            "{file}.npy differs from the expected bytes"
        );
    }
    for (r, row) in out.routing.idx.rows().into_iter().enumerate() {
        let z = out.logits.row(r);
        for s in 1..cfg.k {
            let (a, b) = (row[s - 1], row[s]);
            assert!(
                z[a] > z[b] || (z[a] == z[b] && a < b),
                "row {r} out of order"
            );
        }
    }

    // (2) the loss terms
    let total = num(&got.loss, "total");
    let (lg, bal) = (num(&got.loss, "logistic"), num(&got.loss, "balance"));
    assert_eq!(num(&got.loss, "alpha"), alpha);
    assert_eq!(
        total,
        lg + alpha * bal,
        "total = logistic + alpha * balance"
    );
    let f = out.f.to_vec();
    assert_eq!(lg, logistic(&f, &yv).0);
    let bal_alpha = balance(out.logits.view(), &out.routing.idx, alpha).0;
    assert!((alpha * bal - bal_alpha).abs() <= 1e-12 * bal_alpha.abs().max(1.0));
    let again: LossParts = inspect::loss(&model, x.view(), &yv, alpha).expect("loss");
    assert!((again.total - total).abs() <= 1e-12 * total.abs().max(1.0));
    assert_eq!(got.loss["n"], n);
    assert_eq!(got.loss["k"], cfg.k);
    assert_eq!(got.loss["T"], cfg.experts);
    assert_eq!(got.loss["balance_convention"], BALANCE_CONVENTION);
    let counts: Vec<usize> = serde_json::from_value(got.loss["counts"].clone()).expect("counts");
    assert_eq!(counts, out.counts);

    // (3) every tensor, with the checkpoint's names and shapes, against central differences
    let st = SafeTensors::deserialize(&got.grads).expect("grads.safetensors");
    let params: Vec<(String, Vec<usize>)> = model
        .params()
        .into_iter()
        .map(|p| (p.name, p.shape))
        .collect();
    let mut names: Vec<&str> = st.names();
    names.sort_unstable();
    let mut want: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    want.sort_unstable();
    assert_eq!(names, want, "tensor names");
    let mut worst = 0.0f64;
    for (pi, (name, shape)) in params.iter().enumerate() {
        let t = st.tensor(name).expect("tensor");
        assert_eq!(t.dtype(), Dtype::F64, "{name}");
        assert_eq!(t.shape(), shape.as_slice(), "{name}");
        let grad: Vec<f64> = t
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        let len = grad.len();
        assert_eq!(len, shape.iter().product::<usize>());
        let m = len.min(5);
        let sample: Vec<usize> = (0..m)
            .map(|i| if m == 1 { 0 } else { i * (len - 1) / (m - 1) })
            .collect();
        for e in sample {
            let numeric =
                central_difference(&mut model, pi, e, x.view(), &yv, alpha, &out.routing.idx);
            let a = grad[e];
            let rel = (a - numeric).abs() / a.abs().max(numeric.abs()).max(1e-4);
            worst = worst.max(rel);
            assert!(
                rel <= MAX_REL_ERR,
                "{name}[{e}]: written {a:e}, central difference {numeric:e}, rel err {rel:e}"
            );
        }
    }
    eprintln!("worst relative error over the sampled entries: {worst:e}");
    (model, got)
}

/// Gradient of every tensor of expert `j` as written.
fn expert_grads(st: &SafeTensors<'_>, j: usize) -> Vec<f64> {
    let prefix = format!("experts.{j}.");
    st.names()
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .flat_map(|n| {
            let t = st.tensor(n).expect("tensor");
            t.data()
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn inspect_matches_model_and_central_differences() {
    let cfg = MoeConfig {
        d: 5,
        experts: 6,
        k: 2,
        expert: ExpertConfig {
            depth: 1,
            width: 8,
            ..Default::default()
        },
        seed: 11,
    };
    let (_, got) = check_inspect(&cfg, 40, 0.05, 101);
    let st = SafeTensors::deserialize(&got.grads).expect("grads");
    let counts: Vec<usize> = serde_json::from_value(got.loss["counts"].clone()).expect("counts");
    for (j, &c) in counts.iter().enumerate() {
        let g = expert_grads(&st, j);
        assert_eq!(g.iter().all(|&v| v == 0.0), c == 0, "expert {j} ({c} rows)");
    }
}

#[test]
fn experts_without_rows_get_exactly_zero_gradients() {
    let cfg = MoeConfig {
        d: 5,
        experts: 16,
        k: 2,
        expert: ExpertConfig {
            depth: 1,
            width: 8,
            ..Default::default()
        },
        seed: 7,
    };
    // 6 rows x 2 slots reach at most 12 of the 16 experts
    let (_, got) = check_inspect(&cfg, 6, 0.05, 202);
    let st = SafeTensors::deserialize(&got.grads).expect("grads");
    let counts: Vec<usize> = serde_json::from_value(got.loss["counts"].clone()).expect("counts");
    assert_eq!(counts.len(), 16);
    let idle = counts.iter().filter(|&&c| c == 0).count();
    assert!(idle >= 4, "counts {counts:?}");
    for (j, &c) in counts.iter().enumerate() {
        let g = expert_grads(&st, j);
        assert!(!g.is_empty());
        if c == 0 {
            assert!(g.iter().all(|&v| v == 0.0), "expert {j} got no rows: {g:?}");
        } else {
            assert!(g.iter().any(|&v| v != 0.0), "expert {j} got {c} rows");
        }
    }
}

/// Everything needed to call the binary or `inspect::run` on a small model.
struct Fixture {
    dir: tempfile::TempDir,
    ckpt: PathBuf,
    x: Array2<f64>,
    y: Array1<f64>,
}

fn fixture() -> Fixture {
    let cfg = MoeConfig {
        d: 3,
        experts: 4,
        k: 2,
        expert: ExpertConfig {
            depth: 1,
            width: 4,
            ..Default::default()
        },
        ..Default::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let model = build_model(&cfg, 5);
    let ckpt = dir.path().join("m.safetensors");
    model.save(&ckpt).expect("save");
    let mut g = Gen(9);
    let x = Array2::from_shape_simple_fn((8, 3), || g.normal());
    let y = Array1::from_shape_fn(8, |i| if i % 3 == 0 { -1.0 } else { 1.0 });
    Fixture { dir, ckpt, x, y }
}

fn args(fx: &Fixture, x: &Path, y: &Path, out: &Path) -> InspectArgs {
    InspectArgs {
        checkpoint: fx.ckpt.clone(),
        x: x.to_path_buf(),
        y: y.to_path_buf(),
        out: out.to_path_buf(),
        alpha: 0.1,
        loss: inspect::InspectLoss::Logistic,
    }
}

fn assert_nothing_written(out: &Path) {
    let empty = !out.exists() || std::fs::read_dir(out).expect("read out").next().is_none();
    assert!(empty, "{} should be absent or empty", out.display());
}

#[test]
fn label_not_plus_minus_one_exits_2_and_writes_nothing() {
    let fx = fixture();
    let mut y = fx.y.clone();
    y[3] = 0.5;
    let d = fx.dir.path();
    let (xp, yp, out) = (d.join("x.npy"), d.join("y.npy"), d.join("out"));
    write_array2(&xp, &fx.x).expect("x");
    write_array1(&yp, &y).expect("y");
    let res = run_bin(&fx.ckpt, &xp, &yp, &out, 0.05);
    assert_eq!(res.status.code(), Some(2));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("y[3] = 0.5"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert_nothing_written(&out);
}

#[test]
fn bad_shapes_and_dtypes_are_clear_errors_and_write_nothing() {
    let fx = fixture();
    let d = fx.dir.path();
    let out = d.join("out");
    let (xp, yp) = (d.join("x.npy"), d.join("y.npy"));
    write_array2(&xp, &fx.x).expect("x");
    write_array1(&yp, &fx.y).expect("y");
    let cases: Vec<(&str, PathBuf, PathBuf, String)> = {
        let short_y = d.join("short_y.npy");
        write_array1(&short_y, &fx.y.slice(ndarray::s![..7]).to_owned()).expect("short y");
        let wide_x = d.join("wide_x.npy");
        write_array2(&wide_x, &Array2::<f64>::zeros((8, 4))).expect("wide x");
        let y2 = d.join("y2.npy");
        write_array2(&y2, &fx.y.clone().insert_axis(ndarray::Axis(1))).expect("y2");
        let x1 = d.join("x1.npy");
        write_array1(&x1, &fx.y).expect("x1");
        let yu8 = d.join("yu8.npy");
        write_raw(&yu8, "|u1", false, "(8,)", &[1, 1, 1, 1, 1, 0, 1, 1]);
        let yc16 = d.join("yc16.npy");
        write_raw(&yc16, "<c16", false, "(8,)", &[0; 128]);
        let cut_x = d.join("cut_x.npy");
        let bytes = npy::encode_array2(&fx.x);
        std::fs::write(&cut_x, &bytes[..bytes.len() - 8]).expect("cut x");
        let nan_x = d.join("nan_x.npy");
        let mut xn = fx.x.clone();
        xn[[2, 1]] = f64::NAN;
        write_array2(&nan_x, &xn).expect("nan x");
        let inf_x = d.join("inf_x.npy");
        let mut xi = fx.x.clone();
        xi[[7, 0]] = f64::NEG_INFINITY;
        write_array2(&inf_x, &xi).expect("inf x");
        let ybad = d.join("ybad.npy");
        let labels = Array1::from(vec![1.0, -1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0]);
        write_int_labels(&ybad, "<i8", &labels);
        let nope = d.join("nope.npy");
        vec![
            (
                "n mismatch",
                xp.clone(),
                short_y,
                "8 rows but y has 7 labels".into(),
            ),
            (
                "d mismatch",
                wide_x,
                yp.clone(),
                "4 columns but the checkpoint's model expects d = 3".into(),
            ),
            (
                "2-D y",
                xp.clone(),
                y2.clone(),
                format!(
                    "invalid .npy file {}: expected a 1-D [len] array, got shape [8, 1] (2-D)",
                    y2.display()
                ),
            ),
            (
                "1-D x",
                x1.clone(),
                yp.clone(),
                format!(
                    "invalid .npy file {}: expected a 2-D [rows, cols] array, got shape [8] (1-D)",
                    x1.display()
                ),
            ),
            (
                "u8 label 0",
                xp.clone(),
                yu8.clone(),
                format!("{}: label y[5] = 0 is not -1 or +1", yu8.display()),
            ),
            (
                "complex y",
                xp.clone(),
                yc16.clone(),
                format!(
                    "invalid .npy file {}: unsupported dtype \"<c16\"",
                    yc16.display()
                ),
            ),
            (
                "truncated x",
                cut_x.clone(),
                yp.clone(),
                format!(
                    "invalid .npy file {}: shape [8, 3] of 8-byte values needs 192 data bytes, \
                     the file has 184",
                    cut_x.display()
                ),
            ),
            (
                "NaN x",
                nan_x,
                yp.clone(),
                "input x has a non-finite value NaN at row 2, column 1 (inputs must be finite)"
                    .into(),
            ),
            (
                "infinite x",
                inf_x,
                yp.clone(),
                "input x has a non-finite value -inf at row 7, column 0".into(),
            ),
            (
                "integer label 0",
                xp.clone(),
                ybad.clone(),
                format!("{}: label y[4] = 0 is not -1 or +1", ybad.display()),
            ),
            (
                "missing x",
                nope.clone(),
                yp.clone(),
                format!("cannot read {}", nope.display()),
            ),
        ]
    };
    for (what, x, y, msg) in cases {
        let err = inspect::run(&args(&fx, &x, &y, &out)).expect_err(what);
        let line = smoe_experiments::one_line(&err);
        assert!(line.contains(&msg), "{what}: {line}");
        assert_nothing_written(&out);
    }
    let mut a = args(&fx, &xp, &yp, &out);
    a.alpha = f64::NAN;
    assert!(inspect::run(&a).is_err());
    assert_nothing_written(&out);
}

#[test]
fn every_dtype_of_smoe_tasks_npy_is_accepted() {
    let fx = fixture();
    let d = fx.dir.path();
    let x32 = fx.x.mapv(|v| v as f32);
    let xp = d.join("x32.npy");
    write_array2(&xp, &x32).expect("x32");
    let x64 = x32.mapv(f64::from);
    // the same inputs stored in Fortran order read as the same matrix
    let xf = d.join("x32_fortran.npy");
    let column_major: Vec<u8> = x32.t().iter().flat_map(|v| v.to_le_bytes()).collect();
    write_raw(&xf, "<f4", true, "(8, 3)", &column_major);
    let model = SparseMoe::<f64>::load(&fx.ckpt).expect("load");
    let want = inspect::loss(&model, x64.view(), &fx.y.to_vec(), 0.1).expect("loss");
    let mut files = Vec::new();
    for descr in ["<i8", "<i4", ">i2", "|i1"] {
        let p = d.join(format!("y{}.npy", &descr[1..]));
        write_int_labels(&p, descr, &fx.y);
        files.push((xp.clone(), p));
    }
    let yf32 = d.join("yf32.npy");
    write_array1(&yf32, &fx.y.mapv(|v| v as f32)).expect("y");
    files.push((xp.clone(), yf32.clone()));
    files.push((xf, yf32));
    for (i, (xp, yp)) in files.iter().enumerate() {
        let out = d.join(format!("out{i}"));
        inspect::run(&args(&fx, xp, yp, &out)).expect("inspect");
        let got = read_written(&out);
        let what = format!("{} + {}", xp.display(), yp.display());
        assert_eq!(num(&got.loss, "total"), want.total, "{what}");
        assert_eq!(num(&got.loss, "logistic"), want.data, "{what}");
        assert_eq!(num(&got.loss, "balance"), want.balance, "{what}");
    }
    // labels that are all +1 are valid in any dtype, unsigned and bool too
    let ones = Array1::<f64>::ones(8);
    let want = inspect::loss(&model, x64.view(), &ones.to_vec(), 0.1).expect("loss");
    for (descr, name) in [("|u1", "yu8.npy"), ("|b1", "ybool.npy")] {
        let yp = d.join(name);
        write_raw(&yp, descr, false, "(8,)", &[1; 8]);
        let out = d.join(format!("out_{name}"));
        inspect::run(&args(&fx, &xp, &yp, &out)).expect("inspect");
        assert_eq!(num(&read_written(&out).loss, "total"), want.total, "{name}");
    }
}

/// A checkpoint with a NaN or infinite weight is refused when it is loaded, naming the
/// tensor, even where a ReLU would hide it from the outputs; the binary exits 2 with one line.
#[test]
fn non_finite_weights_are_refused_naming_the_tensor() {
    let fx = fixture();
    let d = fx.dir.path();
    let (xp, yp, out) = (d.join("x.npy"), d.join("y.npy"), d.join("out"));
    write_array2(&xp, &fx.x).expect("x");
    write_array1(&yp, &fx.y).expect("y");
    let cases: [(&str, usize, f64, &str); 2] = [
        ("experts.2.layers.0.bias", 1, f64::NAN, "NaN at index 1"),
        ("router.weight", 5, f64::INFINITY, "inf at index 5"),
    ];
    for (name, index, value, want) in cases {
        let mut model = SparseMoe::<f64>::load(&fx.ckpt).expect("load");
        let p = model
            .params_mut()
            .into_iter()
            .find(|p| p.name == name)
            .expect("tensor");
        p.value[index] = value;
        let bad = d.join("bad.safetensors");
        model.save(&bad).expect("save");
        let mut a = args(&fx, &xp, &yp, &out);
        a.checkpoint = bad.clone();
        let line = smoe_experiments::one_line(&inspect::run(&a).expect_err(name));
        let msg = format!("tensor {name} has a non-finite value {want}");
        assert!(line.contains(&msg), "{name}: {line}");
        assert_nothing_written(&out);
        let res = run_bin(&bad, &xp, &yp, &out, 0.0);
        assert_eq!(res.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.contains(&msg), "{name}: {err}");
        assert_nothing_written(&out);
    }
}
