//! The run config: one TOML file (plus `--set` overrides) determines a run with its seed.

use serde::{Deserialize, Serialize};
use smoe_model::{ModelConfig, SubsetRule, deserialize_model};
use smoe_tasks::{DataConfig, deserialize_data_config};

use crate::loss::{LossConfig, deserialize_loss};
use crate::{EarlyStoppingConfig, MarginRule, Result, TrainError};

/// A complete run: data source, model, loss, training, auxiliary losses, evaluation, seed.
///
/// Every section and field has a default that runs (the default config trains in well under
/// 30 s); unknown keys are rejected; each kind table (`[data]`, `[model]`, `[model.gate]`,
/// `[model.router]`, `[loss]`) may leave out its `kind` for the default one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Seed of everything: data (streams `task-*`, `data-split`), initial weights (`router`,
    /// `expert`), routing noise (`noise`) and shuffling (`shuffle`). Default 0.
    pub seed: u64,
    /// Where the data comes from (default: the synthetic mixture-of-linear task, d = 16,
    /// 4096 training and 10 000 test samples).
    #[serde(deserialize_with = "deserialize_data_config")]
    pub data: DataConfig,
    /// The model (default `kind = "sparse"`: T = 8, k = 2, linear router, topk_softmax gate,
    /// experts depth 1 width 32).
    #[serde(deserialize_with = "deserialize_model")]
    pub model: ModelConfig,
    /// The loss (default `kind = "logistic"`).
    #[serde(deserialize_with = "deserialize_loss")]
    pub loss: LossConfig,
    /// Optimiser, epochs, batches, schedule, clipping.
    pub train: TrainSection,
    /// Auxiliary routing losses (all off by default).
    pub aux: AuxConfig,
    /// Evaluation settings.
    pub eval: EvalConfig,
    /// A PAC-Bayes certificate of the trained model (`[certify]`; default: none). Every run
    /// of a sweep whose base config has it is certified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certify: Option<smoe_theory::certify::CertifyConfig>,
}

/// Optimiser kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimKind {
    /// Adam with L2 weight decay added to the gradient.
    Adam,
    /// AdamW: decoupled weight decay.
    Adamw,
    /// SGD with momentum and L2 weight decay.
    Sgd,
}

/// Learning-rate schedule kinds (after the warm-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// Constant.
    Constant,
    /// Cosine decay to 0 at the last step.
    Cosine,
}

