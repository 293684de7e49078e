//! Unit tests of `bounds.rs` (kept apart to keep that file short).

use super::*;
use crate::routing::{linear_router_natarajan_dim, natarajan_log_count};

/// THEORY.md §1.7: (d, T, k, m, restated Thm 1, D1), unrounded fixture values (3 decimals).
const WORKED: [(usize, usize, usize, usize, f64, f64); 3] = [
    (16, 8, 2, 10_000, 0.701, 0.729),
    (16, 8, 1, 100_000, 0.216, 0.230),
    (32, 16, 2, 100_000, 0.498, 0.509),
];

fn zhao_inputs(d: usize, t: usize, k: usize, m: usize) -> ZhaoInputs {
    ZhaoInputs {
        lipschitz: 1.0,
        rademacher: 1.0 / (m as f64).sqrt(),
        k,
        t,
        d_n: linear_router_natarajan_dim(d, t, false).unwrap() as f64,
        m,
        delta: 0.05,
    }
}

/// Balanced loads k m / T, linear experts with B X = 1 (||x_i|| = 1, so Σ||x_i||² = m).
fn balanced(t: usize, k: usize, m: usize) -> Vec<ExpertStat> {
    let load = k * m / t;
    vec![
        ExpertStat {
            load,
            complexity: (load as f64).sqrt() / load as f64,
            scale: 1.0,
            floor: 0.0,
        };
        t
    ]
}

#[test]
fn zhao_worked_examples() {
    // Unrounded references from an independent Python evaluation of the same formula.
    let exact = [
        0.700_701_522_065_816_3,
        0.215_688_863_805_926_17,
        0.497_949_525_981_819_6,
    ];
    for ((d, t, k, m, table, _), want) in WORKED.into_iter().zip(exact) {
        let z = zhao_restated(&zhao_inputs(d, t, k, m)).unwrap();
        assert!(
            (z.total - table).abs() < 6e-4,
            "Zhao {} vs table {table}",
            z.total
        );
        assert!((z.total - want).abs() < 1e-12, "Zhao {} vs {want}", z.total);
        assert!((z.expert_term - 4.0 / (m as f64).sqrt()).abs() < 1e-15);
        assert!((z.total - z.expert_term - z.routing_term).abs() < 1e-15);
        assert_eq!(z.validity, Validity::Restated);
    }
}

#[test]
fn d1_worked_examples_worst_case() {
    let exact = [
        0.728_912_467_065_530_7,
        0.229_732_046_928_672_4,
        0.509_076_545_837_131_9,
    ];
    for ((d, t, k, m, _, table), want) in WORKED.into_iter().zip(exact) {
        let d_n = linear_router_natarajan_dim(d, t, false).unwrap() as f64;
        let count = natarajan_log_count(d_n, m, t, k).unwrap();
        let experts = balanced(t, k, m);
        let r = d1_bound(&D1Inputs {
            k,
            t,
            m,
            delta: 0.05,
            lipschitz: 1.0,
            routing_log_count: count.upper,
            experts: &experts,
            sum_sq_norms: m as f64,
        })
        .unwrap();
        let w = r.worst_case;
        assert!(
            (w.total - table).abs() < 6e-4,
            "D1 {} vs table {table}",
            w.total
        );
        assert!((w.total - want).abs() < 1e-12, "D1 {} vs {want}", w.total);
        let expert = 2.0 * (t as f64 / (k * m) as f64).sqrt();
        assert!((w.expert_term - expert).abs() < 1e-14);
        assert_eq!(w.validity, Validity::Valid);
        // Balanced load attains the worst case exactly for ||x_i|| = 1 (no Jensen gap here).
        assert!((r.learned_pattern.total - w.total).abs() < 1e-12);
        assert_eq!(r.learned_pattern.validity, Validity::Heuristic);
    }
}

#[test]
fn d1_imbalanced_load_by_hand() {
    // T = 2, k = 1, m = 4, loads (3, 1), ||x_i|| = 1, B = 1, C = 2, log-count 0, δ = 0.5.
    let experts = [
        ExpertStat {
            load: 3,
            complexity: 3f64.sqrt() / 3.0,
            scale: 1.0,
            floor: 0.0,
        },
        ExpertStat {
            load: 1,
            complexity: 1.0,
            scale: 1.0,
            floor: 0.0,
        },
    ];
    let r = d1_bound(&D1Inputs {
        k: 1,
        t: 2,
        m: 4,
        delta: 0.5,
        lipschitz: 2.0,
        routing_log_count: 0.0,
        experts: &experts,
        sum_sq_norms: 4.0,
    })
    .unwrap();
    let learned = 3f64.sqrt() / 4.0 + 0.25;
    let worst = 2f64.sqrt() * 2.0 / 4.0;
    assert!((r.expert_complexity_learned - learned).abs() < 1e-15);
    assert!((r.expert_complexity_worst - worst).abs() < 1e-15);
    assert!(r.expert_complexity_learned < r.expert_complexity_worst);
    let conf = 3.0 * (4f64.ln() / 8.0).sqrt();
    assert!((r.worst_case.confidence_term - conf).abs() < 1e-15);
    assert_eq!(r.worst_case.routing_term, 0.0);
    assert!((r.worst_case.total - (2.0 * 2.0 * worst + conf)).abs() < 1e-14);
    // A floor c_j adds Σ c_j / (k m).
    let floored = [
        ExpertStat {
            floor: 4.0,
            ..experts[0]
        },
        ExpertStat {
            floor: 4.0,
            ..experts[1]
        },
    ];
    let f = d1_bound(&D1Inputs {
        k: 1,
        t: 2,
        m: 4,
        delta: 0.5,
        lipschitz: 2.0,
        routing_log_count: 0.0,
        experts: &floored,
        sum_sq_norms: 4.0,
    })
    .unwrap();
    assert!((f.expert_complexity_worst - (worst + 2.0)).abs() < 1e-14);
}

