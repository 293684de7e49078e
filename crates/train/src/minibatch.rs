//! Mini-batch training: epochs of shuffled batches up to the budget (`train.epochs` or
//! `train.steps`), with the stopping rules of [`crate::stopping`] checked at each epoch's end.

use std::time::Instant;

use ndarray::Axis;
use rand::seq::SliceRandom;
use smoe_model::Model;
use smoe_nn::{Optimizer, Progress, param_vector, set_param_vector, stream_rng};
use smoe_tasks::{Dataset, Task};

use crate::loss::Loss;
use crate::margin_eval::evaluate_pair;
use crate::record::EpochEval;
use crate::step::forward_backward;
use crate::{
    EpochRecord, LrSchedule, MarginRecord, Result, StopRule, StoppingRecord, TrainConfig,
    ValidationRecord, evaluate,
};

/// Scales all gradients so their global L2 norm is at most `max_norm`; returns the norm before.
fn clip_gradients(model: &mut dyn Model<f32>, max_norm: f64) -> f64 {
    let mut params = model.tensors_mut();
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
    samples: usize,
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

/// Runs one epoch, stopping early when `step` reaches the schedule's total; `Err(reason)`
/// inside `Ok` reports divergence.
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
        samples: 0,
        lr: 0.0,
    };
    let a = &cfg.aux;
    for (bi, batch) in order.chunks(cfg.train.batch_size).enumerate() {
        if *step >= ctx.schedule.total {
            break;
        }
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
        opt.step(&mut model.tensors_mut())?;
        sums.loss += v.loss;
        if let Some(e) = v.error {
            *sums.error.get_or_insert(0.0) += e;
        }
        sums.steps += 1;
        sums.samples += batch.len();
        sums.lr = lr;
        *step += 1;
    }
    Ok(Ok(sums))
}

/// The data and rules of one mini-batch run.
pub(crate) struct MiniBatch<'a> {
    /// The resolved config.
    pub cfg: &'a TrainConfig,
    /// The loss.
    pub loss: &'a dyn Loss,
    /// The fit set (the training set without the validation split).
    pub train: &'a Dataset<f32>,
    /// The test set.
    pub test: &'a Dataset<f32>,
    /// Early stopping's validation set.
    pub validation: Option<&'a Dataset<f32>>,
    /// The task fresh batches are drawn from, if any.
    pub fresh: Option<&'a Task>,
    /// The LR schedule over the budget (its `total` is the budget in steps).
    pub schedule: LrSchedule,
    /// Epochs of the budget.
    pub epochs: usize,
}

/// What a mini-batch run hands back to the trainer.
pub(crate) struct MiniBatchRun {
    pub epochs: Vec<EpochRecord>,
    pub final_eval: Option<EpochEval>,
    pub margin: Option<MarginRecord>,
    pub failure: Option<String>,
    pub stopping: StoppingRecord,
    pub samples: f64,
    pub train_secs: f64,
    pub eval_secs: f64,
}

/// Early stopping's best check so far.
struct Best {
    loss: f64,
    error: Option<f64>,
    epoch: usize,
    progress: Progress,
    params: Vec<f64>,
}

/// Early stopping's state.
struct Watch<'a> {
    data: &'a Dataset<f32>,
    patience: usize,
    every: usize,
    best: Option<Best>,
    bad_checks: usize,
}

impl Watch<'_> {
    /// Checks the validation loss at the end of `epoch`; true when patience ran out.
    fn check(
        &mut self,
        model: &dyn Model<f32>,
        loss: &dyn Loss,
        epoch: usize,
        progress: Progress,
    ) -> Result<bool> {
        let v = evaluate(model, loss, self.data)?;
        let l = v.get("loss");
        match l {
            Some(l) if self.best.as_ref().is_none_or(|b| l < b.loss) => {
                self.best = Some(Best {
                    loss: l,
                    error: v.get("error"),
                    epoch,
                    progress,
                    params: param_vector(&model.params()),
                });
                self.bad_checks = 0;
            }
            _ => self.bad_checks += 1,
        }
        Ok(self.bad_checks >= self.patience)
    }
}

