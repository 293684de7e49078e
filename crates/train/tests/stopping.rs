//! The training protocol: a step budget independent of m (`train.steps`), a training-loss
//! target (`train.target_loss`) and early stopping on a seeded validation split
//! (`[train.early_stopping]`), with what the record says about each, and the config errors.

use serde::Deserialize;
use smoe_model::{ModelConfig, SparseConfig};
use smoe_tasks::{DataConfig, SyntheticData, TaskConfig, load_data};
use smoe_train::{
    EarlyStoppingConfig, LossConfig, ScheduleKind, StopRule, TrainConfig, TrainError, build_loss,
    evaluate, train, validation_split,
};

/// m training samples, batch 32, T = 4, k = 2, 4 epochs, evaluation every epoch.
fn config(m: usize) -> TrainConfig {
    let mut cfg = TrainConfig {
        data: DataConfig::Synthetic(SyntheticData {
            d: 4,
            m_train: m,
            m_test: 64,
            task: TaskConfig::MixtureOfLinear {
                clusters: 2,
                noise: 0.1,
            },
            fresh_batches: false,
        }),
        model: ModelConfig::Sparse(SparseConfig {
            experts: 4,
            k: 2,
            ..Default::default()
        }),
        ..Default::default()
    };
    cfg.train.epochs = 4;
    cfg.train.batch_size = 32;
    cfg.train.eval_every = 1;
    cfg.eval.bounds = false;
    cfg
}

#[test]
fn a_step_budget_runs_exactly_that_many_steps_across_epochs_whatever_m() {
    // m = 100, batch 32: 4 steps per epoch; 10 steps = epochs of 4, 4, 2
    let mut cfg = config(100);
    cfg.train.steps = Some(10);
    cfg.train.schedule = ScheduleKind::Cosine;
    cfg.train.warmup_epochs = 0.5; // round(0.5 · 4) = 2 warm-up steps
    cfg.train.lr = 0.01;
    let r = train(&cfg, &mut |_| {}).expect("runs").record;
    assert_eq!(r.epochs.len(), 3);
    let s = r.stopping.as_ref().expect("stopping");
    assert_eq!(s.rule, StopRule::Steps);
    assert!(!s.fired);
    assert_eq!((s.epoch, s.step, s.budget_steps), (3, 10, 10));
    // the schedule is over the 10 steps: step 3 (end of epoch 1) is at cosine time (3-2)/8,
    // the last step 9 at (9-2)/8
    let cos = |t: f64| 0.5 * 0.01 * (1.0 + (std::f64::consts::PI * t).cos());
    assert!((r.epochs[0].lr - cos(1.0 / 8.0)).abs() < 1e-15);
    assert!((r.epochs[1].lr - cos(5.0 / 8.0)).abs() < 1e-15);
    assert!((r.epochs[2].lr - cos(7.0 / 8.0)).abs() < 1e-15);
    assert!(r.final_eval.is_some());
    // samples seen: 10 batches, the 4th of each full epoch has 100 - 96 = 4 rows
    // (epoch 1: 32·3 + 4, epoch 2: the same, epoch 3: 2 · 32) = 264
    let seen = r.timings.train_samples_per_sec * r.timings.train_secs;
    assert!((seen - 264.0).abs() < 1e-6 * 264.0, "{seen}");

    // the same budget at m = 200 (7 steps per epoch): epochs of 7 and 3
    let mut big = config(200);
    big.train.steps = Some(10);
    let r = train(&big, &mut |_| {}).expect("runs").record;
    assert_eq!(r.epochs.len(), 2);
    let s = r.stopping.expect("stopping");
    assert_eq!((s.epoch, s.step, s.budget_steps), (2, 10, 10));

    // an epoch budget: 4 epochs × 4 steps
    let r = train(&config(100), &mut |_| {}).expect("runs").record;
    let s = r.stopping.expect("stopping");
    assert_eq!(s.rule, StopRule::Epochs);
    assert_eq!(
        (s.epoch, s.step, s.budget_steps, s.fired),
        (4, 16, 16, false)
    );
}

