//! `eval.gamma`: a fixed γ, or `"p10"` — the 10th percentile of the training margins
//! (sorted ascending, element ⌊m/10⌋) rounded down to the grid {2^j : j = −20..20} — used by
//! every ramp metric of the final evaluation and by the bounds, with ln 41 nats recorded.

use smoe_model::{Model, ModelConfig, SparseConfig, build_model};
use smoe_tasks::{DataConfig, Dataset, SyntheticData, TaskConfig};
use smoe_train::{LossConfig, MarginRule, TrainConfig, train};

/// 25 training samples (so the percentile is the 3rd smallest margin), 40 test samples.
fn config() -> TrainConfig {
    let mut cfg = TrainConfig {
        data: DataConfig::Synthetic(SyntheticData {
            d: 3,
            m_train: 25,
            m_test: 40,
            task: TaskConfig::MixtureOfLinear {
                clusters: 2,
                noise: 0.0,
            },
            fresh_batches: false,
        }),
        model: ModelConfig::Sparse(SparseConfig {
            experts: 2,
            k: 1,
            ..Default::default()
        }),
        ..Default::default()
    };
    cfg.train.epochs = 40;
    cfg.train.batch_size = 25;
    cfg.train.lr = 0.05;
    cfg.train.eval_every = 10;
    cfg.eval.mc_draws = 5;
    cfg
}

/// The margins y_i f(x_i) of `model` on `data`.
fn margins(model: &dyn Model<f32>, data: &Dataset<f32>) -> Vec<f64> {
    let out = model.infer(data.x.view()).expect("infer");
    out.f
        .iter()
        .zip(data.y.iter())
        .map(|(&f, &y)| f as f64 * y as f64)
        .collect()
}

/// The mean ramp loss at margin γ: 1 for m ≤ 0, 1 − m/γ below γ, 0 above.
fn mean_ramp(margins: &[f64], gamma: f64) -> f64 {
    margins
        .iter()
        .map(|&m| {
            if m <= 0.0 {
                1.0
            } else {
                (1.0 - m / gamma).max(0.0)
            }
        })
        .sum::<f64>()
        / margins.len() as f64
}

/// By hand: the 3rd smallest of 25 margins, then the largest 2^j at or below it.
fn hand_p10(m: &[f64]) -> (f64, f64) {
    let mut sorted = m.to_vec();
    sorted.sort_by(f64::total_cmp);
    let p = sorted[sorted.len() / 10]; // Jiang et al.: index ⌊m/10⌋
    let mut gamma = 2f64.powi(20);
    while gamma > p && gamma > 2f64.powi(-20) {
        gamma /= 2.0;
    }
    (p, gamma)
}

/// The p10 rule with its fallback: γ from the positive margins when the percentile is ≤ 0.
fn hand_gamma(m: &[f64]) -> (f64, f64) {
    let (p, gamma) = hand_p10(m);
    if p > 0.0 {
        return (p, gamma);
    }
    let positive: Vec<f64> = m.iter().copied().filter(|&v| v > 0.0).collect();
    (p, hand_p10(&positive).1)
}

#[test]
fn p10_gamma_is_the_rounded_percentile_of_the_final_training_margins() {
    let cfg = config();
    assert_eq!(cfg.eval.gamma, MarginRule::P10, "the default");
    let out = train(&cfg, &mut |_| {}).expect("runs");
    let r = &out.record;
    let m = margins(out.model.as_ref(), &out.train_set);
    let (p, gamma) = hand_p10(&m);
    assert!(p > 2f64.powi(-20), "trained to positive margins: {p}");
    let rec = r.margin.as_ref().expect("margin");
    assert_eq!(rec.rule, "p10");
    assert_eq!(rec.percentile_value, Some(p));
    assert_eq!(rec.gamma, gamma);
    assert!(gamma <= p && p < 2.0 * gamma);
    assert!(!rec.floored);
    assert_eq!(rec.grid_points, 41);
    assert!((rec.log_count - 41f64.ln()).abs() < 1e-15);
    let scalar = r.scalars().into_iter().find(|(n, _)| n == "margin.gamma");
    assert_eq!(scalar.and_then(|(_, v)| v), Some(gamma));
    // the bounds and every ramp metric of the final evaluation use it
    let b = r.bounds.as_ref().expect("bounds");
    assert_eq!(b.gamma, gamma);
    assert!((b.lipschitz - 1.0 / gamma).abs() < 1e-12);
    assert_eq!(b.m, 25);
    let fin = r.final_eval.as_ref().expect("final");
    assert_eq!(fin.gamma, Some(gamma));
    let train_ramp = mean_ramp(&m, gamma);
    let test_ramp = mean_ramp(&margins(out.model.as_ref(), &out.test_set), gamma);
    assert!((fin.train.get("ramp").expect("ramp") - train_ramp).abs() < 1e-12);
    assert!((fin.test.get("ramp").expect("ramp") - test_ramp).abs() < 1e-12);
    assert!((fin.gap("gap_ramp").expect("gap") - (test_ramp - train_ramp)).abs() < 1e-12);
    // an intermediate evaluation chose its own γ from that model's margins
    assert!(r.epochs[9].eval.as_ref().and_then(|e| e.gamma).is_some());
    // init_test: the same rule on the initial model (built again from the seed)
    let init = build_model::<f32>(&cfg.model, 3, cfg.seed).expect("init");
    let (_, g0) = hand_gamma(&margins(init.as_ref(), &out.train_set));
    let init_ramp = mean_ramp(&margins(init.as_ref(), &out.test_set), g0);
    assert!((r.init_test.get("ramp").expect("ramp") - init_ramp).abs() < 1e-12);
}