/// Optimisation settings.
///
/// The budget is `epochs` (default 30) or `steps`; a TOML file (or `--set`) that sets both
/// explicitly is refused with one line. In memory, `steps = Some(_)` takes precedence over
/// `epochs`, and such a section is written without `epochs`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TrainSectionToml", into = "TrainSectionToml")]
pub struct TrainSection {
    /// Epochs (default 30; at most [`MAX_EPOCHS`]); not used when `steps` is set.
    pub epochs: usize,
    /// A budget of optimiser steps instead of epochs, independent of the training-set size m
    /// (absent by default; at most [`MAX_STEPS`]): batches run across epoch boundaries
    /// (reshuffling at each) until `steps` steps are done, so there are
    /// `⌈steps / ⌈m / batch_size⌉⌉` epochs and the last may be partial. The LR schedule,
    /// `warmup_epochs` (converted with the steps of a full epoch, `⌈m / batch_size⌉`) and the
    /// progress hook are over the `steps` total, exactly as over `epochs × ⌈m / batch_size⌉`
    /// otherwise.
    pub steps: Option<usize>,
    /// Stop at the end of the first epoch whose training loss is at most this (absent by
    /// default; finite and > 0). The training loss is the loss's `loss` metric on the whole
    /// training (fit) set (one extra pass over it per epoch; not the running mean over the
    /// epoch's batches), measured on the model as the epoch's last step left it, without auxiliary losses or weight decay. The check is once per epoch (a
    /// partial last epoch of a `steps` budget included); the budget still caps the run.
    pub target_loss: Option<f64>,
    /// Early stopping on a validation split of the training set (`[train.early_stopping]`;
    /// absent by default); see [`EarlyStoppingConfig`]. Not together with `target_loss`.
    pub early_stopping: Option<EarlyStoppingConfig>,
    /// Mini-batch size (default 128).
    pub batch_size: usize,
    /// Optimiser (default adam).
    pub optimizer: OptimKind,
    /// Peak learning rate (default 0.01).
    pub lr: f64,
    /// SGD momentum (default 0.9; ignored by Adam).
    pub momentum: f64,
    /// Adam β₁ (default 0.9).
    pub beta1: f64,
    /// Adam β₂ (default 0.999).
    pub beta2: f64,
    /// Weight decay (default 0).
    pub weight_decay: f64,
    /// Schedule after the warm-up (default constant).
    pub schedule: ScheduleKind,
    /// Linear warm-up length in epochs (default 0).
    pub warmup_epochs: f64,
    /// Clip the global gradient norm to this value; 0 disables (default 0).
    pub clip_norm: f64,
    /// Full evaluation (train and test sets) every this many epochs, and always after the
    /// last; 0 evaluates only at the end (default 1).
    pub eval_every: usize,
    /// Full-batch fitting instead of mini-batch epochs (`[train.full_batch]`; absent by
    /// default). When present, `epochs`, `batch_size`, `optimizer`, `momentum`,
    /// `warmup_epochs`, `clip_norm` and `eval_every` are not used, and `steps`,
    /// `target_loss` and `early_stopping` are refused; see [`FullBatchConfig`].
    pub full_batch: Option<FullBatchConfig>,
}

/// [`TrainSection`] as written in TOML and JSON: `epochs` optional, so that setting both
/// `epochs` and `steps` can be told from the default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct TrainSectionToml {
    #[serde(skip_serializing_if = "Option::is_none")]
    epochs: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_loss: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    early_stopping: Option<EarlyStoppingConfig>,
    batch_size: usize,
    optimizer: OptimKind,
    lr: f64,
    momentum: f64,
    beta1: f64,
    beta2: f64,
    weight_decay: f64,
    schedule: ScheduleKind,
    warmup_epochs: f64,
    clip_norm: f64,
    eval_every: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_batch: Option<FullBatchConfig>,
}

impl Default for TrainSectionToml {
    fn default() -> Self {
        let mut t = Self::from(TrainSection::default());
        t.epochs = None;
        t
    }
}

impl From<TrainSection> for TrainSectionToml {
    fn from(t: TrainSection) -> Self {
        Self {
            epochs: t.steps.is_none().then_some(t.epochs),
            steps: t.steps,
            target_loss: t.target_loss,
            early_stopping: t.early_stopping,
            batch_size: t.batch_size,
            optimizer: t.optimizer,
            lr: t.lr,
            momentum: t.momentum,
            beta1: t.beta1,
            beta2: t.beta2,
            weight_decay: t.weight_decay,
            schedule: t.schedule,
            warmup_epochs: t.warmup_epochs,
            clip_norm: t.clip_norm,
            eval_every: t.eval_every,
            full_batch: t.full_batch,
        }
    }
}

impl TryFrom<TrainSectionToml> for TrainSection {
    type Error = String;

    fn try_from(t: TrainSectionToml) -> std::result::Result<Self, String> {
        if let (Some(e), Some(s)) = (t.epochs, t.steps) {
            return Err(format!(
                "train.epochs = {e} and train.steps = {s} are both set: give one budget"
            ));
        }
        Ok(Self {
            epochs: t.epochs.unwrap_or(DEFAULT_EPOCHS),
            steps: t.steps,
            target_loss: t.target_loss,
            early_stopping: t.early_stopping,
            batch_size: t.batch_size,
            optimizer: t.optimizer,
            lr: t.lr,
            momentum: t.momentum,
            beta1: t.beta1,
            beta2: t.beta2,
            weight_decay: t.weight_decay,
            schedule: t.schedule,
            warmup_epochs: t.warmup_epochs,
            clip_norm: t.clip_norm,
            eval_every: t.eval_every,
            full_batch: t.full_batch,
        })
    }
}

