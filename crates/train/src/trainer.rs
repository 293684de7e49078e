//! The training loop: [`fit`] trains any model with any loss on given data; [`train`] builds
//! the data, model and loss of a config and calls it.

use std::time::Instant;

use smoe_model::{Model, build_model};
use smoe_nn::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use smoe_tasks::{Dataset, LoadedData, Task, load_data};
use smoe_theory::{BoundSettings, bound_report, model_voronoi_loss};

use crate::aux::BALANCE_CONVENTION;
use crate::loss::{Loss, build_loss};
use crate::margin_eval::evaluate_test;
use crate::minibatch::MiniBatch;
use crate::record::SCHEMA;
use crate::{
    EpochRecord, LrSchedule, OptimKind, Result, RunRecord, RunStatus, Timings, TrainConfig,
    TrainError, validation_split,
};

/// A trained model with its record and the data it saw.
#[derive(Debug)]
pub struct TrainOutcome {
    /// The record (git commit left `None`; the caller may fill it).
    pub record: RunRecord,
    /// The model after the last step.
    pub model: Box<dyn Model<f32>>,
    /// The training set it was trained on (with early stopping: the fit set, without the
    /// validation split).
    pub train_set: Dataset<f32>,
    /// The test set it was evaluated on.
    pub test_set: Dataset<f32>,
}

fn optimizer(cfg: &TrainConfig) -> Result<Box<dyn Optimizer<f32>>> {
    let t = &cfg.train;
    Ok(match t.optimizer {
        OptimKind::Sgd => Box::new(Sgd::new(SgdConfig {
            lr: t.lr,
            momentum: t.momentum,
            weight_decay: t.weight_decay,
        })?),
        OptimKind::Adam | OptimKind::Adamw => Box::new(Adam::new(AdamConfig {
            lr: t.lr,
            beta1: t.beta1,
            beta2: t.beta2,
            eps: 1e-8,
            weight_decay: t.weight_decay,
            decoupled: t.optimizer == OptimKind::Adamw,
        })?),
    })
}

fn aux_convention(cfg: &TrainConfig) -> String {
    let a = &cfg.aux;
    format!(
        "balance={} ({BALANCE_CONVENTION}); z_loss={}; importance={} (CV^2 of summed gate weights, population variance)",
        a.balance, a.z_loss, a.importance
    )
}

/// The task to draw fresh training batches from when the data config sets
/// `fresh_batches` (see [`smoe_tasks::SyntheticData::fresh_batches`]); `None` otherwise.
///
/// # Errors
/// [`TrainError::InvalidConfig`] if `fresh_batches` is set but the data carries no task.
fn fresh_task(data: &LoadedData) -> Result<Option<&Task>> {
    if !data.config.fresh_batches() {
        return Ok(None);
    }
    data.task
        .as_ref()
        .map(Some)
        .ok_or(TrainError::InvalidConfig {
            field: "data.fresh_batches",
            value: "true".into(),
            reason: "needs a synthetic task to draw from (the data carries none)",
        })
}

/// Trains the model of `cfg` on its data source with its loss, then computes the bounds:
/// [`load_data`] + [`build_model`] + [`build_loss`] + [`fit`]. `on_epoch` sees each epoch's
/// record as it ends. Relative data paths are resolved against `base_dir` when given.
///
/// Deterministic: the same config gives the same record (timings aside) whatever the number
/// of threads.
///
/// # Errors
/// Config errors before anything runs; data, model and bound errors. A run that diverges is
/// not an error: its record has status `diverged` and the reason.
pub fn train(cfg: &TrainConfig, on_epoch: &mut dyn FnMut(&EpochRecord)) -> Result<TrainOutcome> {
    train_in(cfg, None, on_epoch)
}

