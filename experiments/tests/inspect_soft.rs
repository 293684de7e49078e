//! `smoe inspect` on a Soft MoE checkpoint, end to end with the real binary: f, the loss, the
//! dispatch and combine arrays match the model's own pass, and the written gradient of every
//! tensor matches central differences of the written loss (logistic and squared).

use crate::common;
use std::path::Path;

use common::{Gen, assert_one_line_error, smoe};
use ndarray::{Array1, Array2, Axis};
use safetensors::SafeTensors;
use smoe_experiments::inspect::{self, InspectLoss};
use smoe_model::{Model, SoftConfig, SoftHead, SoftMoe};
use smoe_nn::ActivationKind;
use smoe_tasks::npy::{read_array1_f64, read_array2_f64, write_array1, write_array2};

const H: f64 = 1e-5;
const MAX_REL_ERR: f64 = 1e-6;
const KINK: f64 = 0.01;

fn normal(rows: usize, cols: usize, rng: &mut Gen) -> Array2<f64> {
    Array2::from_shape_simple_fn((rows, cols), || rng.normal())
}

/// A soft model (linear head, 2 slots per expert, 3 tokens of width 2) with every parameter
/// moved off its initialisation.
fn model(normalize: bool) -> SoftMoe<f64> {
    let cfg = SoftConfig {
        experts: 3,
        slots: 2,
        tokens: 3,
        expert: smoe::ExpertConfig {
            width: 5,
            activation: ActivationKind::Relu,
            ..Default::default()
        },
        head: SoftHead::Linear,
        normalize,
    };
    let mut m = SoftMoe::<f64>::new(&cfg, 6, 4).expect("model");
    let mut rng = Gen(9);
    for p in m.params_mut() {
        for v in p.value.iter_mut() {
            *v += 0.1 * rng.normal();
        }
    }
    m
}

/// Rows whose experts' hidden pre-activations (on their slot inputs) are ≥ [`KINK`] from 0.
fn safe_rows(model: &SoftMoe<f64>, n: usize, rng: &mut Gen) -> Array2<f64> {
    let mut x = Array2::zeros((n, 6));
    for r in 0..n {
        loop {
            let row = normal(1, 6, rng);
            let (_, routing) = model.infer(row.view()).expect("infer");
            let slots = routing.slot_inputs.index_axis(Axis(0), 0);
            let ok = model.experts.iter().enumerate().all(|(j, e)| {
                let xs = slots.slice(ndarray::s![j * 2..(j + 1) * 2, ..]);
                let (_, tape) = e.forward(xs, true).expect("expert");
                tape.pre.iter().all(|a| a.iter().all(|v| v.abs() >= KINK))
            });
            if ok {
                x.row_mut(r).assign(&row.row(0));
                break;
            }
        }
    }
    x
}

fn run_bin(dir: &Path, loss: InspectLoss, alpha: f64) -> std::process::Output {
    smoe(&[
        "inspect",
        "--checkpoint",
        dir.join("m.safetensors").to_str().expect("path"),
        "--x",
        dir.join("x.npy").to_str().expect("path"),
        "--y",
        dir.join("y.npy").to_str().expect("path"),
        "--out",
        dir.join("out").to_str().expect("path"),
        "--alpha",
        &alpha.to_string(),
        "--loss",
        loss.name(),
    ])
}

