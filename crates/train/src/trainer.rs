//! The training loop: [`fit`] trains any model with any loss on given data; [`train`] builds
//! the data, model and loss of a config and calls it.

use std::time::Instant;

use ndarray::{Array1, Axis};
use rand::seq::SliceRandom;
use smoe_model::{AuxGrad, Model, ModelError, build_model};
use smoe_nn::{Adam, AdamConfig, Optimizer, Progress, Sgd, SgdConfig, stream_rng};
use smoe_tasks::{Dataset, LoadedData, load_data};
use smoe_theory::{BoundSettings, bound_report};

use crate::aux::{BALANCE_CONVENTION, balance, importance, z_loss};
use crate::loss::{Loss, build_loss};
use crate::record::{EpochEval, SCHEMA};
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

/// Whether a model error means the run diverged (non-finite logits) rather than a bug.
fn is_divergence(e: &TrainError) -> bool {
    matches!(
        e,
        TrainError::Model(ModelError::Gating(
            smoe_gating::GatingError::NonFinite { .. }
        ))
    )
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
struct EpochCtx<'a> {
    cfg: &'a TrainConfig,
    loss: &'a dyn Loss,
    schedule: &'a LrSchedule,
    data: &'a Dataset<f32>,
    experts: usize,
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
        let out = match model.forward(xb.view(), true) {
            Ok(o) => o,
            Err(e) => {
                let e = TrainError::from(e);
                if is_divergence(&e) {
                    return Ok(Err(format!("epoch {epoch}, batch {bi}: {e}")));
                }
                return Err(e);
            }
        };
        let f = out.f.as_slice().unwrap_or(&[]);
        let (loss, df) = ctx.loss.value_and_grad(f, &yb);
        let mut total = loss;
        let mut dlogits = None;
        let mut dweight = None;
        if let Some(top) = out.top_k() {
            if a.balance > 0.0 {
                let (v, g) = balance(top.logits.view(), &top.routing.idx, a.balance);
                total += v;
                sums.balance += v;
                dlogits = Some(g);
            }
            if a.z_loss > 0.0 {
                let (v, g) = z_loss(top.logits.view(), a.z_loss);
                total += v;
                sums.z += v;
                dlogits = Some(dlogits.map_or(g.clone(), |d| d + &g));
            }
            if a.importance > 0.0 {
                let (v, g) = importance(
                    top.routing.weight.view(),
                    &top.routing.idx,
                    ctx.experts,
                    a.importance,
                );
                total += v;
                sums.importance += v;
                dweight = Some(g);
            }
        }
        if !total.is_finite() {
            return Ok(Err(format!(
                "epoch {epoch}, batch {bi}: non-finite loss {total}"
            )));
        }
        let df = Array1::from(df);
        model.backward(
            df.view(),
            AuxGrad {
                dweight: dweight.as_ref().map(|g| g.view()),
                dlogits: dlogits.as_ref().map(|g| g.view()),
            },
        )?;
        if cfg.train.clip_norm > 0.0 {
            clip_gradients(model, cfg.train.clip_norm);
        }
        opt.step(&mut model.params_mut())?;
        sums.loss += loss;
        if let Some(e) = ctx.loss.batch_error(f, &yb) {
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
/// user's own router, gate and experts) with `loss` (any [`Loss`]) on `data.train`,
/// evaluates it on `data.train` and `data.test` as `settings.train.eval_every` says, and
/// computes every bound when `settings.eval.bounds` is on and the loss has a bounded
/// surrogate. `settings` gives the seed and the `train`, `aux` and `eval` sections; the
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

    let mut shuffle = stream_rng(cfg.seed, "shuffle", 0);
    let mut order: Vec<usize> = (0..m_train).collect();
    let mut epochs = Vec::new();
    let mut failure = None;
    let mut step = 0;
    let mut train_secs = 0.0;
    let gaps = loss.gaps();
    for epoch in 1..=cfg.train.epochs {
        order.shuffle(&mut shuffle);
        let t = Instant::now();
        let sums = run_epoch(&ctx, model, opt.as_mut(), &order, &mut step, epoch)?;
        train_secs += t.elapsed().as_secs_f64();
        let sums = match sums {
            Ok(s) => s,
            Err(reason) => {
                failure = Some(reason);
                break;
            }
        };
        let last = epoch == cfg.train.epochs;
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
                },
            )?;
            eval_secs += t.elapsed().as_secs_f64();
            Some(report)
        }
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
