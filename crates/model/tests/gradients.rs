//! f64 central-difference gradient checks of every parameter tensor and of the input, for
//! every router × gate × expert activation, at k ∈ {1, 2, T}.
//!
//! Relative error is `|a − n| / max(|a|, |n|, 1e-4)` (see `smoe_nn::relative_error`); inputs
//! are drawn away from top-k ties (margin ≥ 0.05 between the k-th and (k+1)-th score).

mod common;

use common::{min_topk_margin, normal, rng, uniform};
use ndarray::{Array1, Array2, ArrayView2};
use smoe_experts::ExpertConfig;
use smoe_gating::{GateConfig, NoisyTopK};
use smoe_model::{MoeConfig, SparseMoe};
use smoe_nn::{ActivationKind, check_gradient, param_vector, set_param_vector};
use smoe_router::RouterConfig;

const T: usize = 4;
const D: usize = 3;
const B: usize = 6;
const H: f64 = 1e-5;
const FLOOR: f64 = 1e-4;
const TOL: f64 = 1e-6;

fn loss(
    m: &mut SparseMoe<f64>,
    x: ArrayView2<'_, f64>,
    noise: Option<&Array2<f64>>,
    c: &Array1<f64>,
) -> f64 {
    let out = m
        .forward_with_noise(x, noise.map(|n| n.view()))
        .expect("forward");
    out.f.dot(c)
}

/// Builds the model; for the noisy gate, one with a random noise weight so its gradient is
/// exercised, and returns the noise to replay.
fn build(cfg: &MoeConfig, seed: &str) -> (SparseMoe<f64>, Option<Array2<f64>>) {
    let mut model = SparseMoe::<f64>::new(cfg).expect("model");
    if cfg.gate != GateConfig::NoisyTopk {
        return (model, None);
    }
    let mut r = rng(seed);
    let mut gate = NoisyTopK::<f64>::new(cfg.k, cfg.experts, cfg.d).expect("gate");
    gate.w_noise = normal(cfg.experts, cfg.d, &mut r) * 0.5;
    let m = SparseMoe::from_parts(
        cfg.clone(),
        model.router.clone(),
        Box::new(gate),
        model.experts.clone(),
    )
    .expect("parts");
    model = m;
    (model, Some(normal(B, cfg.experts, &mut r)))
}

/// Routing scores the gate ranks (H = z + ε softplus(x W_noiseᵀ) for the noisy gate).
fn scores(model: &SparseMoe<f64>, x: &Array2<f64>, noise: Option<&Array2<f64>>) -> Array2<f64> {
    let mut z = model.router.forward(x.view()).expect("router");
    if let Some(eps) = noise {
        let p = model.params();
        let w = p
            .iter()
            .find(|p| p.name == "gate.noise.weight")
            .expect("noise weight");
        let w = ArrayView2::from_shape((T, D), w.value).expect("shape");
        let u = x.dot(&w.t());
        z = z + eps
            * &u.mapv(|u| {
                if u > 0.0 {
                    u + (-u).exp().ln_1p()
                } else {
                    u.exp().ln_1p()
                }
            });
    }
    z
}

/// The row is ≥ 0.05 from a top-k tie and every hidden pre-activation (router and all experts)
/// is ≥ 1e-3 from the ReLU kink, so a step of 1e-5 never crosses either.
fn smooth_row(
    model: &SparseMoe<f64>,
    x: &Array2<f64>,
    noise: Option<Array2<f64>>,
    k: usize,
) -> bool {
    if min_topk_margin(&scores(model, x, noise.as_ref()), k) < 0.05 {
        return false;
    }
    let p = model.params();
    if let (Some(w), Some(b)) = (
        p.iter().find(|p| p.name == "router.layers.0.weight"),
        p.iter().find(|p| p.name == "router.layers.0.bias"),
    ) {
        let w = ArrayView2::from_shape((b.value.len(), D), w.value).expect("shape");
        let a = x.dot(&w.t()) + ndarray::ArrayView1::from(b.value);
        if a.iter().any(|v| v.abs() < 1e-3) {
            return false;
        }
    }
    model.experts.iter().all(|e| {
        let mut out = vec![0.0; x.nrows()];
        let tape = e.forward(x.view(), &mut out).expect("expert");
        tape.saved
            .iter()
            .step_by(2)
            .all(|a| a.iter().all(|v| v.abs() >= 1e-3))
    })
}

