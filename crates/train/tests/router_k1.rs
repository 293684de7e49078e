//! At k = 1 the `topk_softmax` gate gives the one selected expert weight exp(z_j)/exp(z_j) = 1
//! whatever the logits, so no gradient reaches the router and its parameters stay
//! bit-identical to their initial values (no auxiliary losses, no weight decay); the
//! `softmax_topk` gate's weight is the full softmax's p_j(x), so its router learns.

use smoe_gating::GateConfig;
use smoe_model::{Model, ModelConfig, SparseConfig, build_model};
use smoe_tasks::{DataConfig, SyntheticData, TaskConfig};
use smoe_train::{TrainConfig, train};

/// The router's parameter values (every `router.*` tensor, in order).
fn router(model: &dyn Model<f32>) -> Vec<f32> {
    model
        .params()
        .iter()
        .filter(|p| p.name.starts_with("router."))
        .flat_map(|p| p.value.iter().copied())
        .collect()
}

/// Trains T = 4, k = 1 with `gate` for 5 epochs; returns (initial, final) router values.
fn trained(gate: GateConfig) -> (Vec<f32>, Vec<f32>) {
    let mut cfg = TrainConfig {
        data: DataConfig::Synthetic(SyntheticData {
            d: 6,
            m_train: 256,
            m_test: 64,
            task: TaskConfig::MixtureOfLinear {
                clusters: 4,
                noise: 0.05,
            },
            fresh_batches: false,
        }),
        model: ModelConfig::Sparse(SparseConfig {
            experts: 4,
            k: 1,
            gate,
            ..Default::default()
        }),
        ..Default::default()
    };
    cfg.train.epochs = 5;
    cfg.train.batch_size = 32;
    cfg.train.eval_every = 0;
    cfg.eval.bounds = false;
    let init = build_model::<f32>(&cfg.model, 6, cfg.seed).expect("init");
    let out = train(&cfg, &mut |_| {}).expect("trains");
    assert!(out.record.final_eval.is_some());
    (router(init.as_ref()), router(out.model.as_ref()))
}

#[test]
fn the_router_learns_at_k1_with_softmax_topk_and_stays_frozen_with_topk_softmax() {
    let (init, fin) = trained(GateConfig::SoftmaxTopk);
    assert!(!init.is_empty());
    assert_eq!(init.len(), fin.len());
    let dist = init
        .iter()
        .zip(&fin)
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum::<f64>()
        .sqrt();
    eprintln!(
        "softmax_topk: router distance {dist:.4} over {} values",
        init.len()
    );
    // 40 Adam steps at lr 0.01 move each coordinate by up to ~0.4: the distance is O(0.1–1)
    assert!(dist > 0.05, "softmax_topk router moved only {dist}");

    let (init, fin) = trained(GateConfig::TopkSoftmax);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&init),
        bits(&fin),
        "topk_softmax router changed at k = 1"
    );
}
