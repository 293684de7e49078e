//! The regression configs of issue 11 load and train to the end (shortened by overrides):
//! `softmax-gated-regression.toml` records the Voronoi loss, `l2-norm-regression.toml` trains
//! on fresh batches.

use std::path::Path;

use smoe_train::{RunStatus, TrainConfig, train};

fn load(name: &str, sets: &[&str]) -> TrainConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs")
        .join(name);
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    smoe_experiments::config_io::load(Some(&path), &sets).expect("loads")
}

#[test]
fn softmax_gated_regression_config_records_recovery() {
    let full = load("softmax-gated-regression.toml", &[]);
    assert_eq!(full.model.experts(), 3);
    let cfg = load(
        "softmax-gated-regression.toml",
        &["data.m_train=500", "data.m_test=200", "train.epochs=3"],
    );
    let rec = train(&cfg, &mut |_| {}).expect("train").record;
    assert_eq!(rec.status, RunStatus::Ok);
    let r = rec.recovery.expect("recovery");
    assert!(r.total.is_finite());
    assert_eq!(r.cells.iter().map(Vec::len).sum::<usize>(), 3);
}

#[test]
fn l2_norm_regression_config_trains_on_fresh_batches() {
    let full = load("l2-norm-regression.toml", &[]);
    assert!(full.data.fresh_batches());
    assert_eq!(full.data.dim(), Some(10));
    let cfg = load(
        "l2-norm-regression.toml",
        &[
            "data.m_train=500",
            "data.m_test=200",
            "train.epochs=2",
            "train.batch_size=100",
        ],
    );
    let out = train(&cfg, &mut |_| {}).expect("train");
    assert_eq!(out.record.status, RunStatus::Ok);
    assert!(out.record.recovery.is_none());
    let fin = out.record.final_eval.expect("final");
    assert!(fin.test.get("mse").is_some_and(f64::is_finite));
}

/// `[model.expert] output_activation` is new: old configs (without it) read as before and
/// their resolved form does not mention it; `"sigmoid"` at depth 0 is the FFN expert; `"prelu"`
/// is refused with a clear message.
#[test]
fn output_activation_key_keeps_old_configs() {
    let old = load("train-regression.toml", &[]);
    let e = old.model.as_sparse().expect("sparse").expert;
    assert_eq!(e.output_activation, smoe_nn::ActivationKind::None);
    let json = serde_json::to_string(&old).expect("json");
    assert!(!json.contains("output_activation"), "{json}");
    let sig = load(
        "train-regression.toml",
        &[
            "model.expert.depth=0",
            "model.expert.output_activation=\"sigmoid\"",
        ],
    );
    let e = sig.model.as_sparse().expect("sparse").expert;
    assert_eq!(
        (e.depth, e.output_activation),
        (0, smoe_nn::ActivationKind::Sigmoid)
    );
    assert!(
        serde_json::to_string(&sig)
            .expect("json")
            .contains("\"output_activation\":\"sigmoid\"")
    );
    let bad = load(
        "train-regression.toml",
        &["model.expert.output_activation=\"prelu\"", "train.epochs=1"],
    );
    let e = train(&bad, &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("output_activation"), "{e}");
}
