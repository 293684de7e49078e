//! Evaluation: losses and routing statistics of a model on a dataset.

use std::collections::{BTreeMap, HashSet};

use ndarray::{Array2, s};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smoe_model::SparseMoe;
use smoe_tasks::Dataset;

use crate::Result;
use crate::loss::{ramp, softplus, zero_one};

/// Rows per evaluation block (blocks run in parallel; results are combined in order).
pub const EVAL_BLOCK: usize = 2048;

/// Losses and routing statistics on one dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalMetrics {
    /// Samples evaluated.
    pub n: usize,
    /// Mean logistic loss.
    pub loss: f64,
    /// 0-1 error of `sign(f)`.
    pub error: f64,
    /// Mean ramp loss with the run's margin γ.
    pub ramp: f64,
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
}

struct Block {
    f: Vec<f32>,
    idx: Array2<usize>,
    entropy: f64,
    margin: f64,
    dropped: usize,
}

fn eval_block(model: &SparseMoe<f32>, data: &Dataset<f32>, start: usize) -> Result<Block> {
    let end = (start + EVAL_BLOCK).min(data.len());
    let x = data.x.slice(s![start..end, ..]);
    let out = model.infer(x)?;
    let k = out.routing.k();
    let mut entropy = 0.0;
    let mut margin = 0.0;
    let mut sorted = Vec::new();
    for row in out.logits.rows() {
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
            sorted.clear();
            sorted.extend(row.iter().map(|&v| v as f64));
            sorted.sort_by(|a, b| b.total_cmp(a));
            margin += sorted[k - 1] - sorted[k];
        }
    }
    Ok(Block {
        f: out.f.to_vec(),
        idx: out.routing.idx,
        entropy,
        margin,
        dropped: out.dropped,
    })
}

/// Evaluates `model` on `data` with ramp margin `gamma`, in blocks of [`EVAL_BLOCK`] rows run
/// in parallel; the result does not depend on the number of threads.
///
/// # Errors
/// Model errors (wrong width, non-finite input or logits).
pub fn evaluate(model: &SparseMoe<f32>, data: &Dataset<f32>, gamma: f64) -> Result<EvalMetrics> {
    let n = data.len();
    let cfg = model.config();
    let (t, k) = (cfg.experts, cfg.k);
    let starts: Vec<usize> = (0..n).step_by(EVAL_BLOCK).collect();
    let blocks: Vec<Block> = starts
        .par_iter()
        .map(|&s| eval_block(model, data, s))
        .collect::<Result<_>>()?;
    let (mut loss, mut error, mut rmp, mut entropy, mut margin) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut counts = vec![0usize; t];
    let mut dropped = 0;
    let mut subsets = HashSet::new();
    let mut top1 = Vec::with_capacity(n);
    let mut row = 0;
    for b in &blocks {
        for (i, &f) in b.f.iter().enumerate() {
            let (f, y) = (f as f64, data.y[row + i] as f64);
            loss += softplus(-y * f);
            error += zero_one(f, y);
            rmp += ramp(f, y, gamma);
        }
        for r in b.idx.rows() {
            let mut key: Vec<usize> = r.to_vec();
            for &j in &key {
                counts[j] += 1;
            }
            top1.push(key[0]);
            key.sort_unstable();
            subsets.insert(key);
        }
        entropy += b.entropy;
        margin += b.margin;
        dropped += b.dropped;
        row += b.f.len();
    }
    let nf = n.max(1) as f64;
    let total = (n * k).max(1) as f64;
    let load: Vec<f64> = counts.iter().map(|&c| c as f64 / total).collect();
    let load_entropy = -load
        .iter()
        .filter(|&&p| p > 0.0)
        .map(|p| p * p.ln())
        .sum::<f64>();
    Ok(EvalMetrics {
        n,
        loss: loss / nf,
        error: error / nf,
        ramp: rmp / nf,
        dead_experts: counts.iter().filter(|&&c| c == 0).count(),
        load,
        load_entropy,
        routing_entropy: entropy / nf,
        distinct_subsets: subsets.len(),
        routing_margin: (k < t).then_some(margin / nf),
        dropped_fraction: dropped as f64 / total,
        group_nmi: data.groups.as_ref().map(|g| nmi(&top1, g)),
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