/// Trains `model` with mini-batches over the budget, checking the stopping rules at each
/// epoch's end, evaluating on the `eval_every` epochs and the last, and restoring early
/// stopping's best parameters (and the progress they were checked at) before the final
/// evaluation. Checks and evaluations see the model as its last step left it (progress
/// (s − 1)/N after s steps), except after the budget's last step, when the progress hook is
/// first set to the end (N/N) so that every schedule is at its end; a rule that stops
/// training early leaves the progress where its check saw it.
///
/// # Errors
/// Model, optimiser and data errors.
pub(crate) fn run(
    mb: &MiniBatch<'_>,
    model: &mut dyn Model<f32>,
    opt: &mut dyn Optimizer<f32>,
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<MiniBatchRun> {
    let (cfg, loss) = (mb.cfg, mb.loss);
    let t = &cfg.train;
    let total = mb.schedule.total;
    let ctx = EpochCtx {
        cfg,
        loss,
        schedule: &mb.schedule,
        data: mb.train,
        experts: cfg.model.experts(),
    };
    let m_train = mb.train.len();
    let mut shuffle = stream_rng(cfg.seed, "shuffle", 0);
    let mut order: Vec<usize> = (0..m_train).collect();
    let (mut step, mut samples) = (0, 0usize);
    let (mut train_secs, mut eval_secs) = (0.0, 0.0);
    let gaps = loss.gaps();
    let mut watch = match (mb.validation, &t.early_stopping) {
        (Some(data), Some(es)) => Some(Watch {
            data,
            patience: es.patience,
            every: es.every,
            best: None,
            bad_checks: 0,
        }),
        _ => None,
    };
    let mut epochs = Vec::new();
    let (mut failure, mut fired, mut last_margin) = (None, false, None);
    let mut last_epoch = 0;
    for epoch in 1..=mb.epochs {
        let started = Instant::now();
        let sums = match mb.fresh {
            // fresh batches: m_train new samples of the task in drawn order (i.i.d. already)
            Some(task) => {
                let set = task.sample::<f32>(
                    m_train,
                    &mut stream_rng(cfg.seed, "task-fresh", epoch as u64),
                )?;
                let ctx = EpochCtx { data: &set, ..ctx };
                run_epoch(&ctx, model, opt, &order, &mut step, epoch)?
            }
            None => {
                order.shuffle(&mut shuffle);
                run_epoch(&ctx, model, opt, &order, &mut step, epoch)?
            }
        };
        train_secs += started.elapsed().as_secs_f64();
        last_epoch = epoch;
        let sums = match sums {
            Ok(s) => s,
            Err(reason) => {
                failure = Some(reason);
                break;
            }
        };
        samples += sums.samples;
        // the last step ran at progress (s-1)/N; after the budget's last step, check and
        // evaluate (and save) the model with every schedule at its end (s = N)
        let budget_end = epoch == mb.epochs || step >= total;
        let now = if budget_end {
            let end = Progress::at(step, total, epoch);
            model.on_progress(&end);
            end
        } else {
            Progress::at(step.saturating_sub(1), total, epoch)
        };
        let started = Instant::now();
        let mut stop = false;
        if let Some(target) = t.target_loss {
            let l = evaluate(&*model, loss, mb.train)?.get("loss");
            stop = l.is_some_and(|l| l <= target);
        }
        if let Some(w) = watch.as_mut()
            && (epoch % w.every == 0 || budget_end)
        {
            stop = w.check(&*model, loss, epoch, now)?;
        }
        fired = stop && !budget_end;
        let last = budget_end || stop;
        let every = t.eval_every;
        let eval = if last || (every > 0 && epoch % every == 0) {
            let (e, m) = evaluate_pair(&*model, loss, cfg.eval.gamma, mb.train, mb.test, &gaps)?;
            last_margin = m;
            Some(e)
        } else {
            None
        };
        eval_secs += started.elapsed().as_secs_f64();
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
        if last {
            break;
        }
    }
    let mut final_eval = if failure.is_none() {
        epochs.last().and_then(|e| e.eval.clone())
    } else {
        last_margin = None;
        None
    };
    let mut best_epoch = None;
    let mut validation = None;
    if let Some(w) = &watch {
        let best = w.best.as_ref();
        if failure.is_none()
            && let Some(b) = best
        {
            // restore the best check's parameters and progress, and evaluate them
            set_param_vector(&mut model.params_mut(), &b.params)?;
            model.on_progress(&b.progress);
            let started = Instant::now();
            let (e, m) = evaluate_pair(&*model, loss, cfg.eval.gamma, mb.train, mb.test, &gaps)?;
            eval_secs += started.elapsed().as_secs_f64();
            final_eval = Some(e);
            last_margin = m;
        }
        best_epoch = best.map(|b| b.epoch);
        validation = Some(ValidationRecord {
            n: w.data.len(),
            loss: best.map(|b| b.loss),
            error: best.and_then(|b| b.error),
        });
    }
    let rule = if t.early_stopping.is_some() {
        StopRule::EarlyStopping
    } else if t.target_loss.is_some() {
        StopRule::TargetLoss
    } else if t.steps.is_some() {
        StopRule::Steps
    } else {
        StopRule::Epochs
    };
    Ok(MiniBatchRun {
        epochs,
        final_eval,
        margin: last_margin,
        failure,
        stopping: StoppingRecord {
            rule,
            fired,
            epoch: last_epoch,
            step,
            budget_steps: total,
            best_epoch,
            validation,
        },
        samples: samples as f64,
        train_secs,
        eval_secs,
    })
}