#[test]
fn the_target_loss_stops_at_the_first_epoch_whose_training_loss_is_below_it() {
    let mut cfg = config(128);
    cfg.train.epochs = 12;
    cfg.train.lr = 0.02;
    let reference = train(&cfg, &mut |_| {}).expect("reference").record;
    let losses: Vec<f64> = reference
        .epochs
        .iter()
        .map(|e| {
            e.eval
                .as_ref()
                .and_then(|v| v.train.get("loss"))
                .expect("loss")
        })
        .collect();
    // the target: the loss after epoch 6; it fires at the first epoch at or below it
    let target = losses[5];
    let first = losses
        .iter()
        .position(|&l| l <= target)
        .expect("epoch 6 itself")
        + 1;
    assert!(first <= 6, "{first}");
    cfg.train.target_loss = Some(target);
    let r = train(&cfg, &mut |_| {}).expect("runs").record;
    let s = r.stopping.as_ref().expect("stopping");
    assert_eq!(s.rule, StopRule::TargetLoss);
    assert!(s.fired);
    assert_eq!((s.epoch, s.step), (first, first * 4));
    assert_eq!(r.epochs.len(), first);
    // the same training up to there: the final evaluation is the reference's at that epoch
    assert_eq!(
        r.final_eval.as_ref(),
        reference.epochs[first - 1].eval.as_ref()
    );
    // a target never reached: the budget ends the run and the rule did not fire
    cfg.train.target_loss = Some(1e-9);
    let s = train(&cfg, &mut |_| {}).expect("runs").record.stopping;
    let s = s.expect("stopping");
    assert_eq!(
        (s.rule, s.fired, s.epoch),
        (StopRule::TargetLoss, false, 12)
    );
}

/// A small noisy task a wide model overfits quickly.
fn overfitting() -> TrainConfig {
    let mut cfg = config(80);
    if let DataConfig::Synthetic(s) = &mut cfg.data {
        s.task = TaskConfig::MixtureOfLinear {
            clusters: 2,
            noise: 0.3,
        };
        s.d = 8;
    }
    cfg.train.epochs = 150;
    cfg.train.batch_size = 16;
    cfg.train.lr = 0.05;
    cfg.train.early_stopping = Some(EarlyStoppingConfig {
        fraction: 0.25,
        patience: 3,
        every: 1,
    });
    cfg
}

#[test]
fn early_stopping_restores_the_best_weights_of_a_seeded_disjoint_split() {
    let cfg = overfitting();
    let out = train(&cfg, &mut |_| {}).expect("runs");
    let r = &out.record;
    let s = r.stopping.as_ref().expect("stopping");
    assert_eq!(s.rule, StopRule::EarlyStopping);
    assert!(s.fired, "the validation loss should stop improving: {s:?}");
    let best = s.best_epoch.expect("best");
    // stopped after `patience` checks (one per epoch) without improvement
    assert_eq!(s.epoch, best + 3);
    assert_eq!(r.epochs.len(), s.epoch);
    // 80 samples: 20 for validation, 60 to fit (4 batches of 16 per epoch)
    let v = s.validation.as_ref().expect("validation");
    assert_eq!(v.n, 20);
    assert_eq!(s.step, s.epoch * 4);
    assert_eq!(out.train_set.len(), 60);
    let fin = r.final_eval.as_ref().expect("final");
    assert_eq!((fin.train.n, fin.test.n), (60, 64));
    // the split: seeded, disjoint, and what fit trained on
    let data = load_data(&cfg.data, cfg.seed, None).expect("data");
    let es = cfg.train.early_stopping.expect("on");
    let (fit, val) = validation_split(&data.train, &es, cfg.seed).expect("split");
    assert_eq!(fit, out.train_set);
    assert_eq!(
        validation_split(&data.train, &es, cfg.seed)
            .expect("again")
            .1,
        val
    );
    assert_ne!(
        validation_split(&data.train, &es, cfg.seed + 1)
            .expect("other")
            .1,
        val
    );
    for row in val.x.rows() {
        assert!(!fit.x.rows().into_iter().any(|f| f == row), "shared row");
    }
    // the final model is the best check's: its validation loss is the recorded best, and its
    // evaluation is the one of the best epoch
    let loss = build_loss(&LossConfig::Logistic, 1.0).expect("loss");
    let now = evaluate(out.model.as_ref(), loss.as_ref(), &val).expect("eval");
    assert_eq!(now.get("loss"), v.loss);
    assert_eq!(now.get("error"), v.error);
    assert_eq!(Some(fin), r.epochs[best - 1].eval.as_ref());
    assert_ne!(Some(fin), r.epochs.last().and_then(|e| e.eval.as_ref()));
    // the sweep's scalars carry the rule's numbers
    let scalar = |name: &str| {
        r.scalars()
            .into_iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v)
    };
    assert_eq!(scalar("stopping.best_epoch"), Some(best as f64));
    assert_eq!(scalar("stopping.fired"), Some(1.0));
    assert_eq!(scalar("validation.loss"), v.loss);
    // checks every 2 epochs: stopped 2 · patience epochs after the best
    let mut every2 = overfitting();
    every2.train.early_stopping = Some(EarlyStoppingConfig { every: 2, ..es });
    let s = train(&every2, &mut |_| {}).expect("runs").record.stopping;
    let s = s.expect("stopping");
    let best = s.best_epoch.expect("best");
    assert_eq!(best % 2, 0);
    assert!(s.fired);
    assert_eq!(s.epoch, best + 6);
}

