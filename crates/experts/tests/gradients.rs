//! Central-difference checks of the MLP expert's backward for every expert shape of the
//! catalogue ([`ExpertConfig::examples`]) plus each activation at depths 0, 1 and 3, and a
//! sigmoid output activation at depths 0 and 2.

use ndarray::Array2;
use smoe_experts::{Expert, ExpertConfig, ExpertError, build_experts};
use smoe_nn::{ActivationKind, check_gradient, grad_vector, param_vector, set_param_vector};

/// Central-difference step: 1e-5 balances round-off (~1e-16 / h) and truncation (~h²) for the
/// small first-layer gradients of a deep sigmoid stack (about 5e-5 at depth 3), where 1e-6 left
/// a round-off of 2e-10 against the 1e-4 floor. Inputs stay ≥ 1e-3 from the ReLU kink.
const STEP: f64 = 1e-5;

/// The catalogue, then the cases this test has always had (width 6, depth 0, 1, 3, every
/// activation).
fn cases() -> Vec<ExpertConfig> {
    let mut v = ExpertConfig::examples();
    for activation in [
        ActivationKind::Relu,
        ActivationKind::Prelu,
        ActivationKind::Sigmoid,
        ActivationKind::None,
    ] {
        for depth in [0, 1, 3] {
            v.push(ExpertConfig {
                depth,
                width: 6,
                activation,
                ..Default::default()
            });
        }
    }
    // a sigmoid on the output, after every hidden activation and at depth 0 (σ(aᵀx + b))
    for activation in [ActivationKind::Relu, ActivationKind::Sigmoid] {
        for depth in [0, 2] {
            v.push(ExpertConfig {
                depth,
                width: 6,
                activation,
                output_activation: ActivationKind::Sigmoid,
                ..Default::default()
            });
        }
    }
    v
}

/// An input whose hidden pre-activations are all ≥ 1e-3 from the ReLU kink, so a step of 1e-6
/// never crosses it: the phase of the fixed input moves until one is.
fn smooth_input(e: &dyn Expert<f64>, n: usize, d: usize) -> Array2<f64> {
    for attempt in 0..100 {
        let x = Array2::from_shape_fn((n, d), |(i, j)| {
            ((i * d + j) as f64 * 0.53 + attempt as f64 * 0.1).sin()
        });
        let mut y = vec![0.0; n];
        let tape = e.forward(x.view(), &mut y).expect("forward");
        let smooth = tape
            .saved
            .iter()
            .step_by(2)
            .all(|a| a.iter().all(|v| v.abs() >= 1e-3));
        if smooth {
            return x;
        }
    }
    panic!("no input away from the kinks");
}

#[test]
fn mlp_expert_matches_finite_differences() {
    let (n, d) = (7, 5);
    let c: Vec<f64> = (0..n).map(|i| (i as f64 * 0.9).cos()).collect();
    for cfg in cases() {
        let mut e = build_experts::<f64>(&cfg, d, 1, 3)
            .expect("expert")
            .remove(0);
        assert_eq!(e.input_dim(), d);
        let x = smooth_input(e.as_ref(), n, d);
        let loss = |e: &dyn Expert<f64>, x: &Array2<f64>| {
            let mut y = vec![0.0; n];
            e.infer(x.view(), &mut y).expect("infer");
            y.iter().zip(&c).map(|(a, b)| a * b).sum::<f64>()
        };
        let mut y = vec![0.0; n];
        let tape = e.forward(x.view(), &mut y).expect("forward");
        let mut dx = Array2::zeros((n, d));
        e.backward(x.view(), &tape, &c, Some(dx.view_mut()))
            .expect("backward");
        let mut params = Vec::new();
        e.params("e", &mut params);
        let (theta, grads) = (param_vector(&params), grad_vector(&params));
        drop(params);
        let mut f = |v: &[f64]| {
            let mut p = Vec::new();
            e.params_mut("e", &mut p);
            set_param_vector(&mut p, v).expect("set");
            drop(p);
            loss(e.as_ref(), &x)
        };
        let r = check_gradient(&mut f, &theta, &grads, None, STEP, 1e-4);
        assert!(r.max_rel_err < 1e-6, "{cfg:?} params: {r:?}");
        let mut p = Vec::new();
        e.params_mut("e", &mut p);
        set_param_vector(&mut p, &theta).expect("restore");
        drop(p);
        let xv: Vec<f64> = x.iter().copied().collect();
        let dxv: Vec<f64> = dx.iter().copied().collect();
        let mut g = |v: &[f64]| {
            let xp = Array2::from_shape_vec((n, d), v.to_vec()).expect("shape");
            loss(e.as_ref(), &xp)
        };
        let r = check_gradient(&mut g, &xv, &dxv, None, STEP, 1e-4);
        assert!(r.max_rel_err < 1e-6, "{cfg:?} input: {r:?}");
    }
}

