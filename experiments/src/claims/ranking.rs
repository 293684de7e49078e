//! Ranking statistics of C3 and C7: ψ/Ψ of a measure against a gap over the cells of a grid,
//! with seed-bootstrap intervals and one-sided bootstrap p-values, and the paired-bootstrap
//! difference against a baseline.
//!
//! The pieces are those of the sweep reports' ranking tables (`report::ranking`): the cells
//! and their per-seed values (with the baselines parameters / m, active parameters / m,
//! sqrt(T/(k m)), 1/sqrt(m) and MELD's sparse factor) come from
//! [`Summary`] and [`SeedTable`]; τ, Ψ and ψ_axis of one set of cell means from
//! [`grid_stats`] (missing cells skipped); the draws from [`SeedBootstrap`] (B =
//! [`DEFAULT_DRAWS`], fixed RNG seed); intervals from [`percentile_ci`].
//!
//! A statistic is computed on the cell means over every seed (the point estimate) and again
//! in every draw, where each cell's mean of the measure and of the gap is taken over the
//! drawn seeds with their multiplicities (every cell shares the same draw: a seed fixes
//! teacher, data and test set in every cell). Two measures ranked on the same draws give a
//! paired bootstrap of their difference. One-sided p-values: `p ≤ 0 = (1 + #{draws ≤ 0}) /
//! (1 + B')` and `p ≥ 0 = (1 + #{draws ≥ 0}) / (1 + B')`, B' the draws where the statistic
//! is defined.

use std::collections::BTreeMap;

use anyhow::{Context, Result};

use crate::report::ranking::{Stats, grid_stats};
use crate::report::seeds::SeedTable;
use crate::report::summary::{CellSummary, Summary, short_name};
use crate::stats::bootstrap::{DEFAULT_DRAWS, DEFAULT_SEED};
use crate::stats::{SeedBootstrap, percentile_ci};
use crate::sweep::SweepLine;

/// Per-seed values of some measures and a gap on the cells of a grid: plain numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct RankData {
    /// Labels of the axes that vary (`k`, `T`, `m`, `width`, …).
    pub axes: Vec<String>,
    /// Per cell, its value index on every axis.
    pub coords: Vec<Vec<usize>>,
    /// `gap[cell][seed]`.
    pub gap: Vec<Vec<Option<f64>>>,
    /// Metric → `[cell][seed]`.
    pub measures: BTreeMap<String, Vec<Vec<Option<f64>>>>,
    /// Seeds (columns).
    pub seeds: usize,
}

impl RankData {
    /// The cells of `lines` that `keep` accepts, with the per-seed values of `gap` and of
    /// `metrics` (record scalars, or the baselines of [`SeedTable`]); the axes are the grid
    /// axes (seed excluded) with more than one value among the kept cells.
    ///
    /// # Errors
    /// Runs of different sweeps in `lines` ([`Summary::from_lines`]).
    pub fn from_lines(
        lines: &[SweepLine],
        keep: impl Fn(&CellSummary) -> bool,
        gap: &str,
        metrics: &[&str],
    ) -> Result<Self> {
        let all = Summary::from_lines(lines)?;
        let kept: Vec<String> = all
            .cells
            .iter()
            .filter(|c| c.runs > 0 && keep(c))
            .map(|c| serde_json::to_string(&c.coords).unwrap_or_default())
            .collect();
        let lines: Vec<SweepLine> = lines
            .iter()
            .filter(|l| {
                let mut c = l.coords.clone();
                c.remove("seed");
                kept.contains(&serde_json::to_string(&c).unwrap_or_default())
            })
            .cloned()
            .collect();
        let s = Summary::from_lines(&lines)?;
        let seeds = SeedTable::new(&s, &lines);
        let axes: Vec<_> = s.axes.iter().filter(|a| a.values.len() > 1).collect();
        let coords = s
            .cells
            .iter()
            .map(|c| {
                axes.iter()
                    .map(|a| {
                        c.coord(&a.name)
                            .and_then(|v| a.values.iter().position(|x| x == v))
                            .unwrap_or(0)
                    })
                    .collect()
            })
            .collect();
        let col = |name: &str| -> Vec<Vec<Option<f64>>> {
            (0..s.cells.len()).map(|c| seeds.column(c, name)).collect()
        };
        Ok(Self {
            axes: axes.iter().map(|a| short_name(&a.name)).collect(),
            coords,
            gap: col(gap),
            measures: metrics.iter().map(|m| ((*m).to_string(), col(m))).collect(),
            seeds: seeds.seeds.len(),
        })
    }

