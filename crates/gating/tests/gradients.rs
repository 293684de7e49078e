//! f64 central differences of every gate of the catalogue (logits, input, own parameters),
//! plus the phases a fresh catalogue gate does not start in: the dense-to-sparse schedule after
//! its switch, and a learned temperature in the sparse phase. (The model's shared gradient test
//! checks the same gates inside a whole model.)

use ndarray::Array2;
use smoe_gating::{DenseToSparse, Gate, GateActivation, GateConfig, Temperature, build_gate};
use smoe_nn::{Progress, check_gradient, grad_vector, param_vector, set_param_vector};

const B: usize = 3;
const T: usize = 4;
const D: usize = 2;

/// Logits whose entries in a row are ≥ 0.3 apart (no top-k tie within a step).
fn logits() -> Array2<f64> {
    let perm = [[2, 0, 3, 1], [1, 3, 0, 2], [3, 2, 1, 0]];
    Array2::from_shape_fn((B, T), |(r, j)| {
        0.3 * perm[r][j] as f64 - 0.4 + 0.05 * r as f64
    })
}

fn input() -> Array2<f64> {
    Array2::from_shape_fn((B, D), |(r, j)| ((r * D + j) as f64 * 1.7).sin())
}

fn coef(k: usize) -> Array2<f64> {
    Array2::from_shape_fn((B, k), |(r, j)| ((r * k + j) as f64 * 0.9).cos())
}

/// Checks `L = Σ c ⊙ w` against central differences in z, x and the gate's parameters.
fn check(gate: &mut dyn Gate<f64>, tag: &str) {
    let (z, x) = (logits(), input());
    let k = gate.k();
    let c = coef(k);
    // seed the parameters away from zero so every term is exercised
    let mut p = Vec::new();
    gate.params_mut("gate", &mut p);
    for (i, q) in p.iter_mut().enumerate() {
        for (j, v) in q.value.iter_mut().enumerate() {
            *v = 0.4 * ((i * 7 + j) as f64 * 1.3).sin() + 0.1;
        }
    }
    drop(p);
    let r = gate.route(x.view(), z.view(), None).expect("route");
    let g = gate
        .backward(x.view(), z.view(), &r, c.view())
        .expect("backward");
    let loss = |gate: &dyn Gate<f64>, x: &Array2<f64>, z: &Array2<f64>| {
        (gate.route(x.view(), z.view(), None).expect("route").weight * &c).sum()
    };
    let zv: Vec<f64> = z.iter().copied().collect();
    let dz: Vec<f64> = g.dlogits.iter().copied().collect();
    let res = check_gradient(
        &mut |v: &[f64]| {
            loss(
                gate,
                &x,
                &Array2::from_shape_vec((B, T), v.to_vec()).expect("z"),
            )
        },
        &zv,
        &dz,
        None,
        1e-6,
        1e-4,
    );
    assert!(res.max_rel_err < 1e-6, "{tag} dz: {res:?}");
    let xv: Vec<f64> = x.iter().copied().collect();
    let dx: Vec<f64> =
        g.dx.map_or(vec![0.0; B * D], |d| d.iter().copied().collect());
    let res = check_gradient(
        &mut |v: &[f64]| {
            loss(
                gate,
                &Array2::from_shape_vec((B, D), v.to_vec()).expect("x"),
                &z,
            )
        },
        &xv,
        &dx,
        None,
        1e-6,
        1e-4,
    );
    assert!(res.max_rel_err < 1e-6, "{tag} dx: {res:?}");
    let mut p = Vec::new();
    gate.params("gate", &mut p);
    let theta = param_vector(&p);
    let grads = grad_vector(&p);
    drop(p);
    if theta.is_empty() {
        return;
    }
    let mut f = |v: &[f64]| {
        let mut p = Vec::new();
        gate.params_mut("gate", &mut p);
        set_param_vector(&mut p, v).expect("set");
        drop(p);
        loss(gate, &x, &z)
    };
    let res = check_gradient(&mut f, &theta, &grads, None, 1e-6, 1e-4);
    assert!(res.max_rel_err < 1e-6, "{tag} params: {res:?}");
}

#[test]
fn every_catalogue_gate_matches_central_differences() {
    let mut checked = 0;
    for cfg in GateConfig::examples() {
        for k in 1..=T {
            if cfg.validate(k, T).is_err() {
                continue;
            }
            let mut gate = build_gate::<f64>(&cfg, k, T, D).expect("gate");
            if cfg.properties().uses_noise {
                continue; // noise replay is the model test's business
            }
            check(gate.as_mut(), &format!("{cfg:?} k = {k}"));
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked}");
}

#[test]
fn sparse_phases_match_central_differences() {
    let sched = GateConfig::examples()
        .into_iter()
        .find(|c| {
            matches!(
                c,
                GateConfig::DenseToSparse {
                    tau_end: Some(_),
                    ..
                }
            )
        })
        .expect("a scheduled example");
    for k in [1, 2, 3] {
        let mut gate = build_gate::<f64>(&sched, k, T, D).expect("gate");
        // τ = 0.01^0.6 ≈ 0.063 < topk_below = 0.1
        gate.on_progress(&Progress::at(6, 10, 1));
        check(gate.as_mut(), &format!("scheduled, sparse phase, k = {k}"));
        for act in [
            GateActivation::None,
            GateActivation::Tanh,
            GateActivation::Sigmoid,
        ] {
            // learned τ = e^θ with θ set by `check` to ~0.1..0.5: below topk_below = 3
            let mut gate = DenseToSparse::<f64>::new(
                k,
                T,
                Temperature::Learnable { init: 0.7 },
                act,
                Some(3.0),
            )
            .expect("gate");
            check(
                &mut gate,
                &format!("learned τ, sparse phase, {act:?}, k = {k}"),
            );
            assert!(gate.is_sparse());
        }
    }
}
