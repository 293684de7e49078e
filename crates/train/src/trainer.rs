//! The training loop: [`fit`] trains any model with any loss on given data; [`train`] builds
//! the data, model and loss of a config and calls it.

use std::time::Instant;

use ndarray::Axis;
use rand::seq::SliceRandom;
use smoe_model::{Model, build_model};
use smoe_nn::{Adam, AdamConfig, Optimizer, Progress, Sgd, SgdConfig, stream_rng};
use smoe_tasks::{Dataset, LoadedData, Task, load_data};
use smoe_theory::{BoundSettings, bound_report, model_voronoi_loss};

use crate::aux::BALANCE_CONVENTION;
use crate::loss::{Loss, build_loss};
use crate::record::{EpochEval, SCHEMA};
use crate::step::forward_backward;
use crate::{
    EpochRecord, LrSchedule, OptimKind, Result, RunRecord, RunStatus, Timings, TrainConfig,
    TrainError, evaluate,
};

/// A trained model with its record and the data it saw.
#[derive(Debug)]
pub struct TrainOutcome {
    /// The record (git commit left `None`; the caller may fill it).
    pub record: RunRecord,
    /// The model after the last step.
    pub model: Box<dyn Model<f32>>,
    /// The training set it was trained on.
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

/// Scales all gradients so their global L2 norm is at most `max_norm`; returns the norm before.
fn clip_gradients(model: &mut dyn Model<f32>, max_norm: f64) -> f64 {
    let mut params = model.params_mut();
    let norm = params
        .iter()
        .flat_map(|p| p.grad.iter())
        .map(|&g| (g as f64) * (g as f64))
        .sum::<f64>()
        .sqrt();
    if max_norm > 0.0 && norm > max_norm {
        let s = (max_norm / norm) as f32;
        for p in params.iter_mut() {
            p.grad.iter_mut().for_each(|g| *g *= s);
        }
    }
    norm
}

/// What one epoch of steps produced.
struct EpochSums {
    loss: f64,
    error: Option<f64>,
    balance: f64,
    z: f64,
    importance: f64,
    steps: usize,
    lr: f64,
}

/// Everything an epoch needs besides the model and the optimiser.
#[derive(Clone, Copy)]
struct EpochCtx<'a> {
    cfg: &'a TrainConfig,
    loss: &'a dyn Loss,
    schedule: &'a LrSchedule,
    data: &'a Dataset<f32>,
    experts: usize,
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

/// Runs one epoch; `Err(reason)` inside `Ok` reports divergence.
fn run_epoch(
    ctx: &EpochCtx<'_>,
    model: &mut dyn Model<f32>,
    opt: &mut dyn Optimizer<f32>,
    order: &[usize],
    step: &mut usize,
    epoch: usize,
) -> Result<std::result::Result<EpochSums, String>> {
    let (cfg, data) = (ctx.cfg, ctx.data);
    let mut sums = EpochSums {
        loss: 0.0,
        error: None,
        balance: 0.0,
        z: 0.0,
        importance: 0.0,
        steps: 0,
        lr: 0.0,
    };
    let a = &cfg.aux;
    for (bi, batch) in order.chunks(cfg.train.batch_size).enumerate() {
        let xb = data.x.select(Axis(0), batch);
        let yb: Vec<f32> = batch.iter().map(|&i| data.y[i]).collect();
        let lr = ctx.schedule.at(*step);
        opt.set_lr(lr);
        model.on_progress(&Progress::at(*step, ctx.schedule.total, epoch));
        model.zero_grad();
        let v = match forward_backward(model, ctx.loss, a, ctx.experts, xb.view(), &yb, 1.0, true)?
        {
            Ok(v) => v,
            Err(reason) => return Ok(Err(format!("epoch {epoch}, batch {bi}: {reason}"))),
        };
        sums.balance += v.balance;
        sums.z += v.z;
        sums.importance += v.importance;
        if cfg.train.clip_norm > 0.0 {
            clip_gradients(model, cfg.train.clip_norm);
        }
        opt.step(&mut model.params_mut())?;
        sums.loss += v.loss;
        if let Some(e) = v.error {
            *sums.error.get_or_insert(0.0) += e;
        }
        sums.steps += 1;
        sums.lr = lr;
        *step += 1;
    }
    Ok(Ok(sums))
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
    let loss = build_loss(&cfg.loss, cfg.eval.gamma)?;
    let mut record = fit(cfg, model.as_mut(), loss.as_ref(), &data, on_epoch)?;
    record.timings.total_secs = start.elapsed().as_secs_f64();
    let LoadedData { train, test, .. } = data;
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
/// evaluates it on `data.train` and `data.test` as `settings.train.eval_every` says, and
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
    let (train_set, test_set) = (&data.train, &data.test);
    let m_train = train_set.len();
    let mut opt = optimizer(cfg)?;
    let steps_per_epoch = m_train.div_ceil(cfg.train.batch_size);
    let schedule = LrSchedule {
        lr: cfg.train.lr,
        kind: cfg.train.schedule,
        warmup: (cfg.train.warmup_epochs * steps_per_epoch as f64).round() as usize,
        total: cfg.train.epochs * steps_per_epoch,
    };
    let ctx = EpochCtx {
        cfg,
        loss,
        schedule: &schedule,
        data: train_set,
        experts: cfg.model.experts(),
    };
    let mut eval_secs = 0.0;
    let t0 = Instant::now();
    let init_test = evaluate(&*model, loss, test_set)?;
    eval_secs += t0.elapsed().as_secs_f64();

    let mut epochs = Vec::new();
    let mut failure = None;
    let mut train_secs = 0.0;
    let mut full_batch = None;
    let fresh = fresh_task(data)?;
    if fresh.is_some() && cfg.train.full_batch.is_some() {
        return Err(TrainError::InvalidConfig {
            field: "data.fresh_batches",
            value: "true".into(),
            reason: "train.full_batch fits one fixed training set; fresh batches draw a new one \
                     each epoch",
        });
    }
    let (final_eval, samples) = if let Some(fb) = &cfg.train.full_batch {
        let run = crate::full_batch::run(cfg, fb, model, loss, train_set, test_set, on_epoch)?;
        epochs = run.epochs;
        failure = run.failure;
        train_secs = run.train_secs;
        eval_secs += run.eval_secs;
        full_batch = Some(run.record);
        (run.final_eval, run.samples)
    } else {
        let mut shuffle = stream_rng(cfg.seed, "shuffle", 0);
        let mut order: Vec<usize> = (0..m_train).collect();
        let mut step = 0;
        let gaps = loss.gaps();
        for epoch in 1..=cfg.train.epochs {
            let t = Instant::now();
            let sums = match fresh {
                // fresh batches: m_train new samples of the task in drawn order (i.i.d. already)
                Some(task) => {
                    let set = task.sample::<f32>(
                        m_train,
                        &mut stream_rng(cfg.seed, "task-fresh", epoch as u64),
                    )?;
                    let ctx = EpochCtx { data: &set, ..ctx };
                    run_epoch(&ctx, model, opt.as_mut(), &order, &mut step, epoch)?
                }
                None => {
                    order.shuffle(&mut shuffle);
                    run_epoch(&ctx, model, opt.as_mut(), &order, &mut step, epoch)?
                }
            };
            train_secs += t.elapsed().as_secs_f64();
            let sums = match sums {
                Ok(s) => s,
                Err(reason) => {
                    failure = Some(reason);
                    break;
                }
            };
            let last = epoch == cfg.train.epochs;
            if last {
                // the last step ran at progress (N-1)/N: evaluate (and save) the model with
                // every schedule at its end
                model.on_progress(&Progress::at(schedule.total, schedule.total, epoch));
            }
            let every = cfg.train.eval_every;
            let eval = if last || (every > 0 && epoch % every == 0) {
                let t = Instant::now();
                let e = EpochEval::new(
                    evaluate(&*model, loss, train_set)?,
                    evaluate(&*model, loss, test_set)?,
                    &gaps,
                );
                eval_secs += t.elapsed().as_secs_f64();
                Some(e)
            } else {
                None
            };
            let n = sums.steps.max(1) as f64;
            let rec = EpochRecord {
                epoch,
                lr: sums.lr,
                running_loss: sums.loss / n,
                running_error: sums.error.map(|e| e / n),
                balance_loss: sums.balance / n,
                z_loss: sums.z / n,
                importance_loss: sums.importance / n,
                eval,
            };
            on_epoch(&rec);
            epochs.push(rec);
        }
        let final_eval = if failure.is_none() {
            epochs.last().and_then(|e| e.eval.clone())
        } else {
            None
        };
        let samples = (step * cfg.train.batch_size).min(cfg.train.epochs * m_train) as f64;
        (final_eval, samples)
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
                    gamma: cfg.eval.gamma,
                    mc_draws: cfg.eval.mc_draws,
                    seed: cfg.seed,
                    margin_log_count: 0.0,
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
        final_eval,
        bounds,
        full_batch,
        recovery,
        bounds_note,
        subsets,
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
