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
