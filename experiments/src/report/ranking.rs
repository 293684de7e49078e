//! Ranking tables: which measure orders the cells like the gap it speaks of, with
//! seed-bootstrap intervals and baselines.
//!
//! Each bound is ranked against the gap of the loss it bounds (`bounds.bounds[].loss` of the
//! records: `ramp` → `gap_ramp`, `zero_one` → `gap_01`), so there is one table per such gap.
//! Every table also ranks the baselines ([`BASELINES`]: parameters / m, active parameters
//! / m, sqrt(T/(k m)), 1/sqrt(m), train error) and MELD's sparse factor.
//!
//! Statistics, over cells (cell = mean over its seeds): Kendall τ of measure vs gap
//! ([`kendall_tau`]), the granulated Ψ and each ψ_axis ([`granulated_kendall`], missing
//! cells skipped). Intervals: the seed bootstrap ([`SeedBootstrap`], B = [`DEFAULT_DRAWS`],
//! fixed RNG seed): a draw resamples the seed set with replacement, every cell's mean is
//! recomputed over the drawn seeds it has (with their multiplicities), and the statistic
//! is recomputed; 95 % percentile intervals. The difference τ(bound) − τ(best baseline) (the
//! baseline with the highest τ) and τ(top) − τ(runner-up) use the same draws for both terms
//! (a paired bootstrap). The report names a best measure only when the interval of the
//! latter excludes 0.

use std::collections::BTreeMap;

use smoe_theory::{GridRun, MissingCells, granulated_kendall, kendall_tau};

use super::labels::{SPARSE_FACTOR, bound_label, validity_label};
use super::seeds::SeedTable;
use super::summary::{Axis, Summary, gap_of};
use crate::stats::bootstrap::{DEFAULT_DRAWS, DEFAULT_SEED};
use crate::stats::{SeedBootstrap, percentile_ci};

/// The baselines of every ranking table: (scalar, label).
pub const BASELINES: &[(&str, &str)] = &[
    ("baseline.params_per_m", "parameters / m"),
    ("baseline.active_per_m", "active parameters / m"),
    ("baseline.sqrt_t_over_km", "sqrt(T/(k m))"),
    ("baseline.inv_sqrt_m", "1/sqrt(m)"),
    ("train.error", "train error"),
];

/// What a row ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A bound of the records.
    Bound,
    /// A baseline ([`BASELINES`]).
    Baseline,
    /// MELD's sparse factor.
    Shape,
}

/// A statistic with its bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Est {
    /// On the cell means over every seed.
    pub value: f64,
    /// The 95 % percentile interval over the draws (`None` if no draw defined it).
    pub ci: Option<(f64, f64)>,
}

/// One row of a ranking table.
#[derive(Debug, Clone, PartialEq)]
pub struct RankRow {
    /// How it reads.
    pub label: String,
    /// The scalar ranked (`<bound>.total`, a baseline, `shape.sparse_factor`).
    pub metric: String,
    /// Bound, baseline or shape.
    pub kind: RowKind,
    /// The validity labels of the records (bounds only; several when cells differ).
    pub validity: String,
    /// Kendall τ.
    pub tau: Option<Est>,
    /// Granulated Ψ.
    pub psi: Option<Est>,
    /// ψ per varying axis (axis label, estimate).
    pub per_axis: Vec<(String, Option<Est>)>,
    /// For a bound: τ(bound) − τ(best baseline), and that baseline's label.
    pub vs_baseline: Option<(String, Est)>,
    tau_draws: Vec<f64>,
}

/// One table: the rows ranked against one gap.
#[derive(Debug, Clone, PartialEq)]
pub struct RankTable {
    /// The gap (`gap_ramp`, `gap_01`).
    pub gap: String,
    /// Bounds, then the sparse factor, then the baselines.
    pub rows: Vec<RankRow>,
    /// The two rows with the highest τ and τ(top) − τ(runner-up) with its interval.
    pub top_two: Option<(String, String, Est)>,
    /// Bootstrap draws made.
    pub draws: usize,
}

impl RankTable {
    /// The best-measure verdict: `Some(label)` only when the paired-bootstrap interval of
    /// τ(top) − τ(runner-up) excludes 0 (lies above it).
    pub fn separated_best(&self) -> Option<&str> {
        let (top, _, d) = self.top_two.as_ref()?;
        d.ci.is_some_and(|(lo, _)| lo > 0.0).then_some(top.as_str())
    }
}

