//! The SVG plots of a sweep report, keyed by the sweep's own axes.
//!
//! [`plan`] decides every figure from the summary alone and returns the charts as data (what
//! tests check); [`write_all`] renders and writes them. The main metric is the loss's primary
//! gap ([`Summary::primary_gap`]: the 0-1 gap for the logistic loss, the MSE gap for the
//! squared loss). With `V` the grid axes that take more than one value:
//!
//! - for every numeric axis X of V (the sample size m only when neither k nor T varies): the
//!   gap against X, one line per value of a second axis (T for k, k for T, else the first
//!   other axis), one plot per combination of the remaining axes (`gap_vs_<X>[_<axis><value>…].svg`);
//! - when k and T both vary: a heatmap over (k, T) per combination of the other axes
//!   (`heatmap_gap[_<axis><value>…].svg`, hatched where k > T);
//! - when no axis is numeric: bars of the gap over the first axis per combination of the
//!   others (`bars_gap_<axis>[…].svg`);
//! - for every bound the records carry (`<bound>.total`): the measured gap of the loss it
//!   bounds ([`Summary::bound_gap`]: ramp or 0-1) against it, log–log with y = x
//!   (`gap_vs_<bound>_total.svg`);
//! - when k, T and m are known: the gap against MELD's sparse factor `sqrt(k(1 + ln(T/k))/m)`
//!   (THEORY.md §1.1) with its least-squares line (`gap_vs_shape.svg`);
//! - with per-seed values ([`plan_with`]), for every line plot of the gap against k or T: the per-seed paired
//!   differences against the axis's smallest value in each line, mean with its 95 % paired-t
//!   band (`diff_vs_<X>[…].svg`).
//!
//! Every lookup names every varying axis, and [`Summary::find`] fails if several cells
//! match, so a plot is never silently empty or mixed.

use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use super::seeds::SeedTable;
use super::summary::{Axis, CellSummary, Summary, show};
use crate::plot::{
    Bar, BarChart, Fit, Heatmap, LineChart, ScatterChart, ScatterGroup, Series, least_squares,
    write_svg,
};
use crate::stats::paired_t;

/// A chart of any kind, as data.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Lines with CI bands.
    Line(LineChart),
    /// A scatter plot.
    Scatter(ScatterChart),
    /// A heatmap.
    Heatmap(Heatmap),
    /// Bars with error bars.
    Bar(BarChart),
}

impl Chart {
    /// The SVG text.
    ///
    /// # Errors
    /// The chart's own rendering errors.
    pub fn render(&self) -> Result<String> {
        match self {
            Chart::Line(c) => c.render(),
            Chart::Scatter(c) => c.render(),
            Chart::Heatmap(c) => c.render(),
            Chart::Bar(c) => c.render(),
        }
    }
}

/// One figure of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File name inside the sweep folder.
    pub file: String,
    /// What it shows.
    pub caption: String,
    /// The chart, as data.
    pub chart: Chart,
}

/// The figures in report order, and the fit of the gap on `sqrt(k(1 + ln(T/k))/m)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// The plots.
    pub figures: Vec<Figure>,
    /// Least-squares fit of the mean primary gap on the complexity shape, over cells.
    pub fit: Option<Fit>,
}

pub use super::labels::bound_label;

/// How a gap is named in captions and axis labels.
pub fn gap_label(name: &str) -> String {
    match name {
        "gap_01" => "0-1 gap".into(),
        "gap_ramp" => "ramp-loss gap".into(),
        "gap_mse" => "MSE gap".into(),
        other => other.replace('_', " "),
    }
}

/// The bounds whose totals the records carry, in the records' order.
pub fn bounds_in(s: &Summary) -> Vec<String> {
    s.scalars
        .iter()
        .filter_map(|n| n.strip_suffix(".total"))
        .filter(|n| !n.contains('.'))
        .map(String::from)
        .collect()
}

fn point(c: &CellSummary, metric: &str, x: f64) -> Option<(f64, f64, f64, f64)> {
    let s = c.stats.get(metric)?;
    let h = s.ci95.unwrap_or(0.0);
    Some((x, s.mean, s.mean - h, s.mean + h))
}

/// Every combination of values of `axes` (one empty combination when there is none).
fn combinations<'a>(axes: &[&'a Axis]) -> Vec<Vec<(&'a str, &'a Value)>> {
    let mut out: Vec<Vec<(&str, &Value)>> = vec![Vec::new()];
    for a in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                a.values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push((a.name.as_str(), v));
                    p
                })
            })
            .collect();
    }
    out
}