/// Epochs when neither `train.epochs` nor `train.steps` is given.
pub const DEFAULT_EPOCHS: usize = 30;

/// Most optimiser steps a run may ask for ([`TrainSection::steps`]).
pub const MAX_STEPS: usize = 1_000_000_000;

impl TrainSection {
    /// How many epoch records (and progress ticks) a run has: `epochs`, or one per restart
    /// in full-batch mode.
    ///
    /// With a `steps` budget the epochs depend on the training-set size: this is
    /// [`TrainSection::budget`]'s epoch count for `m_train` samples (pass the fit-set size).
    pub fn reported_epochs(&self, m_train: usize) -> usize {
        match self.full_batch {
            Some(f) => f.restarts,
            None => self.budget(m_train).1,
        }
    }

    /// The mini-batch budget for `m_train` training samples: `(steps, epochs)` with
    /// `steps = epochs × ⌈m / batch_size⌉` for an epoch budget, or `train.steps` and
    /// `epochs = ⌈steps / ⌈m / batch_size⌉⌉` for a step budget (saturating; m = 0 counts as 1).
    pub fn budget(&self, m_train: usize) -> (usize, usize) {
        let per_epoch = m_train.max(1).div_ceil(self.batch_size.max(1));
        match self.steps {
            Some(s) => (s, s.div_ceil(per_epoch)),
            None => (self.epochs.saturating_mul(per_epoch), self.epochs),
        }
    }
}

/// Full-batch optimiser kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FullBatchOptimizer {
    /// L-BFGS with a strong Wolfe line search ([`smoe_nn::Lbfgs`]).
    Lbfgs,
    /// Adam (`train.beta1`, `train.beta2`, ε = 1e-8) for `max_iters` steps on the full-batch
    /// gradient, at `train.lr` following `train.schedule` over those steps (no warm-up); its
    /// L2 decay λθ is the gradient of the objective's `(λ/2)‖θ‖²`. The last iterate is kept.
    Adam,
}

/// `[train.full_batch]`: minimise the full training objective over the whole training set,
/// from `restarts` initialisations, and keep the restart with the lowest final objective.
///
/// The objective is deterministic and, for `m` training samples split into consecutive blocks
/// `B` of at most [`crate::metrics::EVAL_BLOCK`] rows,
///
/// `J(θ) = Σ_B (|B| / m) · [L_B(θ) + A_B(θ)] + (λ / 2) ‖θ‖²`
///
/// with `L_B` the loss's mean over block B, `A_B` the configured auxiliary losses (`[aux]`)
/// on block B (for m ≤ `EVAL_BLOCK` one block: exactly the full-batch auxiliary losses) and
/// λ = `train.weight_decay` over every parameter (the L2 decay Adam and SGD add to the
/// gradient). The gates run without routing noise; gates that train with noise are rejected.
/// The progress hook is set once to the end of training (`fraction = 1`), so a schedule
/// (e.g. a temperature) is at its final value throughout.
///
/// Restart 0 starts from the model's own initialisation (the same as a mini-batch run with
/// that seed); restart r ≥ 1 from the parameters of the same model config built with the seed
/// [`smoe_nn::stream_seed`]`(seed, "restart", r)`, written into the model's parameters (state
/// that is not a parameter, such as fixed random embeddings, stays the model's own). The
/// winner's parameters are left in the model; each restart is evaluated on the training and
/// test sets (`epochs[r]` of the record) and the winner's evaluation is the final one.
///
/// The model computes in f32, so the objective resolves relative changes only down to
/// ~1e-7: expect `‖∇J‖_∞` of 1e-8 to 1e-3 at the end depending on the problem's conditioning;
/// each restart's record says why it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FullBatchConfig {
    /// `"lbfgs"` (default) or `"adam"`.
    pub optimizer: FullBatchOptimizer,
    /// Initialisations R (default 1; at most [`MAX_RESTARTS`]).
    pub restarts: usize,
    /// Most iterations per restart: L-BFGS iterations or Adam steps (default 1000; at most
    /// [`MAX_EPOCHS`]).
    pub max_iters: usize,
    /// Stop a restart when the objective's gradient has `‖∇J‖_∞ ≤ tol` (default 1e-6).
    pub tol: f64,
    /// L-BFGS: stop when an iteration's relative change
    /// `|J_k − J_{k+1}| / max(|J_k|, |J_{k+1}|, 1)` is at most `ftol` (default 1e-10). The line
    /// search is strong Wolfe, with Hager & Zhang's approximate Wolfe acceptance below the f32
    /// rounding floor (`1e-6 · |J|`), see [`smoe_nn::strong_wolfe`].
    pub ftol: f64,
    /// L-BFGS: stored correction pairs m (default 10; at most [`MAX_HISTORY`]).
    pub history: usize,
    /// A restart "reached the best" when its final objective is within
    /// `best_rtol · max(|J_best|, 1e-12)` of the best one (default 1e-5: the model computes in
    /// f32, whose rounding makes objectives of the same minimum differ by ~1e-7 relative).
    pub best_rtol: f64,
}

