//! f64 central-difference gradient checks of every parameter tensor and of the input, for
//! every model of the catalogue ([`ModelConfig::examples`]) and for every router × gate ×
//! expert shape of the component catalogues at k ∈ {1, 2, T} (T only for gates that need it),
//! so a new router, gate, expert or model is checked without editing this file.
//!
//! Relative error is `|a − n| / max(|a|, |n|, 1e-4)` (see `smoe_nn::relative_error`); inputs
//! are redrawn row by row until they are ≥ 0.05 (in logit space) from a top-k tie and every
//! hidden pre-activation is ≥ 1e-3 from the ReLU kink. Gate parameters (the noisy gate's
//! `W_noise`, zero at initialisation) are redrawn at random and noise gates replay fixed noise.

use crate::common;
use common::{describe, describe_model, noise_for, normal, randomize_gate_params, rng, uniform};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use smoe_experts::ExpertConfig;
use smoe_gating::GateConfig;
use smoe_model::{AuxGrad, Model, ModelConfig, SoftConfig, SparseConfig, SparseMoe, build_model};
use smoe_nn::{check_gradient, grad_vector, param_vector, set_param_vector};
use smoe_router::RouterConfig;

const T: usize = 4;
const D: usize = 3;
const B: usize = 6;
const H: f64 = 1e-5;
const FLOOR: f64 = 1e-4;
const TOL: f64 = 1e-6;
/// Minimum distance of an input from a top-k tie, in logit space.
const TIE_MARGIN: f64 = 0.05;
/// Minimum distance of a hidden pre-activation from the ReLU kink.
const KINK_MARGIN: f64 = 1e-3;

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

/// Builds the model with random gate parameters, and the noise to replay for a gate that
/// uses noise.
fn build(cfg: &SparseConfig, seed: u64, tag: &str) -> (SparseMoe<f64>, Option<Array2<f64>>) {
    let mut model = SparseMoe::<f64>::new(cfg, D, seed).expect("model");
    let mut r = rng(&format!("{tag}/gate"));
    randomize_gate_params(&mut model, 0.5, &mut r);
    let noise = noise_for(&model, B, &mut r);
    (model, noise)
}

/// The selected set of a one-row routing, sorted.
fn selected(idx: ndarray::ArrayView1<'_, usize>) -> Vec<usize> {
    let mut v = idx.to_vec();
    v.sort_unstable();
    v
}

/// The one-row input `x` is ≥ [`TIE_MARGIN`] from a top-k tie: for every selected expert s
/// and every other expert u, moving the logits by `z_s −= m/2, z_u += m/2` leaves the selected
/// set unchanged. For a gate that ranks `z` (or `z` plus a term that does not depend on z, as
/// the noisy gate) this is exactly "the k-th and (k+1)-th scores differ by ≥ m", and it needs
/// no knowledge of how the gate scores.
fn away_from_ties(model: &SparseMoe<f64>, x: &Array2<f64>, noise: Option<&Array2<f64>>) -> bool {
    let z = model.router.forward(x.view()).expect("router");
    let route = |z: &Array2<f64>| {
        model
            .gate
            .route(x.view(), z.view(), noise.map(|n| n.view()))
            .expect("route")
    };
    let base = selected(route(&z).idx.row(0));
    let t = z.ncols();
    for &s in &base {
        for u in (0..t).filter(|u| !base.contains(u)) {
            let mut zp = z.clone();
            zp[[0, s]] -= TIE_MARGIN / 2.0;
            zp[[0, u]] += TIE_MARGIN / 2.0;
            if selected(route(&zp).idx.row(0)) != base {
                return false;
            }
        }
    }
    true
}

/// For a gate that selects groups by its own outer logits `v = A x + a₀` (hierarchical
/// softmax with `top_groups < groups`), the `kg`-th and `(kg+1)`-th largest entries of `v` of
/// the one-row input differ by ≥ [`TIE_MARGIN`], so no step of [`H`] changes the groups (the
/// experts within a group are ranked by z, which [`away_from_ties`] covers).
fn away_from_group_ties(model: &SparseMoe<f64>, x: &Array2<f64>) -> bool {
    let GateConfig::HierarchicalSoftmax { groups, top_groups } = model.config().gate else {
        return true;
    };
    let kg = top_groups.unwrap_or(groups);
    if kg >= groups {
        return true;
    }
    let p = model.params();
    let (Some(w), Some(b)) = (
        p.iter().find(|p| p.name == "gate.outer.weight"),
        p.iter().find(|p| p.name == "gate.outer.bias"),
    ) else {
        return true;
    };
    let w = ArrayView2::from_shape((groups, D), w.value).expect("shape");
    let v = x.dot(&w.t()) + ndarray::ArrayView1::from(b.value);
    let mut v: Vec<f64> = v.row(0).to_vec();
    v.sort_by(|a, b| b.total_cmp(a));
    v[kg - 1] - v[kg] >= TIE_MARGIN
}

