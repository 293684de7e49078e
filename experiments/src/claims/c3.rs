//! C3: the (k, T) factor sqrt(k (1 + ln(T/k))) of Zhao, Wang & Wang's bound ranks the cells
//! like the ramp gap.
//!
//! Per m (analysed apart): ψ_k, ψ_T and Ψ of the factor against the ramp gap over the
//! (k, T) cells, with seed-bootstrap intervals ([`super::ranking`]), beside the same for the
//! baselines parameters / m, active parameters / m, sqrt(T/(k m)) and train error, and the
//! paired-bootstrap difference factor − best baseline. At fixed m the factor ranks exactly
//! like MELD's sparse factor sqrt(k (1 + ln(T/k)) / m) (`shape.sparse_factor`), which is what
//! is ranked.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Context, Result, bail};

use super::outcome::{Condition, Estimate, Primary, num, pval};
use super::ranking::{RankData, RankEst, Ranked, Stat, paired_diff, put};
use super::{ClaimContext, ClaimDef, ClaimOutcome};
use crate::plot::{Bar, BarChart};
use crate::report::summary::{INTERPOLATION_THRESHOLD, Summary};

/// The claim's definition.
pub static DEF: ClaimDef = ClaimDef {
    id: "C3",
    claim: "at fixed m, the factor sqrt(k (1 + ln(T/k))) ranks the (k, T) cells like the measured ramp gap, at least as well as the simplest baselines",
    source: "Zhao, Wang & Wang (2024), arXiv 2403.17404, Theorem 1 (its sqrt(k (1 + log(T/k))) sparsity factor)",
    arms: &[arm!("c3-kt-grid")],
    analyse,
};

const ARM: &str = "c3-kt-grid";
const GAP: &str = "gap_ramp";
/// The factor's scalar: sqrt(k (1 + ln(T/k)) / m), the same ranking as the factor at fixed m.
const FACTOR: &str = "shape.sparse_factor";
/// The baselines of the decision rule: (scalar, label).
const BASELINES: &[(&str, &str)] = &[
    ("baseline.params_per_m", "params/m"),
    ("baseline.active_per_m", "active/m"),
    ("baseline.sqrt_t_over_km", "sqrt(T/(km))"),
    ("train.error", "train error"),
];

/// The statistics of one measure at one m.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureRow {
    /// Label.
    pub label: String,
    /// ψ_k, ψ_T, Ψ (each `None` if undefined).
    pub psi_k: Option<RankEst>,
    /// ψ_T.
    pub psi_t: Option<RankEst>,
    /// Ψ.
    pub psi: Option<RankEst>,
}

/// A paired difference factor − the best baseline on one statistic.
#[derive(Debug, Clone, PartialEq)]
pub struct VsBest {
    /// The baseline with the highest point value of the statistic.
    pub baseline: String,
    /// factor − that baseline.
    pub diff: RankEst,
}

/// Everything at one m.
#[derive(Debug, Clone, PartialEq)]
pub struct AtM {
    /// Training samples.
    pub m: usize,
    /// Cells ranked.
    pub cells: usize,
    /// Seeds.
    pub seeds: usize,
    /// Interpolating cells (mean train error below the threshold).
    pub interpolating: usize,
    /// The factor, then every baseline.
    pub rows: Vec<MeasureRow>,
    /// vs the best baseline on ψ_k, ψ_T, Ψ.
    pub vs_best: [Option<VsBest>; 3],
}

fn best_vs(factor: &Ranked, bases: &[(String, Ranked)], which: Stat) -> Option<VsBest> {
    let (label, best) = bases
        .iter()
        .filter_map(|(l, r)| Some((l, r, r.estimate(which)?.value)))
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .map(|(l, r, _)| (l.clone(), r))?;
    Some(VsBest {
        baseline: label,
        diff: paired_diff(factor, best, which)?,
    })
}

