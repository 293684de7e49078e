//! Runs grouped into cells, with mean, std and 95 % CI over seeds; `summary.csv`.
//!
//! `summary.csv` columns: `cell` (index), `k`, `T`, `m`, `coords` (the cell's grid
//! coordinates other than the seed, as JSON), `runs` (finished runs), `failed`, then for each
//! metric in [`METRICS`] three columns `<metric>_mean`, `<metric>_std` (sample standard
//! deviation over seeds) and `<metric>_ci95` (half-width of the Student-t 95 % interval of
//! the mean). Empty fields mean no value (e.g. a single seed has no std).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::sweep::SweepLine;

/// Every metric summarised: name in the CSV, JSON pointer into the run record.
pub const METRICS: &[(&str, &str)] = &[
    ("train_error", "/final/train/error"),
    ("test_error", "/final/test/error"),
    ("gap_01", "/final/gap_01"),
    ("train_ramp", "/final/train/ramp"),
    ("test_ramp", "/final/test/ramp"),
    ("gap_ramp", "/final/gap_ramp"),
    ("test_loss", "/final/test/loss"),
    ("zhao_total", "/bounds/zhao/total"),
    ("zhao_expert_term", "/bounds/zhao/expert_term"),
    ("zhao_routing_term", "/bounds/zhao/routing_term"),
    ("d1_worst_total", "/bounds/d1/worst_case/total"),
    ("d1_worst_expert_term", "/bounds/d1/worst_case/expert_term"),
    ("d1_learned_total", "/bounds/d1/learned_pattern/total"),
    (
        "d1_learned_expert_term",
        "/bounds/d1/learned_pattern/expert_term",
    ),
    ("d1_routing_term", "/bounds/d1/worst_case/routing_term"),
    (
        "d1_confidence_term",
        "/bounds/d1/worst_case/confidence_term",
    ),
    ("kratsios_total", "/bounds/kratsios/total"),
    ("natarajan_log_count", "/bounds/router/natarajan/exact"),
    ("rademacher_m", "/bounds/rademacher_m"),
    ("test_load_entropy", "/final/test/load_entropy"),
    ("test_dead_experts", "/final/test/dead_experts"),
    ("test_distinct_subsets", "/final/test/distinct_subsets"),
    ("test_group_nmi", "/final/test/group_nmi"),
    ("train_secs", "/timings/train_secs"),
];

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
    /// Experts per input.
    pub k: usize,
    /// Experts in total.
    pub t: usize,
    /// Training samples.
    pub m: usize,
    /// Grid coordinates without the seed.
    pub coords: BTreeMap<String, Value>,
    /// Finished runs with a final evaluation.
    pub runs: usize,
    /// Diverged or failed runs.
    pub failed: usize,
    /// Metric name → statistics over the finished runs.
    pub stats: BTreeMap<&'static str, Stat>,
}

impl CellSummary {
    /// Mean of a metric, if any run had it.
    pub fn mean(&self, metric: &str) -> Option<f64> {
        self.stats.get(metric).map(|s| s.mean)
    }

    /// `sqrt(k (1 + ln(T/k)) / m)`: the shape the restated bound predicts for the gap.
    pub fn complexity_shape(&self) -> f64 {
        let (k, t, m) = (self.k as f64, self.t as f64, self.m.max(1) as f64);
        (k * (1.0 + (t / k).ln()) / m).sqrt()
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
}

fn usize_at(v: &Value, ptr: &str) -> Option<usize> {
    v.pointer(ptr).and_then(Value::as_u64).map(|x| x as usize)
}

impl Summary {
    /// Groups `lines` into cells and summarises them.
    pub fn from_lines(lines: &[SweepLine]) -> Self {
        let mut groups: BTreeMap<String, Vec<&SweepLine>> = BTreeMap::new();
        for l in lines {
            let mut c = l.coords.clone();
            c.remove("seed");
            groups
                .entry(serde_json::to_string(&c).unwrap_or_default())
                .or_default()
                .push(l);
        }
        let mut cells: Vec<CellSummary> = groups
            .into_values()
            .map(|runs| {
                let ok: Vec<Value> = runs
                    .iter()
                    .filter(|l| l.status == "ok")
                    .filter_map(|l| l.record.as_ref())
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .collect();
                let first = runs[0];
                let cfg = first
                    .record
                    .as_ref()
                    .and_then(|r| serde_json::to_value(&r.config).ok());
                let pick = |ptr: &str, axis: &str| {
                    cfg.as_ref()
                        .and_then(|c| usize_at(c, ptr))
                        .or_else(|| {
                            first
                                .coords
                                .get(axis)
                                .and_then(Value::as_u64)
                                .map(|x| x as usize)
                        })
                        .unwrap_or(0)
                };
                let mut coords = first.coords.clone();
                coords.remove("seed");
                let stats = METRICS
                    .iter()
                    .filter_map(|(name, ptr)| {
                        let v: Vec<f64> = ok
                            .iter()
                            .filter_map(|r| r.pointer(ptr).and_then(Value::as_f64))
                            .filter(|x| x.is_finite())
                            .collect();
                        Stat::of(&v).map(|s| (*name, s))
                    })
                    .collect();
                CellSummary {
                    cell: runs.iter().map(|l| l.cell).min().unwrap_or(0),
                    k: pick("/model/k", "model.k"),
                    t: pick("/model/experts", "model.experts"),
                    m: pick("/data/m_train", "data.m_train"),
                    coords,
                    runs: ok.len(),
                    failed: runs.len() - ok.len(),
                    stats,
                }
            })
            .collect();
        cells.sort_by_key(|c| c.cell);
        Self {
            runs: lines.len(),
            failed: cells.iter().map(|c| c.failed).sum(),
            cells,
        }
    }

    /// The CSV text (see the module doc for the columns).
    pub fn to_csv(&self) -> String {
        let mut s = String::from("cell,k,T,m,coords,runs,failed");
        for (name, _) in METRICS {
            s.push_str(&format!(",{name}_mean,{name}_std,{name}_ci95"));
        }
        s.push('\n');
        let num = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x}"));
        for c in &self.cells {
            let coords = serde_json::to_string(&c.coords)
                .unwrap_or_default()
                .replace('"', "\"\"");
            s.push_str(&format!(
                "{},{},{},{},\"{coords}\",{},{}",
                c.cell, c.k, c.t, c.m, c.runs, c.failed
            ));
            for (name, _) in METRICS {
                let st = c.stats.get(name);
                s.push_str(&format!(
                    ",{},{},{}",
                    num(st.map(|s| s.mean)),
                    num(st.and_then(|s| s.std)),
                    num(st.and_then(|s| s.ci95))
                ));
            }
            s.push('\n');
        }
        s
    }

    /// Distinct values of k, T and m, sorted.
    pub fn axes(&self) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
        let mut ks: Vec<usize> = self.cells.iter().map(|c| c.k).collect();
        let mut ts: Vec<usize> = self.cells.iter().map(|c| c.t).collect();
        let mut ms: Vec<usize> = self.cells.iter().map(|c| c.m).collect();
        for v in [&mut ks, &mut ts, &mut ms] {
            v.sort_unstable();
            v.dedup();
        }
        (ks, ts, ms)
    }

    /// The cell at (k, T, m), if there is exactly one.
    pub fn at(&self, k: usize, t: usize, m: usize) -> Option<&CellSummary> {
        let mut it = self.cells.iter().filter(|c| (c.k, c.t, c.m) == (k, t, m));
        let first = it.next()?;
        it.next().is_none().then_some(first)
    }
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
}