/// Expert j draws from stream ("expert", j): building more experts leaves the first ones as
/// they were.
#[test]
fn adding_an_expert_never_changes_another() {
    let cfg = ExpertConfig::default();
    let four = build_experts::<f32>(&cfg, 8, 4, 11).expect("4");
    let five = build_experts::<f32>(&cfg, 8, 5, 11).expect("5");
    for (a, b) in four.iter().zip(&five) {
        let (mut pa, mut pb) = (Vec::new(), Vec::new());
        a.params("e", &mut pa);
        b.params("e", &mut pb);
        assert_eq!(param_vector(&pa), param_vector(&pb));
    }
    let other_seed = build_experts::<f32>(&cfg, 8, 1, 12).expect("1");
    let (mut pa, mut pb) = (Vec::new(), Vec::new());
    four[0].params("e", &mut pa);
    other_seed[0].params("e", &mut pb);
    assert_ne!(param_vector(&pa), param_vector(&pb));
}

#[test]
fn bad_shapes_are_errors() {
    let e = build_experts::<f32>(&ExpertConfig::default(), 4, 1, 0)
        .expect("expert")
        .remove(0);
    let mut y = vec![0.0; 3];
    assert!(
        e.forward(Array2::<f32>::zeros((3, 5)).view(), &mut y)
            .is_err()
    );
    assert!(
        e.forward(Array2::<f32>::zeros((2, 4)).view(), &mut y)
            .is_err()
    );
    let zero_width = ExpertConfig {
        width: 0,
        ..Default::default()
    };
    let zero = ExpertError::ZeroDim(smoe_nn::ZeroDim {
        what: "expert hidden width",
    });
    assert_eq!(
        build_experts::<f32>(&zero_width, 4, 1, 0).unwrap_err(),
        zero
    );
    assert_eq!(zero_width.validate(), Err(zero));
    // width 0 is fine for a linear expert (no hidden layer)
    assert!(
        build_experts::<f32>(
            &ExpertConfig {
                depth: 0,
                ..zero_width
            },
            4,
            1,
            0
        )
        .is_ok()
    );
    for cfg in ExpertConfig::examples() {
        assert_eq!(cfg.validate(), Ok(()), "{cfg:?}");
        assert!(
            build_experts::<f32>(&cfg, 4, 0, 0).is_err(),
            "{cfg:?}: 0 experts"
        );
    }
    assert!(build_experts::<f32>(&ExpertConfig::default(), 0, 1, 0).is_err());
    let prelu_out = ExpertConfig {
        output_activation: ActivationKind::Prelu,
        ..Default::default()
    };
    let e = prelu_out.validate().unwrap_err();
    assert!(e.to_string().contains("output_activation"), "{e}");
    assert!(build_experts::<f32>(&prelu_out, 4, 1, 0).is_err());
}

/// Depth 0 with a sigmoid output is exactly `σ(aᵀx + b)` of its one layer; without it the
/// same weights give `aᵀx + b`.
#[test]
fn depth_zero_sigmoid_is_sigma_of_affine() {
    let sig = ExpertConfig {
        depth: 0,
        output_activation: ActivationKind::Sigmoid,
        ..Default::default()
    };
    let lin = ExpertConfig {
        depth: 0,
        ..Default::default()
    };
    let es = build_experts::<f64>(&sig, 3, 1, 5).expect("sig").remove(0);
    let el = build_experts::<f64>(&lin, 3, 1, 5).expect("lin").remove(0);
    let mut p = Vec::new();
    es.params("e", &mut p);
    assert_eq!(p.len(), 2, "weight and bias only");
    let (a, b) = (p[0].value.to_vec(), p[1].value[0]);
    let x = Array2::from_shape_fn((4, 3), |(i, j)| (i as f64 - 1.5) * 0.7 + j as f64 * 0.3);
    let (mut ys, mut yl) = (vec![0.0; 4], vec![0.0; 4]);
    es.infer(x.view(), &mut ys).expect("infer");
    el.infer(x.view(), &mut yl).expect("infer");
    for (i, row) in x.rows().into_iter().enumerate() {
        let z: f64 = b + row.iter().zip(&a).map(|(u, v)| u * v).sum::<f64>();
        assert!((yl[i] - z).abs() < 1e-14);
        assert!((ys[i] - 1.0 / (1.0 + (-z).exp())).abs() < 1e-15);
    }
}
