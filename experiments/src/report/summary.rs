//! Runs grouped into cells, with mean, std and 95 % CI over seeds; `summary.csv`.
//!
//! A cell is one point of the sweep's grid: its coordinates are the grid axes other than the
//! seed, whatever they are (k, T, m, gate, router, lr, loss, ...). Every statistic is
//! computed for every named scalar of the records ([`smoe_train::RunRecord::scalars`]: the
//! loss's metrics on train and test, its gaps, the bounds and their terms, timings), so a new
//! metric or bound reaches the summary, the plots and the report without editing this file.
//!
//! `summary.csv` columns: `cell` (index), one column per grid axis (its value; strings as
//! written in the grid, tables as JSON), `k`, `T`, `m` (read from each cell's config), `runs`
//! (finished runs), `failed`, `interpolating` (1 when the mean train error is below
//! [`INTERPOLATION_THRESHOLD`], 0 when not, empty for a loss without an error metric), then for each scalar three columns `<name>_mean`, `<name>_std`
//! (sample standard deviation over seeds) and `<name>_ci95` (half-width of the Student-t 95 %
//! interval of the mean). Empty fields mean no value (e.g. a single seed has no std).

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde_json::Value;

use crate::sweep::{LineStatus, SweepLine};

/// A cell interpolates when its mean train error is below this (the report flags it and
/// states its trend statistics apart).
pub const INTERPOLATION_THRESHOLD: f64 = 0.01;

/// Mean, standard deviation and 95 % CI half-width of some values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    /// Values summarised.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (`None` for one value).
    pub std: Option<f64>,
    /// Student-t 95 % half-width of the mean (`None` for one value).
    pub ci95: Option<f64>,
}

/// Two-sided 97.5 % quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        _ => 1.96 + 2.4 / df as f64,
    }
}

impl Stat {
    /// Summarises `v` (empty → `None`).
    pub fn of(v: &[f64]) -> Option<Self> {
        let n = v.len();
        if n == 0 {
            return None;
        }
        let mean = v.iter().sum::<f64>() / n as f64;
        let (std, ci95) = if n > 1 {
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let sd = var.sqrt();
            (Some(sd), Some(t975(n - 1) * sd / (n as f64).sqrt()))
        } else {
            (None, None)
        };
        Some(Self { n, mean, std, ci95 })
    }
}

/// One cell: the runs over seeds of one grid point.
#[derive(Debug, Clone, PartialEq)]
pub struct CellSummary {
    /// Smallest cell index among its runs (grid order).
    pub cell: usize,
    /// Experts per input (from the config).
    pub k: usize,
    /// Experts in total (from the config).
    pub t: usize,
    /// Training samples (from the record's data description).
    pub m: usize,
    /// Grid coordinates without the seed.
    pub coords: BTreeMap<String, Value>,
    /// Finished runs with a final evaluation.
    pub runs: usize,
    /// Diverged or failed runs.
    pub failed: usize,
    /// Scalar name → statistics over the finished runs.
    pub stats: BTreeMap<String, Stat>,
}

impl CellSummary {
    /// Mean of a scalar, if any run had it.
    pub fn mean(&self, metric: &str) -> Option<f64> {
        self.stats.get(metric).map(|s| s.mean)
    }

    /// Whether the cell interpolates: its mean train error (`train.error`) is below
    /// [`INTERPOLATION_THRESHOLD`] (`None` when the loss has no error metric). The 0-1 gap of
    /// an interpolating cell is just its test error.
    pub fn interpolating(&self) -> Option<bool> {
        self.mean("train.error")
            .map(|e| e < INTERPOLATION_THRESHOLD)
    }

    /// `sqrt(k (1 + ln(T/k)) / m)`: MELD's sparse factor (THEORY.md §1.1), the
    /// k-dependence of the restated bound's routing term at fixed d_N (not that bound's
    /// shape: its routing term grows like sqrt(T ln T / m) through d_N ∝ T).
    pub fn complexity_shape(&self) -> f64 {
        let (k, t, m) = (self.k as f64, self.t as f64, self.m.max(1) as f64);
        (k * (1.0 + (t / k).ln()) / m).sqrt()
    }

    /// The cell's value on `axis` (`None` if the grid has no such axis).
    pub fn coord(&self, axis: &str) -> Option<&Value> {
        self.coords.get(axis)
    }
}

/// One axis of the sweep's grid (the seed excluded) with its values in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The dotted field path, e.g. `model.k`, `model.gate.kind`.
    pub name: String,
    /// Its distinct values: numbers ascending, then strings, then anything else.
    pub values: Vec<Value>,
}

impl Axis {
    /// Whether every value is a number (so the axis can be an x axis).
    pub fn numeric(&self) -> bool {
        self.values.iter().all(Value::is_number)
    }

    /// A short label: the last part of the path, with `model.experts` as `T`, `model.k` as
    /// `k` and `data.m_train` as `m`.
    pub fn label(&self) -> String {
        short_name(&self.name)
    }
}