impl Default for FullBatchConfig {
    fn default() -> Self {
        Self {
            optimizer: FullBatchOptimizer::Lbfgs,
            restarts: 1,
            max_iters: 1000,
            tol: 1e-6,
            ftol: 1e-10,
            history: 10,
            best_rtol: 1e-5,
        }
    }
}

/// Most restarts of full-batch fitting ([`FullBatchConfig::restarts`]).
pub const MAX_RESTARTS: usize = 10_000;

/// Most L-BFGS correction pairs ([`FullBatchConfig::history`]).
pub const MAX_HISTORY: usize = 1000;

impl Default for TrainSection {
    fn default() -> Self {
        Self {
            epochs: DEFAULT_EPOCHS,
            steps: None,
            target_loss: None,
            early_stopping: None,
            batch_size: 128,
            optimizer: OptimKind::Adam,
            lr: 0.01,
            momentum: 0.9,
            beta1: 0.9,
            beta2: 0.999,
            weight_decay: 0.0,
            schedule: ScheduleKind::Constant,
            warmup_epochs: 0.0,
            clip_norm: 0.0,
            eval_every: 1,
            full_batch: None,
        }
    }
}

/// Auxiliary routing losses: each coefficient 0 disables its loss explicitly (the record says
/// which were on).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AuxConfig {
    /// Switch load-balancing coefficient α (default 0; see [`crate::aux::BALANCE_CONVENTION`]).
    pub balance: f64,
    /// Router z-loss coefficient β (default 0).
    pub z_loss: f64,
    /// Importance CV² coefficient (default 0).
    pub importance: f64,
}

/// Evaluation settings, and those of the bounds computed beside each run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    /// Margin γ of the ramp loss: a number (a fixed γ > 0) or `"p10"` (default), the 10th
    /// percentile of the training margins on a geometric grid, paid for in the bounds
    /// ([`MarginRule`]); the bounds use C = 1/γ.
    pub gamma: MarginRule,
    /// Failure probability δ of every bound (default 0.05).
    pub delta: f64,
    /// Compute the bounds and complexity measures for the trained model (default true).
    pub bounds: bool,
    /// Sign draws of the linear experts' Monte Carlo Rademacher estimate (default 200; at
    /// most [`MAX_MC_DRAWS`]).
    pub mc_draws: usize,
    /// Expert-subset evaluation of a soft model at the end of the run (`[eval.subsets]`;
    /// absent by default, and an error for other models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsets: Option<SubsetEvalConfig>,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            gamma: MarginRule::P10,
            delta: 0.05,
            bounds: true,
            mc_draws: 200,
            subsets: None,
        }
    }
}