/// Every hidden pre-activation (MLP router and all experts) of the input is ≥ [`KINK_MARGIN`]
/// from the kink of ReLU / PReLU, so a step of [`H`] never crosses it.
fn away_from_kinks(model: &SparseMoe<f64>, x: &Array2<f64>) -> bool {
    let p = model.params();
    if let (Some(w), Some(b)) = (
        p.iter().find(|p| p.name == "router.layers.0.weight"),
        p.iter().find(|p| p.name == "router.layers.0.bias"),
    ) {
        let w = ArrayView2::from_shape((b.value.len(), D), w.value).expect("shape");
        let a = x.dot(&w.t()) + ndarray::ArrayView1::from(b.value);
        if a.iter().any(|v| v.abs() < KINK_MARGIN) {
            return false;
        }
    }
    model.experts.iter().all(|e| {
        let mut out = vec![0.0; x.nrows()];
        let tape = e.forward(x.view(), &mut out).expect("expert");
        tape.saved
            .iter()
            .step_by(2)
            .all(|a| a.iter().all(|v| v.abs() >= KINK_MARGIN))
    })
}

/// Checks every parameter tensor and the input; returns the worst relative error.
fn check(cfg: &SparseConfig, seed: u64, tag: &str) -> f64 {
    let (mut model, noise) = build(cfg, seed, tag);
    let mut r = rng(tag);
    // inputs away from top-k ties and from ReLU kinks, row by row
    let mut x = normal(B, D, &mut r);
    for row in 0..B {
        let mut tries = 0;
        loop {
            let xr = x.row(row).insert_axis(Axis(0)).to_owned();
            let nr = noise
                .as_ref()
                .map(|n| n.row(row).insert_axis(Axis(0)).to_owned());
            if away_from_ties(&model, &xr, nr.as_ref())
                && away_from_group_ties(&model, &xr)
                && away_from_kinks(&model, &xr)
            {
                break;
            }
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
    assert!(
        params.iter().any(|p| p.name.starts_with("router.")),
        "{tag}: no router parameters"
    );
    let theta = param_vector(&params);
    let names: Vec<(String, usize)> = params
        .iter()
        .map(|p| (p.name.clone(), p.value.len()))
        .collect();
    let grads = grad_vector(&params);
    drop(params);
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

/// The k a gate is checked at with T experts: 1, 2 and T, or only T if the gate needs it,
/// and only those its layout supports (a hierarchical gate splits k over its groups).
fn ks(gate: &GateConfig, t: usize) -> Vec<usize> {
    if gate.properties().needs_k_equal_t {
        vec![t]
    } else {
        let mut v = vec![1, 2, t];
        v.retain(|&k| k <= t && gate.validate(k, t).is_ok());
        v.dedup();
        v
    }
}

#[test]
fn every_catalogue_model() {
    let mut worst: f64 = 0.0;
    let examples = ModelConfig::examples();
    assert!(!examples.is_empty());
    let mut through_trait = 0;
    for (i, cfg) in examples.iter().enumerate() {
        match cfg {
            ModelConfig::Sparse(c) => {
                let tag = format!("examples[{i}] {}", describe(c));
                worst = worst.max(check(c, i as u64, &tag));
            }
            other => {
                // every other kind through the Model trait, at two input widths
                for d in [3, 6] {
                    let tag = format!("examples[{i}] d = {d} {}", describe_model(other));
                    worst = worst.max(check_model(other, d, i as u64, &tag));
                    through_trait += 1;
                }
            }
        }
    }
    assert_eq!(through_trait, 2 * SoftConfig::examples().len());
    eprintln!(
        "{} catalogue models, worst relative error {worst:.2e}",
        examples.len()
    );
}

/// Every hidden pre-activation of a soft model's experts on the slot inputs of the one-row
/// input `x` is ≥ [`KINK_MARGIN`] from the ReLU / PReLU kink (other kinds: true).
fn smooth_through_trait(model: &dyn Model<f64>, x: &Array2<f64>) -> bool {
    let Some(soft) = model.as_soft() else {
        return true;
    };
    let out = model.infer(x.view()).expect("infer");
    let routing = out.soft().expect("soft routing");
    let p = routing.slots;
    let slots = routing.slot_inputs.index_axis(Axis(0), 0);
    soft.experts.iter().enumerate().all(|(j, e)| {
        let xs = slots.slice(ndarray::s![j * p..(j + 1) * p, ..]);
        let (_, tape) = e.forward(xs, true).expect("expert");
        tape.pre
            .iter()
            .all(|a| a.iter().all(|v| v.abs() >= KINK_MARGIN))
    })
}

/// Gradient check of every parameter tensor and of the input through the [`Model`] trait,
/// for inputs of width `d`: loss `c · f`; returns the worst relative error.
fn check_model(cfg: &ModelConfig, d: usize, seed: u64, tag: &str) -> f64 {
    let mut model = build_model::<f64>(cfg, d, seed).expect("model");
    let mut r = rng(tag);
    let mut x = normal(B, d, &mut r);
    for row in 0..B {
        let mut tries = 0;
        while !smooth_through_trait(model.as_ref(), &x.row(row).insert_axis(Axis(0)).to_owned()) {
            x.row_mut(row).assign(&normal(1, d, &mut r).row(0));
            tries += 1;
            assert!(tries < 1000, "{tag}: no smooth input found");
        }
    }
    let c = uniform(B, &mut r);
    let loss = |m: &mut dyn Model<f64>, x: ArrayView2<'_, f64>| -> f64 {
        m.forward(x, false).expect("forward").f.dot(&c)
    };
    model.zero_grad();
    model.forward(x.view(), false).expect("forward");
    let dx = model
        .backward(c.view(), AuxGrad::default())
        .expect("backward");
    let params = model.params();
    let theta = param_vector(&params);
    let grads = grad_vector(&params);
    let names: Vec<(String, usize)> = params
        .iter()
        .map(|p| (p.name.clone(), p.value.len()))
        .collect();
    drop(params);
    let mut worst: f64 = 0.0;
    let mut at = 0;
    for (name, len) in names {
        let idx: Vec<usize> = (at..at + len).collect();
        let mut f = |v: &[f64]| {
            set_param_vector(&mut model.params_mut(), v).expect("set");
            loss(model.as_mut(), x.view())
        };
        let r = check_gradient(&mut f, &theta, &grads, Some(&idx), H, FLOOR);
        assert!(r.max_rel_err <= TOL, "{tag}: tensor {name}: {r:?}");
        worst = worst.max(r.max_rel_err);
        at += len;
    }
    set_param_vector(&mut model.params_mut(), &theta).expect("restore");
    let xv: Vec<f64> = x.iter().copied().collect();
    let dxv: Vec<f64> = dx.iter().copied().collect();
    let mut f = |v: &[f64]| {
        let xp = Array2::from_shape_vec((B, d), v.to_vec()).expect("shape");
        loss(model.as_mut(), xp.view())
    };
    let r = check_gradient(&mut f, &xv, &dxv, None, H, FLOOR);
    assert!(r.max_rel_err <= TOL, "{tag}: input: {r:?}");
    worst.max(r.max_rel_err)
}

/// Every expert shape of the catalogue, and every activation of the catalogue at depth 2 and
/// width 4 (the cases this test has always had), under every router × gate × k.
fn expert_shapes() -> Vec<ExpertConfig> {
    let mut shapes = ExpertConfig::examples();
    let mut acts = Vec::new();
    for e in ExpertConfig::examples() {
        if !acts.contains(&e.activation) {
            acts.push(e.activation);
        }
    }
    for activation in acts {
        shapes.push(ExpertConfig {
            depth: 2,
            width: 4,
            activation,
            ..Default::default()
        });
    }
    shapes
}

#[test]
fn every_router_gate_expert_and_k() {
    let mut cases = 0;
    let mut worst: f64 = 0.0;
    let mut gate_ks = 0;
    for gate in GateConfig::examples() {
        gate_ks += ks(&gate, T).len();
    }
    let shapes = expert_shapes();
    for router in RouterConfig::examples() {
        for gate in GateConfig::examples() {
            for expert in &shapes {
                for k in ks(&gate, T) {
                    let cfg = SparseConfig {
                        experts: T,
                        k,
                        router,
                        gate: gate.clone(),
                        expert: *expert,
                        capacity_factor: None,
                    };
                    let tag = describe(&cfg);
                    worst = worst.max(check(&cfg, cases as u64, &tag));
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(
        cases,
        RouterConfig::examples().len() * gate_ks * shapes.len()
    );
    // at least the 2 routers × (3 top-k gates × 3 k + dense) × 3 activations of before
    assert!(cases >= 60, "{cases}");
    eprintln!("{cases} router × gate × expert × k combinations, worst relative error {worst:.2e}");
}

/// The k = 1 pitfall (davidmrau/mixture-of-experts#27): with renormalised top-k the router
/// gets exactly zero gradient; with softmax-then-top-k it does not. Every gate of the
/// catalogue that runs at k = 1 < T must behave as its `router_learns_at_k1` declares.
#[test]
fn router_gradient_at_k1_is_as_declared() {
    let mut checked = 0;
    for router in RouterConfig::examples() {
        for gate in GateConfig::examples() {
            let p = gate.properties();
            if p.needs_k_equal_t || gate.validate(1, T).is_err() {
                // k = 1 only at T = 1, where any gate gives weight 1; or a layout without k = 1
                continue;
            }
            let cfg = SparseConfig {
                experts: T,
                k: 1,
                router,
                gate: gate.clone(),
                expert: ExpertConfig::default(),
                capacity_factor: None,
            };
            for noisy in [true, false] {
                let mut model = SparseMoe::<f64>::new(&cfg, D, 0).expect("model");
                let mut r = rng("k1");
                randomize_gate_params(&mut model, 0.5, &mut r);
                let x = normal(B, D, &mut r);
                model.forward(x.view(), noisy).expect("forward");
                model.backward(uniform(B, &mut r).view()).expect("backward");
                let params = model.params();
                let router_grads: Vec<f64> = params
                    .iter()
                    .filter(|p| p.name.starts_with("router."))
                    .flat_map(|p| p.grad.iter().copied())
                    .collect();
                assert!(!router_grads.is_empty());
                let norm: f64 = router_grads.iter().map(|v| v * v).sum::<f64>().sqrt();
                assert_eq!(
                    norm != 0.0,
                    p.router_learns_at_k1,
                    "{} (noisy {noisy}): router gradient norm {norm}, declared \
                     router_learns_at_k1 = {}",
                    describe(&cfg),
                    p.router_learns_at_k1
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "{checked}");
}

/// `backward_params` (training's backward, without `dL/dx`) leaves the same gradient bits as
/// `backward`, with auxiliary gradients on the weights and logits, for every catalogue model.
#[test]
fn backward_params_gives_the_gradients_of_backward() {
    for cfg in ModelConfig::examples() {
        let tag = describe_model(&cfg);
        let mut r = rng(&format!("{tag}/params-only"));
        let x = normal(B, D, &mut r);
        let c = uniform(B, &mut r);
        let mut grads = Vec::new();
        for params_only in [false, true] {
            let mut m = build_model::<f64>(&cfg, D, 5).expect("model");
            m.zero_grad();
            let out = m.forward(x.view(), false).expect("forward");
            // auxiliary gradients on the routing of top-k models (soft MoE takes none)
            let dz = out.top_k().map(|r| r.logits.mapv(|v| 0.1 * v));
            let dw = out.top_k().map(|r| r.routing.weight.mapv(|v| 0.3 - v));
            let aux = AuxGrad {
                dweight: dw.as_ref().map(|g| g.view()),
                dlogits: dz.as_ref().map(|g| g.view()),
            };
            if params_only {
                m.backward_params(c.view(), aux).expect("backward_params");
            } else {
                m.backward(c.view(), aux).expect("backward");
            }
            grads.push(grad_vector(&m.params()));
        }
        assert!(grads[0].iter().any(|g| *g != 0.0), "{tag}: no gradient");
        let same = grads[0]
            .iter()
            .zip(&grads[1])
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{tag}: backward_params differs from backward");
    }
}