/// A short label for a grid axis: `T`, `k`, `m` for the canonical ones, else the last part
/// of the path (`model.gate.kind` → `gate`).
pub fn short_name(axis: &str) -> String {
    match axis {
        "model.experts" => "T".into(),
        "model.k" => "k".into(),
        "data.m_train" => "m".into(),
        other => {
            let mut parts: Vec<&str> = other.split('.').collect();
            if parts.len() > 1 && parts.last() == Some(&"kind") {
                parts.pop();
            }
            parts.last().copied().unwrap_or(other).to_string()
        }
    }
}

/// A value as it reads in a label: strings without quotes.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn value_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        _ => show(a).cmp(&show(b)),
    }
}

/// All cells of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Cells in grid order.
    pub cells: Vec<CellSummary>,
    /// Total runs read.
    pub runs: usize,
    /// Failed runs (diverged or error).
    pub failed: usize,
    /// The grid axes other than the seed, in name order.
    pub axes: Vec<Axis>,
    /// Every scalar name seen, in the records' order.
    pub scalars: Vec<String>,
    /// The loss of the runs (`logistic`, `squared`, or a custom name; `mixed` if several).
    pub loss: String,
    /// The main generalization gap of that loss (`gap_01` for the logistic loss, `gap_mse`
    /// for the squared loss): what the plots show.
    pub primary_gap: String,
    /// Bound name → the gap of the loss it bounds (`bounds.bounds[].loss` of the records:
    /// `ramp` → `gap_ramp`, `zero_one` → `gap_01`).
    pub bound_gaps: BTreeMap<String, String>,
}

fn config_without_seed(l: &SweepLine) -> Option<String> {
    let r = l.record.as_ref()?;
    let mut v = serde_json::to_value(&r.config).ok()?;
    if let Some(o) = v.as_object_mut() {
        o.remove("seed");
    }
    serde_json::to_string(&v).ok()
}

impl Summary {
    /// Groups `lines` into cells and summarises them.
    ///
    /// # Errors
    /// When runs with the same grid coordinates have different configs (the folder mixes
    /// sweeps): a lookup by coordinates would be ambiguous, so no report is made.
    pub fn from_lines(lines: &[SweepLine]) -> Result<Self> {
        let mut groups: BTreeMap<String, Vec<&SweepLine>> = BTreeMap::new();
        for l in lines {
            let mut c = l.coords.clone();
            c.remove("seed");
            groups
                .entry(serde_json::to_string(&c).unwrap_or_default())
                .or_default()
                .push(l);
        }
        let mut scalars: Vec<String> = Vec::new();
        let mut losses: Vec<String> = Vec::new();
        let mut bound_gaps: BTreeMap<String, String> = BTreeMap::new();
        let mut cells = Vec::with_capacity(groups.len());
        for (coords_json, runs) in &groups {
            let mut configs: Vec<String> =
                runs.iter().filter_map(|l| config_without_seed(l)).collect();
            configs.sort();
            configs.dedup();
            if configs.len() > 1 {
                bail!(
                    "{} different configs share the grid coordinates {coords_json}: the folder mixes runs of different sweeps, so a lookup by these coordinates is ambiguous",
                    configs.len()
                );
            }
            let ok: Vec<_> = runs
                .iter()
                .filter(|l| l.status == LineStatus::Ok)
                .filter_map(|l| l.record.as_ref())
                .collect();
            let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for r in &ok {
                for (name, v) in r.scalars() {
                    if !values.contains_key(&name) && !scalars.contains(&name) {
                        scalars.push(name.clone());
                    }
                    let e = values.entry(name).or_default();
                    if let Some(v) = v.filter(|v| v.is_finite()) {
                        e.push(v);
                    }
                }
                for b in r.bounds.iter().flat_map(|b| b.bounds.iter()) {
                    bound_gaps
                        .entry(b.name.clone())
                        .or_insert_with(|| gap_of(b.loss).to_string());
                }
                let loss = r.config.loss.kind().to_string();
                if !losses.contains(&loss) {
                    losses.push(loss);
                }
            }
            let stats = values
                .into_iter()
                .filter_map(|(name, v)| Stat::of(&v).map(|s| (name, s)))
                .collect();
            let first = runs.iter().find_map(|l| l.record.as_ref());
            let mut coords = runs[0].coords.clone();
            coords.remove("seed");
            cells.push(CellSummary {
                cell: runs.iter().map(|l| l.cell).min().unwrap_or(0),
                k: first.map_or(0, |r| r.config.model.k()),
                t: first.map_or(0, |r| r.config.model.experts()),
                m: first.map_or(0, |r| r.data.m_train),
                coords,
                runs: ok.len(),
                failed: runs.len() - ok.len(),
                stats,
            });
        }
        cells.sort_by_key(|c| c.cell);
        let mut axes: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for c in &cells {
            for (k, v) in &c.coords {
                let vals = axes.entry(k.clone()).or_default();
                if !vals.contains(v) {
                    vals.push(v.clone());
                }
            }
        }
        let axes = axes
            .into_iter()
            .map(|(name, mut values)| {
                values.sort_by(value_order);
                Axis { name, values }
            })
            .collect();
        let loss = match losses.as_slice() {
            [one] => one.clone(),
            [] => "logistic".into(),
            _ => "mixed".into(),
        };
        let primary_gap = match loss.as_str() {
            "squared" => "gap_mse".to_string(),
            "logistic" | "mixed" => "gap_01".to_string(),
            _ => scalars
                .iter()
                .find(|s| s.starts_with("gap_"))
                .cloned()
                .unwrap_or_else(|| "gap_01".into()),
        };
        Ok(Self {
            runs: lines.len(),
            failed: cells.iter().map(|c| c.failed).sum(),
            cells,
            axes,
            scalars,
            loss,
            primary_gap,
            bound_gaps,
        })
    }

