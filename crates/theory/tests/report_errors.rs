//! `bound_report` through the model interface: any `Model` works, bad inputs and models it
//! cannot measure give typed errors, and the report names its numbers.

use ndarray::{Array2, ArrayView1, ArrayView2};
use smoe_model::{AuxGrad, Model, ModelConfig, ModelError, ModelOutput, SparseConfig, SparseMoe};
use smoe_nn::{ParamMut, ParamRef};
use smoe_theory::{BoundSettings, TheoryError, Validity, bound_report};

const SETTINGS: BoundSettings = BoundSettings {
    delta: 0.05,
    gamma: 0.5,
    mc_draws: 16,
    seed: 0,
    margin_log_count: 0.0,
};

/// A user's model: a sparse MoE behind the interface, which can hide its parameters or fail.
#[derive(Debug, Clone)]
struct Wrapped {
    inner: SparseMoe<f64>,
    hide_params: bool,
    fail: bool,
}

impl Model<f64> for Wrapped {
    fn config(&self) -> ModelConfig {
        Model::config(&self.inner)
    }
    fn input_dim(&self) -> usize {
        Model::input_dim(&self.inner)
    }
    fn seed(&self) -> u64 {
        Model::seed(&self.inner)
    }
    fn forward(
        &mut self,
        x: ArrayView2<'_, f64>,
        noisy: bool,
    ) -> smoe_model::Result<ModelOutput<f64>> {
        Model::forward(&mut self.inner, x, noisy)
    }
    fn infer(&self, x: ArrayView2<'_, f64>) -> smoe_model::Result<ModelOutput<f64>> {
        if self.fail {
            return Err(ModelError::InvalidConfig {
                field: "test",
                value: "1".into(),
                reason: "fails on purpose",
            });
        }
        Model::infer(&self.inner, x)
    }
    fn backward(
        &mut self,
        df: ArrayView1<'_, f64>,
        aux: AuxGrad<'_, f64>,
    ) -> smoe_model::Result<Array2<f64>> {
        Model::backward(&mut self.inner, df, aux)
    }
    fn params(&self) -> Vec<ParamRef<'_, f64>> {
        if self.hide_params {
            Vec::new()
        } else {
            Model::params(&self.inner)
        }
    }
    fn params_mut(&mut self) -> Vec<ParamMut<'_, f64>> {
        Model::params_mut(&mut self.inner)
    }
    fn boxed_clone(&self) -> Box<dyn Model<f64>> {
        Box::new(self.clone())
    }
}

fn model(hide_params: bool, fail: bool) -> Wrapped {
    let cfg = SparseConfig {
        experts: 4,
        k: 2,
        ..Default::default()
    };
    Wrapped {
        inner: SparseMoe::new(&cfg, 3, 1).unwrap(),
        hide_params,
        fail,
    }
}

fn x(m: usize, d: usize) -> Array2<f64> {
    Array2::from_shape_fn((m, d), |(i, j)| ((i * d + j) as f64 * 0.37).sin())
}

#[test]
fn any_model_behind_the_interface_gets_the_same_report() {
    let w = model(false, false);
    let a = bound_report(&w, x(40, 3).view(), &SETTINGS).unwrap();
    let b = bound_report(&w.inner, x(40, 3).view(), &SETTINGS).unwrap();
    assert_eq!(a, b);
    let s = a.scalars();
    let get = |n: &str| s.iter().find(|(x, _)| x == n).map(|&(_, v)| v);
    assert_eq!(get("zhao.total"), Some(a.get("zhao").unwrap().total));
    assert_eq!(
        get("d1_worst.expert_term"),
        a.get("d1_worst").unwrap().term("expert_term")
    );
    assert_eq!(get("router.d_n"), Some(4.0 * 3.0)); // (d + 1)(T - 1)
    assert_eq!(
        get("router.natarajan.exact"),
        Some(a.router.natarajan.exact)
    );
    assert_eq!(
        get("router.natarajan.upper"),
        Some(a.router.natarajan.upper)
    );
    assert_eq!(get("rademacher_m"), Some(a.rademacher_m));
    assert_eq!(get("experts.3.load"), Some(a.experts[3].load as f64));
    assert_eq!(a.get("d1_learned").unwrap().validity, Validity::Heuristic);
    assert!(a.get("nope").is_none());
    // the report reads back from its JSON (a run record's `bounds`)
    let back: smoe_theory::BoundReport =
        serde_json::from_value(serde_json::to_value(&a).unwrap()).unwrap();
    assert_eq!(back, a);
}

#[test]
fn unmeasurable_models_and_bad_inputs_are_typed_errors() {
    let err =
        |m: &Wrapped, x: Array2<f64>, s: &BoundSettings| bound_report(m, x.view(), s).unwrap_err();
    assert!(matches!(
        err(&model(true, false), x(10, 3), &SETTINGS),
        TheoryError::Unsupported { .. }
    ));
    assert!(matches!(
        err(&model(false, true), x(10, 3), &SETTINGS),
        TheoryError::Model { .. }
    ));
    match err(&model(false, false), x(10, 5), &SETTINGS) {
        TheoryError::Shape(e) => {
            assert_eq!((e.expected, e.got), (vec![10, 3], vec![10, 5]));
        }
        e => panic!("{e}"),
    }
    assert_eq!(
        err(&model(false, false), x(0, 3), &SETTINGS),
        TheoryError::EmptySample
    );
    let bad_gamma = BoundSettings {
        gamma: 0.0,
        ..SETTINGS
    };
    assert!(matches!(
        err(&model(false, false), x(10, 3), &bad_gamma),
        TheoryError::InvalidParameter { name: "gamma", .. }
    ));
    let bad_delta = BoundSettings {
        delta: 1.0,
        ..SETTINGS
    };
    assert!(matches!(
        err(&model(false, false), x(10, 3), &bad_delta),
        TheoryError::InvalidDelta { .. }
    ));
}
