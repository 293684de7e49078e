//! The same config and seed give byte-identical records (timings aside) with 1 and with 2
//! threads; different seeds give different records.

use smoe_experts::ExpertConfig;
use smoe_gating::GateConfig;
use smoe_model::{ModelConfig, SparseConfig};
use smoe_tasks::{DataConfig, SyntheticData};
use smoe_train::{TrainConfig, train};

fn cfg(seed: u64) -> TrainConfig {
    let mut c = TrainConfig {
        seed,
        ..Default::default()
    };
    c.data = DataConfig::Synthetic(SyntheticData {
        m_train: 3000,
        m_test: 5000,
        ..Default::default()
    });
    c.train.epochs = 3;
    c.model = ModelConfig::Sparse(SparseConfig {
        experts: 16,
        k: 2,
        expert: ExpertConfig {
            width: 64,
            ..Default::default()
        },
        gate: GateConfig::NoisyTopk,
        ..Default::default()
    });
    c.aux.balance = 0.01;
    c.aux.z_loss = 0.001;
    c.train.batch_size = 512;
    c
}

fn record_json(seed: u64, threads: usize) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    let rec = pool.install(|| train(&cfg(seed), &mut |_| {}).expect("train").record);
    assert_eq!(rec.timings.threads, threads);
    serde_json::to_string(&rec.without_timings()).expect("json")
}

#[test]
fn one_and_two_threads_give_identical_records() {
    let a = record_json(7, 1);
    let b = record_json(7, 2);
    assert_eq!(a, b);
    let c = record_json(8, 2);
    assert_ne!(a, c);
}