/// Ranks the factor and the baselines at one m.
///
/// # Errors
/// No k or T axis at this m, or too few cells.
pub fn at_m(data: &RankData, m: usize, interpolating: usize) -> Result<AtM> {
    let (Some(ak), Some(at)) = (data.axis("k"), data.axis("T")) else {
        bail!("m = {m}: the grid needs two values of k and of T");
    };
    let stats = [Stat::Axis(ak), Stat::Axis(at), Stat::Psi];
    let row = |label: &str, r: &Ranked| MeasureRow {
        label: label.to_string(),
        psi_k: r.estimate(stats[0]),
        psi_t: r.estimate(stats[1]),
        psi: r.estimate(stats[2]),
    };
    let factor = data.rank_default(FACTOR)?;
    let mut rows = vec![row("factor", &factor)];
    let mut bases = Vec::new();
    for (metric, label) in BASELINES {
        if let Ok(r) = data.rank_default(metric) {
            rows.push(row(label, &r));
            bases.push(((*label).to_string(), r));
        }
    }
    let vs_best = stats.map(|s| best_vs(&factor, &bases, s));
    Ok(AtM {
        m,
        cells: data.coords.len(),
        seeds: data.seeds,
        interpolating,
        rows,
        vs_best,
    })
}

/// The decision at the primary m: the primary estimate and p-values from ψ_k of the factor,
/// the conditions, the refutation.
///
/// # Errors
/// ψ_k of the factor undefined.
pub fn decide_at(a: &AtM) -> Result<Primary> {
    let f = &a.rows[0];
    let k = f.psi_k.context("ψ_k of the factor is undefined")?;
    let mut conditions = vec![
        Condition {
            text: format!(
                "ψ_k of the factor has its 95 % lower end above 0 at m = {} ({})",
                a.m,
                num(k.ci_low)
            ),
            met: k.ci_low > 0.0,
        },
        match f.psi_t {
            Some(t) => Condition {
                text: format!(
                    "ψ_T of the factor has its 95 % lower end above 0 at m = {} ({})",
                    a.m,
                    num(t.ci_low)
                ),
                met: t.ci_low > 0.0,
            },
            None => Condition {
                text: format!("ψ_T of the factor is defined at m = {}", a.m),
                met: false,
            },
        },
    ];
    for (i, name) in [(0, "ψ_k"), (1, "ψ_T")] {
        conditions.push(match &a.vs_best[i] {
            Some(v) => Condition {
                text: format!(
                    "not worse than the best baseline on {name} at m = {} (factor − {} = {}: the paired 95 % interval's upper end is ≥ 0)",
                    a.m,
                    v.baseline,
                    v.diff.show()
                ),
                met: v.diff.ci_high >= 0.0,
            },
            None => Condition {
                text: format!("a baseline's {name} is defined at m = {}", a.m),
                met: false,
            },
        });
    }
    Ok(Primary {
        estimate: Estimate {
            name: format!(
                "ψ_k of sqrt(k(1+ln(T/k))) vs the ramp gap, m = {}",
                a.m
            ),
            value: k.value,
            ci_low: k.ci_low,
            ci_high: k.ci_high,
        },
        p_for: k.p_le0,
        p_against: k.p_ge0,
        conditions,
        refuted_by: (k.ci_high < 0.0).then(|| {
            format!(
                "the upper end of ψ_k's 95 % interval is below 0 at m = {} ({}): the gap falls along k where the factor rises",
                a.m,
                num(k.ci_high)
            )
        }),
    })
}

fn cell(e: &Option<RankEst>) -> String {
    e.map_or("–".into(), |e| e.show())
}

