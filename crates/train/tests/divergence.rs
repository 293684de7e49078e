//! A run whose loss becomes non-finite stops and records why; it is not an error.

use smoe_tasks::{DataConfig, SyntheticData};
use smoe_train::{OptimKind, RunStatus, TrainConfig, train};

#[test]
fn exploding_learning_rate_is_recorded_as_diverged() {
    let mut cfg = TrainConfig {
        data: DataConfig::Synthetic(SyntheticData {
            m_train: 512,
            m_test: 256,
            ..Default::default()
        }),
        ..Default::default()
    };
    cfg.train.epochs = 50;
    cfg.train.optimizer = OptimKind::Sgd;
    cfg.train.lr = 1e30;
    let rec = train(&cfg, &mut |_| {})
        .expect("a divergence is not an error")
        .record;
    assert_eq!(rec.status, RunStatus::Diverged);
    let why = rec.failure.expect("a reason");
    assert!(why.contains("non-finite"), "{why}");
    assert!(rec.final_eval.is_none());
    assert!(rec.epochs.len() < 50);
}