/// Reads a TOML config the way `smoe train` does (from a parsed table), then validates it.
fn read(text: &str) -> Result<TrainConfig, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let cfg = TrainConfig::deserialize(toml::Value::Table(table)).map_err(|e| e.to_string())?;
    cfg.validate().map_err(|e| e.to_string())?;
    Ok(cfg)
}

#[test]
fn bad_protocol_settings_are_one_line_errors() {
    let cases = [
        ("[train]\nepochs = 3\nsteps = 10", "both set"),
        ("[train]\nsteps = 0", "train.steps"),
        ("[train]\nsteps = -5", "-5"),
        ("[train]\ntarget_loss = -1.0", "train.target_loss"),
        ("[train]\ntarget_loss = nan", "train.target_loss"),
        ("[train.early_stopping]\nfraction = 0.0", "fraction"),
        ("[train.early_stopping]\nfraction = 1.0", "fraction"),
        ("[train.early_stopping]\nfraction = 1.5", "fraction"),
        ("[train.early_stopping]\npatience = 0", "patience"),
        ("[train.early_stopping]\nevery = 0", "every"),
        ("[train.early_stopping]\nwait = 3", "wait"),
        (
            "[train]\ntarget_loss = 0.1\n[train.early_stopping]",
            "one stopping rule",
        ),
        ("[train]\nsteps = 10\n[train.full_batch]", "train.steps"),
        (
            "[train.early_stopping]\n[train.full_batch]",
            "train.early_stopping",
        ),
        ("[eval]\ngamma = \"p11\"", "eval.gamma"),
        ("[eval]\ngamma = -1.0", "eval.gamma"),
        ("[eval]\ngamma = 0.0", "eval.gamma"),
    ];
    for (text, needle) in cases {
        // the message's first line says it all (`smoe` prints errors on one line; the TOML
        // reader may add a line naming the table)
        let e = read(text).expect_err(text);
        let first = e.lines().next().unwrap_or_default();
        assert!(first.contains(needle), "{text:?}: {e}");
    }
    // fresh batches cannot be split: refused when the run starts
    let mut cfg = overfitting();
    if let DataConfig::Synthetic(s) = &mut cfg.data {
        s.fresh_batches = true;
    }
    match train(&cfg, &mut |_| {}) {
        Err(TrainError::InvalidConfig { field, .. }) => assert_eq!(field, "data.fresh_batches"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn budgets_read_and_write_without_changing_old_configs() {
    // neither given: 30 epochs, written as `epochs = 30` as before
    let cfg = read("").expect("default");
    assert_eq!((cfg.train.epochs, cfg.train.steps), (30, None));
    let text = toml::to_string(&cfg).expect("writes");
    assert!(text.contains("epochs = 30"), "{text}");
    assert!(!text.contains("steps ="), "{text}");
    assert!(!text.contains("early_stopping"), "{text}");
    // a step budget is written without epochs and reads back equal
    let cfg = read("[train]\nsteps = 500\ntarget_loss = 0.2").expect("steps");
    assert_eq!(cfg.train.steps, Some(500));
    let text = toml::to_string(&cfg).expect("writes");
    assert!(!text.contains("epochs = 30"), "{text}");
    assert_eq!(read(&text).expect("reads back"), cfg);
    let cfg = read("[train.early_stopping]\npatience = 2").expect("es");
    let es = cfg.train.early_stopping.expect("on");
    assert_eq!((es.fraction, es.patience, es.every), (0.1, 2, 1));
    assert_eq!(read(&toml::to_string(&cfg).expect("w")).expect("r"), cfg);
    // JSON too (records)
    let json = serde_json::to_string(&cfg).expect("json");
    assert_eq!(
        serde_json::from_str::<TrainConfig>(&json).expect("back"),
        cfg
    );
}

#[test]
fn a_step_budget_of_more_than_a_million_epochs_is_refused_before_training() {
    // m = 100, batch 128: one step per epoch, so 2 000 000 steps are 2 000 000 epochs
    let mut cfg = config(100);
    cfg.train.batch_size = 128;
    cfg.train.steps = Some(2_000_000);
    match train(&cfg, &mut |_| {}) {
        Err(TrainError::InvalidConfig { field, value, .. }) => {
            assert_eq!(field, "train.steps");
            assert!(value.contains("2000000 epochs"), "{value}");
        }
        other => panic!("{other:?}"),
    }
}