/// Every bound of the records with its gap and its distinct validity labels, record order.
pub fn bounds_with_gaps(
    lines: &[crate::sweep::SweepLine],
) -> Vec<(String, &'static str, Vec<String>)> {
    let mut out: Vec<(String, &'static str, Vec<String>)> = Vec::new();
    for r in lines.iter().filter_map(|l| l.record.as_ref()) {
        for b in r.bounds.iter().flat_map(|b| b.bounds.iter()) {
            let label = validity_label(b.validity.label());
            match out.iter_mut().find(|(n, _, _)| *n == b.name) {
                Some((_, _, v)) => {
                    if !v.contains(&label) {
                        v.push(label);
                    }
                }
                None => out.push((b.name.clone(), gap_of(b.loss), vec![label])),
            }
        }
    }
    out
}

/// Kendall τ, granulated Ψ and each ψ_axis of one set of (measure, gap) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Kendall τ over all points.
    pub tau: f64,
    /// Granulated Ψ (`None` when the grid has no axis or Ψ is undefined).
    pub psi: Option<f64>,
    /// ψ per axis index (axes whose ψ is defined).
    pub per_axis: BTreeMap<usize, f64>,
}

/// τ, Ψ and ψ_axis of `points` = (coordinate index on each of `n_axes` axes, measure, gap),
/// one point per cell, missing cells skipped ([`MissingCells::Skip`]); `None` when τ is
/// undefined (fewer than two points, a non-finite value). A pure function of numbers.
pub fn grid_stats(points: &[(Vec<usize>, f64, f64)], n_axes: usize) -> Option<Stats> {
    let (m, g): (Vec<f64>, Vec<f64>) = points.iter().map(|p| (p.1, p.2)).unzip();
    let tau = kendall_tau(&m, &g).ok().filter(|t| t.is_finite())?;
    let mut out = Stats {
        tau,
        psi: None,
        per_axis: BTreeMap::new(),
    };
    if n_axes == 0 {
        return Some(out);
    }
    let runs: Vec<GridRun<usize>> = points
        .iter()
        .map(|(c, m, g)| GridRun {
            coords: c.clone(),
            measure: *m,
            gap: *g,
        })
        .collect();
    if let Ok(gk) = granulated_kendall(&runs, MissingCells::Skip) {
        out.psi = gk.psi.is_finite().then_some(gk.psi);
        for a in gk.axes {
            if a.psi.is_finite() {
                out.per_axis.insert(a.axis, a.psi);
            }
        }
    }
    Some(out)
}

fn stats_of(s: &Summary, axes: &[&Axis], pts: &[(usize, f64, f64)]) -> Option<Stats> {
    let points: Vec<(Vec<usize>, f64, f64)> = pts
        .iter()
        .map(|&(c, m, g)| {
            (
                axes.iter()
                    .map(|a| {
                        s.cells[c]
                            .coord(&a.name)
                            .and_then(|v| a.values.iter().position(|x| x == v))
                            .unwrap_or(0)
                    })
                    .collect(),
                m,
                g,
            )
        })
        .collect();
    grid_stats(&points, axes.len())
}

fn points(
    seeds: &SeedTable,
    n_cells: usize,
    metric: &str,
    gap: &[Option<f64>],
    w: &[usize],
) -> Vec<(usize, f64, f64)> {
    (0..n_cells)
        .filter_map(|c| Some((c, seeds.weighted_mean(c, metric, w)?, gap[c]?)))
        .collect()
}

fn est(value: Option<f64>, draws: &[f64]) -> Option<Est> {
    value.map(|value| Est {
        value,
        ci: percentile_ci(draws),
    })
}

