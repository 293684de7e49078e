//! Extreme inputs give typed errors, never a panic or an allocation sized by the input; sizes
//! with a closed form are computed without per-expert memory; Monte Carlo counts are capped.

use ndarray::Array2;
use smoe_model::{SparseConfig, SparseMoe};
use smoe_router::RouterConfig;
use smoe_theory::{
    BoundInputs, BoundSettings, MAX_MC_DRAWS, TheoryError, WhatIf, bound_report,
    linear_rademacher_monte_carlo,
};

fn base() -> WhatIf {
    WhatIf {
        k: 2,
        t: 8,
        m: 100,
        d: 4,
        ..WhatIf::default()
    }
}

fn overflow(name: &'static str) -> TheoryError {
    TheoryError::InvalidParameter {
        name,
        value: f64::INFINITY,
        requirement: "representable as usize",
    }
}

#[test]
fn what_if_rejects_every_extreme_with_a_typed_error() {
    let b = base();
    let invalid = |name, value, requirement| TheoryError::InvalidParameter {
        name,
        value,
        requirement,
    };
    let cases: Vec<(WhatIf, TheoryError)> = vec![
        (
            WhatIf { delta: 0.0, ..b },
            TheoryError::InvalidDelta { delta: 0.0 },
        ),
        (
            WhatIf { delta: 1.0, ..b },
            TheoryError::InvalidDelta { delta: 1.0 },
        ),
        (
            WhatIf {
                delta: f64::INFINITY,
                ..b
            },
            TheoryError::InvalidDelta {
                delta: f64::INFINITY,
            },
        ),
        (
            WhatIf { gamma: 0.0, ..b },
            invalid("gamma", 0.0, "finite and > 0"),
        ),
        (
            WhatIf { gamma: -1.0, ..b },
            invalid("gamma", -1.0, "finite and > 0"),
        ),
        (
            WhatIf {
                gamma: f64::INFINITY,
                ..b
            },
            invalid("gamma", f64::INFINITY, "finite and > 0"),
        ),
        (
            WhatIf {
                expert_complexity: Some(-1.0),
                ..b
            },
            invalid("expert complexity R_m(H)", -1.0, ">= 0"),
        ),
        (
            WhatIf {
                expert_complexity: Some(f64::INFINITY),
                ..b
            },
            TheoryError::NonFinite {
                name: "expert complexity R_m(H)",
                value: f64::INFINITY,
            },
        ),
        (WhatIf { m: 0, ..b }, TheoryError::EmptySample),
        (
            WhatIf { k: 0, ..b },
            TheoryError::InvalidTopK { k: 0, experts: 8 },
        ),
        (
            WhatIf { k: 9, ..b },
            TheoryError::InvalidTopK { k: 9, experts: 8 },
        ),
        (
            WhatIf { t: 0, ..b },
            TheoryError::InvalidTopK { k: 2, experts: 0 },
        ),
        (WhatIf { d: 0, ..b }, invalid("input width d", 0.0, ">= 1")),
        (
            WhatIf { k: usize::MAX, ..b },
            TheoryError::InvalidTopK {
                k: usize::MAX,
                experts: 8,
            },
        ),
        (WhatIf { t: usize::MAX, ..b }, overflow("d_N")),
        (WhatIf { m: usize::MAX, ..b }, overflow("k m")),
        (WhatIf { d: usize::MAX, ..b }, overflow("d_N")),
        (
            WhatIf {
                router: RouterConfig::Mlp { hidden: usize::MAX },
                ..b
            },
            overflow("router parameter count"),
        ),
        (
            WhatIf {
                expert_depth: usize::MAX,
                ..b
            },
            overflow("expert depth + 1"),
        ),
    ];
    for (i, (w, want)) in cases.into_iter().enumerate() {
        assert_eq!(BoundInputs::what_if(&w), Err(want), "case {i}: {w:?}");
    }
    // d = u64::MAX without a bias and T = 1: d_N = d (T - 1) = 0 fits, every bound is finite
    let w = WhatIf {
        d: usize::MAX,
        router_bias: false,
        t: 1,
        k: 1,
        ..b
    };
    let values = BoundInputs::what_if(&w).unwrap().evaluate().unwrap();
    assert!(values.iter().all(|v| v.total.is_finite()), "{values:?}");
    // NaN is never equal to itself: match the variants
    let nan = WhatIf {
        delta: f64::NAN,
        ..b
    };
    assert!(
        matches!(BoundInputs::what_if(&nan), Err(TheoryError::InvalidDelta { delta }) if delta.is_nan())
    );
    let nan = WhatIf {
        gamma: f64::NAN,
        ..b
    };
    assert!(matches!(
        BoundInputs::what_if(&nan),
        Err(TheoryError::InvalidParameter { name: "gamma", value, .. }) if value.is_nan()
    ));
    let nan = WhatIf {
        expert_complexity: Some(f64::NAN),
        ..b
    };
    assert!(matches!(
        BoundInputs::what_if(&nan),
        Err(TheoryError::NonFinite { name: "expert complexity R_m(H)", value }) if value.is_nan()
    ));
}

