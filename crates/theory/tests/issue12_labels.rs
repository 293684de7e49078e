//! Issue 12, "Done when" point 1, on constructed models: the validity labels of THEORY.md §1.8
//! item 2 (A1 gate → `d1_worst` valid with the union-bound price in its confidence term;
//! `topk_softmax` at k = 2 → not valid, `d1_a2` valid by the A2 remark; MLP router → shape),
//! k = T → no routing term in any bound, the paper-form Zhao bound against §1.5's formula by
//! hand, a data-chosen margin's price, and PReLU slopes > 1 multiplying the expert measures.

use ndarray::Array2;
use smoe_experts::ExpertConfig;
use smoe_gating::GateConfig;
use smoe_model::{SparseConfig, SparseMoe};
use smoe_nn::ActivationKind;
use smoe_router::RouterConfig;
use smoe_theory::{BoundReport, BoundSettings, Validity, bound_report, round_up_to_grid};

const SETTINGS: BoundSettings = BoundSettings {
    delta: 0.05,
    gamma: 0.5,
    mc_draws: 16,
    seed: 0,
    margin_log_count: 0.0,
};

/// m = 40 inputs of width d = 3.
fn inputs() -> Array2<f64> {
    Array2::from_shape_fn((40, 3), |(i, j)| ((i * 3 + j) as f64 * 0.77).sin())
}

fn model(k: usize, gate: GateConfig, router: RouterConfig, expert: ExpertConfig) -> SparseMoe<f64> {
    let cfg = SparseConfig {
        experts: 4,
        k,
        router,
        gate,
        expert,
        ..Default::default()
    };
    SparseMoe::<f64>::new(&cfg, 3, 1).expect("model")
}

fn report_of(m: &SparseMoe<f64>, settings: &BoundSettings) -> BoundReport {
    bound_report(m, inputs().view(), settings).expect("report")
}

fn report(k: usize, gate: GateConfig, router: RouterConfig) -> BoundReport {
    report_of(&model(k, gate, router, ExpertConfig::default()), &SETTINGS)
}

fn term(r: &BoundReport, bound: &str, name: &str) -> f64 {
    r.get(bound)
        .unwrap_or_else(|| panic!("no bound {bound}"))
        .term(name)
        .unwrap_or_else(|| panic!("{bound} has no term {name}"))
}

/// A1: `topk_softmax` at k = 1 (the single weight is 1) with a linear router.
#[test]
fn a1_gate_makes_d1_worst_valid_with_the_budget_price() {
    let r = report(1, GateConfig::TopkSoftmax, RouterConfig::Linear);
    let worst = r.get("d1_worst").unwrap();
    assert_eq!(worst.validity, Validity::Valid, "{:?}", worst.note);
    // T = 4 budgets on the 61-point grid: 4 ln 61 = 4 * 4.1108739 = 16.4434955 nats
    let price = term(&r, "d1_worst", "budget_log_count");
    assert!((price - 16.443_495_5).abs() < 1e-6, "{price}");
    // confidence: 3 sqrt((ln 40 + 16.4434955) / 80) = 3 sqrt(20.1323747 / 80)
    //           = 3 sqrt(0.2516547) = 3 * 0.5016520 = 1.5049559
    let conf = term(&r, "d1_worst", "confidence_term");
    assert!((conf - 1.504_955_9).abs() < 1e-6, "{conf}");
    // the expert term uses every A_j rounded up to a power of two (at most twice A_j)
    let km = 40.0;
    let sum_sq = r.experts.iter().fold(0.0, |s, e| {
        let a = round_up_to_grid(e.scale).value;
        assert!(a >= e.scale && a < 2.0 * e.scale);
        s + a * a
    });
    let sum_x: f64 = inputs().iter().map(|v| v * v).sum::<f64>() + 40.0; // bias folded
    let want = sum_sq.sqrt() * (1.0 * sum_x).sqrt() / km;
    let got = term(&r, "d1_worst", "expert_complexity");
    assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
    // the price is a named scalar of the report
    let scalars = r.scalars();
    assert!(
        scalars
            .iter()
            .any(|(n, v)| n == "d1_worst.budget_log_count" && *v == price)
    );
}