#[test]
fn kratsios_shape_by_hand() {
    let inputs = VcInputs {
        experts: 4,
        input_dim: 2,
        expert_depth: 2,
        expert_width: 8,
        m: 1000,
        delta: 0.1,
    };
    let v = kratsios_vc_shape(&inputs).unwrap();
    assert_eq!(v.vc_dim, 64.0); // 4 * max(2 * 4, 2 * 8)
    let growth = 64.0 * (1.0 + (1000.0f64 / 64.0).ln());
    assert!((v.growth_log - growth).abs() < 1e-12);
    let total = (2.0 * growth / 1000.0).sqrt() + (10f64.ln() / 2000.0).sqrt();
    assert!((v.total - total).abs() < 1e-14);
    assert_eq!(v.validity, Validity::Shape);
    // m < d_VC: growth log m ln 2, the term is sqrt(2 ln 2) (vacuous).
    let small = kratsios_vc_shape(&VcInputs { m: 10, ..inputs }).unwrap();
    assert!((small.complexity_term - (2.0 * 2f64.ln()).sqrt()).abs() < 1e-14);
}

#[test]
fn bounds_reject_bad_delta_m_and_k() {
    let base = zhao_inputs(16, 8, 2, 10_000);
    for delta in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
        assert!(matches!(
            zhao_restated(&ZhaoInputs { delta, ..base }),
            Err(TheoryError::InvalidDelta { .. })
        ));
    }
    assert_eq!(
        zhao_restated(&ZhaoInputs { m: 0, ..base }),
        Err(TheoryError::EmptySample)
    );
    assert_eq!(
        zhao_restated(&ZhaoInputs { k: 9, ..base }),
        Err(TheoryError::InvalidTopK { k: 9, experts: 8 })
    );
    assert!(zhao_restated(&ZhaoInputs { k: 0, ..base }).is_err());
    assert!(
        zhao_restated(&ZhaoInputs {
            lipschitz: f64::NAN,
            ..base
        })
        .is_err()
    );
    assert!(
        zhao_restated(&ZhaoInputs {
            rademacher: -1.0,
            ..base
        })
        .is_err()
    );

    let experts = balanced(8, 2, 10_000);
    let d1 = D1Inputs {
        k: 2,
        t: 8,
        m: 10_000,
        delta: 0.05,
        lipschitz: 1.0,
        routing_log_count: 10.0,
        experts: &experts,
        sum_sq_norms: 10_000.0,
    };
    assert!(d1_bound(&d1).is_ok());
    for delta in [0.0, 1.0, 2.0] {
        assert!(matches!(
            d1_bound(&D1Inputs { delta, ..d1 }),
            Err(TheoryError::InvalidDelta { .. })
        ));
    }
    assert_eq!(
        d1_bound(&D1Inputs { m: 0, ..d1 }),
        Err(TheoryError::EmptySample)
    );
    assert!(matches!(
        d1_bound(&D1Inputs { k: 9, ..d1 }),
        Err(TheoryError::InvalidTopK { .. })
    ));
    assert!(matches!(
        d1_bound(&D1Inputs { t: 7, ..d1 }),
        Err(TheoryError::Shape(_))
    ));
    assert!(matches!(
        d1_bound(&D1Inputs { m: 9_999, ..d1 }),
        Err(TheoryError::InvalidLoads { .. })
    ));
    assert!(
        d1_bound(&D1Inputs {
            routing_log_count: f64::INFINITY,
            ..d1
        })
        .is_err()
    );

    let vc = VcInputs {
        experts: 4,
        input_dim: 2,
        expert_depth: 2,
        expert_width: 8,
        m: 1000,
        delta: 0.1,
    };
    assert!(matches!(
        kratsios_vc_shape(&VcInputs { delta: 1.0, ..vc }),
        Err(TheoryError::InvalidDelta { .. })
    ));
    assert_eq!(
        kratsios_vc_shape(&VcInputs { m: 0, ..vc }),
        Err(TheoryError::EmptySample)
    );
    assert!(kratsios_vc_shape(&VcInputs { experts: 0, ..vc }).is_err());
}

#[test]
fn bounds_serialize_with_named_terms() {
    let z = zhao_restated(&zhao_inputs(16, 8, 2, 10_000)).unwrap();
    let json = serde_json::to_value(z).unwrap();
    for key in [
        "expert_term",
        "routing_term",
        "total",
        "routing_log_count",
        "confidence_log",
    ] {
        assert!(
            json.get(key).and_then(|v| v.as_f64()).is_some(),
            "missing {key}"
        );
    }
    assert_eq!(json["validity"], "restated");
}

#[test]
fn validity_labels_are_the_serde_names() {
    for v in [
        Validity::Valid,
        Validity::Restated,
        Validity::Heuristic,
        Validity::Shape,
    ] {
        assert_eq!(serde_json::to_value(v).unwrap(), v.label());
        assert_eq!(v.to_string(), v.label());
    }
}
