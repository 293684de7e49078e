//! The training loop.

use std::time::Instant;

use ndarray::{Array1, Axis};
use rand::seq::SliceRandom;
use smoe_model::{AuxGrad, ModelError, SparseMoe};
use smoe_nn::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig, stream_rng};
use smoe_tasks::{Dataset, Task};

use crate::aux::{BALANCE_CONVENTION, balance, importance, z_loss};
use crate::loss::{logistic, zero_one};
use crate::record::EpochEval;
use crate::{
    EpochRecord, LrSchedule, OptimKind, Result, RunRecord, RunStatus, Timings, TrainConfig,
    TrainError, evaluate,
};

/// A trained model with its record.
#[derive(Debug)]
pub struct TrainOutcome {
    /// The record (git commit left `None`; the caller may fill it).
    pub record: RunRecord,
    /// The model after the last step.
    pub model: SparseMoe<f32>,
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
fn clip_gradients(model: &mut SparseMoe<f32>, max_norm: f64) -> f64 {
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
    error: f64,
    balance: f64,
    z: f64,
    importance: f64,
    steps: usize,
    lr: f64,
}

/// Runs one epoch; `Err(reason)` inside `Ok` reports divergence.
#[allow(clippy::too_many_arguments)]
fn run_epoch(
    cfg: &TrainConfig,
    model: &mut SparseMoe<f32>,
    opt: &mut dyn Optimizer<f32>,
    schedule: &LrSchedule,
    data: &Dataset<f32>,
    order: &[usize],
    step: &mut usize,
    epoch: usize,
) -> Result<std::result::Result<EpochSums, String>> {
    let mut sums = EpochSums {
        loss: 0.0,
        error: 0.0,
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
        let lr = schedule.at(*step);
        opt.set_lr(lr);
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
        let (loss, df) = logistic(f, &yb);
        let mut total = loss;
        let mut dlogits = None;
        let mut dweight = None;
        if a.balance > 0.0 {
            let (v, g) = balance(out.logits.view(), &out.routing.idx, a.balance);
            total += v;
            sums.balance += v;
            dlogits = Some(g);
        }
        if a.z_loss > 0.0 {
            let (v, g) = z_loss(out.logits.view(), a.z_loss);
            total += v;
            sums.z += v;
            dlogits = Some(dlogits.map_or(g.clone(), |d| d + &g));
        }
        if a.importance > 0.0 {
            let (v, g) = importance(
                out.routing.weight.view(),
                &out.routing.idx,
                cfg.model.experts,
                a.importance,
            );
            total += v;
            sums.importance += v;
            dweight = Some(g);
        }
        if !total.is_finite() {
            return Ok(Err(format!(
                "epoch {epoch}, batch {bi}: non-finite loss {total}"
            )));
        }
        let df = Array1::from(df);
        model.backward_with_aux(
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
        sums.error += f
            .iter()
            .zip(&yb)
            .map(|(&f, &y)| zero_one(f as f64, y as f64))
            .sum::<f64>()
            / yb.len().max(1) as f64;
        sums.steps += 1;
        sums.lr = lr;
        *step += 1;
    }
    Ok(Ok(sums))
}

/// Trains the model of `cfg` on its task; `on_epoch` sees each epoch's record as it ends.
///
/// Deterministic: the same config gives the same record (timings aside) whatever the number
/// of threads.
///
/// # Errors
/// Config errors before anything runs; task and model errors. A run that diverges is not an
/// error: its record has status `diverged` and the reason.
pub fn train(cfg: &TrainConfig, on_epoch: &mut dyn FnMut(&EpochRecord)) -> Result<TrainOutcome> {
    let start = Instant::now();
    cfg.validate()?;
    let task = Task::new(&cfg.task, cfg.data.d, cfg.seed)?;
    let (train_set, test_set) =
        task.train_test::<f32>(cfg.data.m_train, cfg.data.m_test, cfg.seed)?;
    let mut model = SparseMoe::<f32>::new(&cfg.moe_config())?;
    let mut opt = optimizer(cfg)?;
    let steps_per_epoch = cfg.data.m_train.div_ceil(cfg.train.batch_size);
    let schedule = LrSchedule {
        lr: cfg.train.lr,
        kind: cfg.train.schedule,
        warmup: (cfg.train.warmup_epochs * steps_per_epoch as f64).round() as usize,
        total: cfg.train.epochs * steps_per_epoch,
    };
    let gamma = cfg.eval.gamma;
    let mut eval_secs = 0.0;
    let t0 = Instant::now();
    let init_test = evaluate(&model, &test_set, gamma)?;
    eval_secs += t0.elapsed().as_secs_f64();

    let mut shuffle = stream_rng(cfg.seed, "shuffle", 0);
    let mut order: Vec<usize> = (0..cfg.data.m_train).collect();
    let mut epochs = Vec::with_capacity(cfg.train.epochs);
    let mut failure = None;
    let mut step = 0;
    let mut train_secs = 0.0;
    for epoch in 1..=cfg.train.epochs {
        order.shuffle(&mut shuffle);
        let t = Instant::now();
        let sums = run_epoch(
            cfg,
            &mut model,
            opt.as_mut(),
            &schedule,
            &train_set,
            &order,
            &mut step,
            epoch,
        )?;
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
                evaluate(&model, &train_set, gamma)?,
                evaluate(&model, &test_set, gamma)?,
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
            running_error: sums.error / n,
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
    let samples = (step * cfg.train.batch_size).min(cfg.train.epochs * cfg.data.m_train) as f64;
    let record = RunRecord {
        smoe_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: None,
        config: cfg.clone(),
        seed: cfg.seed,
        status: if failure.is_some() {
            RunStatus::Diverged
        } else {
            RunStatus::Ok
        },
        failure,
        aux_convention: aux_convention(cfg),
        params: model.num_params(),
        bayes_error: task.bayes_error(),
        init_test,
        epochs,
        final_eval,
        bounds: None,
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
    };
    Ok(TrainOutcome {
        record,
        model,
        train_set,
        test_set,
    })
}