/// `_T8_gatenoisy_topk`: a file-name suffix for a facet.
fn suffix(facet: &[(&str, &Value)]) -> String {
    facet
        .iter()
        .map(|(a, v)| {
            let val: String = show(v)
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            format!("_{}{val}", super::summary::short_name(a))
        })
        .collect()
}

/// `m = 1000, gate = noisy_topk`: a facet in words.
fn describe(facet: &[(&str, &Value)]) -> String {
    facet
        .iter()
        .map(|(a, v)| format!("{} = {}", super::summary::short_name(a), show(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn with_facet(base: &str, facet: &[(&str, &Value)]) -> String {
    if facet.is_empty() {
        base.to_string()
    } else {
        format!("{base} ({})", describe(facet))
    }
}

fn log_scale(a: &Axis) -> bool {
    if a.name == "model.experts" {
        return true;
    }
    let v: Vec<f64> = a.values.iter().filter_map(Value::as_f64).collect();
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
            (l.min(x), h.max(x))
        });
    lo > 0.0 && hi / lo >= 10.0
}

/// Decides every figure of the report (see the module doc).
///
/// # Errors
/// A lookup that matches several cells.
pub fn plan(s: &Summary) -> Result<Figures> {
    plan_with(s, None)
}

/// The paired-difference companion of a line plot of the gap against k or T: per line and
/// seed, d_s(x) = gap(x, s) − gap(x₀, s) with x₀ the smallest x of the line, over the seeds
/// both cells have; points: the mean of d_s(x) with its 95 % paired-t interval
/// ([`paired_t`]); 0 at x₀.
fn paired_series(
    s: &Summary,
    seeds: &SeedTable,
    label: &str,
    cells: &[(f64, &CellSummary)],
) -> Option<Series> {
    let g = s.primary_gap.as_str();
    let index = |c: &CellSummary| s.cells.iter().position(|x| x.cell == c.cell);
    let &(x0, c0) = cells.first()?;
    let i0 = index(c0)?;
    let mut points = vec![(x0, 0.0, 0.0, 0.0)];
    for &(x, c) in cells.iter().skip(1) {
        let i = index(c)?;
        let d: Vec<f64> = (0..seeds.seeds.len())
            .filter_map(|si| Some(seeds.get(i, g, si)? - seeds.get(i0, g, si)?))
            .collect();
        if let Ok(t) = paired_t(&d) {
            points.push((x, t.mean, t.ci_low, t.ci_high));
        }
    }
    (points.len() > 1).then(|| Series {
        label: label.to_string(),
        points,
    })
}

/// [`plan`], plus the paired-difference plots (`diff_vs_k…`, `diff_vs_T…`) when the per-seed
/// values are given.
///
/// # Errors
/// A lookup that matches several cells.
pub fn plan_with(s: &Summary, seeds: Option<&SeedTable>) -> Result<Figures> {
    let g = s.primary_gap.as_str();
    let gl = gap_label(g);
    let varying: Vec<&Axis> = s.axes.iter().filter(|a| a.values.len() > 1).collect();
    let has = |name: &str| varying.iter().any(|a| a.name == name);
    let kt = has("model.k") || has("model.experts");
    let x_axes: Vec<&Axis> = varying
        .iter()
        .copied()
        .filter(|a| a.numeric() && !(kt && a.name == "data.m_train"))
        .collect();
    let mut figs = Vec::new();
    for x in &x_axes {
        let others: Vec<&Axis> = varying
            .iter()
            .copied()
            .filter(|a| a.name != x.name)
            .collect();
        let preferred = match x.name.as_str() {
            "model.k" => "model.experts",
            "model.experts" => "model.k",
            _ => "",
        };
        let series_axis = others
            .iter()
            .copied()
            .find(|a| a.name == preferred)
            .or_else(|| others.iter().copied().find(|a| a.name != "data.m_train"))
            .or_else(|| others.first().copied());
        let facets: Vec<&Axis> = others
            .iter()
            .copied()
            .filter(|a| Some(a.name.as_str()) != series_axis.map(|s| s.name.as_str()))
            .collect();
        let paired_axis = matches!(x.name.as_str(), "model.k" | "model.experts");
        for facet in combinations(&facets) {
            let mut series = Vec::new();
            let mut diffs = Vec::new();
            let lines: Vec<Option<&Value>> = match series_axis {
                Some(sa) => sa.values.iter().map(Some).collect(),
                None => vec![None],
            };
            for sv in lines {
                let mut points = Vec::new();
                let mut line_cells = Vec::new();
                for xv in &x.values {
                    let mut fixed = facet.clone();
                    fixed.push((x.name.as_str(), xv));
                    if let (Some(sa), Some(sv)) = (series_axis, sv) {
                        fixed.push((sa.name.as_str(), sv));
                    }
                    if let Some(c) = s.find(&fixed)?
                        && let Some(p) = xv.as_f64().and_then(|xf| point(c, g, xf))
                    {
                        points.push(p);
                        line_cells.push((p.0, c));
                    }
                }
                if points.is_empty() {
                    continue;
                }
                let label = match (series_axis, sv) {
                    (Some(sa), Some(v)) => format!("{} = {}", sa.label(), show(v)),
                    _ => "all cells".into(),
                };
                if let Some(st) = seeds.filter(|_| paired_axis)
                    && let Some(d) = paired_series(s, st, &label, &line_cells)
                {
                    diffs.push(d);
                }
                series.push(Series { label, points });
            }
            let file = format!("gap_vs_{}{}.svg", x.label(), suffix(&facet));
            let caption = with_facet(
                &format!(
                    "{gl} (test − train) against {}, one line per {}; bands: 95 % CI over seeds",
                    x.label(),
                    series_axis.map_or("sweep".into(), |a| a.label())
                ),
                &facet,
            ) + ".";
            figs.push(Figure {
                file,
                caption,
                chart: Chart::Line(LineChart {
                    title: with_facet(&format!("{gl} vs {}", x.label()), &facet),
                    x_label: x.label(),
                    y_label: gl.clone(),
                    series,
                    log_x: log_scale(x),
                    log_y: false,
                }),
            });
            if !diffs.is_empty() {
                let xl = x.label();
                figs.push(Figure {
                    file: format!("diff_vs_{xl}{}.svg", suffix(&facet)),
                    caption: with_facet(
                        &format!(
                            "Paired change of the {gl} against the smallest {xl} of each line (per seed: gap − gap at the smallest {xl}; mean over seeds; bands: 95 % paired-t interval)"
                        ),
                        &facet,
                    ) + ".",
                    chart: Chart::Line(LineChart {
                        title: with_facet(&format!("paired change of the {gl} vs {xl}"), &facet),
                        x_label: xl.clone(),
                        y_label: format!("{gl} − {gl} at smallest {xl}"),
                        series: diffs,
                        log_x: log_scale(x),
                        log_y: false,
                    }),
                });
            }
        }
    }
    if let (Some(ka), Some(ta)) = (s.axis("model.k"), s.axis("model.experts"))
        && ka.values.len() > 1
        && ta.values.len() > 1
    {
        let facets: Vec<&Axis> = varying
            .iter()
            .copied()
            .filter(|a| a.name != "model.k" && a.name != "model.experts")
            .collect();
        for facet in combinations(&facets) {
            let mut values = Vec::new();
            for kv in &ka.values {
                let mut row = Vec::new();
                for tv in &ta.values {
                    let mut fixed = facet.clone();
                    fixed.push(("model.k", kv));
                    fixed.push(("model.experts", tv));
                    row.push(s.find(&fixed)?.and_then(|c| c.mean(g)));
                }
                values.push(row);
            }
            figs.push(Figure {
                file: format!("heatmap_gap{}.svg", suffix(&facet)),
                caption: with_facet(
                    &format!("Mean {gl} over (k, T); hatched: no such model (k > T)"),
                    &facet,
                ) + ".",
                chart: Chart::Heatmap(Heatmap {
                    title: with_facet(&format!("{gl} over k and T"), &facet),
                    x_label: "T".into(),
                    y_label: "k".into(),
                    x_ticks: ta.values.iter().map(show).collect(),
                    y_ticks: ka.values.iter().map(show).collect(),
                    values,
                }),
            });
        }
    }
    if x_axes.is_empty() {
        let (bar_axis, facets): (Option<&Axis>, Vec<&Axis>) = match varying.split_first() {
            Some((first, rest)) => (Some(*first), rest.to_vec()),
            None => (None, Vec::new()),
        };
        for facet in combinations(&facets) {
            let mut bars = Vec::new();
            let values: Vec<Option<&Value>> = match bar_axis {
                Some(a) => a.values.iter().map(Some).collect(),
                None => vec![None],
            };
            for v in values {
                let mut fixed = facet.clone();
                if let (Some(a), Some(v)) = (bar_axis, v) {
                    fixed.push((a.name.as_str(), v));
                }
                let cell = if bar_axis.is_none() && s.cells.len() == 1 {
                    s.cells.first()
                } else {
                    s.find(&fixed)?
                };
                if let Some(st) = cell.and_then(|c| c.stats.get(g)) {
                    let h = st.ci95.unwrap_or(0.0);
                    bars.push(Bar {
                        label: v.map_or("all".into(), show),
                        value: st.mean,
                        ci_low: st.mean - h,
                        ci_high: st.mean + h,
                    });
                }
            }
            let name = bar_axis.map_or("sweep".into(), |a| a.label());
            figs.push(Figure {
                file: format!("bars_gap_{name}{}.svg", suffix(&facet)),
                caption: with_facet(
                    &format!("Mean {gl} per {name}; error bars: 95 % CI over seeds"),
                    &facet,
                ) + ".",
                chart: Chart::Bar(BarChart {
                    title: with_facet(&format!("{gl} per {name}"), &facet),
                    x_label: name.clone(),
                    y_label: gl.clone(),
                    bars,
                }),
            });
        }
    }
    let group_axis = varying
        .iter()
        .copied()
        .find(|a| a.name != "model.k" && a.name != "model.experts");
    for b in bounds_in(s) {
        let bg = s.bound_gap(&b).to_string();
        if !s.scalars.contains(&bg) {
            continue;
        }
        let bgl = gap_label(&bg);
        let metric = format!("{b}.total");
        let label = bound_label(&b);
        let pts = |c: &CellSummary| Some((c.mean(&metric)?, c.mean(&bg)?));
        let groups: Vec<ScatterGroup> = match group_axis {
            Some(ga) => ga
                .values
                .iter()
                .map(|v| ScatterGroup {
                    label: format!("{} = {}", ga.label(), show(v)),
                    points: s
                        .cells
                        .iter()
                        .filter(|c| c.coord(&ga.name) == Some(v))
                        .filter_map(pts)
                        .collect(),
                })
                .collect(),
            None => vec![ScatterGroup {
                label: "cells".into(),
                points: s.cells.iter().filter_map(pts).collect(),
            }],
        };
        figs.push(Figure {
            file: format!("gap_vs_{b}_total.svg"),
            caption: format!(
                "Measured {bgl} (the gap of the loss the bound speaks of) against the {label}, one point per cell (log–log; y = x dashed; cells with a gap ≤ 0 cannot be shown on log axes)."
            ),
            chart: Chart::Scatter(ScatterChart {
                title: format!("measured gap vs {label}"),
                x_label: label,
                y_label: bgl,
                groups,
                log_log: true,
                diagonal: true,
                fit: None,
            }),
        });
    }
    let mut fit = None;
    if s.cells.iter().all(|c| c.k > 0 && c.t > 0 && c.m > 0) && !s.cells.is_empty() {
        let pts: Vec<(f64, f64)> = s
            .cells
            .iter()
            .filter_map(|c| Some((c.complexity_shape(), c.mean(g)?)))
            .collect();
        fit = least_squares(&pts);
        figs.push(Figure {
            file: "gap_vs_shape.svg".into(),
            caption: format!(
                "Mean {gl} against sqrt(k (1 + ln(T/k)) / m), MELD's sparse factor (the k-dependence of the restated bound's routing term at fixed d_N, not that bound's shape, which grows like sqrt(T ln T / m) through d_N ∝ T), with the least-squares line."
            ),
            chart: Chart::Scatter(ScatterChart {
                title: format!("{gl} vs sqrt(k(1 + ln(T/k))/m)"),
                x_label: "sqrt(k (1 + ln(T/k)) / m)".into(),
                y_label: gl.clone(),
                groups: vec![ScatterGroup {
                    label: "cells".into(),
                    points: pts,
                }],
                log_log: false,
                diagonal: false,
                fit,
            }),
        });
    }
    Ok(Figures { figures: figs, fit })
}

/// Removes the plots an earlier report wrote (their names depend on the grid).
fn remove_stale(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.ends_with(".svg")
            && (name.starts_with("gap_vs_")
                || name.starts_with("diff_vs_")
                || name.starts_with("heatmap_gap")
                || name.starts_with("bars_gap_"))
        {
            std::fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

/// Plans every figure ([`plan`]), removes those of an earlier report and writes them into
/// `dir`.
///
/// # Errors
/// An ambiguous lookup; unwritable files.
pub fn write_all(dir: &Path, s: &Summary, seeds: &SeedTable) -> Result<Figures> {
    let figs = plan_with(s, Some(seeds))?;
    remove_stale(dir)?;
    for f in &figs.figures {
        write_svg(&dir.join(&f.file), &f.chart.render()?)?;
    }
    Ok(figs)
}
