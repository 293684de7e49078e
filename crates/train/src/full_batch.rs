//! Full-batch fitting (`[train.full_batch]`): L-BFGS or Adam on the whole training set from
//! several initialisations, keeping the restart with the lowest final objective. The
//! objective, the restarts' seeds and what is recorded are defined in [`FullBatchConfig`]
//! and [`FullBatchRecord`].

use std::time::Instant;

use ndarray::s;
use smoe_model::{Model, build_model};
use smoe_nn::{
    Adam, AdamConfig, Lbfgs, LbfgsConfig, LbfgsStop, Optimizer, Progress, WolfeParams, grad_vector,
    param_vector, set_param_vector, stream_seed,
};
use smoe_tasks::Dataset;

use crate::loss::Loss;
use crate::margin_eval::evaluate_pair;
use crate::metrics::EVAL_BLOCK;
use crate::record::EpochEval;
use crate::step::{BatchValue, forward_backward};
use crate::{
    EpochRecord, FullBatchConfig, FullBatchOptimizer, FullBatchRecord, LrSchedule, MarginRecord,
    RestartRecord, Result, TrainConfig, TrainError,
};

/// The line search's relative rounding floor ε ([`WolfeParams::approx_eps`]): the model
/// computes in f32, whose rounding moves the objective by ~1e-7 relative (more when experts'
/// outputs cancel), so near a minimum steps are accepted on their slopes (approximate Wolfe)
/// once values agree within `1e-6 · |J|` (Hager & Zhang's default).
pub(crate) const APPROX_WOLFE_EPS: f64 = 1e-6;

/// What full-batch fitting hands back to the trainer.
pub(crate) struct FullBatchRun {
    /// One record per restart.
    pub epochs: Vec<EpochRecord>,
    /// The winning restart's evaluation (`None` if every restart diverged).
    pub final_eval: Option<EpochEval>,
    /// The margin of the winner's evaluation (`None` for a loss without one).
    pub margin: Option<MarginRecord>,
    /// Why the run failed (every restart diverged), if it did.
    pub failure: Option<String>,
    /// The restarts and the winner.
    pub record: FullBatchRecord,
    /// Training samples processed (evaluations × m).
    pub samples: f64,
    /// Seconds in objective evaluations.
    pub train_secs: f64,
    /// Seconds in the per-restart evaluations.
    pub eval_secs: f64,
}

/// The full training objective `J(θ)` of [`FullBatchConfig`] over one dataset, evaluated
/// block by block through the trainer's own forward/backward pass.
struct Objective<'a> {
    model: &'a mut dyn Model<f32>,
    loss: &'a dyn Loss,
    cfg: &'a TrainConfig,
    experts: usize,
    data: &'a Dataset<f32>,
    /// Evaluations so far.
    evals: usize,
    /// Seconds spent in evaluations.
    secs: f64,
}

/// The objective's parts at one point.
struct Point {
    value: f64,
    parts: BatchValue,
    diverged: Option<String>,
}

impl Objective<'_> {
    /// `J` and `∇J` at the model's current parameters (`+∞` and a NaN gradient when the
    /// forward pass diverges). The model's gradients hold `∇(J − (λ/2)‖θ‖²)` afterwards.
    fn at_current(&mut self, grad: &mut [f64]) -> Result<Point> {
        let t = Instant::now();
        self.evals += 1;
        self.model.zero_grad();
        let m = self.data.len();
        let mut parts = BatchValue::default();
        let mut error = None;
        for start in (0..m).step_by(EVAL_BLOCK) {
            let end = (start + EVAL_BLOCK).min(m);
            let share = (end - start) as f64 / m as f64;
            let x = self.data.x.slice(s![start..end, ..]);
            let y: Vec<f32> = self.data.y.slice(s![start..end]).to_vec();
            let v = match forward_backward(
                self.model,
                self.loss,
                &self.cfg.aux,
                self.experts,
                x,
                &y,
                share as f32,
                false,
            )? {
                Ok(v) => v,
                Err(reason) => {
                    grad.fill(f64::NAN);
                    self.secs += t.elapsed().as_secs_f64();
                    return Ok(Point {
                        value: f64::INFINITY,
                        parts,
                        diverged: Some(format!("rows {start}..{end}: {reason}")),
                    });
                }
            };
            parts.loss += share * v.loss;
            parts.balance += share * v.balance;
            parts.z += share * v.z;
            parts.importance += share * v.importance;
            if let Some(e) = v.error {
                *error.get_or_insert(0.0) += share * e;
            }
        }
        parts.error = error;
        let params = self.model.params();
        let lambda = self.cfg.train.weight_decay;
        let mut value = parts.total();
        for ((gi, g), th) in grad
            .iter_mut()
            .zip(grad_vector(&params))
            .zip(param_vector(&params))
        {
            *gi = g + lambda * th;
            value += 0.5 * lambda * th * th;
        }
        self.secs += t.elapsed().as_secs_f64();
        Ok(Point {
            value,
            parts,
            diverged: None,
        })
    }

    /// `J(θ)` and `∇J(θ)`: writes `θ` into the model (rounded to f32) first.
    fn at(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<Point> {
        set_param_vector(&mut self.model.params_mut(), theta)?;
        self.at_current(grad)
    }
}

