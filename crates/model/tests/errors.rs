//! Typed errors, never panics, for bad configs and inputs; each component's own message
//! reaches the caller of `SparseConfig::validate`.

use ndarray::Array2;
use smoe_experts::{ExpertConfig, ExpertError};
use smoe_gating::{GateConfig, GatingError};
use smoe_model::{ModelConfig, ModelError, SparseConfig, SparseMoe, build_model};
use smoe_router::{RouterConfig, RouterError};

const D: usize = 4;

/// The old defaults written out where they matter: expert width 64 (SparseConfig's is 32).
fn cfg() -> SparseConfig {
    SparseConfig {
        experts: 3,
        k: 2,
        expert: ExpertConfig::default(),
        ..Default::default()
    }
}

#[test]
fn bad_configs() {
    let bad_k0 = SparseConfig { k: 0, ..cfg() };
    assert!(matches!(
        SparseMoe::<f32>::new(&bad_k0, D, 0),
        Err(ModelError::InvalidTopK { k: 0, experts: 3 })
    ));
    let bad_k = SparseConfig { k: 4, ..cfg() };
    assert!(matches!(
        SparseMoe::<f32>::new(&bad_k, D, 0),
        Err(ModelError::InvalidTopK { k: 4, experts: 3 })
    ));
    assert!(matches!(
        SparseMoe::<f32>::new(&cfg(), 0, 0),
        Err(ModelError::InvalidConfig { field: "d", .. })
    ));
    let bad_w = SparseConfig {
        expert: ExpertConfig {
            width: 0,
            ..Default::default()
        },
        ..cfg()
    };
    assert!(matches!(
        SparseMoe::<f32>::new(&bad_w, D, 0),
        Err(ModelError::Expert(ExpertError::ZeroDim(smoe_nn::ZeroDim {
            what: "expert hidden width"
        })))
    ));
    let bad_t = SparseConfig {
        experts: 0,
        k: 0,
        ..cfg()
    };
    assert!(matches!(
        SparseMoe::<f32>::new(&bad_t, D, 0),
        Err(ModelError::InvalidConfig {
            field: "experts",
            ..
        })
    ));
    for cf in [f64::NAN, f64::INFINITY, 0.0, -1.0] {
        let bad_cf = SparseConfig {
            capacity_factor: Some(cf),
            ..cfg()
        };
        assert!(
            matches!(
                SparseMoe::<f32>::new(&bad_cf, D, 0),
                Err(ModelError::InvalidConfig {
                    field: "capacity_factor",
                    ..
                })
            ),
            "cf = {cf}"
        );
    }
    // a custom gate cannot be built from its config (its user builds it)
    let custom = SparseConfig {
        gate: GateConfig::Custom {
            name: "mine".into(),
        },
        ..cfg()
    };
    assert!(matches!(
        SparseMoe::<f32>::new(&custom, D, 0),
        Err(ModelError::Gating(GatingError::InvalidConfig { .. }))
    ));
}

/// `validate` (and so `SparseMoe::new`, `build_model`) passes each component's own error and
/// message through.
#[test]
fn validate_passes_the_components_message_through() {
    // the dense gate needs k = T
    let dense = SparseConfig {
        experts: 4,
        k: 2,
        gate: GateConfig::DenseSoftmax,
        ..Default::default()
    };
    let e = dense.validate(D).unwrap_err();
    assert!(
        matches!(
            e,
            ModelError::Gating(GatingError::KNotSupported {
                k: 2,
                experts: 4,
                ..
            })
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("k = T") && msg.contains("dense_softmax"),
        "{msg}"
    );
    assert_eq!(
        SparseMoe::<f32>::new(&dense, D, 0).unwrap_err().to_string(),
        msg
    );
    assert!(SparseConfig { k: 4, ..dense }.validate(D).is_ok());

    // an MLP router with no hidden unit
    let mlp0 = SparseConfig {
        router: RouterConfig::Mlp { hidden: 0 },
        ..cfg()
    };
    let e = mlp0.validate(D).unwrap_err();
    assert!(
        matches!(
            e,
            ModelError::Router(RouterError::ZeroDim(smoe_nn::ZeroDim {
                what: "router hidden width"
            }))
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("router") && msg.contains("hidden width"),
        "{msg}"
    );
    let model_cfg = ModelConfig::Sparse(mlp0);
    assert_eq!(model_cfg.validate(D).unwrap_err().to_string(), msg);
    assert_eq!(
        build_model::<f32>(&model_cfg, D, 0)
            .unwrap_err()
            .to_string(),
        msg
    );

    // experts of width 0 (with a hidden layer)
    let w0 = SparseConfig {
        expert: ExpertConfig {
            depth: 1,
            width: 0,
            ..Default::default()
        },
        ..cfg()
    };
    let e = w0.validate(D).unwrap_err();
    assert!(
        matches!(
            e,
            ModelError::Expert(ExpertError::ZeroDim(smoe_nn::ZeroDim {
                what: "expert hidden width"
            }))
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("expert") && msg.contains("hidden width"),
        "{msg}"
    );
    assert_eq!(
        SparseMoe::<f32>::new(&w0, D, 0).unwrap_err().to_string(),
        msg
    );
    // width 0 is fine for linear experts (depth 0)
    let linear = SparseConfig {
        expert: ExpertConfig {
            depth: 0,
            width: 0,
            ..Default::default()
        },
        ..cfg()
    };
    assert!(linear.validate(D).is_ok());
}

#[test]
fn every_catalogue_model_is_valid_and_builds() {
    for cfg in ModelConfig::examples() {
        // a soft model's d must be a multiple of its tokens (3 in the catalogue)
        let d = if cfg.as_soft().is_some() { 6 } else { D };
        cfg.validate(d).unwrap_or_else(|e| panic!("{cfg:?}: {e}"));
        let m = build_model::<f32>(&cfg, d, 0).unwrap_or_else(|e| panic!("{cfg:?}: {e}"));
        assert_eq!(m.config(), cfg);
        assert_eq!((m.input_dim(), m.seed()), (d, 0));
        assert!(["sparse", "soft"].contains(&cfg.kind()), "{}", cfg.kind());
    }
}

#[test]
fn bad_inputs() {
    let mut m = SparseMoe::<f32>::new(&cfg(), D, 0).expect("model");
    let wrong = Array2::<f32>::zeros((5, 3));
    assert!(matches!(
        m.forward(wrong.view(), true),
        Err(ModelError::Shape(_))
    ));
    assert!(matches!(m.infer(wrong.view()), Err(ModelError::Shape(_))));
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut x = Array2::<f32>::zeros((5, 4));
        x[[2, 1]] = bad;
        assert!(matches!(
            m.forward(x.view(), true),
            Err(ModelError::NonFiniteInput { row: 2, col: 1 })
        ));
    }
    // backward without forward
    let mut fresh = SparseMoe::<f32>::new(&cfg(), D, 0).expect("model");
    assert!(matches!(
        fresh.backward(ndarray::Array1::zeros(5).view()),
        Err(ModelError::NoForward)
    ));
    // df of the wrong length
    let x = Array2::<f32>::ones((5, 4));
    m.forward(x.view(), true).expect("forward");
    assert!(matches!(
        m.backward(ndarray::Array1::zeros(4).view()),
        Err(ModelError::Shape(_))
    ));
    // an empty batch is fine
    let empty = Array2::<f32>::zeros((0, 4));
    assert_eq!(m.infer(empty.view()).expect("empty").f.len(), 0);
}
