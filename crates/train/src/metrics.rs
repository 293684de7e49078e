//! Evaluation: losses and routing statistics of a model on a dataset.

use std::collections::{BTreeMap, HashSet};

use ndarray::{Array2, s};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smoe_model::{Model, SoftRouting};
use smoe_tasks::Dataset;

use crate::Result;
use crate::loss::Loss;

/// Rows per evaluation block (blocks run in parallel; results are combined in order).
pub const EVAL_BLOCK: usize = 2048;

/// Named scalars of a record section: `None` where a value is not finite (JSON has no NaN).
pub type Scalars = BTreeMap<String, Option<f64>>;

/// The metrics of the run's loss and routing statistics on one dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalMetrics {
    /// Samples evaluated.
    pub n: usize,
    /// Share of the `n·k` routing assignments each expert received, `[T]` (sums to 1).
    pub load: Vec<f64>,
    /// Entropy (nats) of `load`; `ln T` is perfect balance.
    pub load_entropy: f64,
    /// Mean over inputs of the entropy (nats) of the full router softmax.
    pub routing_entropy: f64,
    /// Experts that received no assignment.
    pub dead_experts: usize,
    /// Distinct k-subsets of experts used (at most C(T, k)).
    pub distinct_subsets: usize,
    /// Mean gap between the k-th and (k+1)-th router logit (`None` when k = T).
    pub routing_margin: Option<f64>,
    /// Share of assignments dropped by the capacity limit.
    pub dropped_fraction: f64,
    /// Normalised mutual information (arithmetic mean normalisation, as scikit-learn's
    /// default) between each input's top-1 expert and its ground-truth group, where the task
    /// has groups.
    pub group_nmi: Option<f64>,
    /// Soft models: the mean over inputs and slots of the entropy (nats) of the dispatch
    /// weights over the m tokens, `−Σ_i D_ic ln D_ic` (`ln m`: uniform dispatch). Absent for
    /// top-k models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch_entropy: Option<f64>,
    /// Soft models: the mean over inputs and tokens of the entropy (nats) of the combine
    /// weights over the `n·p` slots, `−Σ_c C_ic ln C_ic` (`ln(n·p)`: uniform). Absent for
    /// top-k models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combine_entropy: Option<f64>,
    /// Soft models: the combine mass of each expert, `[n]`: the mean over inputs of
    /// `Σ_i Σ_{s<p} C_{i, j·p+s} / m` (sums to 1). Absent for top-k models, whose top-k
    /// statistics above (load, dead experts, subsets, margin, dropped) are zero for soft ones;
    /// `group_nmi` uses the expert of largest combine mass as a soft model's top-1 expert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combine_mass: Option<Vec<f64>>,
    /// The loss's metrics by name (logistic: `loss`, `error`, `ramp`; squared: `loss`, `mse`,
    /// `r2`), written at the top level of the JSON object.
    #[serde(flatten)]
    pub metrics: Scalars,
}

impl EvalMetrics {
    /// A loss metric by name (`None` if the loss has no such metric or it was not finite).
    pub fn get(&self, name: &str) -> Option<f64> {
        self.metrics.get(name).copied().flatten()
    }

    /// Every named scalar of this section, listed once: the loss's metrics, then the routing
    /// statistics (a soft model's: `dispatch_entropy`, `combine_entropy`, `group_nmi`).
    pub fn scalars(&self) -> Vec<(String, Option<f64>)> {
        let mut out: Vec<(String, Option<f64>)> =
            self.metrics.iter().map(|(k, v)| (k.clone(), *v)).collect();
        if self.combine_entropy.is_some() {
            out.extend([
                ("dispatch_entropy".to_string(), self.dispatch_entropy),
                ("combine_entropy".to_string(), self.combine_entropy),
                ("group_nmi".to_string(), self.group_nmi),
            ]);
            return out;
        }
        out.extend([
            ("load_entropy".to_string(), Some(self.load_entropy)),
            ("routing_entropy".to_string(), Some(self.routing_entropy)),
            ("dead_experts".to_string(), Some(self.dead_experts as f64)),
            (
                "distinct_subsets".to_string(),
                Some(self.distinct_subsets as f64),
            ),
            ("routing_margin".to_string(), self.routing_margin),
            ("dropped_fraction".to_string(), Some(self.dropped_fraction)),
            ("group_nmi".to_string(), self.group_nmi),
        ]);
        out
    }
}