fn analyse(ctx: &ClaimContext<'_>) -> Result<ClaimOutcome> {
    let lines = ctx.lines(ARM)?;
    let failed = ctx.failed(ARM)?;
    let all = Summary::from_lines(lines)?;
    let mut ms: Vec<usize> = all
        .cells
        .iter()
        .filter(|c| c.runs > 0)
        .map(|c| c.m)
        .collect();
    ms.sort_unstable();
    ms.dedup();
    let mut metrics = vec![FACTOR];
    metrics.extend(BASELINES.iter().map(|b| b.0));
    let mut per_m = Vec::new();
    for &m in &ms {
        let interp = all
            .cells
            .iter()
            .filter(|c| c.m == m && c.interpolating() == Some(true))
            .count();
        let data = RankData::from_lines(lines, |c| c.m == m, GAP, &metrics)?;
        per_m.push(at_m(&data, m, interp)?);
    }
    let Some(main) = per_m.last() else {
        bail!("C3: no finished runs");
    };
    let primary = decide_at(main)?;
    let mut stats = BTreeMap::new();
    let mut plots = Vec::new();
    let mut table = String::from(
        "| m | measure | ψ_k [95 % CI] | ψ_T [95 % CI] | Ψ [95 % CI] | p(ψ_k ≤ 0) | seeds |\n|---|---|---|---|---|---|---|\n",
    );
    let mut diffs = String::from(
        "| m | statistic | best baseline | factor − best [95 % CI] | p(diff ≤ 0) | p(diff ≥ 0) |\n|---|---|---|---|---|---|\n",
    );
    for a in &per_m {
        for r in &a.rows {
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {} | {} | {} |",
                a.m,
                r.label,
                cell(&r.psi_k),
                cell(&r.psi_t),
                cell(&r.psi),
                r.psi_k.map_or("–".into(), |e| pval(e.p_le0)),
                a.seeds
            );
            let key = r.label.replace(' ', "_");
            for (n, e) in [("psi_k", &r.psi_k), ("psi_t", &r.psi_t), ("psi", &r.psi)] {
                if let Some(e) = e {
                    put(&mut stats, &format!("m{}.{key}.{n}", a.m), e);
                }
            }
        }
        for (n, v) in ["ψ_k", "ψ_T", "Ψ"].iter().zip(&a.vs_best) {
            if let Some(v) = v {
                let _ = writeln!(
                    diffs,
                    "| {} | {n} | {} | {} | {} | {} |",
                    a.m,
                    v.baseline,
                    v.diff.show(),
                    pval(v.diff.p_le0),
                    pval(v.diff.p_ge0)
                );
                let key = match *n {
                    "ψ_k" => "psi_k",
                    "ψ_T" => "psi_t",
                    _ => "psi",
                };
                put(
                    &mut stats,
                    &format!("m{}.factor_minus_best.{key}", a.m),
                    &v.diff,
                );
            }
        }
        if let Some(k) = a.rows[0].psi_k {
            stats.insert(format!("m{}.factor.psi_k.p_le0", a.m), k.p_le0);
            stats.insert(format!("m{}.factor.psi_k.p_ge0", a.m), k.p_ge0);
        }
        stats.insert(
            format!("m{}.interpolating_cells", a.m),
            a.interpolating as f64,
        );
        stats.insert(format!("m{}.cells", a.m), a.cells as f64);
        let mut bars = Vec::new();
        for r in &a.rows {
            for (n, e) in [("ψk", &r.psi_k), ("ψT", &r.psi_t), ("Ψ", &r.psi)] {
                bars.push(match e {
                    Some(e) => Bar {
                        label: format!("{} {n}", r.label),
                        value: e.value,
                        ci_low: e.ci_low,
                        ci_high: e.ci_high,
                    },
                    None => Bar {
                        label: format!("{} {n}", r.label),
                        value: f64::NAN,
                        ci_low: f64::NAN,
                        ci_high: f64::NAN,
                    },
                });
            }
        }
        let chart = BarChart {
            title: format!("C3: ψ_k, ψ_T, Ψ vs the ramp gap, m = {}", a.m),
            x_label: "measure and statistic".into(),
            y_label: "granulated Kendall ψ (95 % seed-bootstrap CI)".into(),
            bars,
        };
        plots.push(ctx.write_plot(
            &format!("c3-psi-m{}.svg", a.m),
            &chart.render()?,
            &format!(
                "ψ_k, ψ_T and Ψ against the ramp gap at m = {} of the factor sqrt(k(1+ln(T/k))) and of each baseline, with 95 % seed-bootstrap intervals ({} seeds, {} (k, T) cells).",
                a.m, a.seeds, a.cells
            ),
        )?);
    }
    stats.insert("failed_runs".into(), failed as f64);
    stats.insert("p_for".into(), primary.p_for);
    stats.insert("p_against".into(), primary.p_against);
    let steps = lines
        .iter()
        .find_map(|l| l.record.as_ref())
        .and_then(|r| r.config.train.steps)
        .unwrap_or(0);
    let ks: Vec<String> = axis_values(&all, "model.k");
    let ts: Vec<String> = axis_values(&all, "model.experts");
    let m_text: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
    let setup = format!(
        "Arm `{ARM}`: `softmax_topk` MoEs (the router learns at every k), one hidden layer of 16 ReLU units per expert (iso-expert), linear router, on mixture-of-linear data (d = 16, 4 clusters, 5 % label noise, m_test = {mt}); Adam lr 0.01, batch 64, {steps} optimiser steps in every cell. Complete grid k ∈ {{{k}}} × T ∈ {{{t}}} × m ∈ {{{mm}}}, {s} seeds shared by every cell (a seed fixes teacher, data and test set); {failed} failed runs. Gap: the ramp gap at γ = the 10th-percentile training margin (`eval.gamma = \"p10\"`). Interpolating cells (mean train error < {th}): {interp}. As in ../shared/CLAIMS.md; no deviation.",
        mt = m_test(lines),
        k = ks.join(", "),
        t = ts.join(", "),
        mm = m_text.join(", "),
        s = main.seeds,
        th = INTERPOLATION_THRESHOLD,
        interp = per_m
            .iter()
            .map(|a| format!("{} of {} at m = {}", a.interpolating, a.cells, a.m))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let primary_text = format!(
        "Each m is analysed apart. Over the (k, T) cells at that m, with cell = mean over its seeds, ψ_k is the mean Kendall τ of the measure vs the ramp gap along k at each fixed T (and ψ_T along T at each fixed k), Ψ = (ψ_k + ψ_T)/2 (Jiang et al.'s granulated Kendall, THEORY.md §6). At fixed m the factor sqrt(k(1+ln(T/k))) ranks like MELD's sparse factor sqrt(k(1+ln(T/k))/m), which is the scalar ranked. Intervals: {B} seed-bootstrap draws (the seed set resampled with replacement, every cell's mean recomputed over the drawn seeds, the same draws for every measure), 95 % percentile intervals. **Primary quantity: ψ_k of the factor at m = {m}**; p_for = (1 + #{{draws with ψ_k ≤ 0}})/(1 + B), p_against = (1 + #{{draws with ψ_k ≥ 0}})/(1 + B). Decision rule: supported iff p_for (Holm over the seven claims) < 0.05, both ψ_k and ψ_T have their lower 95 % end above 0 and the factor is not worse than the best baseline on ψ_k and on ψ_T (the paired-bootstrap interval of factor − best baseline, the baseline with the highest point value of that statistic, reaches 0 or above); not supported iff the upper end of ψ_k's interval is below 0 (or p_against_Holm < 0.05).With few seeds a draw's cell means are noisier than the means over every seed, so τ-type statistics are lower in the draws and the point estimate often sits at the top of its interval.\n\n{table}\n\n**Reading.** {reading}",
        B = crate::stats::bootstrap::DEFAULT_DRAWS,
        m = main.m,
        reading = reading(&per_m),
    );
    let secondary = format!(
        "Paired-bootstrap difference of the factor against the best baseline per statistic (same draws for both; the best baseline is the one with the highest point value of that statistic at that m). The factor and active parameters / m rise together along both k and T in this grid (active parameters = router + k experts, the router growing with T), so they rank the cells identically along each axis and their difference is 0 whenever active parameters / m is the best baseline.\n\n{diffs}"
    );
    let mut exploratory = String::from(
        "Kendall τ over all (k, T) cells at each m (not granulated):\n\n| m | measure | τ [95 % CI] |\n|---|---|---|\n",
    );
    for &m in &ms {
        let data = RankData::from_lines(lines, |c| c.m == m, GAP, &metrics)?;
        for (metric, label) in std::iter::once((FACTOR, "factor")).chain(BASELINES.iter().copied())
        {
            if let Some(e) = data
                .rank_default(metric)
                .ok()
                .and_then(|r| r.estimate(Stat::Tau))
            {
                let _ = writeln!(exploratory, "| {m} | {label} | {} |", e.show());
                put(
                    &mut stats,
                    &format!("m{m}.{}.tau", label.replace(' ', "_")),
                    &e,
                );
            }
        }
    }
    let mut others = Vec::new();
    for a in &per_m[..per_m.len() - 1] {
        if let Some(k) = a.rows[0].psi_k {
            others.push(format!(
                "at m = {} ({} of {} cells interpolating) ψ_k = {}{}",
                a.m,
                a.interpolating,
                a.cells,
                k.show(),
                if k.ci_high < 0.0 {
                    ": the ranking along k is reversed there"
                } else if k.ci_low > 0.0 {
                    ": it holds there too"
                } else {
                    ": undecided there"
                }
            ));
        }
    }
    let regime = format!(
        "verdict at m = {} (softmax_topk, iso-expert width 16, {} steps; {} of {} cells interpolating){}",
        main.m,
        steps,
        main.interpolating,
        main.cells,
        if others.is_empty() {
            String::new()
        } else {
            format!("; {}", others.join("; "))
        }
    );
    Ok(ClaimOutcome {
        primary,
        regime,
        setup,
        primary_text,
        secondary,
        exploratory,
        plots,
        statistics: stats,
    })
}