    /// The index of the axis labelled `label`.
    pub fn axis(&self, label: &str) -> Option<usize> {
        self.axes.iter().position(|a| a == label)
    }

    /// The statistics of `metric` on the cell means with seed i counted `w[i]` times.
    fn stats_at(&self, metric: &[Vec<Option<f64>>], w: &[usize]) -> Option<Stats> {
        let mean = |col: &[Option<f64>]| -> Option<f64> {
            let (mut s, mut n) = (0.0, 0usize);
            for (v, &k) in col.iter().zip(w) {
                if let Some(v) = v {
                    s += v * k as f64;
                    n += k;
                }
            }
            (n > 0).then(|| s / n as f64)
        };
        let points: Vec<(Vec<usize>, f64, f64)> = (0..self.coords.len())
            .filter_map(|c| {
                Some((
                    self.coords[c].clone(),
                    mean(metric.get(c)?)?,
                    mean(self.gap.get(c)?)?,
                ))
            })
            .collect();
        grid_stats(&points, self.axes.len())
    }

    /// Ranks `metric` against the gap: the point statistics and those of `draws` seed
    /// bootstrap draws (RNG seed [`DEFAULT_SEED`]; the same draws for every metric).
    ///
    /// # Errors
    /// `metric` is not in the data; no seed; τ undefined on the cell means (fewer than two
    /// cells with values).
    pub fn rank(&self, metric: &str, draws: usize) -> Result<Ranked> {
        let col = self
            .measures
            .get(metric)
            .with_context(|| format!("no values of {metric}"))?;
        let boot = SeedBootstrap::new(self.seeds, draws.max(1), DEFAULT_SEED)
            .with_context(|| format!("bootstrap of {metric}"))?;
        let point = self
            .stats_at(col, &vec![1; self.seeds])
            .with_context(|| format!("{metric}: fewer than two cells with values"))?;
        let draws = (0..boot.draws.len())
            .map(|b| self.stats_at(col, &boot.counts(b)))
            .collect();
        Ok(Ranked {
            metric: metric.to_string(),
            point,
            draws,
        })
    }

    /// [`RankData::rank`] with [`DEFAULT_DRAWS`] draws.
    ///
    /// # Errors
    /// See [`RankData::rank`].
    pub fn rank_default(&self, metric: &str) -> Result<Ranked> {
        self.rank(metric, DEFAULT_DRAWS)
    }
}

/// Which statistic of a ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// Kendall τ over all cells.
    Tau,
    /// Granulated Ψ.
    Psi,
    /// ψ of the axis with this index.
    Axis(usize),
}

fn pick(s: &Stats, which: Stat) -> Option<f64> {
    match which {
        Stat::Tau => Some(s.tau),
        Stat::Psi => s.psi,
        Stat::Axis(i) => s.per_axis.get(&i).copied(),
    }
}

/// A measure ranked against a gap: the point statistics and those of every bootstrap draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// The metric ranked.
    pub metric: String,
    /// On the cell means over every seed.
    pub point: Stats,
    /// Per draw (`None` where τ is undefined).
    pub draws: Vec<Option<Stats>>,
}

impl Ranked {
    /// The draws of `which` (NaN where undefined).
    pub fn draws_of(&self, which: Stat) -> Vec<f64> {
        self.draws
            .iter()
            .map(|d| d.as_ref().and_then(|s| pick(s, which)).unwrap_or(f64::NAN))
            .collect()
    }

