//! The run record: one JSON line per run.

use serde::{Deserialize, Serialize};
use smoe_tasks::DataDescription;
use smoe_theory::BoundReport;

use crate::metrics::Scalars;
use crate::{EvalMetrics, SubsetEval, TrainConfig};

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
        Self { train, test, gaps }
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
    /// off, or no bound of smoe covers the run's loss or model).
    pub bounds: Option<BoundReport>,
    /// Why `bounds` is absent although `eval.bounds` was on and the run ended, where smoe
    /// knows (e.g. a soft model, which no bound of smoe covers); omitted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounds_note: Option<String>,
    /// A soft model's test metrics with only k experts kept per input, per rule and k
    /// (`[eval.subsets]`); omitted when off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subsets: Vec<SubsetEval>,
    /// Wall-clock timings.
    pub timings: Timings,
}

impl RunRecord {
    /// Every named scalar of the record, listed once (the sweep summary, the plots and the
    /// report are generated from this list): `train.<metric>` and `test.<metric>` of the final
    /// evaluation, its gaps by name, `init_test.<metric>`, the bounds' `<bound>.<term>` and
    /// complexity measures, the subset evaluation's `subset.<rule>.k<k>.<metric>` (test set),
    /// `bayes_error`, `params`, and the timings `train_secs`, `total_secs`,
    /// `train_samples_per_sec`.
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
        for sub in &self.subsets {
            out.extend(
                sub.test
                    .iter()
                    .map(|(m, v)| (format!("subset.{}.k{}.{m}", sub.rule.name(), sub.k), *v)),
            );
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