/// `[eval.subsets]`: after the last epoch, the test set is evaluated again with only k
/// experts kept per input, for every rule × k (Chung et al. Algorithm 1 and its controls,
/// [`smoe_model::soft`]); the record's `subsets` list holds the loss's metrics of each.
/// The `random` rule draws from the run's seed; `exhaustive` needs n ≤ 8 and uses the
/// loss of each input's prediction against its target (an oracle).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubsetEvalConfig {
    /// Rules: `"largest"`, `"smallest"`, `"random"`, `"exhaustive"` (at least one).
    pub rules: Vec<SubsetRule>,
    /// Experts kept per input, each `1 ≤ k ≤ n` (at least one).
    pub k: Vec<usize>,
}

/// Most epochs a run may have ([`TrainSection::epochs`]).
pub const MAX_EPOCHS: usize = 1_000_000;

/// Most Monte Carlo sign draws a run may ask for ([`EvalConfig::mc_draws`]): the theory
/// crate's cap, checked here before training rather than after it.
pub const MAX_MC_DRAWS: usize = smoe_theory::MAX_MC_DRAWS;

fn bad(field: &'static str, value: impl ToString, reason: &'static str) -> TrainError {
    TrainError::InvalidConfig {
        field,
        value: value.to_string(),
        reason,
    }
}

fn finite_nonneg(field: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(bad(field, v, "must be finite and >= 0"))
    }
}

fn validate_full_batch(fb: &FullBatchConfig) -> Result<()> {
    if fb.restarts == 0 {
        return Err(bad("train.full_batch.restarts", 0, "must be at least 1"));
    }
    if fb.restarts > MAX_RESTARTS {
        return Err(bad(
            "train.full_batch.restarts",
            fb.restarts,
            "must be at most 10 000",
        ));
    }
    if fb.max_iters == 0 {
        return Err(bad("train.full_batch.max_iters", 0, "must be at least 1"));
    }
    if fb.max_iters > MAX_EPOCHS {
        return Err(bad(
            "train.full_batch.max_iters",
            fb.max_iters,
            "must be at most 1 000 000",
        ));
    }
    if !(1..=MAX_HISTORY).contains(&fb.history) {
        return Err(bad(
            "train.full_batch.history",
            fb.history,
            "must be in 1..=1000",
        ));
    }
    finite_nonneg("train.full_batch.tol", fb.tol)?;
    finite_nonneg("train.full_batch.ftol", fb.ftol)?;
    finite_nonneg("train.full_batch.best_rtol", fb.best_rtol)?;
    Ok(())
}

fn validate_stopping(t: &TrainSection) -> Result<()> {
    if let Some(s) = t.steps {
        if s == 0 {
            return Err(bad("train.steps", 0, "must be at least 1"));
        }
        if s > MAX_STEPS {
            return Err(bad("train.steps", s, "must be at most 1 000 000 000"));
        }
    }
    if let Some(v) = t.target_loss.filter(|v| !(v.is_finite() && *v > 0.0)) {
        return Err(bad("train.target_loss", v, "must be finite and > 0"));
    }
    if let Some(es) = &t.early_stopping {
        if !(es.fraction > 0.0 && es.fraction < 1.0) {
            return Err(bad(
                "train.early_stopping.fraction",
                es.fraction,
                "must be in (0, 1)",
            ));
        }
        if es.patience == 0 {
            return Err(bad(
                "train.early_stopping.patience",
                0,
                "must be at least 1",
            ));
        }
        if es.every == 0 {
            return Err(bad("train.early_stopping.every", 0, "must be at least 1"));
        }
        if let Some(v) = t.target_loss {
            return Err(bad(
                "train.target_loss",
                v,
                "one stopping rule at a time: not together with [train.early_stopping]",
            ));
        }
    }
    if t.full_batch.is_some() {
        for (name, set) in [
            ("train.steps", t.steps.is_some()),
            ("train.target_loss", t.target_loss.is_some()),
            ("train.early_stopping", t.early_stopping.is_some()),
        ] {
            if set {
                return Err(bad(
                    name,
                    "set",
                    "is a mini-batch rule: train.full_batch has its own iteration budget (max_iters)",
                ));
            }
        }
    }
    Ok(())
}

