//! Every synthetic task of the catalogue trains end to end with every loss of the catalogue
//! that fits its targets, so a new task or loss is tested by adding it to `examples()`: the
//! record holds exactly the loss's metrics and gaps, finite, and the bounds where the loss has
//! a bounded surrogate.

use smoe_model::{ModelConfig, SparseConfig};
use smoe_tasks::DataConfig;
use smoe_train::{LossConfig, TrainConfig, build_loss, train};

#[test]
fn every_task_trains_with_every_loss_that_fits_its_targets() {
    let mut runs = 0;
    for data in DataConfig::examples() {
        let DataConfig::Synthetic(syn) = &data else {
            panic!("the catalogue holds synthetic tasks");
        };
        for loss in LossConfig::examples() {
            let built = build_loss(&loss, 1.0).expect("loss");
            if built.targets() != syn.task.targets() {
                continue;
            }
            let mut cfg = TrainConfig {
                data: data.clone(),
                model: ModelConfig::Sparse(SparseConfig {
                    experts: 4,
                    k: 2,
                    ..Default::default()
                }),
                loss: loss.clone(),
                ..Default::default()
            };
            cfg.train.epochs = 2;
            cfg.eval.mc_draws = 10;
            let rec = train(&cfg, &mut |_| {})
                .unwrap_or_else(|e| panic!("{} with {}: {e}", syn.task.kind(), loss.kind()))
                .record;
            let fin = rec.final_eval.as_ref().expect("final evaluation");
            let names: Vec<&str> = built.metrics(&[0.5], &[1.0]).iter().map(|m| m.0).collect();
            let mut have: Vec<&str> = fin.test.metrics.keys().map(String::as_str).collect();
            let mut want = names.clone();
            have.sort_unstable();
            want.sort_unstable();
            assert_eq!(have, want, "{}: metrics", syn.task.kind());
            for name in &names {
                assert!(fin.test.get(name).is_some_and(f64::is_finite), "{name}");
            }
            for (gap, metric) in built.gaps() {
                let want =
                    fin.test.get(metric).expect("metric") - fin.train.get(metric).expect("metric");
                assert_eq!(fin.gap(gap), Some(want), "{gap}");
            }
            assert_eq!(rec.bounds.is_some(), built.bound_lipschitz().is_some());
            assert_eq!(rec.data.targets, syn.task.targets());
            runs += 1;
        }
    }
    // eight tasks, one loss each (five with labels, three regression)
    assert_eq!(runs, 8);
}