/// Plain sentences on what the rows say, per m.
fn reading(per_m: &[AtM]) -> String {
    let mut out = Vec::new();
    for a in per_m {
        let f = &a.rows[0];
        let Some(k) = f.psi_k else { continue };
        let dir = if k.ci_low > 0.0 {
            "the gap rises with k where the factor does"
        } else if k.ci_high < 0.0 {
            "the gap *falls* with k while the factor rises: the factor ranks the cells along k the wrong way"
        } else {
            "the direction of the gap along k is not resolved"
        };
        let mut s = format!(
            "At m = {} ({} of {} cells interpolating), ψ_k = {}: {dir}.",
            a.m,
            a.interpolating,
            a.cells,
            k.show()
        );
        if let Some(t) = f.psi_t {
            let _ = write!(
                s,
                " ψ_T = {} (every measure here but train error rises with T, so ψ_T does not tell them apart).",
                t.show()
            );
        }
        if let Some(v) = &a.vs_best[0] {
            if v.diff.value == 0.0 && v.diff.ci_low == 0.0 && v.diff.ci_high == 0.0 {
                let _ = write!(
                    s,
                    " Along k the factor orders the cells exactly as {} does (difference 0 in every draw): it is not worse than the best baseline, and no better.",
                    v.baseline
                );
            } else {
                let _ = write!(
                    s,
                    " Against the best baseline on ψ_k ({}): factor − baseline = {}.",
                    v.baseline,
                    v.diff.show()
                );
            }
        }
        out.push(s);
    }
    out.join(" ")
}