impl TrainConfig {
    /// Checks every field before anything runs.
    ///
    /// # Errors
    /// [`TrainError::InvalidConfig`] naming the field, or the data source's / model's own
    /// errors (the model is checked with the data's d where the config fixes it, e.g. for a
    /// synthetic task; file sources are checked again once their d is read).
    pub fn validate(&self) -> Result<()> {
        self.data.validate()?;
        let d = match (&self.model, self.data.dim()) {
            (_, Some(d)) => d,
            // a file source's d is not known yet: check the model at a width it accepts
            (ModelConfig::Soft(c), None) => c.tokens.max(1),
            (_, None) => 1,
        };
        self.model.validate(d)?;
        self.validate_settings()?;
        self.check_full_batch_model(&self.model)?;
        self.validate_for_model(&self.model)?;
        if let Some(c) = &self.certify {
            c.validate()?;
            if matches!(self.loss, LossConfig::Squared) {
                return Err(bad(
                    "certify",
                    "on",
                    "a certificate bounds the 0-1 error: it needs labels ±1, not the squared loss",
                ));
            }
        }
        if let (Some(d), smoe_tasks::DataConfig::Synthetic(s)) = (self.data.dim(), &self.data) {
            self.check_workspace(d, s.m_train)?;
        }
        Ok(())
    }

    /// Checks that no array of a training batch or an evaluation block of this config's
    /// model, for inputs of width `d` and `m_train` training samples, exceeds
    /// [`smoe_nn::MAX_ELEMENTS`] values: rows ([`crate::metrics::EVAL_BLOCK`] for evaluation,
    /// `min(batch_size, m_train)` for training) times the model's widest row
    /// ([`ModelConfig::widest_row`](smoe_model::ModelConfig::widest_row)).
    ///
    /// # Errors
    /// [`TrainError::TooLarge`].
    pub fn check_workspace(&self, d: usize, m_train: usize) -> Result<()> {
        let widest = self.model.widest_row(d);
        let batch = self.train.batch_size.min(m_train.max(1));
        smoe_nn::check_elements(
            "an array of a training batch (rows × the widest row: T, d or k × width)",
            widest.and_then(|r| r.checked_mul(batch)),
        )?;
        smoe_nn::check_elements(
            &format!(
                "an array of an evaluation block ({} rows × the widest row: T, d or k × width)",
                crate::metrics::EVAL_BLOCK
            ),
            widest.and_then(|r| r.checked_mul(crate::metrics::EVAL_BLOCK)),
        )?;
        Ok(())
    }

    /// Checks that `model` can be fitted full-batch when `[train.full_batch]` is on: its
    /// objective must be deterministic, so gates with routing noise are rejected.
    ///
    /// # Errors
    /// [`TrainError::InvalidConfig`] naming the gate.
    pub fn check_full_batch_model(&self, model: &ModelConfig) -> Result<()> {
        if self.train.full_batch.is_none() {
            return Ok(());
        }
        if let Some(gate) = model
            .as_sparse()
            .map(|s| &s.gate)
            .filter(|g| g.properties().uses_noise)
        {
            return Err(bad(
                "model.gate.kind",
                gate.kind(),
                "train.full_batch needs a deterministic objective: this gate draws routing noise (use its noise-free counterpart)",
            ));
        }
        Ok(())
    }