#[test]
fn a_non_positive_percentile_falls_back_to_the_positive_margins() {
    // one tiny step from a random initialisation: a near-chance classifier, so more than a
    // tenth of the margins are negative and the percentile is ≤ 0; γ then comes from the
    // 10th percentile of the positive margins (rounded down to the grid)
    let mut cfg = config();
    cfg.train.epochs = 1;
    cfg.train.lr = 1e-9;
    let out = train(&cfg, &mut |_| {}).expect("runs");
    let rec = out.record.margin.as_ref().expect("margin");
    let all = margins(out.model.as_ref(), &out.train_set);
    let (p, _) = hand_p10(&all);
    assert!(p <= 0.0, "{p}");
    let positive: Vec<f64> = all.iter().copied().filter(|&v| v > 0.0).collect();
    let (_, gamma) = hand_p10(&positive);
    assert!(gamma > 2f64.powi(-20), "{gamma}");
    assert_eq!(rec.percentile_value, Some(p));
    assert_eq!(rec.gamma, gamma);
    assert!(rec.fallback && !rec.floored);
    assert_eq!(out.record.bounds.as_ref().expect("bounds").gamma, gamma);
}

#[test]
fn a_fixed_gamma_is_recorded_as_such_and_a_loss_without_margin_records_none() {
    let mut cfg = config();
    cfg.train.epochs = 2;
    cfg.eval.gamma = MarginRule::Fixed(0.5);
    let out = train(&cfg, &mut |_| {}).expect("runs");
    let rec = out.record.margin.as_ref().expect("margin");
    assert_eq!(
        (
            rec.rule.as_str(),
            rec.gamma,
            rec.percentile_value,
            rec.grid_points
        ),
        ("fixed", 0.5, None, 1)
    );
    assert_eq!(rec.log_count, 0.0);
    assert_eq!(out.record.bounds.as_ref().expect("bounds").gamma, 0.5);
    let m = margins(out.model.as_ref(), &out.train_set);
    let fin = out.record.final_eval.as_ref().expect("final");
    assert!((fin.train.get("ramp").expect("ramp") - mean_ramp(&m, 0.5)).abs() < 1e-12);

    // the squared loss has no margin: "p10" is ignored and the record says `margin: null`
    let mut reg = config();
    reg.train.epochs = 2;
    reg.loss = LossConfig::Squared;
    if let DataConfig::Synthetic(s) = &mut reg.data {
        s.task = TaskConfig::l2_norm_regression();
    }
    let r = train(&reg, &mut |_| {}).expect("squared runs").record;
    assert!(r.margin.is_none());
    assert!(r.final_eval.as_ref().expect("final").gamma.is_none());
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["margin"], serde_json::Value::Null);
}

#[test]
fn full_batch_fitting_uses_the_winning_restarts_p10_margin() {
    let mut cfg = config();
    cfg.train.full_batch = Some(smoe_train::FullBatchConfig {
        restarts: 2,
        max_iters: 30,
        ..Default::default()
    });
    let out = train(&cfg, &mut |_| {}).expect("runs");
    let r = &out.record;
    assert!(
        r.stopping.is_none(),
        "full-batch runs have their own record"
    );
    let (p, gamma) = hand_p10(&margins(out.model.as_ref(), &out.train_set));
    let rec = r.margin.as_ref().expect("margin");
    assert_eq!((rec.percentile_value, rec.gamma), (Some(p), gamma));
    assert_eq!(r.final_eval.as_ref().and_then(|e| e.gamma), Some(gamma));
    assert_eq!(r.bounds.as_ref().expect("bounds").gamma, gamma);
    // each restart's evaluation chose its own γ
    assert!(
        r.epochs
            .iter()
            .all(|e| e.eval.as_ref().is_none_or(|v| v.gamma.is_some()))
    );
}