/// T = 10¹² experts: balanced loads are two groups, and D1 matches the formula by hand.
#[test]
fn a_trillion_experts_take_two_groups_and_match_d1_by_hand() {
    let t = 1_000_000_000_000usize;
    let w = WhatIf { t, ..base() };
    let inputs = BoundInputs::what_if(&w).unwrap();
    // k m = 200 inputs-slots over 10^12 experts: 200 experts of load 1, the rest empty
    let groups: Vec<(usize, usize)> = inputs
        .experts
        .iter()
        .map(|g| (g.count, g.stat.load))
        .collect();
    assert_eq!(groups, vec![(200, 1), (t - 200, 0)]);
    assert_eq!(inputs.router.d_n, 5.0 * (t as f64 - 1.0));
    let values = inputs.evaluate().unwrap();
    let worst = &values[3];
    assert_eq!(worst.name, "d1_worst");
    // R = 1/sqrt(m) = 0.1, A_j = R sqrt(m) = 1 for every expert:
    // max_p R̂ <= sqrt(T) sqrt(k m) / (k m) = sqrt(T / 200)
    let want = (t as f64 / 200.0).sqrt();
    let got = worst.term("expert_complexity").unwrap();
    assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
    // learned pattern: Σ_j (m_j / (k m)) R sqrt(m / m_j) = 200 * (1/200) * 0.1 * 10 = 1
    assert_eq!(values[2].name, "d1_learned");
    let learned = values[2].term("expert_complexity").unwrap();
    assert!((learned - 1.0).abs() < 1e-12, "{learned}");
}

fn tiny_model() -> SparseMoe<f64> {
    let cfg = SparseConfig {
        experts: 4,
        k: 2,
        ..Default::default()
    };
    SparseMoe::new(&cfg, 3, 1).unwrap()
}

#[test]
fn monte_carlo_draws_are_capped_and_checked_first() {
    let settings = |mc_draws| BoundSettings {
        delta: 0.05,
        gamma: 1.0,
        mc_draws,
        seed: 0,
        margin_log_count: 0.0,
    };
    assert_eq!(settings(1).validate(), Ok(()));
    assert_eq!(settings(MAX_MC_DRAWS).validate(), Ok(()));
    for draws in [MAX_MC_DRAWS + 1, usize::MAX] {
        assert_eq!(
            settings(draws).validate(),
            Err(TheoryError::TooManyDraws {
                draws,
                max: 100_000
            })
        );
    }
    assert!(matches!(
        settings(0).validate(),
        Err(TheoryError::InvalidParameter {
            name: "mc_draws",
            ..
        })
    ));
    // the report says so before measuring anything, even for an empty sample
    let model = tiny_model();
    let empty = Array2::<f64>::zeros((0, 3));
    assert_eq!(
        bound_report(&model, empty.view(), &settings(usize::MAX)).map(|_| ()),
        Err(TheoryError::TooManyDraws {
            draws: usize::MAX,
            max: MAX_MC_DRAWS
        })
    );
    assert_eq!(
        bound_report(
            &model,
            empty.view(),
            &BoundSettings {
                delta: 1.0,
                ..settings(1)
            }
        )
        .map(|_| ()),
        Err(TheoryError::InvalidDelta { delta: 1.0 })
    );
    assert_eq!(
        TheoryError::TooManyDraws {
            draws: 100_001,
            max: 100_000
        }
        .to_string(),
        "100001 Monte Carlo draws is too many (at most 100000)"
    );
    // the estimator itself
    let x = Array2::<f64>::ones((5, 2));
    let mut rng = smoe_nn::stream_rng(0, "test", 0);
    assert_eq!(
        linear_rademacher_monte_carlo(x.view(), 1.0, MAX_MC_DRAWS + 1, 0.05, &mut rng).map(|_| ()),
        Err(TheoryError::TooManyDraws {
            draws: MAX_MC_DRAWS + 1,
            max: MAX_MC_DRAWS
        })
    );
}

/// The report finds every expert's tensors through the name index: a model with many experts
/// gets one entry per expert, each with its own load, and the loads add up to k m.
#[test]
fn report_measures_every_expert_of_a_wide_model() {
    let cfg = SparseConfig {
        experts: 300,
        k: 2,
        ..Default::default()
    };
    let model = SparseMoe::<f64>::new(&cfg, 3, 7).unwrap();
    let x = Array2::from_shape_fn((500, 3), |(i, j)| ((i * 3 + j) as f64 * 0.37).sin());
    let settings = BoundSettings {
        delta: 0.05,
        gamma: 1.0,
        mc_draws: 10,
        seed: 0,
        margin_log_count: 0.0,
    };
    let r = bound_report(&model, x.view(), &settings).unwrap();
    assert_eq!(r.experts.len(), 300);
    let idx: Vec<usize> = r.experts.iter().map(|e| e.expert).collect();
    assert_eq!(idx, (0..300).collect::<Vec<_>>());
    assert_eq!(r.experts.iter().map(|e| e.load).sum::<usize>(), 1000);
    // R_m(H) is the largest expert's Golowich value on the whole sample: scale · ||X̃|| / m
    let norm = (x.iter().map(|v| v * v).sum::<f64>() + 500.0).sqrt();
    let want = r.experts.iter().map(|e| e.scale).fold(0.0, f64::max) * norm / 500.0;
    assert!(
        (r.rademacher_m - want).abs() <= 1e-12 * want,
        "{} vs {want}",
        r.rademacher_m
    );
}