/// The ranking table against `gap` of the bounds `bounds` ((scalar name, label, validity)),
/// the sparse factor and the baselines (`draws` bootstrap draws).
pub fn table(
    s: &Summary,
    seeds: &SeedTable,
    gap: &str,
    bounds: &[(String, String, String)],
    draws: usize,
) -> Option<RankTable> {
    if seeds.seeds.is_empty() {
        return None;
    }
    let axes: Vec<&Axis> = s.axes.iter().filter(|a| a.values.len() > 1).collect();
    let n_cells = s.cells.len();
    let mut specs: Vec<(String, String, RowKind, String)> = bounds
        .iter()
        .map(|(m, l, v)| (m.clone(), l.clone(), RowKind::Bound, v.clone()))
        .collect();
    specs.push((
        "shape.sparse_factor".into(),
        SPARSE_FACTOR.into(),
        RowKind::Shape,
        "shape".into(),
    ));
    for (m, l) in BASELINES {
        specs.push((
            (*m).into(),
            (*l).into(),
            RowKind::Baseline,
            "baseline".into(),
        ));
    }
    let ones = vec![1; seeds.seeds.len()];
    let boot = SeedBootstrap::new(seeds.seeds.len(), draws.max(1), DEFAULT_SEED).ok()?;
    let gap_at = |w: &[usize]| -> Vec<Option<f64>> {
        (0..n_cells)
            .map(|c| seeds.weighted_mean(c, gap, w))
            .collect()
    };
    let gap_point = gap_at(&ones);
    let gap_draws: Vec<Vec<Option<f64>>> = (0..boot.draws.len())
        .map(|b| gap_at(&boot.counts(b)))
        .collect();
    let mut rows = Vec::new();
    for (metric, label, kind, validity) in specs {
        let point = stats_of(
            s,
            &axes,
            &points(seeds, n_cells, &metric, &gap_point, &ones),
        );
        let Some(point) = point else {
            continue;
        };
        let mut tau_d = Vec::with_capacity(boot.draws.len());
        let mut psi_d = Vec::with_capacity(boot.draws.len());
        let mut axis_d: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
        for (b, gd) in gap_draws.iter().enumerate() {
            let st = stats_of(
                s,
                &axes,
                &points(seeds, n_cells, &metric, gd, &boot.counts(b)),
            );
            tau_d.push(st.as_ref().map_or(f64::NAN, |x| x.tau));
            psi_d.push(st.as_ref().and_then(|x| x.psi).unwrap_or(f64::NAN));
            for i in 0..axes.len() {
                axis_d.entry(i).or_default().push(
                    st.as_ref()
                        .and_then(|x| x.per_axis.get(&i).copied())
                        .unwrap_or(f64::NAN),
                );
            }
        }
        let per_axis = (0..axes.len())
            .map(|i| {
                (
                    axes[i].label(),
                    est(
                        point.per_axis.get(&i).copied(),
                        axis_d.get(&i).map_or(&[][..], |v| v),
                    ),
                )
            })
            .collect();
        rows.push(RankRow {
            label,
            metric,
            kind,
            validity,
            tau: est(Some(point.tau), &tau_d),
            psi: est(point.psi, &psi_d),
            per_axis,
            vs_baseline: None,
            tau_draws: tau_d,
        });
    }
    let best_base = rows
        .iter()
        .filter(|r| r.kind == RowKind::Baseline)
        .filter_map(|r| Some((r, r.tau?.value)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(r, _)| (r.label.clone(), r.tau.map(|t| t.value), r.tau_draws.clone()));
    let diff = |a: &RankRow, bv: f64, bd: &[f64]| -> Option<Est> {
        let av = a.tau?.value;
        let d: Vec<f64> = a.tau_draws.iter().zip(bd).map(|(x, y)| x - y).collect();
        est(Some(av - bv), &d)
    };
    if let Some((bl, Some(bv), bd)) = &best_base {
        for r in rows.iter_mut().filter(|r| r.kind == RowKind::Bound) {
            r.vs_baseline = diff(r, *bv, bd).map(|e| (bl.clone(), e));
        }
    }
    let mut order: Vec<&RankRow> = rows.iter().filter(|r| r.tau.is_some()).collect();
    order.sort_by(|a, b| {
        b.tau
            .map_or(f64::NEG_INFINITY, |t| t.value)
            .total_cmp(&a.tau.map_or(f64::NEG_INFINITY, |t| t.value))
    });
    let top_two = match order.as_slice() {
        [a, b, ..] => diff(a, b.tau.map_or(f64::NAN, |t| t.value), &b.tau_draws)
            .map(|d| (a.label.clone(), b.label.clone(), d)),
        _ => None,
    };
    Some(RankTable {
        gap: gap.to_string(),
        rows,
        top_two,
        draws: boot.draws.len(),
    })
}

/// Every ranking table of a report: one per gap some bound speaks of, in the order
/// `gap_ramp`, `gap_01`, each bound against its own gap.
pub fn tables(s: &Summary, seeds: &SeedTable, lines: &[crate::sweep::SweepLine]) -> Vec<RankTable> {
    let bounds = bounds_with_gaps(lines);
    let mut out = Vec::new();
    for gap in ["gap_ramp", "gap_01"] {
        if !s.scalars.iter().any(|n| n == gap) {
            continue;
        }
        let mut these: Vec<(String, String, String)> = bounds
            .iter()
            .filter(|(_, g, _)| *g == gap)
            .map(|(n, _, v)| (format!("{n}.total"), bound_label(n), v.join(" / ")))
            .collect();
        // the PAC-Bayes certificate bounds the stochastic model's 0-1 error
        let certified = lines
            .iter()
            .filter_map(|l| l.record.as_ref())
            .any(|r| r.certificate.is_some());
        if gap == "gap_01" && certified {
            these.push((
                "certificate.bound".into(),
                bound_label("certificate"),
                "valid (PAC-Bayes, THEORY §5)".into(),
            ));
        }
        if these.is_empty() {
            continue;
        }
        if let Some(t) = table(s, seeds, gap, &these, DEFAULT_DRAWS) {
            out.push(t);
        }
    }
    out
}