    /// The gap bound `name` is ranked against (`gap_ramp` when the records do not say).
    pub fn bound_gap(&self, name: &str) -> &str {
        self.bound_gaps.get(name).map_or("gap_ramp", String::as_str)
    }

    /// The axis called `name`, if the grid has it.
    pub fn axis(&self, name: &str) -> Option<&Axis> {
        self.axes.iter().find(|a| a.name == name)
    }

    /// The one cell whose coordinates include every `(axis, value)` of `fixed`.
    ///
    /// # Errors
    /// When several cells match: the lookup does not identify a cell (it must name every
    /// axis that varies), which is a bug in the caller or a grid the report cannot read.
    pub fn find(&self, fixed: &[(&str, &Value)]) -> Result<Option<&CellSummary>> {
        let mut it = self
            .cells
            .iter()
            .filter(|c| fixed.iter().all(|(a, v)| c.coords.get(*a) == Some(*v)));
        let Some(first) = it.next() else {
            return Ok(None);
        };
        if let Some(second) = it.next() {
            bail!(
                "the lookup {} matches several cells (e.g. {} and {}): it does not fix every grid axis",
                fmt_fixed(fixed),
                serde_json::to_string(&first.coords).unwrap_or_default(),
                serde_json::to_string(&second.coords).unwrap_or_default()
            );
        }
        Ok(Some(first))
    }

    /// The CSV text (see the module doc for the columns).
    ///
    /// # Errors
    /// Only if the CSV writer fails.
    pub fn to_csv(&self) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = vec!["cell".into()];
        header.extend(self.axes.iter().map(|a| a.name.clone()));
        header.extend(["k", "T", "m", "runs", "failed", "interpolating"].map(String::from));
        for name in &self.scalars {
            for suffix in ["mean", "std", "ci95"] {
                header.push(format!("{name}_{suffix}"));
            }
        }
        w.write_record(&header)?;
        let num = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x}"));
        for c in &self.cells {
            let mut row: Vec<String> = vec![c.cell.to_string()];
            row.extend(
                self.axes
                    .iter()
                    .map(|a| c.coords.get(&a.name).map_or(String::new(), show)),
            );
            row.extend([c.k, c.t, c.m, c.runs, c.failed].map(|v| v.to_string()));
            row.push(
                c.interpolating()
                    .map_or(String::new(), |i| u8::from(i).to_string()),
            );
            for name in &self.scalars {
                let st = c.stats.get(name);
                row.push(num(st.map(|s| s.mean)));
                row.push(num(st.and_then(|s| s.std)));
                row.push(num(st.and_then(|s| s.ci95)));
            }
            w.write_record(&row)?;
        }
        let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(String::from_utf8(bytes)?)
    }
}

/// The gap a bound's loss speaks of: `ramp` → `gap_ramp`, `zero_one` → `gap_01`.
pub fn gap_of(loss: smoe_theory::GapLoss) -> &'static str {
    match loss {
        smoe_theory::GapLoss::Ramp => "gap_ramp",
        smoe_theory::GapLoss::ZeroOne => "gap_01",
    }
}

fn fmt_fixed(fixed: &[(&str, &Value)]) -> String {
    let parts: Vec<String> = fixed
        .iter()
        .map(|(a, v)| format!("{a} = {}", show(v)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_by_hand() {
        let s = Stat::of(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.mean, 2.0);
        assert_eq!(s.std, Some(1.0));
        assert!((s.ci95.unwrap() - 4.303 / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(Stat::of(&[5.0]).unwrap().std, None);
        assert!(Stat::of(&[]).is_none());
    }

    #[test]
    fn short_names() {
        assert_eq!(short_name("model.experts"), "T");
        assert_eq!(short_name("model.gate.kind"), "gate");
        assert_eq!(short_name("train.lr"), "lr");
    }
}
