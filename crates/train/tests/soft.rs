//! Training a Soft MoE: it learns, its routing metrics are in range, it records "no bounds"
//! with the reason, the subset evaluation is recorded per rule and k, and the top-k-only
//! settings are clear errors.

use smoe_experts::ExpertConfig;
use smoe_model::{ModelConfig, SoftConfig, SparseConfig, SubsetRule};
use smoe_tasks::{DataConfig, SyntheticData, TaskConfig};
use smoe_train::{LossConfig, SubsetEvalConfig, TrainConfig, train};

fn cfg(task: TaskConfig, loss: LossConfig) -> TrainConfig {
    let mut c = TrainConfig {
        data: DataConfig::Synthetic(SyntheticData {
            d: 8,
            m_train: 1000,
            m_test: 1000,
            task,
            fresh_batches: false,
        }),
        model: ModelConfig::Soft(SoftConfig {
            experts: 4,
            slots: 1,
            tokens: 4,
            expert: ExpertConfig {
                width: 8,
                ..Default::default()
            },
            ..Default::default()
        }),
        loss,
        ..Default::default()
    };
    c.train.epochs = 15;
    c.train.batch_size = 64;
    c.train.eval_every = 0;
    c.eval.subsets = Some(SubsetEvalConfig {
        rules: vec![
            SubsetRule::Largest,
            SubsetRule::Smallest,
            SubsetRule::Random,
            SubsetRule::Exhaustive,
        ],
        k: vec![1, 4],
    });
    c
}

#[test]
fn a_soft_model_trains_records_its_routing_and_subsets_and_no_bounds() {
    let c = cfg(TaskConfig::NormRegression {}, LossConfig::Squared);
    let rec = train(&c, &mut |_| {}).expect("train").record;
    let fin = rec.final_eval.as_ref().expect("final");
    // it learns: test R² well above 0 (the target is ||x||)
    let r2 = fin.test.get("r2").expect("r2");
    assert!(r2 > 0.5, "R² {r2}");
    let init_mse = rec.init_test.get("mse").expect("mse");
    assert!(fin.test.get("mse").expect("mse") < 0.5 * init_mse);
    // routing metrics in range: entropies within [0, ln m] and [0, ln np], mass sums to 1
    let t = &fin.test;
    let (de, ce) = (
        t.dispatch_entropy.expect("de"),
        t.combine_entropy.expect("ce"),
    );
    assert!(de > 0.0 && de <= 4f64.ln() + 1e-9, "{de}");
    assert!(ce > 0.0 && ce <= 4f64.ln() + 1e-9, "{ce}");
    let mass = t.combine_mass.as_ref().expect("mass");
    assert_eq!(mass.len(), 4);
    assert!((mass.iter().sum::<f64>() - 1.0).abs() < 1e-5, "{mass:?}");
    assert!(t.routing_margin.is_none() && t.load.is_empty());
    let names: Vec<String> = t.scalars().into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"combine_entropy".to_string()), "{names:?}");
    assert!(!names.contains(&"load_entropy".to_string()), "{names:?}");
    // no bounds, with the reason
    assert!(rec.bounds.is_none());
    assert!(
        rec.bounds_note
            .as_deref()
            .is_some_and(|n| n.contains("soft"))
    );
    // the subset evaluation: 4 rules × 2 k, k = n equals the full model for every rule
    assert_eq!(rec.subsets.len(), 8);
    let mse = |rule: SubsetRule, k: usize| -> f64 {
        rec.subsets
            .iter()
            .find(|s| s.rule == rule && s.k == k)
            .and_then(|s| s.test.get("mse").copied().flatten())
            .expect("subset")
    };
    let full = t.get("mse").expect("mse");
    for rule in [
        SubsetRule::Largest,
        SubsetRule::Smallest,
        SubsetRule::Random,
    ] {
        assert!(
            (mse(rule, 4) - full).abs() < 1e-6 * full.max(1.0),
            "{rule:?}"
        );
    }
    // the exhaustive oracle beats every other rule at k = 1
    for rule in [
        SubsetRule::Largest,
        SubsetRule::Smallest,
        SubsetRule::Random,
    ] {
        assert!(mse(SubsetRule::Exhaustive, 1) <= mse(rule, 1), "{rule:?}");
    }
    let scalars: Vec<String> = rec.scalars().into_iter().map(|(n, _)| n).collect();
    assert!(scalars.contains(&"subset.largest.k1.mse".to_string()));
    // the record reads back
    let back: smoe_train::RunRecord = serde_json::from_str(&rec.to_json_line()).expect("json");
    assert_eq!(back.subsets, rec.subsets);
}

#[test]
fn top_k_settings_on_a_soft_model_and_subsets_on_a_sparse_one_are_clear_errors() {
    let mut c = cfg(TaskConfig::NormRegression {}, LossConfig::Squared);
    c.aux.balance = 0.01;
    let e = c.validate().expect_err("aux on soft").to_string();
    assert!(e.contains("aux.balance") && e.contains("top-k"), "{e}");
    let mut c = cfg(TaskConfig::NormRegression {}, LossConfig::Squared);
    c.eval.subsets.as_mut().expect("subsets").k = vec![5];
    let e = c.validate().expect_err("k > n").to_string();
    assert!(e.contains("eval.subsets.k = 5"), "{e}");
    let mut c = cfg(TaskConfig::NormRegression {}, LossConfig::Squared);
    c.model = ModelConfig::Sparse(SparseConfig::default());
    let e = c.validate().expect_err("subsets on sparse").to_string();
    assert!(e.contains("eval.subsets") && e.contains("soft"), "{e}");
    let mut c = cfg(TaskConfig::NormRegression {}, LossConfig::Squared);
    if let ModelConfig::Soft(s) = &mut c.model {
        s.tokens = 3;
    }
    let e = c.validate().expect_err("8 / 3").to_string();
    assert!(e.contains("d = 8 is not divisible by tokens = 3"), "{e}");
}

#[test]
fn a_soft_classifier_trains_with_the_logistic_loss() {
    let mut c = cfg(
        TaskConfig::MixtureOfLinear {
            clusters: 2,
            noise: 0.0,
        },
        LossConfig::Logistic,
    );
    c.eval.subsets = None;
    if let ModelConfig::Soft(s) = &mut c.model {
        s.head = smoe_model::SoftHead::Linear;
    }
    let rec = train(&c, &mut |_| {}).expect("train").record;
    let err = rec.final_eval.as_ref().and_then(|f| f.test.get("error"));
    let init = rec.init_test.get("error").expect("init");
    eprintln!("soft classifier: test error {err:?}, at init {init}");
    assert!(
        err.is_some_and(|e| e < 0.25 && e < init - 0.1),
        "{err:?} vs {init}"
    );
    assert!(rec.bounds.is_none() && rec.bounds_note.is_some());
}