    /// `which` with its bootstrap interval and p-values (`None` when undefined on the
    /// cell means or in every draw).
    pub fn estimate(&self, which: Stat) -> Option<RankEst> {
        RankEst::new(pick(&self.point, which)?, &self.draws_of(which))
    }
}

/// The paired-bootstrap difference `which(a) − which(b)` (same draws).
pub fn paired_diff(a: &Ranked, b: &Ranked, which: Stat) -> Option<RankEst> {
    let value = pick(&a.point, which)? - pick(&b.point, which)?;
    let d: Vec<f64> = a
        .draws_of(which)
        .iter()
        .zip(b.draws_of(which))
        .map(|(x, y)| x - y)
        .collect();
    RankEst::new(value, &d)
}

/// A ranking statistic with its bootstrap interval and one-sided p-values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankEst {
    /// On the cell means over every seed.
    pub value: f64,
    /// 2.5 % percentile of the draws.
    pub ci_low: f64,
    /// 97.5 % percentile of the draws.
    pub ci_high: f64,
    /// (1 + #{draws ≤ 0}) / (1 + B'): small when the statistic is surely above 0.
    pub p_le0: f64,
    /// (1 + #{draws ≥ 0}) / (1 + B'): small when it is surely below 0.
    pub p_ge0: f64,
    /// B': draws where the statistic is defined.
    pub draws: usize,
}

impl RankEst {
    /// From the point value and the draws (non-finite draws left out); `None` when the value
    /// is not finite or no draw is.
    pub fn new(value: f64, draws: &[f64]) -> Option<Self> {
        if !value.is_finite() {
            return None;
        }
        let (lo, hi) = percentile_ci(draws)?;
        let (p_le0, p_ge0, n) = boot_p(draws)?;
        Some(Self {
            value,
            ci_low: lo,
            ci_high: hi,
            p_le0,
            p_ge0,
            draws: n,
        })
    }

    /// `value [lo, hi]`.
    pub fn show(&self) -> String {
        use super::outcome::num;
        format!(
            "{} [{}, {}]",
            num(self.value),
            num(self.ci_low),
            num(self.ci_high)
        )
    }
}

/// One-sided bootstrap p-values of the finite `draws` against 0 with the +1 correction:
/// `((1 + #{≤ 0}) / (1 + B'), (1 + #{≥ 0}) / (1 + B'), B')`; `None` with no finite draw.
pub fn boot_p(draws: &[f64]) -> Option<(f64, f64, usize)> {
    let v: Vec<f64> = draws.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let le = v.iter().filter(|&&x| x <= 0.0).count() as f64;
    let ge = v.iter().filter(|&&x| x >= 0.0).count() as f64;
    Some(((1.0 + le) / (1.0 + n), (1.0 + ge) / (1.0 + n), v.len()))
}

