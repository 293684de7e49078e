//! `data.fresh_batches = true`: each epoch trains on m_train fresh samples of the task,
//! deterministically per seed; the train metrics are measured on the fixed training sample and
//! the test set is the usual one.

use smoe_model::{ModelConfig, SparseConfig};
use smoe_tasks::{DataConfig, SyntheticData, TaskConfig, load_data};
use smoe_train::{LossConfig, TrainConfig, TrainError, build_loss, evaluate, fit, train};

fn config(fresh: bool) -> TrainConfig {
    let mut cfg = TrainConfig {
        data: DataConfig::Synthetic(SyntheticData {
            d: 4,
            m_train: 96,
            m_test: 64,
            task: TaskConfig::l2_norm_regression(),
            fresh_batches: fresh,
        }),
        model: ModelConfig::Sparse(SparseConfig {
            experts: 4,
            k: 2,
            ..Default::default()
        }),
        loss: LossConfig::Squared,
        ..Default::default()
    };
    cfg.train.epochs = 3;
    cfg.train.batch_size = 32;
    cfg.train.eval_every = 1;
    cfg
}

#[test]
fn fresh_batches_are_deterministic_and_differ_from_the_fixed_set() {
    let a = train(&config(true), &mut |_| {}).expect("fresh");
    let b = train(&config(true), &mut |_| {}).expect("fresh again");
    assert_eq!(a.record.without_timings(), b.record.without_timings());
    let fixed = train(&config(false), &mut |_| {}).expect("fixed");
    // the same train and test sets: the fixed sample is still the train split
    assert_eq!(a.train_set, fixed.train_set);
    assert_eq!(a.test_set, fixed.test_set);
    // the same first initial test loss, then different training
    assert_eq!(a.record.init_test, fixed.record.init_test);
    let (ra, rf) = (&a.record.epochs, &fixed.record.epochs);
    assert_eq!(ra.len(), 3);
    assert!(
        ra.iter()
            .zip(rf)
            .all(|(x, y)| x.running_loss != y.running_loss),
        "fresh batches trained on the fixed set"
    );
    // "train" metrics are those of the final model on the fixed training sample
    let loss = build_loss(&LossConfig::Squared, 1.0).expect("loss");
    let fin = a.record.final_eval.as_ref().expect("final");
    let on_fixed = evaluate(a.model.as_ref(), loss.as_ref(), &a.train_set).expect("eval");
    assert_eq!(fin.train, on_fixed);
    let on_test = evaluate(a.model.as_ref(), loss.as_ref(), &a.test_set).expect("eval");
    assert_eq!(fin.test, on_test);
    // the resolved config says so
    assert!(a.record.config.data.fresh_batches());
    assert!(!fixed.record.config.data.fresh_batches());
}

#[test]
fn fresh_batches_without_a_task_is_an_error() {
    let cfg = config(true);
    let mut data = load_data(&cfg.data, cfg.seed, None).expect("data");
    data.task = None;
    let mut model = smoe_model::build_model::<f32>(&cfg.model, 4, cfg.seed).expect("model");
    let loss = build_loss(&LossConfig::Squared, 1.0).expect("loss");
    let e = fit(&cfg, model.as_mut(), loss.as_ref(), &data, &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            e,
            TrainError::InvalidConfig {
                field: "data.fresh_batches",
                ..
            }
        ),
        "{e}"
    );
}