/// [`train`] with relative data paths resolved against `base_dir`.
///
/// # Errors
/// As [`train`].
pub fn train_in(
    cfg: &TrainConfig,
    base_dir: Option<&std::path::Path>,
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<TrainOutcome> {
    let start = Instant::now();
    cfg.validate()?;
    let data = load_data(&cfg.data, cfg.seed, base_dir)?;
    cfg.check_workspace(data.train.dim(), data.train.len())?;
    let mut model = build_model::<f32>(&cfg.model, data.train.dim(), cfg.seed)?;
    let loss = build_loss(&cfg.loss, cfg.eval.gamma.initial())?;
    let mut record = fit(cfg, model.as_mut(), loss.as_ref(), &data, on_epoch)?;
    // early stopping trained on the fit set: hand back that one (the same seeded split)
    let fit_set = match &cfg.train.early_stopping {
        Some(es) => Some(validation_split(&data.train, es, cfg.seed)?.0),
        None => None,
    };
    if let (Some(c), RunStatus::Ok) = (&cfg.certify, record.status) {
        let train = fit_set.as_ref().unwrap_or(&data.train);
        let cert =
            crate::certify::certify_run(cfg, c, model.as_ref(), train, &data, &|_, _, _| {})?;
        record.certificate = Some(cert);
    }
    record.timings.total_secs = start.elapsed().as_secs_f64();
    let LoadedData { train, test, .. } = data;
    let train = fit_set.unwrap_or(train);
    Ok(TrainOutcome {
        record,
        model,
        train_set: train,
        test_set: test,
    })
}

/// Trains `model` (any [`Model`], e.g. one assembled with `SparseMoe::from_parts` from a
/// user's own router, gate and experts) with `loss` (any [`Loss`]) on `data.train` (or, with
/// `data.fresh_batches`, on `m_train` fresh samples of `data.task` per epoch, drawn from the
/// stream `("task-fresh", epoch)` of the seed; the train metrics are then measured on the
/// fixed `data.train`, which the model never trains on),
/// evaluates it on `data.train` and `data.test` as `settings.train.eval_every` says (with
/// the ramp margin `settings.eval.gamma` chooses, [`crate::MarginRule`]), stops by the rules
/// of `settings.train` ([`crate::stopping`]; with early stopping the model trains on the fit
/// set, `data.train` without a seeded validation split, and every train metric and bound is
/// of the fit set), and
/// computes every bound when `settings.eval.bounds` is on and the loss has a bounded
/// surrogate, and the Voronoi loss against the teacher when `data.task` is
/// `softmax-gated-regression` and the model's mixing measure can be read
/// ([`RunRecord::recovery`]). `settings` gives the seed and the `train`, `aux` and `eval` sections; the
/// record's config is `settings` with its model, loss and data replaced by what was used
/// (`model.config()`, `loss.config()`, `data.config`).
///
/// # Errors
/// [`TrainError::InvalidConfig`] for bad settings; [`TrainError::Targets`] when the data's
/// targets are not what the loss needs; model and bound errors.
pub fn fit(
    settings: &TrainConfig,
    model: &mut dyn Model<f32>,
    loss: &dyn Loss,
    data: &LoadedData,
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<RunRecord> {
    let start = Instant::now();
    settings.validate_settings()?;
    settings.validate_for_model(&model.config())?;
    let mut cfg = settings.clone();
    cfg.model = model.config();
    cfg.loss = loss.config();
    cfg.data = data.config.clone();
    let cfg = &cfg;
    for (name, set) in [("training", &data.train), ("test", &data.test)] {
        if set.targets != loss.targets() {
            return Err(TrainError::Targets {
                set: name,
                loss: loss.config().kind().to_string(),
                needs: loss.targets(),
                got: set.targets,
            });
        }
    }
    cfg.check_full_batch_model(&cfg.model)?;
    let fresh = fresh_task(data)?;
    if fresh.is_some() && cfg.train.full_batch.is_some() {
        return Err(TrainError::InvalidConfig {
            field: "data.fresh_batches",
            value: "true".into(),
            reason: "train.full_batch fits one fixed training set; fresh batches draw a new one \
                     each epoch",
        });
    }
    if fresh.is_some() && cfg.train.early_stopping.is_some() {
        return Err(TrainError::InvalidConfig {
            field: "data.fresh_batches",
            value: "true".into(),
            reason: "[train.early_stopping] carves its validation set from one fixed training \
                     set; fresh batches draw a new one each epoch",
        });
    }
    // early stopping: the fit set and the validation set carved from the training set
    let split = match &cfg.train.early_stopping {
        Some(es) => Some(validation_split(&data.train, es, cfg.seed)?),
        None => None,
    };
    let (train_set, validation) = match &split {
        Some((fit, val)) => (fit, Some(val)),
        None => (&data.train, None),
    };
    let test_set = &data.test;
    let m_train = train_set.len();
    let mut opt = optimizer(cfg)?;
    let steps_per_epoch = m_train.div_ceil(cfg.train.batch_size);
    let (budget_steps, budget_epochs) = cfg.train.budget(m_train);
    if budget_epochs > crate::MAX_EPOCHS {
        return Err(TrainError::InvalidConfig {
            field: "train.steps",
            value: format!("{budget_steps} ({budget_epochs} epochs of {m_train} samples)"),
            reason: "makes more than 1 000 000 epochs (at most one record each)",
        });
    }
    let schedule = LrSchedule {
        lr: cfg.train.lr,
        kind: cfg.train.schedule,
        warmup: (cfg.train.warmup_epochs * steps_per_epoch as f64).round() as usize,
        total: budget_steps,
    };
    let mut eval_secs = 0.0;
    let t0 = Instant::now();
    let init_test = evaluate_test(&*model, loss, cfg.eval.gamma, train_set, test_set)?;
    eval_secs += t0.elapsed().as_secs_f64();

    let epochs;
    let failure;
    let train_secs;
    let mut full_batch = None;
    let mut stopping = None;
    let (final_eval, margin, samples) = if let Some(fb) = &cfg.train.full_batch {
        let run = crate::full_batch::run(cfg, fb, model, loss, train_set, test_set, on_epoch)?;
        epochs = run.epochs;
        failure = run.failure;
        train_secs = run.train_secs;
        eval_secs += run.eval_secs;
        full_batch = Some(run.record);
        (run.final_eval, run.margin, run.samples)
    } else {
        let mb = MiniBatch {
            cfg,
            loss,
            train: train_set,
            test: test_set,
            validation,
            fresh,
            schedule,
            epochs: budget_epochs,
        };
        let run = crate::minibatch::run(&mb, model, opt.as_mut(), on_epoch)?;
        epochs = run.epochs;
        failure = run.failure;
        train_secs = run.train_secs;
        eval_secs += run.eval_secs;
        stopping = Some(run.stopping);
        (run.final_eval, run.margin, run.samples)
    };
    // the bounds are of top-k sparse MoE: another kind of model records why there are none
    let bounds_note = (cfg.eval.bounds && final_eval.is_some() && cfg.model.as_sparse().is_none())
        .then(|| {
            format!(
                "no bound of smoe covers a {} model (the bounds are of top-k sparse MoE)",
                cfg.model.kind()
            )
        });
    let subsets = match (&cfg.eval.subsets, &final_eval) {
        (Some(sub), Some(_)) => {
            let t = Instant::now();
            let s = crate::subsets::evaluate_subsets(&*model, loss, test_set, sub, cfg.seed)?;
            eval_secs += t.elapsed().as_secs_f64();
            s
        }
        _ => Vec::new(),
    };
    let bounds = match (
        cfg.eval.bounds && final_eval.is_some() && bounds_note.is_none(),
        loss.bound_lipschitz(),
    ) {
        (true, Some(_)) => {
            let t = Instant::now();
            let report = bound_report(
                &*model,
                train_set.x.view(),
                &BoundSettings {
                    delta: cfg.eval.delta,
                    gamma: margin
                        .as_ref()
                        .map_or(cfg.eval.gamma.initial(), |m| m.gamma),
                    mc_draws: cfg.eval.mc_draws,
                    seed: cfg.seed,
                    margin_log_count: margin.as_ref().map_or(0.0, |m| m.log_count),
                },
            )?;
            eval_secs += t.elapsed().as_secs_f64();
            Some(report)
        }
        _ => None,
    };
    // parameter recovery against a softmax-gated teacher, when the model's measure is readable
    let recovery = match (&final_eval, data.task.as_ref()) {
        (Some(_), Some(task)) => task
            .softmax_gated_teacher()
            .and_then(|t| model_voronoi_loss(&*model, t).ok()),
        _ => None,
    };
    Ok(RunRecord {
        schema: SCHEMA,
        smoe_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: None,
        config: cfg.clone(),
        seed: cfg.seed,
        data: data.description.clone(),
        status: if failure.is_some() {
            RunStatus::Diverged
        } else {
            RunStatus::Ok
        },
        failure,
        aux_convention: aux_convention(cfg),
        params: model.num_params(),
        bayes_error: data.bayes_error,
        init_test,
        epochs,
        margin: final_eval.as_ref().and(margin),
        final_eval,
        bounds,
        stopping,
        full_batch,
        recovery,
        bounds_note,
        subsets,
        certificate: None,
        timings: Timings {
            train_secs,
            eval_secs,
            total_secs: start.elapsed().as_secs_f64(),
            train_samples_per_sec: if train_secs > 0.0 {
                samples / train_secs
            } else {
                0.0
            },
            threads: rayon::current_num_threads(),
        },
    })
}
