//! The run record: one JSON line per run.

use serde::{Deserialize, Serialize};
use smoe_tasks::DataDescription;
use smoe_theory::{BoundReport, VoronoiLoss};

use crate::metrics::Scalars;
use crate::{
    EvalMetrics, FullBatchOptimizer, MarginRecord, StoppingRecord, SubsetEval, TrainConfig,
};

/// Version of the record format; part of every record and of every sweep's resume key, so
/// records of another format are never mixed into a sweep.
pub const SCHEMA: u32 = 2;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// All epochs ran.
    Ok,
    /// A non-finite loss or logit stopped the run (see [`RunRecord::failure`]).
    Diverged,
}

/// Metrics of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// Mean training loss over the epoch's mini-batches (weights changing as it goes).
    pub running_loss: f64,
    /// Mean running error over the epoch's mini-batches (the 0-1 error for classification;
    /// `None` for a loss without one).
    pub running_error: Option<f64>,
    /// Mean balance loss per step (0 when off).
    pub balance_loss: f64,
    /// Mean z-loss per step (0 when off).
    pub z_loss: f64,
    /// Mean importance loss per step (0 when off).
    pub importance_loss: f64,
    /// Full evaluation on the train and test sets, on evaluation epochs.
    pub eval: Option<EpochEval>,
}

/// A full evaluation at the end of an epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochEval {
    /// On the training set.
    pub train: EvalMetrics,
    /// On the test set.
    pub test: EvalMetrics,
    /// The ramp margin γ of this evaluation's metrics (train and test), chosen by
    /// `eval.gamma` ([`crate::MarginRule`]); absent for a loss without a margin and in old
    /// records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    /// The loss's generalization gaps (test − train) by name: `gap_01` and `gap_ramp` for
    /// the logistic loss, `gap_mse` for the squared loss; at the top level of the JSON object.
    #[serde(flatten)]
    pub gaps: Scalars,
}

impl EpochEval {
    /// Pairs train and test metrics with the gaps `gaps` = (gap name, metric) lists.
    pub fn new(
        train: EvalMetrics,
        test: EvalMetrics,
        gaps: &[(&'static str, &'static str)],
    ) -> Self {
        let gaps = gaps
            .iter()
            .map(|&(gap, metric)| {
                let v = match (test.get(metric), train.get(metric)) {
                    (Some(a), Some(b)) => Some(a - b).filter(|g| g.is_finite()),
                    _ => None,
                };
                (gap.to_string(), v)
            })
            .collect();
        Self {
            train,
            test,
            gamma: None,
            gaps,
        }
    }

    /// A gap by name.
    pub fn gap(&self, name: &str) -> Option<f64> {
        self.gaps.get(name).copied().flatten()
    }
}

/// Wall-clock timings (the only part of a record that differs between identical runs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Timings {
    /// Seconds in the training steps.
    pub train_secs: f64,
    /// Seconds in evaluation.
    pub eval_secs: f64,
    /// Seconds for the whole run (data, init, training, evaluation).
    pub total_secs: f64,
    /// Training samples per second (epochs × m / train_secs).
    pub train_samples_per_sec: f64,
    /// Rayon threads the run had.
    pub threads: usize,
}

