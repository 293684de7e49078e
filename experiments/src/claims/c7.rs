//! C7: Kratsios et al.'s VC shape as a ranking measure of the 0-1 gap.
//!
//! On the primary set (cells with m ≥ 3 d_VC, d_VC = T max{d T, J W} as the `kratsios`
//! bound computes it): Ψ and ψ_T, ψ_W, ψ_J, ψ_m of the `kratsios` bound against the 0-1 gap,
//! with seed-bootstrap intervals ([`super::ranking`]), beside parameters / m, and the
//! paired-bootstrap differences shape − parameters / m.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Context, Result, bail};

use super::c3::{axis_values, m_test};
use super::outcome::{Condition, Estimate, Primary, num, pval};
use super::ranking::{RankData, RankEst, Ranked, Stat, paired_diff, put};
use super::{ClaimContext, ClaimDef, ClaimOutcome};
use crate::plot::{Bar, BarChart};
use crate::report::summary::{CellSummary, INTERPOLATION_THRESHOLD, Summary};

/// The claim's definition.
pub static DEF: ClaimDef = ClaimDef {
    id: "C7",
    claim: "the VC-dimension shape L max{nL, JW} of a mixture of L MLP experts ranks the (T, W, J, m) cells like the measured 0-1 gap, better than parameters / m along width and depth",
    source: "Kratsios, Sáez de Ocáriz Borde, Furuya & Law (2024), arXiv 2402.03460, the MoMLP VC-dimension bound Õ(L max{nL, JW}) (abstract; the seed gives no theorem number)",
    arms: &[arm!("c7-vc-grid")],
    analyse,
};

const ARM: &str = "c7-vc-grid";
const GAP: &str = "gap_01";
const SHAPE: &str = "kratsios.total";
const PARAMS: &str = "baseline.params_per_m";
/// Exploratory baselines (scalar, label).
const OTHERS: &[(&str, &str)] = &[
    ("baseline.active_per_m", "active/m"),
    ("train.error", "train error"),
];
/// Grid axes as the records name them → the letters of the claim.
const AXES: &[(&str, &str)] = &[("T", "T"), ("width", "W"), ("depth", "J"), ("m", "m")];

/// Whether a cell is in the primary set: m ≥ 3 d_VC.
pub fn in_primary_set(m: usize, vc_dim: f64) -> bool {
    vc_dim.is_finite() && (m as f64) >= 3.0 * vc_dim
}

/// The statistics of one ranking: (label, Ψ, then ψ per axis of [`AXES`] present).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Measure label.
    pub label: String,
    /// (statistic name, estimate).
    pub stats: Vec<(String, Option<RankEst>)>,
}

/// The statistics to report: Ψ, then ψ of every axis present, by its claim letter.
pub fn stat_list(data: &RankData) -> Vec<(String, Stat)> {
    let mut v = vec![("Ψ".to_string(), Stat::Psi)];
    for (name, letter) in AXES {
        if let Some(i) = data.axis(name) {
            v.push((format!("ψ_{letter}"), Stat::Axis(i)));
        }
    }
    v
}

fn row(label: &str, r: &Ranked, list: &[(String, Stat)]) -> Row {
    Row {
        label: label.into(),
        stats: list
            .iter()
            .map(|(n, s)| (n.clone(), r.estimate(*s)))
            .collect(),
    }
}

/// The decision from the rankings of the shape and of parameters / m on one set.
///
/// # Errors
/// Ψ of the shape undefined.
pub fn decide_on(data: &RankData, shape: &Ranked, params: &Ranked, set: &str) -> Result<Primary> {
    let psi = shape
        .estimate(Stat::Psi)
        .context("Ψ of the Kratsios shape is undefined")?;
    let mut conditions = Vec::new();
    let mut worse = Vec::new();
    for (name, letter) in [("width", "W"), ("depth", "J")] {
        let d = data
            .axis(name)
            .and_then(|i| paired_diff(shape, params, Stat::Axis(i)));
        conditions.push(match d {
            Some(d) => {
                worse.push(d.ci_high < 0.0);
                Condition {
                    text: format!(
                        "beats parameters / m on ψ_{letter} ({set}): needs the paired 95 % interval of ψ_{letter}(shape) − ψ_{letter}(params/m) above 0; it is {}",
                        d.show()
                    ),
                    met: d.ci_low > 0.0,
                }
            }
            None => {
                worse.push(false);
                Condition {
                    text: format!("ψ_{letter} is defined for both measures ({set})"),
                    met: false,
                }
            }
        });
    }
    let refuted = worse.len() == 2 && worse.iter().all(|w| *w);
    Ok(Primary {
        estimate: Estimate {
            name: format!("Ψ of the Kratsios VC shape vs the 0-1 gap ({set})"),
            value: psi.value,
            ci_low: psi.ci_low,
            ci_high: psi.ci_high,
        },
        p_for: psi.p_le0,
        p_against: psi.p_ge0,
        conditions,
        refuted_by: refuted.then(|| {
            format!(
                "parameters / m ranks the cells significantly better than the VC shape on both ψ_W and ψ_J ({set}: both paired 95 % intervals of shape − params/m lie below 0), so as a ranking measure the shape does not add to parameter counting"
            )
        }),
    })
}