/// The test-set size of the first record (0 if none says).
pub fn m_test(lines: &[crate::sweep::SweepLine]) -> u64 {
    lines
        .iter()
        .find_map(|l| l.record.as_ref())
        .and_then(|r| serde_json::to_value(&r.config.data).ok())
        .and_then(|v| v.get("m_test").and_then(serde_json::Value::as_u64))
        .unwrap_or(0)
}

/// The values of grid axis `name`, as they read.
pub fn axis_values(s: &Summary, name: &str) -> Vec<String> {
    s.axis(name)
        .map(|a| a.values.iter().map(crate::report::summary::show).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// k ∈ {1, 2} × T ∈ {4, 8} cells, 3 seeds: the gap rises with k and with T, the
    /// factor is the real one, params/m rises with T only, train error falls with k.
    fn data() -> RankData {
        let cells = [(1.0, 4.0), (1.0, 8.0), (2.0, 4.0), (2.0, 8.0)];
        let coords = vec![vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]];
        let per = |f: &dyn Fn(f64, f64, usize) -> f64| -> Vec<Vec<Option<f64>>> {
            cells
                .iter()
                .map(|&(k, t)| (0..3).map(|s| Some(f(k, t, s))).collect())
                .collect()
        };
        let mut measures = BTreeMap::new();
        measures.insert(
            FACTOR.to_string(),
            per(&|k, t, _| (k * (1.0 + (t / k).ln()) / 1000.0).sqrt()),
        );
        measures.insert("baseline.params_per_m".into(), per(&|_, t, _| t / 1000.0));
        measures.insert("train.error".into(), per(&|k, _, _| 0.2 - 0.05 * k));
        RankData {
            axes: vec!["k".into(), "T".into()],
            coords,
            gap: per(&|k, t, s| 0.01 * k + 0.001 * t + 0.0001 * s as f64),
            measures,
            seeds: 3,
        }
    }

    #[test]
    fn the_factor_wins_when_the_gap_rises_with_k_and_t() {
        let a = at_m(&data(), 1000, 0).unwrap();
        let f = &a.rows[0];
        assert_eq!(f.psi_k.unwrap().value, 1.0);
        assert_eq!(f.psi_t.unwrap().value, 1.0);
        // params/m: ties along k → ψ_k = 0, ψ_T = 1; train error: ψ_k = −1, ties along T
        let p = a.rows.iter().find(|r| r.label == "params/m").unwrap();
        assert_eq!(p.psi_k.unwrap().value, 0.0);
        assert_eq!(p.psi_t.unwrap().value, 1.0);
        let e = a.rows.iter().find(|r| r.label == "train error").unwrap();
        assert_eq!(e.psi_k.unwrap().value, -1.0);
        // best baseline on ψ_k is params/m (0 > −1): factor − best = 1
        let vk = a.vs_best[0].as_ref().unwrap();
        assert_eq!(vk.baseline, "params/m");
        assert_eq!(vk.diff.value, 1.0);
        let p = decide_at(&a).unwrap();
        assert!(p.conditions.iter().all(|c| c.met), "{:?}", p.conditions);
        assert!(p.refuted_by.is_none());
        assert!((p.p_for - 1.0 / 2001.0).abs() < 1e-12);
    }

    #[test]
    fn a_gap_falling_with_k_refutes() {
        let mut d = data();
        d.gap = d
            .gap
            .iter()
            .enumerate()
            .map(|(c, col)| {
                col.iter()
                    .map(|v| v.map(|x| x - 0.05 * (c / 2) as f64))
                    .collect()
            })
            .collect();
        let a = at_m(&d, 1000, 0).unwrap();
        assert_eq!(a.rows[0].psi_k.unwrap().value, -1.0);
        let p = decide_at(&a).unwrap();
        assert!(p.refuted_by.is_some());
        assert!(!p.conditions[0].met);
        assert!((p.p_against - 1.0 / 2001.0).abs() < 1e-12);
    }
}