fn check(cfg: &MoeConfig, tag: &str) -> f64 {
    let (mut model, noise) = build(cfg, tag);
    let mut r = rng(tag);
    // inputs away from top-k ties and from ReLU kinks, row by row
    let mut x = normal(B, D, &mut r);
    for row in 0..B {
        let mut tries = 0;
        while !smooth_row(
            &model,
            &x.row(row).insert_axis(ndarray::Axis(0)).to_owned(),
            noise
                .as_ref()
                .map(|n| n.row(row).insert_axis(ndarray::Axis(0)).to_owned()),
            cfg.k,
        ) {
            x.row_mut(row).assign(&normal(1, D, &mut r).row(0));
            tries += 1;
            assert!(tries < 1000, "{tag}: no smooth input found");
        }
    }
    let c = uniform(B, &mut r);
    model.zero_grad();
    model
        .forward_with_noise(x.view(), noise.as_ref().map(|n| n.view()))
        .expect("forward");
    let dx = model.backward(c.view()).expect("backward");
    let mut worst: f64 = 0.0;
    // every parameter tensor, entry by entry
    let params = model.params();
    let theta = param_vector(&params);
    let names: Vec<(String, usize)> = params
        .iter()
        .map(|p| (p.name.clone(), p.value.len()))
        .collect();
    let grads = smoe_nn::grad_vector(&params);
    let mut at = 0;
    for (name, len) in names {
        let idx: Vec<usize> = (at..at + len).collect();
        let mut f = |v: &[f64]| {
            set_param_vector(&mut model.params_mut(), v).expect("set");
            loss(&mut model, x.view(), noise.as_ref(), &c)
        };
        let r = check_gradient(&mut f, &theta, &grads, Some(&idx), H, FLOOR);
        assert!(r.max_rel_err <= TOL, "{tag}: tensor {name}: {r:?}");
        worst = worst.max(r.max_rel_err);
        at += len;
    }
    set_param_vector(&mut model.params_mut(), &theta).expect("restore");
    // the input
    let xv: Vec<f64> = x.iter().copied().collect();
    let dxv: Vec<f64> = dx.iter().copied().collect();
    let mut f = |v: &[f64]| {
        let xp = Array2::from_shape_vec((B, D), v.to_vec()).expect("shape");
        loss(&mut model, xp.view(), noise.as_ref(), &c)
    };
    let r = check_gradient(&mut f, &xv, &dxv, None, H, FLOOR);
    assert!(r.max_rel_err <= TOL, "{tag}: input: {r:?}");
    worst.max(r.max_rel_err)
}

#[test]
fn every_router_gate_activation_and_k() {
    let routers = [RouterConfig::Linear, RouterConfig::Mlp { hidden: 5 }];
    let gates = [
        GateConfig::TopkSoftmax,
        GateConfig::SoftmaxTopk,
        GateConfig::NoisyTopk,
        GateConfig::DenseSoftmax,
    ];
    let acts = [
        ActivationKind::Relu,
        ActivationKind::Prelu,
        ActivationKind::None,
    ];
    let mut cases = 0;
    let mut worst: f64 = 0.0;
    for router in routers {
        for gate in gates {
            for act in acts {
                for k in [1, 2, T] {
                    if gate == GateConfig::DenseSoftmax && k != T {
                        continue;
                    }
                    let cfg = MoeConfig {
                        d: D,
                        experts: T,
                        k,
                        router,
                        gate,
                        expert: ExpertConfig {
                            depth: 2,
                            width: 4,
                            activation: act,
                            ..Default::default()
                        },
                        seed: cases as u64,
                        ..Default::default()
                    };
                    let tag = format!("{router:?}/{gate:?}/{act:?}/k={k}");
                    worst = worst.max(check(&cfg, &tag));
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 2 * (3 * 3 + 1) * 3);
    eprintln!("{cases} combinations, worst relative error {worst:.2e}");
}

#[test]
fn linear_experts_depth_zero() {
    for k in [1, 2, T] {
        let cfg = MoeConfig {
            d: D,
            experts: T,
            k,
            gate: GateConfig::SoftmaxTopk,
            expert: ExpertConfig {
                depth: 0,
                ..Default::default()
            },
            ..Default::default()
        };
        check(&cfg, &format!("depth0/k={k}"));
    }
}

/// The k = 1 pitfall (davidmrau/mixture-of-experts#27): with renormalised top-k the router
/// gets exactly zero gradient; with softmax-then-top-k it does not.
#[test]
fn router_gradient_at_k1() {
    for (gate, zero) in [
        (GateConfig::TopkSoftmax, true),
        (GateConfig::SoftmaxTopk, false),
    ] {
        let cfg = MoeConfig {
            d: D,
            experts: T,
            k: 1,
            gate,
            ..Default::default()
        };
        let mut model = SparseMoe::<f64>::new(&cfg).expect("model");
        let mut r = rng("k1");
        let x = normal(B, D, &mut r);
        model.forward(x.view(), true).expect("forward");
        model.backward(uniform(B, &mut r).view()).expect("backward");
        let p = model.params();
        let g = p
            .iter()
            .find(|p| p.name == "router.weight")
            .expect("router");
        let norm: f64 = g.grad.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert_eq!(norm == 0.0, zero, "{gate:?}: router gradient norm {norm}");
    }
}