fn lbfgs_stop(s: LbfgsStop) -> &'static str {
    match s {
        LbfgsStop::GradientTolerance => "gradient_tolerance",
        LbfgsStop::RelativeDecrease => "relative_decrease",
        LbfgsStop::MaxIterations => "max_iterations",
        LbfgsStop::LineSearchFailed => "line_search_failed",
        LbfgsStop::NonFinite => "non_finite",
    }
}

/// How one restart ended: stop reason, iterations, last step or learning rate.
struct Ended {
    stop: &'static str,
    iterations: usize,
    lr: f64,
}

fn run_lbfgs(obj: &mut Objective<'_>, fb: &FullBatchConfig, x0: Vec<f64>) -> Result<Ended> {
    let opt = Lbfgs::new(LbfgsConfig {
        history: fb.history,
        max_iters: fb.max_iters,
        grad_tol: fb.tol,
        ftol: fb.ftol,
        wolfe: WolfeParams {
            approx_eps: APPROX_WOLFE_EPS,
            ..WolfeParams::default()
        },
    })?;
    let out = opt.minimize::<TrainError>(x0, &mut |x, g| obj.at(x, g).map(|p| p.value))?;
    set_param_vector(&mut obj.model.params_mut(), &out.x)?;
    Ok(Ended {
        stop: lbfgs_stop(out.stop),
        iterations: out.iterations,
        lr: out.last_step,
    })
}