/// Named metrics as [`Scalars`] (non-finite values become `None`).
pub fn to_scalars(metrics: &[(&'static str, f64)]) -> Scalars {
    metrics
        .iter()
        .map(|&(k, v)| (k.to_string(), v.is_finite().then_some(v)))
        .collect()
}

struct Block {
    f: Vec<f32>,
    idx: Array2<usize>,
    entropy: f64,
    margin: f64,
    dropped: usize,
    soft: Option<SoftSums>,
}

/// A block's sums of the soft routing statistics.
#[derive(Default)]
struct SoftSums {
    dispatch_entropy: f64,
    combine_entropy: f64,
    /// Σ over inputs of each expert's combine mass.
    mass: Vec<f64>,
    /// Per input, the expert of largest combine mass (lower index on ties).
    top1: Vec<usize>,
}

/// `−Σ p ln p` of the values of `it` (zeros skipped).
fn entropy(it: impl Iterator<Item = f64>) -> f64 {
    -it.filter(|&p| p > 0.0).map(|p| p * p.ln()).sum::<f64>()
}

/// The soft routing statistics of a block: per input, the mean over slots of the dispatch
/// entropy over tokens, the mean over tokens of the combine entropy over slots, and each
/// expert's combine mass `Σ_i Σ_s C_{i, j·p+s} / m`.
fn soft_sums(r: &SoftRouting<f32>) -> SoftSums {
    let (b, m, np) = r.combine.dim();
    let n = r.experts;
    let mut out = SoftSums {
        mass: vec![0.0; n],
        ..Default::default()
    };
    let cs = r.column_sums();
    for row in 0..b {
        let mut de = 0.0;
        for c in 0..np {
            de += entropy((0..m).map(|i| r.dispatch[[row, i, c]] as f64));
        }
        out.dispatch_entropy += de / np.max(1) as f64;
        let mut ce = 0.0;
        for i in 0..m {
            ce += entropy((0..np).map(|c| r.combine[[row, i, c]] as f64));
        }
        out.combine_entropy += ce / m.max(1) as f64;
        let mut best = 0;
        for j in 0..n {
            let v = cs[[row, j]] as f64 / m.max(1) as f64;
            out.mass[j] += v;
            if cs[[row, j]] > cs[[row, best]] {
                best = j;
            }
        }
        out.top1.push(best);
    }
    out
}

fn eval_block(model: &dyn Model<f32>, data: &Dataset<f32>, start: usize) -> Result<Block> {
    let end = (start + EVAL_BLOCK).min(data.len());
    let x = data.x.slice(s![start..end, ..]);
    let out = model.infer(x)?;
    let Some(top) = out.top_k() else {
        return Ok(Block {
            f: out.f.to_vec(),
            idx: Array2::zeros((end - start, 0)),
            entropy: 0.0,
            margin: 0.0,
            dropped: 0,
            soft: out.soft().map(soft_sums),
        });
    };
    let k = top.routing.k();
    let mut entropy = 0.0;
    let mut margin = 0.0;
    let mut sorted = Vec::new();
    for row in top.logits.rows() {
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
        let e: Vec<f64> = row.iter().map(|&v| (v as f64 - max).exp()).collect();
        let sum: f64 = e.iter().sum();
        entropy -= e
            .iter()
            .map(|&v| v / sum)
            .filter(|&p| p > 0.0)
            .map(|p| p * p.ln())
            .sum::<f64>();
        if k < row.len() {
            // the k-th and (k+1)-th largest logits by selection, O(T) (a sort is O(T log T));
            // the same values a full sort gives
            sorted.clear();
            sorted.extend(row.iter().map(|&v| v as f64));
            let (above, &mut next, _) = sorted.select_nth_unstable_by(k, |a, b| b.total_cmp(a));
            let kth = above.iter().copied().min_by(f64::total_cmp).unwrap_or(next);
            margin += kth - next;
        }
    }
    Ok(Block {
        f: out.f.to_vec(),
        idx: top.routing.idx.clone(),
        entropy,
        margin,
        dropped: top.dropped,
        soft: None,
    })
}

/// Evaluates `model` on `data` with the metrics of `loss`, in blocks of [`EVAL_BLOCK`] rows
/// run in parallel; the result does not depend on the number of threads.
///
/// # Errors
/// Model errors (wrong width, non-finite input or logits).
pub fn evaluate(
    model: &dyn Model<f32>,
    loss: &dyn Loss,
    data: &Dataset<f32>,
) -> Result<EvalMetrics> {
    evaluate_with(model, data, &mut |f, y| to_scalars(&loss.metrics(f, y)))
}

/// [`evaluate`] with the loss metrics computed by `metrics` from the model outputs `f` and
/// the targets `y` of the whole set (e.g. with a margin chosen from those outputs).
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_with(
    model: &dyn Model<f32>,
    data: &Dataset<f32>,
    metrics: &mut dyn FnMut(&[f64], &[f64]) -> Scalars,
) -> Result<EvalMetrics> {
    let n = data.len();
    let cfg = model.config();
    let (t, k) = (cfg.experts(), cfg.k());
    let starts: Vec<usize> = (0..n).step_by(EVAL_BLOCK).collect();
    let blocks: Vec<Block> = starts
        .par_iter()
        .map(|&s| eval_block(model, data, s))
        .collect::<Result<_>>()?;
    let (mut entropy, mut margin) = (0.0, 0.0);
    let mut counts = vec![0usize; t];
    let mut dropped = 0;
    let mut subsets = HashSet::new();
    let mut top1 = Vec::with_capacity(n);
    let mut f = Vec::with_capacity(n);
    let mut soft: Option<SoftSums> = None;
    for b in &blocks {
        if let Some(s) = &b.soft {
            let acc = soft.get_or_insert_with(|| SoftSums {
                mass: vec![0.0; s.mass.len()],
                ..Default::default()
            });
            acc.dispatch_entropy += s.dispatch_entropy;
            acc.combine_entropy += s.combine_entropy;
            for (a, v) in acc.mass.iter_mut().zip(&s.mass) {
                *a += v;
            }
            top1.extend(&s.top1);
        }
        f.extend(b.f.iter().map(|&v| v as f64));
        for r in b.idx.rows() {
            let mut key: Vec<usize> = r.to_vec();
            for &j in &key {
                if let Some(c) = counts.get_mut(j) {
                    *c += 1;
                }
            }
            if let Some(&first) = key.first() {
                top1.push(first);
            }
            key.sort_unstable();
            subsets.insert(key);
        }
        entropy += b.entropy;
        margin += b.margin;
        dropped += b.dropped;
    }
    let y: Vec<f64> = data.y.iter().map(|&v| v as f64).collect();
    let nf = n.max(1) as f64;
    if soft.is_some() {
        // a soft model routes no (input, expert) assignments: its top-k statistics are zero
        counts.clear();
        subsets.clear();
    }
    let total = (n * k).max(1) as f64;
    let load: Vec<f64> = counts.iter().map(|&c| c as f64 / total).collect();
    let load_entropy = -load
        .iter()
        .filter(|&&p| p > 0.0)
        .map(|p| p * p.ln())
        .sum::<f64>();
    Ok(EvalMetrics {
        n,
        metrics: metrics(&f, &y),
        dead_experts: counts.iter().filter(|&&c| c == 0).count(),
        load,
        load_entropy,
        routing_entropy: entropy / nf,
        distinct_subsets: subsets.len(),
        routing_margin: (k < t && soft.is_none()).then_some(margin / nf),
        dropped_fraction: dropped as f64 / total,
        group_nmi: data
            .groups
            .as_ref()
            .filter(|_| top1.len() == n)
            .map(|g| nmi(&top1, g)),
        dispatch_entropy: soft.as_ref().map(|s| s.dispatch_entropy / nf),
        combine_entropy: soft.as_ref().map(|s| s.combine_entropy / nf),
        combine_mass: soft.map(|s| s.mass.iter().map(|v| v / nf).collect()),
    })
}

/// Normalised mutual information `2 I(A; B) / (H(A) + H(B))` of two labelings (1 when both
/// are constant, 0 when only one is).
pub fn nmi(a: &[usize], b: &[usize]) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 0.0;
    }
    let mut joint: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut ma: BTreeMap<usize, usize> = BTreeMap::new();
    let mut mb: BTreeMap<usize, usize> = BTreeMap::new();
    for (&x, &y) in a.iter().zip(b).take(n) {
        *joint.entry((x, y)).or_default() += 1;
        *ma.entry(x).or_default() += 1;
        *mb.entry(y).or_default() += 1;
    }
    let nf = n as f64;
    let h = |m: &BTreeMap<usize, usize>| -> f64 {
        -m.values()
            .map(|&c| c as f64 / nf)
            .map(|p| p * p.ln())
            .sum::<f64>()
    };
    let (ha, hb) = (h(&ma), h(&mb));
    if ha + hb == 0.0 {
        return 1.0;
    }
    let mi: f64 = joint
        .iter()
        .map(|(&(x, y), &c)| {
            let p = c as f64 / nf;
            let px = ma[&x] as f64 / nf;
            let py = mb[&y] as f64 / nf;
            p * (p / (px * py)).ln()
        })
        .sum();
    (2.0 * mi / (ha + hb)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nmi_by_hand() {
        // identical up to relabelling: 1
        assert!((nmi(&[0, 0, 1, 1], &[5, 5, 3, 3]) - 1.0).abs() < 1e-12);
        // independent: 0
        assert!(nmi(&[0, 0, 1, 1], &[0, 1, 0, 1]).abs() < 1e-12);
        // hand case: a = [0,0,0,1], b = [0,0,1,1]
        // H(a) = H(1/4), H(b) = ln 2, I = H(b) - H(b|a) = ln2 - 3/4 H(1/3)
        let h = |p: f64| -(p * p.ln() + (1.0 - p) * (1.0 - p).ln());
        let want = 2.0 * (2f64.ln() - 0.75 * h(1.0 / 3.0)) / (h(0.25) + 2f64.ln());
        assert!((nmi(&[0, 0, 0, 1], &[0, 0, 1, 1]) - want).abs() < 1e-12);
    }
}