    /// Checks the settings that depend on the model's kind: auxiliary routing losses are
    /// top-k concepts (a soft model has no selected experts or gate weights to balance), and
    /// `[eval.subsets]` needs a soft model with `k ≤ n` (and `n ≤ 8` for `exhaustive`).
    ///
    /// # Errors
    /// [`TrainError::InvalidConfig`] naming the field.
    pub fn validate_for_model(&self, model: &ModelConfig) -> Result<()> {
        if model.as_sparse().is_none() {
            for (name, v) in [
                ("aux.balance", self.aux.balance),
                ("aux.z_loss", self.aux.z_loss),
                ("aux.importance", self.aux.importance),
            ] {
                if v != 0.0 {
                    return Err(bad(
                        name,
                        v,
                        "auxiliary routing losses are top-k concepts; a soft model has none (set it to 0)",
                    ));
                }
            }
        }
        let Some(sub) = &self.eval.subsets else {
            return Ok(());
        };
        let Some(soft) = model.as_soft() else {
            return Err(bad(
                "eval.subsets",
                model.kind(),
                "expert-subset evaluation needs a soft model (model.kind = \"soft\")",
            ));
        };
        if sub.rules.is_empty() {
            return Err(bad("eval.subsets.rules", "[]", "list at least one rule"));
        }
        if sub.k.is_empty() {
            return Err(bad("eval.subsets.k", "[]", "list at least one k"));
        }
        if let Some(&k) = sub.k.iter().find(|&&k| k == 0 || k > soft.experts) {
            return Err(bad(
                "eval.subsets.k",
                k,
                "each k must satisfy 1 <= k <= model.experts",
            ));
        }
        if sub.rules.contains(&SubsetRule::Exhaustive)
            && soft.experts > smoe_model::soft::MAX_EXHAUSTIVE_EXPERTS
        {
            return Err(bad(
                "model.experts",
                soft.experts,
                "the exhaustive subset rule needs at most 8 experts",
            ));
        }
        Ok(())
    }

    /// Checks the training, auxiliary and evaluation sections (what [`crate::fit`] uses
    /// besides the model, the loss and the data).
    ///
    /// # Errors
    /// [`TrainError::InvalidConfig`] naming the field.
    pub fn validate_settings(&self) -> Result<()> {
        let t = &self.train;
        if t.epochs == 0 {
            return Err(bad("train.epochs", 0, "must be at least 1"));
        }
        if t.epochs > MAX_EPOCHS {
            return Err(bad("train.epochs", t.epochs, "must be at most 1 000 000"));
        }
        if t.batch_size == 0 {
            return Err(bad("train.batch_size", 0, "must be at least 1"));
        }
        if !(t.lr.is_finite() && t.lr > 0.0) {
            return Err(bad("train.lr", t.lr, "must be finite and > 0"));
        }
        for (name, v) in [
            ("train.momentum", t.momentum),
            ("train.beta1", t.beta1),
            ("train.beta2", t.beta2),
        ] {
            if !(0.0..1.0).contains(&v) {
                return Err(bad(name, v, "must be in [0, 1)"));
            }
        }
        finite_nonneg("train.weight_decay", t.weight_decay)?;
        if let Some(fb) = &t.full_batch {
            validate_full_batch(fb)?;
        }
        validate_stopping(t)?;
        finite_nonneg("train.warmup_epochs", t.warmup_epochs)?;
        finite_nonneg("train.clip_norm", t.clip_norm)?;
        finite_nonneg("aux.balance", self.aux.balance)?;
        finite_nonneg("aux.z_loss", self.aux.z_loss)?;
        finite_nonneg("aux.importance", self.aux.importance)?;
        if let Some(g) = self
            .eval
            .gamma
            .fixed()
            .filter(|g| !(g.is_finite() && *g > 0.0))
        {
            return Err(bad("eval.gamma", g, "must be finite and > 0 (or \"p10\")"));
        }
        if !(self.eval.delta > 0.0 && self.eval.delta < 1.0) {
            return Err(bad("eval.delta", self.eval.delta, "must be in (0, 1)"));
        }
        if self.eval.bounds && self.eval.mc_draws == 0 {
            return Err(bad("eval.mc_draws", 0, "must be at least 1"));
        }
        if self.eval.mc_draws > MAX_MC_DRAWS {
            return Err(bad(
                "eval.mc_draws",
                self.eval.mc_draws,
                "must be at most 100 000 (the estimate's error shrinks as 1/sqrt(draws))",
            ));
        }
        Ok(())
    }
}