fn inf_norm(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

fn run_adam(obj: &mut Objective<'_>, fb: &FullBatchConfig, x0: &[f64]) -> Result<Ended> {
    let t = &obj.cfg.train;
    // the decay λθ added to the gradient is the gradient of the objective's (λ/2)‖θ‖²
    let mut opt = Adam::<f32>::new(AdamConfig {
        lr: t.lr,
        beta1: t.beta1,
        beta2: t.beta2,
        eps: 1e-8,
        weight_decay: t.weight_decay,
        decoupled: false,
    })?;
    let schedule = LrSchedule {
        lr: t.lr,
        kind: t.schedule,
        warmup: 0,
        total: fb.max_iters,
    };
    set_param_vector(&mut obj.model.params_mut(), x0)?;
    let mut grad = vec![0.0; x0.len()];
    let (mut iterations, mut lr) = (0, 0.0);
    let stop = loop {
        let p = obj.at_current(&mut grad)?;
        if p.diverged.is_some() || !p.value.is_finite() {
            break "diverged";
        }
        if inf_norm(&grad) <= fb.tol {
            break "gradient_tolerance";
        }
        if iterations >= fb.max_iters {
            break "max_iterations";
        }
        lr = schedule.at(iterations);
        opt.set_lr(lr);
        opt.step(&mut obj.model.tensors_mut())?;
        iterations += 1;
    };
    Ok(Ended {
        stop,
        iterations,
        lr,
    })
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// The initial parameters and seed of restart `r` (see [`FullBatchConfig`]).
fn initial(
    cfg: &TrainConfig,
    model: &dyn Model<f32>,
    r: usize,
    base: &[f64],
) -> Result<(Vec<f64>, u64)> {
    if r == 0 {
        return Ok((base.to_vec(), model.seed()));
    }
    let seed = stream_seed(cfg.seed, "restart", r as u64);
    let cannot = || TrainError::InvalidConfig {
        field: "train.full_batch.restarts",
        value: cfg.train.full_batch.map_or(0, |f| f.restarts).to_string(),
        reason: "restarts after the first rebuild the model from its config, which smoe cannot do for this model (custom components?)",
    };
    let fresh = build_model::<f32>(&cfg.model, model.input_dim(), seed).map_err(|_| cannot())?;
    let v = param_vector(&fresh.params());
    if v.len() != base.len() {
        return Err(cannot());
    }
    Ok((v, seed))
}

fn describe_objective(cfg: &TrainConfig, loss: &dyn Loss, m: usize) -> String {
    let blocks = m.div_ceil(EVAL_BLOCK);
    let mut s = format!(
        "mean {} loss over the {m} training samples ({blocks} block(s) of at most {EVAL_BLOCK} rows)",
        loss.config().kind()
    );
    let a = &cfg.aux;
    for (name, c) in [
        ("balance", a.balance),
        ("z_loss", a.z_loss),
        ("importance", a.importance),
    ] {
        if c > 0.0 {
            s += &format!(" + {name} {c} (per block, block-size weighted)");
        }
    }
    if cfg.train.weight_decay > 0.0 {
        s += &format!(
            " + (lambda/2) ||theta||^2, lambda = {}",
            cfg.train.weight_decay
        );
    }
    s + "; no routing noise"
}

/// Fits `model` full-batch on `train` as `fb` says, evaluates each restart on `train` and
/// `test`, and leaves the winning restart's parameters in `model`.
///
/// # Errors
/// A noisy gate, a model that cannot be rebuilt for restarts, sizes beyond the cap, model
/// errors other than divergence.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    cfg: &TrainConfig,
    fb: &FullBatchConfig,
    model: &mut dyn Model<f32>,
    loss: &dyn Loss,
    train: &Dataset<f32>,
    test: &Dataset<f32>,
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<FullBatchRun> {
    cfg.check_full_batch_model(&cfg.model)?;
    let base = param_vector(&model.params());
    let n = base.len();
    smoe_nn::check_elements(
        "the full-batch optimiser's state (parameters × (2 · history + 8))",
        fb.history
            .checked_mul(2)
            .and_then(|h| h.checked_add(8))
            .and_then(|h| h.checked_mul(n)),
    )?;
    if fb.restarts > 1 {
        initial(cfg, model, 1, &base)?;
    }
    model.on_progress(&Progress::at(1, 1, 1));
    let gaps = loss.gaps();
    let mut epochs = Vec::with_capacity(fb.restarts.min(1024));
    let mut restarts = Vec::with_capacity(fb.restarts.min(1024));
    let mut best: Option<(usize, f64, Vec<f64>)> = None;
    let (mut evals, mut fit_secs, mut eval_secs) = (0, 0.0, 0.0);
    let mut last_divergence = None;
    let mut grad = vec![0.0; n];
    let mut margins = Vec::with_capacity(fb.restarts.min(1024));
    for r in 0..fb.restarts {
        let (x0, init_seed) = initial(cfg, model, r, &base)?;
        let mut obj = Objective {
            model: &mut *model,
            loss,
            cfg,
            experts: cfg.model.experts(),
            data: train,
            evals: 0,
            secs: 0.0,
        };
        let start = obj.at(&x0, &mut grad)?.value;
        let ended = match fb.optimizer {
            FullBatchOptimizer::Lbfgs => run_lbfgs(&mut obj, fb, x0)?,
            FullBatchOptimizer::Adam => run_adam(&mut obj, fb, &x0)?,
        };
        let fin = obj.at_current(&mut grad)?;
        let restart_evals = obj.evals;
        evals += restart_evals;
        fit_secs += obj.secs;
        let value = finite(fin.value);
        if let Some(d) = &fin.diverged {
            last_divergence = Some(format!("restart {r}: {d}"));
        }
        let t = Instant::now();
        let eval = match value {
            Some(_) => {
                let (e, m) = evaluate_pair(&*model, loss, cfg.eval.gamma, train, test, &gaps)?;
                margins.push(m);
                Some(e)
            }
            None => {
                margins.push(None);
                None
            }
        };
        eval_secs += t.elapsed().as_secs_f64();
        if let Some(v) = value
            && best.as_ref().is_none_or(|b| v < b.1)
        {
            best = Some((r, v, param_vector(&model.params())));
        }
        restarts.push(RestartRecord {
            restart: r,
            init_seed,
            initial_objective: finite(start),
            final_objective: value,
            grad_inf_norm: finite(inf_norm(&grad)),
            iterations: ended.iterations,
            evaluations: restart_evals,
            stop: if fin.diverged.is_some() {
                "diverged".into()
            } else {
                ended.stop.into()
            },
        });
        let rec = EpochRecord {
            epoch: r + 1,
            lr: ended.lr,
            running_loss: fin.parts.loss,
            running_error: fin.parts.error,
            balance_loss: fin.parts.balance,
            z_loss: fin.parts.z,
            importance_loss: fin.parts.importance,
            eval,
        };
        on_epoch(&rec);
        epochs.push(rec);
    }
    let (best_index, best_objective, failure) = match &best {
        Some((r, v, theta)) => {
            set_param_vector(&mut model.params_mut(), theta)?;
            (*r, Some(*v), None)
        }
        None => (
            0,
            None,
            Some(format!(
                "full-batch fitting: every restart ended with a non-finite objective ({})",
                last_divergence.unwrap_or_else(|| "non-finite loss".into())
            )),
        ),
    };
    let reached_best = best_objective.map_or(0, |b| {
        let scale = b.abs().max(1e-12);
        restarts
            .iter()
            .filter_map(|r| r.final_objective)
            .filter(|v| (v - b).abs() <= fb.best_rtol * scale)
            .count()
    });
    let final_eval = best
        .as_ref()
        .and_then(|(r, ..)| epochs.get(*r))
        .and_then(|e| e.eval.clone());
    let margin = best
        .as_ref()
        .and_then(|(r, ..)| margins.get(*r).cloned())
        .flatten();
    Ok(FullBatchRun {
        epochs,
        final_eval,
        margin,
        failure,
        record: FullBatchRecord {
            optimizer: fb.optimizer,
            objective: describe_objective(cfg, loss, train.len()),
            restarts,
            best: best_index,
            best_objective,
            reached_best,
            best_rtol: fb.best_rtol,
        },
        samples: (evals * train.len()) as f64,
        train_secs: fit_secs,
        eval_secs,
    })
}
