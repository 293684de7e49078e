//! Typed errors, never panics, for bad configs and inputs.

use ndarray::Array2;
use smoe_experts::ExpertConfig;
use smoe_model::{ModelError, MoeConfig, SparseMoe};

fn cfg() -> MoeConfig {
    MoeConfig {
        d: 4,
        experts: 3,
        k: 2,
        ..Default::default()
    }
}

#[test]
fn bad_configs() {
    let bad_k0 = MoeConfig { k: 0, ..cfg() };
    assert!(matches!(
        SparseMoe::<f32>::new(&bad_k0),
        Err(ModelError::InvalidTopK { k: 0, experts: 3 })
    ));
    let bad_k = MoeConfig { k: 4, ..cfg() };
    assert!(matches!(
        SparseMoe::<f32>::new(&bad_k),
        Err(ModelError::InvalidTopK { k: 4, experts: 3 })
    ));
    let bad_d = MoeConfig { d: 0, ..cfg() };
    assert!(matches!(
        SparseMoe::<f32>::new(&bad_d),
        Err(ModelError::InvalidConfig { field: "d", .. })
    ));
    let bad_w = MoeConfig {
        expert: ExpertConfig {
            width: 0,
            ..Default::default()
        },
        ..cfg()
    };
    assert!(matches!(
        SparseMoe::<f32>::new(&bad_w),
        Err(ModelError::InvalidConfig {
            field: "expert.width",
            ..
        })
    ));
    let bad_t = MoeConfig {
        experts: 0,
        k: 0,
        ..cfg()
    };
    assert!(SparseMoe::<f32>::new(&bad_t).is_err());
    let bad_cf = MoeConfig {
        capacity_factor: Some(f64::NAN),
        ..cfg()
    };
    assert!(matches!(
        SparseMoe::<f32>::new(&bad_cf),
        Err(ModelError::InvalidConfig {
            field: "capacity_factor",
            ..
        })
    ));
}

#[test]
fn bad_inputs() {
    let mut m = SparseMoe::<f32>::new(&cfg()).expect("model");
    let wrong = Array2::<f32>::zeros((5, 3));
    assert!(matches!(
        m.forward(wrong.view(), true),
        Err(ModelError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        m.infer(wrong.view()),
        Err(ModelError::ShapeMismatch { .. })
    ));
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut x = Array2::<f32>::zeros((5, 4));
        x[[2, 1]] = bad;
        assert!(matches!(
            m.forward(x.view(), true),
            Err(ModelError::NonFiniteInput { row: 2, col: 1 })
        ));
    }
    // backward without forward
    let mut fresh = SparseMoe::<f32>::new(&cfg()).expect("model");
    assert!(matches!(
        fresh.backward(ndarray::Array1::zeros(5).view()),
        Err(ModelError::NoForward)
    ));
    // df of the wrong length
    let x = Array2::<f32>::ones((5, 4));
    m.forward(x.view(), true).expect("forward");
    assert!(matches!(
        m.backward(ndarray::Array1::zeros(4).view()),
        Err(ModelError::ShapeMismatch { .. })
    ));
    // an empty batch is fine
    let empty = Array2::<f32>::zeros((0, 4));
    assert_eq!(m.infer(empty.view()).expect("empty").f.len(), 0);
}