/// Everything about one run, written as one JSON line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Record format version ([`SCHEMA`]).
    pub schema: u32,
    /// smoe's version.
    pub smoe_version: String,
    /// Git commit of the source, when known.
    pub git_commit: Option<String>,
    /// The fully resolved config.
    pub config: TrainConfig,
    /// The run's seed (also in `config`).
    pub seed: u64,
    /// What the model was trained and tested on: source kind, paths, content hash, sizes.
    pub data: DataDescription,
    /// How the run ended.
    pub status: RunStatus,
    /// Why it stopped early, if it did.
    pub failure: Option<String>,
    /// Which auxiliary losses were on, with the balance-loss counting convention.
    pub aux_convention: String,
    /// Scalar parameters in the model.
    pub params: usize,
    /// The task's Bayes error where known.
    pub bayes_error: Option<f64>,
    /// Test-set metrics at initialisation (routing agreement before training, etc.).
    pub init_test: EvalMetrics,
    /// Per-epoch metrics.
    pub epochs: Vec<EpochRecord>,
    /// Final evaluation (absent if the run diverged).
    #[serde(rename = "final")]
    pub final_eval: Option<EpochEval>,
    /// Every bound with all its terms, δ and γ (absent if the run diverged, `eval.bounds` is
    /// off, or no bound of smoe covers the run's loss or model). Its `gamma` is
    /// `margin.gamma`, and its settings' `margin_log_count` is `margin.log_count`.
    pub bounds: Option<BoundReport>,
    /// The ramp margin γ of the final evaluation and the bounds, and how it was chosen
    /// (`eval.gamma`); `null` for a loss without a margin (the squared loss), for a run that
    /// did not end, and in old records.
    #[serde(default)]
    pub margin: Option<MarginRecord>,
    /// How mini-batch training ended: the stopping rule, whether it fired, the last epoch and
    /// step, early stopping's best epoch and validation set; `null` in full-batch runs and in
    /// old records.
    #[serde(default)]
    pub stopping: Option<StoppingRecord>,
    /// Full-batch fitting: every restart and which won (absent for mini-batch runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_batch: Option<FullBatchRecord>,
    /// Parameter recovery of the final model: the Voronoi loss D₁ against the teacher
    /// (THEORY.md §7.3, [`smoe_theory::voronoi_loss`]) with its parts, its cells and the
    /// alignment. Present for a `softmax-gated-regression` task with a model whose mixing
    /// measure can be read (linear router, full softmax gate, depth-0 experts of the
    /// teacher's form); absent otherwise, and absent from the JSON then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<VoronoiLoss>,
    /// Why `bounds` is absent although `eval.bounds` was on and the run ended, where smoe
    /// knows (e.g. a soft model, which no bound of smoe covers); omitted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounds_note: Option<String>,
    /// A soft model's test metrics with only k experts kept per input, per rule and k
    /// (`[eval.subsets]`); omitted when off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subsets: Vec<SubsetEval>,
    /// The PAC-Bayes certificate of the trained model (`[certify]`, THEORY §5) with its parts
    /// and the baselines beside it; omitted when off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<smoe_theory::certify::CertificateRecord>,
    /// Wall-clock timings.
    pub timings: Timings,
}

/// What full-batch fitting did (`[train.full_batch]`): in such a run, `epochs[r]` is restart
/// r (its final objective parts and evaluation; `lr` is L-BFGS's last accepted step length, or
/// Adam's last learning rate), the model is the winning restart's and `final` its evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FullBatchRecord {
    /// The optimiser.
    pub optimizer: FullBatchOptimizer,
    /// What the objective J holds, in words (loss, auxiliary losses, weight decay).
    pub objective: String,
    /// Every restart, in order.
    pub restarts: Vec<RestartRecord>,
    /// Index of the restart with the lowest final objective (the first of equals).
    pub best: usize,
    /// Its final objective J (`None` when no restart ended finite).
    pub best_objective: Option<f64>,
    /// Restarts whose final objective is within `best_rtol · max(|J_best|, 1e-12)` of the
    /// best (the best itself included).
    pub reached_best: usize,
    /// The relative tolerance of `reached_best`.
    pub best_rtol: f64,
}

/// One restart of full-batch fitting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestartRecord {
    /// Its index r (0: the model's own initialisation).
    pub restart: usize,
    /// The seed its initial parameters were drawn with (restart 0: the model's seed).
    pub init_seed: u64,
    /// The objective J at the start (`None` if not finite).
    pub initial_objective: Option<f64>,
    /// The objective J at the end (`None` if not finite).
    pub final_objective: Option<f64>,
    /// `‖∇J‖_∞` at the end.
    pub grad_inf_norm: Option<f64>,
    /// Iterations: L-BFGS accepted steps, or Adam steps.
    pub iterations: usize,
    /// Objective-and-gradient evaluations over the whole training set.
    pub evaluations: usize,
    /// Why it stopped: `gradient_tolerance`, `relative_decrease`, `max_iterations`,
    /// `line_search_failed` (no lower point along the search direction: the f32 rounding
    /// floor), `non_finite` or `diverged`.
    pub stop: String,
}

