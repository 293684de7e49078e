//! Central-difference checks of each router's backward: weights, biases and input.

use ndarray::Array2;
use smoe_nn::{check_gradient, grad_vector, param_vector, set_param_vector};
use smoe_router::{RouterConfig, build_router};

fn input(b: usize, d: usize) -> Array2<f64> {
    Array2::from_shape_fn((b, d), |(i, j)| ((i * d + j) as f64 * 0.71).sin() + 0.1)
}

/// L = Σ c ⊙ z with fixed c.
fn weights(b: usize, t: usize) -> Array2<f64> {
    Array2::from_shape_fn((b, t), |(i, j)| ((i * t + j) as f64 * 0.37).cos())
}

#[test]
fn linear_and_mlp_routers_match_finite_differences() {
    for cfg in [RouterConfig::Linear, RouterConfig::Mlp { hidden: 6 }] {
        let (b, d, t) = (5, 4, 3);
        let mut r = build_router::<f64>(&cfg, d, t, 9).expect("router");
        let x = input(b, d);
        let c = weights(b, t);
        let dx = r.backward(x.view(), c.view()).expect("backward");
        let mut params = Vec::new();
        r.params("router", &mut params);
        let theta = param_vector(&params);
        let grads = grad_vector(&params);
        drop(params);
        let mut f = |v: &[f64]| {
            let mut p = Vec::new();
            r.params_mut("router", &mut p);
            set_param_vector(&mut p, v).expect("set");
            drop(p);
            (r.forward(x.view()).expect("forward") * &c).sum()
        };
        let res = check_gradient(&mut f, &theta, &grads, None, 1e-5, 1e-4);
        assert!(res.max_rel_err < 1e-6, "{cfg:?} params: {res:?}");
        let mut p = Vec::new();
        r.params_mut("router", &mut p);
        set_param_vector(&mut p, &theta).expect("restore");
        drop(p);
        let xv: Vec<f64> = x.iter().copied().collect();
        let dxv: Vec<f64> = dx.iter().copied().collect();
        let mut g = |v: &[f64]| {
            let xp = Array2::from_shape_vec((b, d), v.to_vec()).expect("shape");
            (r.forward(xp.view()).expect("forward") * &c).sum()
        };
        let res = check_gradient(&mut g, &xv, &dxv, None, 1e-5, 1e-4);
        assert!(res.max_rel_err < 1e-6, "{cfg:?} input: {res:?}");
    }
}

#[test]
fn wrong_width_and_zero_sizes_are_errors() {
    let r = build_router::<f32>(&RouterConfig::Linear, 4, 3, 0).expect("router");
    assert!(r.forward(Array2::<f32>::zeros((2, 5)).view()).is_err());
    assert!(build_router::<f32>(&RouterConfig::Linear, 0, 3, 0).is_err());
    assert!(build_router::<f32>(&RouterConfig::Mlp { hidden: 0 }, 4, 3, 0).is_err());
}