fn check(normalize: bool, loss: InspectLoss) {
    let dir = tempfile::tempdir().expect("tmp");
    let mut m = model(normalize);
    let mut rng = Gen(3);
    let n = 12;
    let x = safe_rows(&m, n, &mut rng);
    let y: Array1<f64> = match loss {
        InspectLoss::Logistic => Array1::from_shape_fn(n, |r| if r % 3 == 0 { -1.0 } else { 1.0 }),
        InspectLoss::Squared => Array1::from_shape_fn(n, |r| (r as f64 * 0.7).cos()),
    };
    m.save(&dir.path().join("m.safetensors")).expect("save");
    write_array2(dir.path().join("x.npy"), &x).expect("x");
    write_array1(dir.path().join("y.npy"), &y).expect("y");
    let o = run_bin(dir.path(), loss, 0.0);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.path().join("out");
    // (1) the forward pass and the routing diagnostics, bit for bit
    let (f, routing) = Model::infer(&m, x.view())
        .map(|o| (o.f.clone(), o.soft().cloned().expect("soft")))
        .expect("infer");
    assert_eq!(read_array1_f64(out.join("f.npy")).expect("f"), f);
    for (file, arr) in [
        ("dispatch.npy", &routing.dispatch),
        ("combine.npy", &routing.combine),
        ("soft_logits.npy", &routing.logits),
    ] {
        let bytes = std::fs::read(out.join(file)).expect(file);
        assert_eq!(bytes, inspect::encode_array3(arr), "{file}");
        let header = String::from_utf8_lossy(&bytes[10..80]).to_string();
        assert!(header.contains("'shape': (12, 3, 6)"), "{file}: {header}");
    }
    let cs = read_array2_f64(out.join("column_sums.npy")).expect("column sums");
    assert_eq!(cs, routing.column_sums());
    assert!(cs.rows().into_iter().all(|r| (r.sum() - 3.0).abs() < 1e-12));
    assert!(!out.join("topk_idx.npy").exists());
    // (2) the loss
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("loss.json")).expect("json"))
            .expect("json");
    let yv = y.to_vec();
    let want = inspect::loss_with(&m, x.view(), &yv, 0.0, loss).expect("loss");
    assert_eq!(json["total"].as_f64(), Some(want.total));
    assert_eq!(json[loss.name()].as_f64(), Some(want.data));
    assert_eq!(json["model"], "soft");
    assert_eq!((json["k"].as_u64(), json["T"].as_u64()), (Some(3), Some(3)));
    assert_eq!(
        (json["tokens"].as_u64(), json["slots"].as_u64()),
        (Some(3), Some(2))
    );
    let by_hand = match loss {
        InspectLoss::Logistic => {
            f.iter()
                .zip(&yv)
                .map(|(f, y)| (1.0 + (-y * f).exp()).ln())
                .sum::<f64>()
                / n as f64
        }
        InspectLoss::Squared => {
            f.iter()
                .zip(&yv)
                .map(|(f, y)| 0.5 * (f - y) * (f - y))
                .sum::<f64>()
                / n as f64
        }
    };
    assert!(
        (want.total - by_hand).abs() < 1e-12,
        "{} vs {by_hand}",
        want.total
    );
    // (3) every tensor's gradient against central differences of the written loss
    let grads = std::fs::read(out.join("grads.safetensors")).expect("grads");
    let st = SafeTensors::deserialize(&grads).expect("safetensors");
    let names: Vec<(String, usize)> = m
        .params()
        .into_iter()
        .map(|p| (p.name, p.value.len()))
        .collect();
    assert_eq!(st.len(), names.len());
    let mut worst = 0.0f64;
    for (pi, (name, len)) in names.iter().enumerate() {
        let t = st.tensor(name).expect(name);
        let g: Vec<f64> = t
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8")))
            .collect();
        assert_eq!(g.len(), *len);
        for (e, &written) in g.iter().enumerate() {
            let at = |m: &mut SoftMoe<f64>, v: f64| {
                m.params_mut()[pi].value[e] = v;
                inspect::loss_with(m, x.view(), &yv, 0.0, loss)
                    .expect("loss")
                    .total
            };
            let theta = m.params()[pi].value[e];
            let num = (at(&mut m, theta + H) - at(&mut m, theta - H)) / (2.0 * H);
            at(&mut m, theta);
            let rel = (written - num).abs() / written.abs().max(num.abs()).max(1e-4);
            worst = worst.max(rel);
            assert!(
                rel <= MAX_REL_ERR,
                "{name}[{e}]: {written} vs {num}: {rel:e}"
            );
        }
    }
    eprintln!("soft inspect ({loss:?}, normalize {normalize}): worst relative error {worst:e}");
    // a balance coefficient on a soft model is a one-line error, and nothing is written
    let again = dir.path().join("again");
    let o = smoe(&[
        "inspect",
        "--checkpoint",
        dir.path().join("m.safetensors").to_str().expect("p"),
        "--x",
        dir.path().join("x.npy").to_str().expect("p"),
        "--y",
        dir.path().join("y.npy").to_str().expect("p"),
        "--out",
        again.to_str().expect("p"),
        "--alpha",
        "0.1",
        "--loss",
        loss.name(),
    ]);
    let e = assert_one_line_error(&o, "alpha on soft");
    assert!(e.contains("top-k"), "{e}");
    assert!(!again.exists());
}

#[test]
fn soft_inspect_logistic_matches_the_model_and_central_differences() {
    check(false, InspectLoss::Logistic);
}

#[test]
fn soft_inspect_squared_with_normalisation_matches_central_differences() {
    check(true, InspectLoss::Squared);
}

/// The squared loss on a top-k model (k = T and linear experts, so no routing decision or
/// kink moves under a perturbation): the written gradient of every entry matches central
/// differences of the written loss, balance term included.
#[test]
fn squared_loss_on_a_sparse_model_matches_central_differences() {
    let cfg = smoe_model::ModelConfig::Sparse(smoe_model::SparseConfig {
        experts: 3,
        k: 3,
        expert: smoe::ExpertConfig {
            depth: 0,
            ..Default::default()
        },
        ..Default::default()
    });
    let mut m = smoe_model::build_model::<f64>(&cfg, 4, 2).expect("model");
    let mut rng = Gen(5);
    let x = normal(10, 4, &mut rng);
    let y: Vec<f64> = (0..10).map(|r| (r as f64).sin()).collect();
    let alpha = 0.05;
    let insp = inspect::inspect_with(m.as_mut(), x.view(), &y, alpha, InspectLoss::Squared)
        .expect("inspect");
    assert_eq!(insp.loss.loss, InspectLoss::Squared);
    assert!(insp.loss.balance > 0.0);
    for (pi, g) in insp.grads.iter().enumerate() {
        for (e, &written) in g.grad.iter().enumerate() {
            let theta = m.params()[pi].value[e];
            let mut at = |v: f64| {
                m.params_mut()[pi].value[e] = v;
                inspect::loss_with(m.as_ref(), x.view(), &y, alpha, InspectLoss::Squared)
                    .expect("loss")
                    .total
            };
            let num = (at(theta + H) - at(theta - H)) / (2.0 * H);
            at(theta);
            let rel = (written - num).abs() / written.abs().max(num.abs()).max(1e-4);
            assert!(rel <= MAX_REL_ERR, "{}[{e}]: {written} vs {num}", g.name);
        }
    }
    // non-finite targets are refused for the squared loss, any finite value is accepted
    let mut bad = y.clone();
    bad[3] = f64::NAN;
    let e =
        inspect::loss_with(m.as_ref(), x.view(), &bad, 0.0, InspectLoss::Squared).expect_err("nan");
    assert!(e.to_string().contains("y[3]"), "{e}");
}
