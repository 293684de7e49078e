//! Per-seed values of every cell: what the paired statistics and the seed bootstrap read.
//!
//! The seed is the unit of replication: a seed fixes teacher, data and test set in every
//! cell, so the value of a scalar in cell c at seed s is paired with its value in cell c' at
//! the same seed. Besides the records' scalars ([`smoe_train::RunRecord::scalars`]) every
//! run gets the baselines of the ranking tables, computed from its record:
//!
//! - `baseline.params_per_m` = params / m (`params` of the record);
//! - `baseline.active_per_m` = (router + gate parameters + k × one expert's parameters) / m,
//!   counted on a model built from the record's model config (sparse models only; the
//!   parameters an input passes through);
//! - `baseline.sqrt_t_over_km` = sqrt(T / (k m));
//! - `baseline.inv_sqrt_m` = 1 / sqrt(m);
//! - `shape.sparse_factor` = sqrt(k (1 + ln(T/k)) / m), MELD's sparse factor (THEORY.md §1.1).
//!
//! Train error is the record's own `train.error`.

use std::collections::BTreeMap;

use super::summary::Summary;
use crate::sweep::{LineStatus, SweepLine};

/// Models larger than this many parameters are not rebuilt to count active parameters (the
/// rebuild allocates the model; a record claiming more is not trusted with that).
const MAX_REBUILD_PARAMS: usize = 1 << 24;

/// Per-seed values, one table per cell of a [`Summary`] (same order).
#[derive(Debug, Clone, PartialEq)]
pub struct SeedTable {
    /// The seeds seen in any finished run, ascending.
    pub seeds: Vec<u64>,
    /// `cells[c][name][i]`: the value of scalar `name` in cell c at seed `seeds[i]`.
    pub cells: Vec<BTreeMap<String, Vec<Option<f64>>>>,
}

/// The parameters an input of a sparse model passes through: router and gate parameters plus
/// k times one expert's (`experts.0.*`), counted on the model the config builds (`None` for
/// a model that is not sparse, cannot be built here, or is too large to rebuild).
pub fn active_params(rec: &smoe_train::RunRecord) -> Option<usize> {
    let sparse = rec.config.model.as_sparse()?;
    if rec.params > MAX_REBUILD_PARAMS || rec.data.d > MAX_REBUILD_PARAMS {
        return None;
    }
    let model = smoe_model::build_model::<f64>(&rec.config.model, rec.data.d, 0).ok()?;
    let (mut shared, mut expert) = (0, 0);
    for p in model.params() {
        if p.name.starts_with("router.") || p.name.starts_with("gate.") {
            shared += p.value.len();
        } else if p.name.starts_with("experts.0.") {
            expert += p.value.len();
        }
    }
    Some(shared + sparse.k * expert)
}

fn baselines(rec: &smoe_train::RunRecord, active: Option<usize>) -> Vec<(String, Option<f64>)> {
    let m = rec.data.m_train as f64;
    let (k, t) = (
        rec.config.model.k() as f64,
        rec.config.model.experts() as f64,
    );
    let pos = |v: f64| (v.is_finite()).then_some(v);
    vec![
        ("baseline.params_per_m".into(), pos(rec.params as f64 / m)),
        (
            "baseline.active_per_m".into(),
            active.and_then(|a| pos(a as f64 / m)),
        ),
        ("baseline.sqrt_t_over_km".into(), pos((t / (k * m)).sqrt())),
        ("baseline.inv_sqrt_m".into(), pos(1.0 / m.sqrt())),
        (
            "shape.sparse_factor".into(),
            pos((k * (1.0 + (t / k).ln()) / m).sqrt()),
        ),
    ]
}

impl SeedTable {
    /// Collects the finished runs of `lines` into the cells of `s`.
    pub fn new(s: &Summary, lines: &[SweepLine]) -> Self {
        let mut seeds: Vec<u64> = lines
            .iter()
            .filter(|l| l.status == LineStatus::Ok)
            .filter_map(|l| l.record.as_ref().map(|r| r.seed))
            .collect();
        seeds.sort_unstable();
        seeds.dedup();
        let index: BTreeMap<String, usize> = s
            .cells
            .iter()
            .enumerate()
            .map(|(i, c)| (serde_json::to_string(&c.coords).unwrap_or_default(), i))
            .collect();
        let mut cells: Vec<BTreeMap<String, Vec<Option<f64>>>> =
            vec![BTreeMap::new(); s.cells.len()];
        let mut active: BTreeMap<usize, Option<usize>> = BTreeMap::new();
        for l in lines.iter().filter(|l| l.status == LineStatus::Ok) {
            let Some(r) = l.record.as_ref().filter(|r| r.final_eval.is_some()) else {
                continue;
            };
            let mut c = l.coords.clone();
            c.remove("seed");
            let Some(&ci) = index.get(&serde_json::to_string(&c).unwrap_or_default()) else {
                continue;
            };
            let Ok(si) = seeds.binary_search(&r.seed) else {
                continue;
            };
            let act = *active.entry(ci).or_insert_with(|| active_params(r));
            let mut all = r.scalars();
            all.extend(baselines(r, act));
            for (name, v) in all {
                let col = cells[ci]
                    .entry(name)
                    .or_insert_with(|| vec![None; seeds.len()]);
                col[si] = v.filter(|x| x.is_finite());
            }
        }
        Self { seeds, cells }
    }

    /// The value of `metric` in cell `cell` at seed index `seed`.
    pub fn get(&self, cell: usize, metric: &str, seed: usize) -> Option<f64> {
        *self.cells.get(cell)?.get(metric)?.get(seed)?
    }

    /// The values of `metric` in cell `cell`, one per seed index.
    pub fn column(&self, cell: usize, metric: &str) -> Vec<Option<f64>> {
        self.cells
            .get(cell)
            .and_then(|c| c.get(metric))
            .cloned()
            .unwrap_or_else(|| vec![None; self.seeds.len()])
    }

    /// The mean of `metric` in cell `cell` with seed index i counted `weights[i]` times (a
    /// bootstrap draw; all ones for the plain mean over seeds); `None` when no counted seed
    /// has a value.
    pub fn weighted_mean(&self, cell: usize, metric: &str, weights: &[usize]) -> Option<f64> {
        let col = self.cells.get(cell)?.get(metric)?;
        let (mut sum, mut n) = (0.0, 0usize);
        for (v, &w) in col.iter().zip(weights) {
            if let Some(v) = v {
                sum += v * w as f64;
                n += w;
            }
        }
        (n > 0).then(|| sum / n as f64)
    }
}
