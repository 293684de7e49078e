//! The size checks: `parameter_count` is exact for every model of the catalogue, and a model
//! whose parameters would exceed the cap is a typed error before anything is allocated.

use smoe_experts::ExpertConfig;
use smoe_model::{ModelConfig, ModelError, SparseConfig, build_model};
use smoe_nn::MAX_ELEMENTS;

#[test]
fn parameter_count_is_exact_for_every_example() {
    for d in [1, 3, 7] {
        for cfg in ModelConfig::examples() {
            // a soft model's d must be a multiple of its tokens (3 in the catalogue)
            let d = if cfg.as_soft().is_some() { 3 * d } else { d };
            let model = build_model::<f64>(&cfg, d, 0).expect("build");
            let real: usize = model.params().iter().map(|p| p.value.len()).sum();
            assert_eq!(cfg.parameter_count(d), Some(real), "{cfg:?} at d = {d}");
        }
    }
}

fn sparse(f: impl FnOnce(&mut SparseConfig)) -> ModelConfig {
    let mut c = SparseConfig::default();
    f(&mut c);
    ModelConfig::Sparse(c)
}

#[test]
fn oversized_models_are_errors_before_allocation() {
    let cases = [
        sparse(|c| c.experts = 1 << 40),
        sparse(|c| c.expert.width = 1 << 40),
        sparse(|c| c.expert.width = usize::MAX),
        sparse(|c| {
            c.expert = ExpertConfig {
                depth: 1 << 30,
                ..c.expert
            }
        }),
        sparse(|c| c.router = smoe_router::RouterConfig::Mlp { hidden: 1 << 40 }),
    ];
    let soft = |f: &dyn Fn(&mut smoe_model::SoftConfig)| {
        let mut c = smoe_model::SoftConfig::default();
        f(&mut c);
        ModelConfig::Soft(c)
    };
    let cases = cases.into_iter().chain([
        soft(&|c| c.experts = 1 << 40),
        soft(&|c| c.slots = usize::MAX),
        soft(&|c| c.expert.width = 1 << 40),
    ]);
    for cfg in cases {
        let err = build_model::<f32>(&cfg, 16, 0).expect_err("must not build");
        match &err {
            ModelError::TooLarge(t) => {
                assert_eq!(t.max, MAX_ELEMENTS);
                assert!(t.elements.is_none_or(|n| n > MAX_ELEMENTS as u128), "{t:?}");
            }
            other => panic!("{cfg:?}: expected TooLarge, got {other}"),
        }
        assert!(err.to_string().contains("parameters"), "{err}");
    }
    // d itself counts: a linear router of 8 experts at d = 2^28 is too large
    let err = build_model::<f32>(&sparse(|_| {}), 1 << 28, 0).expect_err("too large");
    assert!(matches!(err, ModelError::TooLarge(_)), "{err}");
    // just below the cap builds nothing large: the check is the only cost
    assert!(
        sparse(|c| c.experts = 1000)
            .parameter_count(16)
            .is_some_and(|n| n < MAX_ELEMENTS)
    );
}