fn show(e: &Option<RankEst>) -> String {
    e.map_or("–".into(), |e| e.show())
}

fn stat_key(n: &str) -> String {
    match n {
        "Ψ" => "psi".into(),
        other => other.replace("ψ_", "psi_"),
    }
}

fn analyse(ctx: &ClaimContext<'_>) -> Result<ClaimOutcome> {
    let lines = ctx.lines(ARM)?;
    let failed = ctx.failed(ARM)?;
    let all = Summary::from_lines(lines)?;
    let vc = |c: &CellSummary| c.mean("kratsios.vc_dim").unwrap_or(f64::NAN);
    let done: Vec<&CellSummary> = all.cells.iter().filter(|c| c.runs > 0).collect();
    if done.is_empty() {
        bail!("C7: no finished runs");
    }
    let qualifying = done.iter().filter(|c| in_primary_set(c.m, vc(c))).count();
    let mut metrics = vec![SHAPE, PARAMS];
    metrics.extend(OTHERS.iter().map(|o| o.0));
    let primary_data = RankData::from_lines(lines, |c| in_primary_set(c.m, vc(c)), GAP, &metrics);
    // the primary set needs two cells and a defined Ψ; otherwise every cell is used (said so)
    let usable = primary_data
        .as_ref()
        .ok()
        .filter(|d| d.coords.len() >= 2 && !d.axes.is_empty())
        .and_then(|d| {
            let s = d.rank_default(SHAPE).ok()?;
            s.estimate(Stat::Psi)?;
            Some(())
        })
        .is_some();
    let (data, set, fallback) = if usable {
        (primary_data?, "cells with m ≥ 3 d_VC".to_string(), false)
    } else {
        (
            RankData::from_lines(lines, |_| true, GAP, &metrics)?,
            "all cells (no usable cell has m ≥ 3 d_VC)".to_string(),
            true,
        )
    };
    let list = stat_list(&data);
    let shape = data.rank_default(SHAPE)?;
    let params = data.rank_default(PARAMS)?;
    let primary = decide_on(&data, &shape, &params, &set)?;
    let mut rows = vec![
        row("VC shape", &shape, &list),
        row("params/m", &params, &list),
    ];
    let mut stats = BTreeMap::new();
    for (metric, label) in OTHERS {
        if let Ok(r) = data.rank_default(metric) {
            rows.push(row(label, &r, &list));
        }
    }
    let mut header = String::from("| measure |");
    let mut rule = String::from("|---|");
    for (n, _) in &list {
        let _ = write!(header, " {n} [95 % CI] |");
        rule.push_str("---|");
    }
    let mut table = format!("{header}\n{rule}\n");
    for r in &rows[..2] {
        let _ = write!(table, "| {} |", r.label);
        for (n, e) in &r.stats {
            let _ = write!(table, " {} |", show(e));
            if let Some(e) = e {
                put(
                    &mut stats,
                    &format!("{}.{}", r.label.replace([' ', '/'], "_"), stat_key(n)),
                    e,
                );
            }
        }
        table.push('\n');
    }
    let mut diff_table = String::from(
        "| statistic | shape − params/m [95 % CI] | p(diff ≤ 0) | p(diff ≥ 0) |\n|---|---|---|---|\n",
    );
    let mut diff_bars = Vec::new();
    for (n, s) in &list {
        if let Some(d) = paired_diff(&shape, &params, *s) {
            let _ = writeln!(
                diff_table,
                "| {n} | {} | {} | {} |",
                d.show(),
                pval(d.p_le0),
                pval(d.p_ge0)
            );
            put(
                &mut stats,
                &format!("shape_minus_params.{}", stat_key(n)),
                &d,
            );
            diff_bars.push(Bar {
                label: n.clone(),
                value: d.value,
                ci_low: d.ci_low,
                ci_high: d.ci_high,
            });
        }
    }
    let mut bars = Vec::new();
    for r in &rows[..2] {
        for (n, e) in &r.stats {
            let label = format!("{} {n}", r.label);
            bars.push(match e {
                Some(e) => Bar {
                    label,
                    value: e.value,
                    ci_low: e.ci_low,
                    ci_high: e.ci_high,
                },
                None => Bar {
                    label,
                    value: f64::NAN,
                    ci_low: f64::NAN,
                    ci_high: f64::NAN,
                },
            });
        }
    }
    let mut plots = Vec::new();
    let chart = BarChart {
        title: format!("C7: ψ vs the 0-1 gap ({set})"),
        x_label: "measure and statistic".into(),
        y_label: "granulated Kendall ψ (95 % seed-bootstrap CI)".into(),
        bars,
    };
    plots.push(ctx.write_plot(
        "c7-psi.svg",
        &chart.render()?,
        &format!(
            "Ψ and ψ per axis of the Kratsios VC shape and of parameters / m against the 0-1 gap on {set} ({} cells, {} seeds), with 95 % seed-bootstrap intervals.",
            data.coords.len(),
            data.seeds
        ),
    )?);
    let chart = BarChart {
        title: "C7: VC shape − parameters / m (paired bootstrap)".into(),
        x_label: "statistic".into(),
        y_label: "difference of ψ (95 % paired-bootstrap CI)".into(),
        bars: diff_bars,
    };
    plots.push(ctx.write_plot(
        "c7-diff.svg",
        &chart.render()?,
        &format!(
            "Paired-bootstrap difference ψ(VC shape) − ψ(parameters / m) per statistic on {set}; the decision rule asks for the ψ_W and ψ_J intervals to lie above 0."
        ),
    )?);
    let interp = done
        .iter()
        .filter(|c| c.interpolating() == Some(true))
        .count();
    let interp_primary = done
        .iter()
        .filter(|c| in_primary_set(c.m, vc(c)) && c.interpolating() == Some(true))
        .count();
    stats.insert("cells".into(), done.len() as f64);
    stats.insert("primary_set_cells".into(), qualifying as f64);
    stats.insert("cells_ranked".into(), data.coords.len() as f64);
    stats.insert("interpolating_cells".into(), interp as f64);
    stats.insert("interpolating_primary_cells".into(), interp_primary as f64);
    stats.insert("failed_runs".into(), failed as f64);
    stats.insert("p_for".into(), primary.p_for);
    stats.insert("p_against".into(), primary.p_against);
    stats.insert(
        "fallback_to_all_cells".into(),
        f64::from(u8::from(fallback)),
    );
    let steps = lines
        .iter()
        .find_map(|l| l.record.as_ref())
        .and_then(|r| r.config.train.steps)
        .unwrap_or(0);
    let mut by_m: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    for c in &done {
        let e = by_m.entry(c.m).or_default();
        e.1 += 1;
        if in_primary_set(c.m, vc(c)) {
            e.0 += 1;
        }
    }
    let qual = by_m
        .iter()
        .map(|(m, (q, n))| format!("{q} of {n} cells at m = {m}"))
        .collect::<Vec<_>>()
        .join(", ");
    let largest = done
        .iter()
        .filter(|c| in_primary_set(c.m, vc(c)))
        .map(|c| vc(c))
        .fold(0.0f64, f64::max);
    let setup = format!(
        "Arm `{ARM}`: k = 1 MoEs with a learning router (`softmax_topk`; Kratsios et al.'s MoMLP sends each input to one expert), ReLU MLP experts, on mixture-of-linear data (d = 4, so that the routing term n L = 4 T competes with J W; 4 clusters, 5 % label noise, m_test = {mt}); Adam lr 0.01, batch 64, {steps} optimiser steps in every cell. Grid T ∈ {{{t}}} × width W ∈ {{{w}}} × hidden layers ∈ {{{j}}} (J = layers + 1 in the shape) × m ∈ {{{m}}}, {s} seeds shared by every cell; {failed} failed runs; {interp} of {n} cells interpolate (mean train error < {th}), {interp_primary} of them in the primary set.\n\n**Deviations from ../shared/CLAIMS.md, and why.** T = 32 is left out of the grid: d_VC = T max{{4T, J W}} ≥ 32 · 128 = 4096 there, so no T = 32 cell can have m ≥ 3 d_VC at m ≤ 8000 and none could enter the primary set, while its W = 128 cells are the most expensive of the grid (the Adam update of all T experts' weights dominates: a T = 32, W = 128, 3-layer run took 50 s of one core at 4000 steps, measured on the shared, loaded machine). For the same budget reason every cell gets {steps} steps instead of 4000 (the same in every cell, so m is not a compute axis; C3 + C7 must fit 12 minutes of 2 cores).\n\n**Primary set**: the cells with m ≥ 3 d_VC, d_VC = T max{{4 T, J W}} ({q} of {n} cells{fb}): {qual}; the largest d_VC in it is {big}.",
        mt = m_test(lines),
        t = axis_values(&all, "model.experts").join(", "),
        w = axis_values(&all, "model.expert.width").join(", "),
        j = axis_values(&all, "model.expert.depth").join(", "),
        m = axis_values(&all, "data.m_train").join(", "),
        s = data.seeds,
        n = done.len(),
        th = INTERPOLATION_THRESHOLD,
        q = qualifying,
        fb = if fallback {
            "; they do not make a usable grid (fewer than two cells or Ψ undefined), so every cell is ranked instead"
        } else {
            ""
        },
        big = num(largest),
    );
    let primary_text = format!(
        "On {set} ({cells} cells; cell = mean over its seeds), ψ_X is the mean Kendall τ of the measure vs the 0-1 gap along axis X at each setting of the other axes that has at least two cells in the set (missing cells skipped, not Jiang et al.'s complete-grid definition), Ψ the mean of the ψ's (THEORY.md §6). The measure is the `kratsios` bound, sqrt(2 d_VC ln(e m/d_VC)/m) + sqrt(ln(1/δ)/(2m)) with d_VC = T max{{d T, J W}} and constant 1 (THEORY.md §4); it ties where n L = 4 T ≥ J W (its ψ_W and ψ_J are then 0 on those settings). Baseline: parameters / m. Intervals: {B} seed-bootstrap draws (seed set resampled with replacement, the same draws for both measures, so differences are paired), 95 % percentile intervals (with 5 seeds a draw's cell means are noisier than the means over every seed, so τ-type statistics are lower in the draws and the point estimate often sits at the top of its interval). **Primary quantity: Ψ of the shape**; p_for = (1 + #{{draws with Ψ ≤ 0}})/(1 + B), p_against = (1 + #{{draws with Ψ ≥ 0}})/(1 + B). Decision rule: supported iff p_for (Holm over the seven claims) < 0.05 and the shape beats parameters / m on ψ_W and on ψ_J (paired 95 % interval of the difference above 0). Not supported iff p_against_Holm < 0.05, or (added here, since CLAIMS.md gives no refutation rule) parameters / m is significantly better on both ψ_W and ψ_J.\n\n{table}\n\nPaired differences (shape − parameters / m):\n\n{diff_table}\n\n**Reading.** {reading}",
        cells = data.coords.len(),
        reading = reading(&shape, &params, &data, &set),
        B = crate::stats::bootstrap::DEFAULT_DRAWS,
    );
    // secondary: every cell, whatever its d_VC
    let mut secondary = String::new();
    if !fallback {
        let every = RankData::from_lines(lines, |_| true, GAP, &metrics)?;
        let el = stat_list(&every);
        let _ = writeln!(
            secondary,
            "The same statistics on every cell ({} cells, including those with m < 3 d_VC, where the shape's growth log is capped at m ln 2 and the shape ties across many cells):\n",
            every.coords.len()
        );
        let mut h = String::from("| measure |");
        let mut r = String::from("|---|");
        for (n, _) in &el {
            let _ = write!(h, " {n} |");
            r.push_str("---|");
        }
        let _ = writeln!(secondary, "{h}\n{r}");
        for (metric, label) in [(SHAPE, "VC shape"), (PARAMS, "params/m")] {
            if let Ok(rk) = every.rank_default(metric) {
                let _ = write!(secondary, "| {label} |");
                for (n, s) in &el {
                    let e = rk.estimate(*s);
                    let _ = write!(secondary, " {} |", show(&e));
                    if let Some(e) = e {
                        put(
                            &mut stats,
                            &format!(
                                "all_cells.{}.{}",
                                label.replace([' ', '/'], "_"),
                                stat_key(n)
                            ),
                            &e,
                        );
                    }
                }
                secondary.push('\n');
            }
        }
    }
    let mut exploratory = format!(
        "Other baselines on {set} (not part of the decision rule):\n\n| measure | {} |\n|---|{}\n",
        list.iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(list.len())
    );
    for r in &rows[2..] {
        let _ = write!(exploratory, "| {} |", r.label);
        for (n, e) in &r.stats {
            let _ = write!(exploratory, " {} |", show(e));
            if let Some(e) = e {
                put(
                    &mut stats,
                    &format!("{}.{}", r.label.replace([' ', '/'], "_"), stat_key(n)),
                    e,
                );
            }
        }
        exploratory.push('\n');
    }
    let regime = format!(
        "{set}: d = 4, k = 1 softmax_topk, {steps} steps; {interp_primary} of {} ranked cells interpolating",
        data.coords.len()
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

/// Plain sentences: how well the shape ranks, and against parameters / m along W and J.
fn reading(shape: &Ranked, params: &Ranked, data: &RankData, set: &str) -> String {
    let mut s = match shape.estimate(Stat::Psi) {
        Some(p) if p.ci_low > 0.0 => format!(
            "On {set} the VC shape orders the cells like the 0-1 gap (Ψ = {}).",
            p.show()
        ),
        Some(p) => format!("On {set} Ψ of the VC shape is {}.", p.show()),
        None => String::new(),
    };
    for (name, letter) in [("width", "W"), ("depth", "J")] {
        let Some(d) = data
            .axis(name)
            .and_then(|i| paired_diff(shape, params, Stat::Axis(i)))
        else {
            continue;
        };
        let verdict = if d.ci_low > 0.0 {
            "the shape is better than parameters / m"
        } else if d.ci_high < 0.0 {
            "parameters / m is significantly better (the shape ties across J W wherever n L = 4 T ≥ J W, while the gap still moves)"
        } else {
            "the two are not told apart"
        };
        let _ = write!(
            s,
            " Along {letter}: shape − params/m = {}: {verdict}.",
            d.show()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_set_rule() {
        assert!(in_primary_set(3000, 1000.0));
        assert!(!in_primary_set(2999, 1000.0));
        assert!(!in_primary_set(8000, f64::NAN));
    }

    /// width ∈ {8, 128} × depth ∈ {1, 2}, 3 seeds; the gap rises with width and depth;
    /// `shape` gives the shape's value per (w, j).
    fn data(shape: impl Fn(f64, f64) -> f64) -> RankData {
        let cells = [(8.0, 2.0), (8.0, 3.0), (128.0, 2.0), (128.0, 3.0)];
        let per = |f: &dyn Fn(f64, f64, usize) -> f64| -> Vec<Vec<Option<f64>>> {
            cells
                .iter()
                .map(|&(w, j)| (0..3).map(|s| Some(f(w, j, s))).collect())
                .collect()
        };
        let mut measures = BTreeMap::new();
        measures.insert(SHAPE.to_string(), per(&|w, j, _| shape(w, j)));
        measures.insert(PARAMS.to_string(), per(&|w, j, _| w * j));
        RankData {
            axes: vec!["width".into(), "depth".into()],
            coords: vec![vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]],
            gap: per(&|w, j, s| 0.001 * w + 0.01 * j + 0.0001 * s as f64),
            measures,
            seeds: 3,
        }
    }

    #[test]
    fn a_shape_tied_where_routing_dominates_loses_to_params() {
        // shape = max(32, J W): ties at W = 8 (16, 24 < 32) → ψ_J = (0 + 1)/2 = 0.5 < 1
        let d = data(|w, j| (j * w).max(32.0));
        let s = d.rank(SHAPE, 200).unwrap();
        let p = d.rank(PARAMS, 200).unwrap();
        assert_eq!(s.estimate(Stat::Axis(1)).unwrap().value, 0.5);
        assert_eq!(p.estimate(Stat::Axis(1)).unwrap().value, 1.0);
        let pr = decide_on(&d, &s, &p, "test").unwrap();
        assert!(!pr.conditions[1].met);
        // ψ_W: shape 1 (32 → 256, 32 → 384), params 1: difference 0, not below 0
        assert!(pr.refuted_by.is_none());
        assert_eq!(pr.estimate.value, 0.75);
    }

    #[test]
    fn a_reversed_shape_is_refuted_and_an_exact_one_is_not() {
        let d = data(|w, j| -(j * w));
        let s = d.rank(SHAPE, 200).unwrap();
        let p = d.rank(PARAMS, 200).unwrap();
        let pr = decide_on(&d, &s, &p, "test").unwrap();
        assert!(pr.refuted_by.is_some());
        assert!((pr.p_against - 1.0 / 201.0).abs() < 1e-12);
        let d = data(|w, j| j * w);
        let s = d.rank(SHAPE, 200).unwrap();
        let pr = decide_on(&d, &s, &p, "test").unwrap();
        assert!(pr.refuted_by.is_none());
        // equal to params/m: the difference is 0, so it does not *beat* it
        assert!(pr.conditions.iter().all(|c| !c.met));
    }
}