#[test]
fn topk_softmax_at_k2_is_a2_heuristic_for_step4_and_valid_by_the_remark() {
    let r = report(2, GateConfig::TopkSoftmax, RouterConfig::Linear);
    let worst = r.get("d1_worst").unwrap();
    assert_eq!(worst.validity, Validity::Heuristic);
    assert!(worst.note.as_deref().unwrap().contains("A2"));
    let a2 = r.get("d1_a2").unwrap();
    assert_eq!(a2.validity, Validity::ValidA2, "{:?}", a2.note);
    assert_eq!(a2.validity.to_string(), "valid (A2 remark)");
    // the remark pays for T expert and T router budgets: 8 ln 61 = 32.8869909
    assert!((term(&r, "d1_a2", "budget_log_count") - 32.886_990_9).abs() < 1e-6);
    // and is looser than the Step-4 form
    assert!(a2.total > worst.total);
    // softmax_topk at k = 1 is A2 too (its weight p_j < 1)
    let s = report(1, GateConfig::SoftmaxTopk, RouterConfig::Linear);
    assert_eq!(s.get("d1_worst").unwrap().validity, Validity::Heuristic);
    assert_eq!(s.get("d1_a2").unwrap().validity, Validity::ValidA2);
    // all T logits are read at every input: router_sum = Σ_t R̂_t sqrt(Σ ||(x,1)||²) > 0
    assert!(term(&s, "d1_a2", "router_sum") > 0.0);
}

#[test]
fn mlp_router_is_shape() {
    for k in [1, 2] {
        let r = report(k, GateConfig::TopkSoftmax, RouterConfig::Mlp { hidden: 5 });
        for name in ["zhao", "zhao_golowich", "d1_worst", "d1_a2", "kratsios"] {
            assert_eq!(
                r.get(name).unwrap().validity,
                Validity::Shape,
                "{name} k {k}"
            );
        }
        assert_eq!(r.get("d1_learned").unwrap().validity, Validity::Heuristic);
    }
}

/// k = T: the selection is constant, d_N = 0 and every routing term is 0 (THEORY.md §1.5).
#[test]
fn k_equal_t_has_no_routing_term() {
    for router in [RouterConfig::Linear, RouterConfig::Mlp { hidden: 5 }] {
        let r = report(4, GateConfig::TopkSoftmax, router);
        assert_eq!(r.router.d_n, 0.0);
        assert_eq!(r.router.d_n_validity, Validity::Valid, "{router:?}");
        assert_eq!(r.router.natarajan.exact, 0.0);
        if let Some(a) = &r.router.arrangement {
            assert_eq!(a.log_count, 0.0);
        }
        for name in ["zhao", "zhao_golowich", "d1_learned", "d1_worst", "d1_a2"] {
            assert_eq!(term(&r, name, "routing_term"), 0.0, "{name} {router:?}");
            assert_eq!(term(&r, name, "routing_log_count"), 0.0, "{name}");
        }
        // the MLP router's d_N is exact at k = T, so nothing is a shape but the VC curve
        assert_eq!(r.get("zhao").unwrap().validity, Validity::Restated);
    }
}

/// `zhao` = §1.5 with BFT experts (C = 1) and the empirical-form confidence term, by hand.
#[test]
fn paper_form_zhao_matches_the_formula_by_hand() {
    let r = report(2, GateConfig::TopkSoftmax, RouterConfig::Linear);
    // d = 3, T = 4, k = 2, m = 40: d_N = (d+1)(T-1) = 12;
    // routing log-count = 2 k d_N (1 + ln(T/k)) + d_N ln(2m) = 48 (1 + ln 2) + 12 ln 80
    //                   = 48 * 1.6931472 + 12 * 4.3820266 = 81.2710647 + 52.5843196 = 133.8553843
    assert_eq!(r.router.d_n, 12.0);
    let rlc = term(&r, "zhao", "routing_log_count");
    assert!((rlc - 133.855_384_3).abs() < 1e-6, "{rlc}");
    // routing term 2 sqrt(133.8553843 / 80) = 2 sqrt(1.6731923) = 2 * 1.2935194 = 2.5870387
    assert!((term(&r, "zhao", "routing_term") - 2.587_038_7).abs() < 1e-6);
    // confidence 3 sqrt(ln(40) / 80) = 3 * 0.2147347 = 0.6442041 (no margin price)
    assert!((term(&r, "zhao", "confidence_term") - 0.644_204_1).abs() < 1e-6);
    // expert term 4 R̂_BFT, not multiplied by C = 1/γ = 2 again; Golowich variant 4 C R̂
    let bft = r.rademacher_m_bft;
    assert!(bft > 0.0);
    assert_eq!(term(&r, "zhao", "expert_term"), 4.0 * bft);
    assert_eq!(
        term(&r, "zhao_golowich", "expert_term"),
        4.0 * 2.0 * r.rademacher_m
    );
    let want = 4.0 * bft + 2.587_038_7 + 0.644_204_1;
    assert!((r.get("zhao").unwrap().total - want).abs() < 2e-6);
}