/// Inserts `prefix.value`, `prefix.ci_low`, `prefix.ci_high` (finite by construction) into
/// a statistics map.
pub fn put(stats: &mut BTreeMap<String, f64>, prefix: &str, e: &RankEst) {
    stats.insert(format!("{prefix}.value"), e.value);
    stats.insert(format!("{prefix}.ci_low"), e.ci_low);
    stats.insert(format!("{prefix}.ci_high"), e.ci_high);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2 × 2 grid (axes a, b) over 3 seeds; `f(cell, seed)` gives the value.
    fn grid(gap: impl Fn(usize, usize) -> f64, m: impl Fn(usize, usize) -> f64) -> RankData {
        let coords = vec![vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]];
        let col = |f: &dyn Fn(usize, usize) -> f64| -> Vec<Vec<Option<f64>>> {
            (0..4)
                .map(|c| (0..3).map(|s| Some(f(c, s))).collect())
                .collect()
        };
        RankData {
            axes: vec!["a".into(), "b".into()],
            coords,
            gap: col(&gap),
            measures: [("m".to_string(), col(&m))].into_iter().collect(),
            seeds: 3,
        }
    }

    #[test]
    fn bootstrap_p_values_by_hand() {
        // draws −1, 0, 1, 2, NaN: B' = 4; ≤ 0: 2 → 3/5; ≥ 0: 3 → 4/5
        let (le, ge, n) = boot_p(&[-1.0, 0.0, 1.0, 2.0, f64::NAN]).unwrap();
        assert_eq!(n, 4);
        assert!((le - 0.6).abs() < 1e-15 && (ge - 0.8).abs() < 1e-15);
        assert!(boot_p(&[f64::NAN]).is_none());
    }

    #[test]
    fn a_measure_ordered_like_the_gap_everywhere_has_psi_one() {
        // gap = 1 + a + 2 b + small seed noise; measure = 10 × (a + 2 b): same order in
        // every cell mean of every draw → ψ_a = ψ_b = Ψ = 1 in every draw
        let d = grid(
            |c, s| 1.0 + (c / 2) as f64 + 2.0 * (c % 2) as f64 + 0.01 * s as f64,
            |c, _| 10.0 * ((c / 2) as f64 + 2.0 * (c % 2) as f64),
        );
        let r = d.rank("m", 200).unwrap();
        for which in [Stat::Psi, Stat::Axis(0), Stat::Axis(1), Stat::Tau] {
            let e = r.estimate(which).unwrap();
            assert_eq!((e.value, e.ci_low, e.ci_high), (1.0, 1.0, 1.0));
            assert!((e.p_le0 - 1.0 / 201.0).abs() < 1e-15);
            assert_eq!(e.p_ge0, 1.0);
        }
        // a measure against itself: the paired difference is exactly 0 in every draw
        let z = paired_diff(&r, &r, Stat::Axis(0)).unwrap();
        assert_eq!((z.value, z.ci_low, z.ci_high), (0.0, 0.0, 0.0));
        assert_eq!((z.p_le0, z.p_ge0), (1.0, 1.0));
    }

    #[test]
    fn psi_by_hand_on_cell_means() {
        // cell means of the gap (seeds 0, 1, 2 average to the middle value):
        // (0,0) 1, (0,1) 3, (1,0) 2, (1,1) 0.5; measure = a + b (0, 1, 1, 2).
        // ψ_a: b = 0: (0→1, gap 1→2) +1; b = 1: (1→2, gap 3→0.5) −1 → 0.
        // ψ_b: a = 0: (0→1, 1→3) +1; a = 1: (1→2, 2→0.5) −1 → 0.  Ψ = 0.
        // τ: pairs (measure, gap): (0,1),(1,3),(1,2),(2,0.5): 6 pairs: (0,1)-(1,3) +,
        // (0,1)-(1,2) +, (0,1)-(2,.5) −, (1,3)-(1,2) 0, (1,3)-(2,.5) −, (1,2)-(2,.5) − → −1/6
        let means = [1.0, 3.0, 2.0, 0.5];
        let d = grid(
            |c, s| means[c] + [-0.1, 0.0, 0.1][s],
            |c, _| ((c / 2) + (c % 2)) as f64,
        );
        let r = d.rank("m", 50).unwrap();
        assert!(r.point.psi.unwrap().abs() < 1e-15);
        assert!(r.point.per_axis[&0].abs() < 1e-15);
        assert!((r.point.tau + 1.0 / 6.0).abs() < 1e-15);
        // the reverse measure flips every sign; the paired difference of the two is 2 τ
        let mut rev = d.clone();
        rev.measures.insert(
            "r".into(),
            d.measures["m"]
                .iter()
                .map(|c| c.iter().map(|v| v.map(|x| -x)).collect())
                .collect(),
        );
        let rr = rev.rank("r", 50).unwrap();
        let diff = paired_diff(&r, &rr, Stat::Tau).unwrap();
        assert!((diff.value + 2.0 / 6.0).abs() < 1e-15);
        assert!(d.rank("missing", 10).is_err());
    }
}
