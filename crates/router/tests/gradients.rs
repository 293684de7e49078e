//! Central-difference checks of each router's backward: weights, biases and input, for every
//! router of the catalogue ([`RouterConfig::examples`]) plus an MLP router of another width.

use ndarray::Array2;
use smoe_nn::{check_gradient, grad_vector, param_vector, set_param_vector};
use smoe_router::{Router, RouterConfig, RouterError, build_router};

fn input(b: usize, d: usize) -> Array2<f64> {
    Array2::from_shape_fn((b, d), |(i, j)| ((i * d + j) as f64 * 0.71).sin() + 0.1)
}

/// L = Σ c ⊙ z with fixed c.
fn weights(b: usize, t: usize) -> Array2<f64> {
    Array2::from_shape_fn((b, t), |(i, j)| ((i * t + j) as f64 * 0.37).cos())
}

/// Every router of the catalogue, then the extra cases this test has always had.
fn cases() -> Vec<RouterConfig> {
    let mut v = RouterConfig::examples();
    for extra in [
        RouterConfig::Linear,
        RouterConfig::Mlp { hidden: 6 },
        RouterConfig::LowRank { rank: 1 },
        RouterConfig::LowRank { rank: 7 },
    ] {
        if !v.contains(&extra) {
            v.push(extra);
        }
    }
    v
}

#[test]
fn every_router_matches_finite_differences() {
    let mut checked = 0;
    for cfg in cases() {
        let (b, d, t) = (5, 4, 3);
        let mut r = build_router::<f64>(&cfg, d, t, 9).expect("router");
        assert_eq!((r.input_dim(), r.num_experts()), (d, t));
        let x = input(b, d);
        let c = weights(b, t);
        let dx = r.backward(x.view(), c.view()).expect("backward");
        let mut params = Vec::new();
        r.params("router", &mut params);
        assert!(!params.is_empty(), "{cfg:?}: no parameters");
        assert!(params.iter().all(|p| p.name.starts_with("router.")));
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
        checked += 1;
    }
    assert!(checked >= 5);
}

/// The low-rank router: only P and c are parameters; E is drawn from the seed's own stream
/// (the same seed gives the same E bit for bit, another seed another E), so z = E (P x + c)
/// holds exactly, and the logits of any input lie in the r-dimensional span of E's columns.
#[test]
fn low_rank_router_is_e_times_an_affine_map() {
    use smoe_nn::{Init, stream_rng};
    use smoe_router::LowRankRouter;
    let (d, t, r) = (4, 6, 2);
    let cfg = RouterConfig::LowRank { rank: r };
    assert_eq!(cfg.parameter_count(d, t), Some(r * (d + 1)));
    assert_eq!(cfg.buffer_count(t), Some(t * r));
    let built = build_router::<f64>(&cfg, d, t, 5).expect("router");
    let mut p = Vec::new();
    built.params("router", &mut p);
    let names: Vec<(String, Vec<usize>)> = p
        .iter()
        .map(|p| (p.name.clone(), p.shape.clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("router.proj.weight".to_string(), vec![r, d]),
            ("router.proj.bias".to_string(), vec![r])
        ]
    );
    let direct = LowRankRouter::<f64>::new(
        d,
        t,
        r,
        Init::PytorchUniform,
        &mut stream_rng(5, "router", 0),
        &mut stream_rng(5, "router_embed", 0),
    )
    .expect("router");
    let other = LowRankRouter::<f64>::new(
        d,
        t,
        r,
        Init::PytorchUniform,
        &mut stream_rng(5, "router", 0),
        &mut stream_rng(6, "router_embed", 0),
    )
    .expect("router");
    assert_ne!(direct.embeddings(), other.embeddings());
    let x = input(3, d);
    let z = built.forward(x.view()).expect("forward");
    assert_eq!(z, direct.forward(x.view()).expect("forward"));
    let e = direct.embeddings();
    let h = x.dot(&direct.proj.weight.t()) + &direct.proj.bias;
    let by_hand = h.dot(&e.t());
    assert!((&z - &by_hand).iter().all(|v| v.abs() < 1e-12));
    // entries N(0, 1/r): a loose check of the scale on T r = 12 draws
    let ms: f64 = e.iter().map(|v| v * v).sum::<f64>() / (t * r) as f64;
    assert!(ms > 0.1 / r as f64 && ms < 4.0 / r as f64, "{ms}");
    let e = build_router::<f32>(&RouterConfig::LowRank { rank: 0 }, 4, 3, 0).unwrap_err();
    assert_eq!(
        e,
        RouterError::ZeroDim(smoe_nn::ZeroDim {
            what: "router rank"
        })
    );
    let huge = RouterConfig::LowRank { rank: 1 << 20 };
    assert!(matches!(
        build_router::<f32>(&huge, 4, 1 << 10, 0).unwrap_err(),
        RouterError::TooLarge(_)
    ));
}

#[test]
fn wrong_width_and_zero_sizes_are_errors() {
    for cfg in cases() {
        let r = build_router::<f32>(&cfg, 4, 3, 0).expect("router");
        assert!(r.forward(Array2::<f32>::zeros((2, 5)).view()).is_err());
        assert!(
            build_router::<f32>(&cfg, 0, 3, 0).is_err(),
            "{cfg:?}: d = 0"
        );
        assert!(
            build_router::<f32>(&cfg, 4, 0, 0).is_err(),
            "{cfg:?}: T = 0"
        );
    }
    let e = build_router::<f32>(&RouterConfig::Mlp { hidden: 0 }, 4, 3, 0).unwrap_err();
    assert_eq!(
        e,
        RouterError::ZeroDim(smoe_nn::ZeroDim {
            what: "router hidden width"
        })
    );
    assert_eq!(RouterConfig::Mlp { hidden: 0 }.validate(), Err(e));
    for cfg in RouterConfig::examples() {
        assert_eq!(cfg.validate(), Ok(()), "{cfg:?}");
    }
}