impl RunRecord {
    /// Every named scalar of the record, listed once (the sweep summary, the plots and the
    /// report are generated from this list): `train.<metric>` and `test.<metric>` of the final
    /// evaluation, its gaps by name, `init_test.<metric>`, the bounds' `<bound>.<term>` and
    /// complexity measures, `full_batch.best_objective`, `full_batch.reached_best` and
    /// `full_batch.restarts` in full-batch runs, `recovery.{total, mass, exact, over,
    /// shift_beta0}` when the run has a Voronoi loss, the subset evaluation's
    /// `subset.<rule>.k<k>.<metric>` (test set), the margin's `margin.{gamma,
    /// percentile_value, log_count}`, the stopping rule's `stopping.{fired (0/1), epoch, step}`
    /// (with early stopping also `stopping.best_epoch` and `validation.{loss, error}`),
    /// `bayes_error`, `params`, and the timings
    /// `train_secs`, `total_secs`, `train_samples_per_sec`.
    pub fn scalars(&self) -> Vec<(String, Option<f64>)> {
        let mut out = Vec::new();
        if let Some(fin) = &self.final_eval {
            for (set, m) in [("train", &fin.train), ("test", &fin.test)] {
                out.extend(
                    m.scalars()
                        .into_iter()
                        .map(|(k, v)| (format!("{set}.{k}"), v)),
                );
            }
            out.extend(fin.gaps.iter().map(|(k, v)| (k.clone(), *v)));
        }
        out.extend(
            self.init_test
                .scalars()
                .into_iter()
                .map(|(k, v)| (format!("init_test.{k}"), v)),
        );
        if let Some(b) = &self.bounds {
            out.extend(
                b.scalars()
                    .into_iter()
                    .map(|(k, v)| (k, v.is_finite().then_some(v))),
            );
        }
        if let Some(c) = &self.certificate {
            out.extend(c.scalars().into_iter().map(|(k, v)| (k, Some(v))));
        }
        if let Some(fb) = &self.full_batch {
            out.push(("full_batch.best_objective".into(), fb.best_objective));
            out.push((
                "full_batch.reached_best".into(),
                Some(fb.reached_best as f64),
            ));
            out.push(("full_batch.restarts".into(), Some(fb.restarts.len() as f64)));
        }
        if let Some(r) = &self.recovery {
            out.extend(
                r.scalars()
                    .into_iter()
                    .map(|(k, v)| (format!("recovery.{k}"), v.is_finite().then_some(v))),
            );
        }
        for sub in &self.subsets {
            out.extend(
                sub.test
                    .iter()
                    .map(|(m, v)| (format!("subset.{}.k{}.{m}", sub.rule.name(), sub.k), *v)),
            );
        }
        if let Some(m) = &self.margin {
            out.push(("margin.gamma".into(), Some(m.gamma)));
            out.push(("margin.percentile_value".into(), m.percentile_value));
            out.push(("margin.log_count".into(), Some(m.log_count)));
        }
        if let Some(st) = &self.stopping {
            out.push(("stopping.fired".into(), Some(f64::from(u8::from(st.fired)))));
            out.push(("stopping.epoch".into(), Some(st.epoch as f64)));
            out.push(("stopping.step".into(), Some(st.step as f64)));
            if let Some(b) = st.best_epoch {
                out.push(("stopping.best_epoch".into(), Some(b as f64)));
            }
            if let Some(v) = &st.validation {
                out.push(("validation.loss".into(), v.loss));
                out.push(("validation.error".into(), v.error));
            }
        }
        out.push(("bayes_error".into(), self.bayes_error));
        out.push(("params".into(), Some(self.params as f64)));
        let t = &self.timings;
        out.push(("train_secs".into(), Some(t.train_secs)));
        out.push(("total_secs".into(), Some(t.total_secs)));
        out.push((
            "train_samples_per_sec".into(),
            Some(t.train_samples_per_sec),
        ));
        out
    }

    /// The record as one JSON line (no trailing newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The record as JSON without its timings, for comparing runs.
    pub fn without_timings(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.remove("timings");
        }
        v
    }
}