/// A margin chosen from the data adds its nats under every ramp bound's confidence root.
#[test]
fn margin_price_enters_every_ramp_bound() {
    let m = model(
        1,
        GateConfig::TopkSoftmax,
        RouterConfig::Linear,
        ExpertConfig::default(),
    );
    let fixed = report_of(&m, &SETTINGS);
    let p10 = report_of(
        &m,
        &BoundSettings {
            margin_log_count: 3.0,
            ..SETTINGS
        },
    );
    for name in ["zhao", "zhao_golowich", "d1_learned", "d1_worst", "d1_a2"] {
        assert_eq!(term(&p10, name, "margin_log_count"), 3.0, "{name}");
        let (c0, c1) = (
            term(&fixed, name, "confidence_term"),
            term(&p10, name, "confidence_term"),
        );
        // 3 sqrt((L + 3)/80) with L = c0² 80 / 9
        let l = c0 * c0 * 80.0 / 9.0;
        assert!(
            (c1 - 3.0 * ((l + 3.0) / 80.0).sqrt()).abs() < 1e-12,
            "{name}"
        );
    }
    assert_eq!(
        fixed.get("kratsios").unwrap().total,
        p10.get("kratsios").unwrap().total
    );
    assert!(
        BoundSettings {
            margin_log_count: -1.0,
            ..SETTINGS
        }
        .validate()
        .is_err()
    );
}

/// PReLU slopes of 3 in both hidden layers multiply Golowich, Neyshabur and BFT's R by 3² = 9.
#[test]
fn prelu_slope_three_multiplies_the_measures_by_three_per_layer() {
    let expert = ExpertConfig {
        depth: 2,
        width: 6,
        activation: ActivationKind::Prelu,
        ..Default::default()
    };
    let mut m = model(2, GateConfig::TopkSoftmax, RouterConfig::Linear, expert);
    let set = |m: &mut SparseMoe<f64>, slope: f64| {
        let mut n = 0;
        for p in m.params_mut() {
            if p.name.contains(".acts.") {
                p.value.iter_mut().for_each(|v| *v = slope);
                n += 1;
            }
        }
        assert_eq!(n, 4 * 2, "one slope tensor per hidden layer and expert");
    };
    set(&mut m, 1.0);
    let one = report_of(&m, &SETTINGS);
    set(&mut m, 3.0);
    let three = report_of(&m, &SETTINGS);
    for (a, b) in one.experts.iter().zip(&three.experts) {
        assert!((b.scale - 9.0 * a.scale).abs() <= 1e-12 * b.scale);
        if let (Some(g1), Some(g3)) = (a.golowich, b.golowich) {
            assert!((g3 - 9.0 * g1).abs() <= 1e-12 * g3);
            let (n1, n3) = (a.neyshabur.unwrap(), b.neyshabur.unwrap());
            assert!((n3 - 9.0 * n1).abs() <= 1e-12 * n3);
            // BFT: 4/n + main term, and the main term has Π ρ_i s_i with ρ = 3 twice
            let n = a.load as f64;
            let (m1, m3) = (a.bft.unwrap() - 4.0 / n, b.bft.unwrap() - 4.0 / n);
            assert!((m3 - 9.0 * m1).abs() <= 1e-9 * m3, "{m3} vs 9 * {m1}");
        }
    }
    assert!((three.rademacher_m - 9.0 * one.rademacher_m).abs() <= 1e-12 * three.rademacher_m);
}
