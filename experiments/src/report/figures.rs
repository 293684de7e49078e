//! The SVG plots of a sweep report.

use std::path::Path;

use anyhow::Result;

use super::summary::{CellSummary, Summary};
use crate::plot::{
    Fit, ScatterGroup, Series, heatmap, least_squares, lines_with_bands, scatter_loglog,
    scatter_with_fit, write_svg,
};

/// Bounds compared with the measured ramp-loss gap: (metric, label).
pub const BOUNDS: &[(&str, &str)] = &[
    ("zhao_total", "restated Zhao et al. bound"),
    ("d1_worst_total", "D1, worst case over patterns (valid)"),
    ("d1_learned_total", "D1 at the learned pattern (heuristic)"),
    ("kratsios_total", "Kratsios et al. VC shape (constant 1)"),
];

/// One written figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File name inside the sweep folder.
    pub file: String,
    /// What it shows.
    pub caption: String,
}

/// The figures in report order, and the fit of the gap on `sqrt(k(1 + ln(T/k))/m)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Written plots.
    pub figures: Vec<Figure>,
    /// Least-squares fit of the mean 0-1 gap on the complexity shape, over cells.
    pub fit: Option<Fit>,
}

fn point(c: &CellSummary, metric: &str, x: f64) -> Option<(f64, f64, f64, f64)> {
    let s = c.stats.get(metric)?;
    let h = s.ci95.unwrap_or(0.0);
    Some((x, s.mean, s.mean - h, s.mean + h))
}

/// The mean 0-1 gap (with its CI) along `xs`, one series per value of `lines` named
/// `{name} = value`; `cell(line, x)` finds the cell, `coord(x)` places it on the x axis.
fn series<'a>(
    lines: &[usize],
    xs: &[usize],
    name: &str,
    cell: impl Fn(usize, usize) -> Option<&'a CellSummary>,
    coord: impl Fn(usize) -> f64,
) -> Vec<Series> {
    lines
        .iter()
        .map(|&l| Series {
            label: format!("{name} = {l}"),
            points: xs
                .iter()
                .filter_map(|&x| cell(l, x).and_then(|c| point(c, "gap_01", coord(x))))
                .collect(),
        })
        .filter(|se| !se.points.is_empty())
        .collect()
}

fn save(
    dir: &Path,
    out: &mut Vec<Figure>,
    file: String,
    caption: String,
    svg: String,
) -> Result<()> {
    write_svg(&dir.join(&file), &svg)?;
    out.push(Figure { file, caption });
    Ok(())
}

/// Removes the plots an earlier report wrote (their names depend on the grid).
fn remove_stale(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.ends_with(".svg")
            && (name.starts_with("gap_vs_") || name.starts_with("heatmap_gap_"))
        {
            std::fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

/// Writes every plot into `dir` (first removing those of an earlier report).
///
/// # Errors
/// Unwritable files.
pub fn write_all(dir: &Path, s: &Summary) -> Result<Figures> {
    remove_stale(dir)?;
    let (ks, ts, ms) = s.axes();
    let mut figs = Vec::new();
    for &m in &ms {
        let by_t = series(
            ts.as_slice(),
            ks.as_slice(),
            "T",
            |t, k| s.at(k, t, m),
            |k| k as f64,
        );
        save(
            dir,
            &mut figs,
            format!("gap_vs_k_m{m}.svg"),
            format!(
                "0-1 generalization gap (test − train error) against k, one line per T, m = {m}; bands: 95 % CI over seeds."
            ),
            lines_with_bands(
                &format!("gap vs k (m = {m})"),
                "k (experts per input)",
                "0-1 gap",
                &by_t,
                false,
            )?,
        )?;
        let by_k = series(
            ks.as_slice(),
            ts.as_slice(),
            "k",
            |k, t| s.at(k, t, m),
            |t| t as f64,
        );
        save(
            dir,
            &mut figs,
            format!("gap_vs_T_m{m}.svg"),
            format!(
                "0-1 gap against T (log scale), one line per k, m = {m}; bands: 95 % CI over seeds."
            ),
            lines_with_bands(
                &format!("gap vs T (m = {m})"),
                "T (experts in total)",
                "0-1 gap",
                &by_k,
                true,
            )?,
        )?;
        let values: Vec<Vec<Option<f64>>> = ks
            .iter()
            .map(|&k| {
                ts.iter()
                    .map(|&t| s.at(k, t, m).and_then(|c| c.mean("gap_01")))
                    .collect()
            })
            .collect();
        let xt: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
        let yt: Vec<String> = ks.iter().map(|k| k.to_string()).collect();
        save(
            dir,
            &mut figs,
            format!("heatmap_gap_m{m}.svg"),
            format!("Mean 0-1 gap over (k, T), m = {m}; hatched: k > T (no such model)."),
            heatmap(
                &format!("0-1 gap over k and T (m = {m})"),
                "T",
                "k",
                &xt,
                &yt,
                &values,
            )?,
        )?;
    }
    for (metric, label) in BOUNDS {
        let groups: Vec<ScatterGroup> = ms
            .iter()
            .map(|&m| ScatterGroup {
                label: format!("m = {m}"),
                points: s
                    .cells
                    .iter()
                    .filter(|c| c.m == m)
                    .filter_map(|c| Some((c.mean(metric)?, c.mean("gap_ramp")?)))
                    .collect(),
            })
            .collect();
        save(
            dir,
            &mut figs,
            format!("gap_vs_{metric}.svg"),
            format!(
                "Measured ramp-loss gap against the {label}, one point per cell (log–log; y = x dashed; cells with a gap ≤ 0 cannot be shown on log axes)."
            ),
            scatter_loglog(
                &format!("measured gap vs {label}"),
                label,
                "ramp-loss gap",
                &groups,
                true,
            )?,
        )?;
    }
    let pts: Vec<(f64, f64)> = s
        .cells
        .iter()
        .filter_map(|c| Some((c.complexity_shape(), c.mean("gap_01")?)))
        .collect();
    let fit = least_squares(&pts);
    save(
        dir,
        &mut figs,
        "gap_vs_shape.svg".into(),
        "Mean 0-1 gap against sqrt(k (1 + ln(T/k)) / m), the shape of the restated bound, with the least-squares line.".into(),
        scatter_with_fit(
            "gap vs sqrt(k(1 + ln(T/k))/m)",
            "sqrt(k (1 + ln(T/k)) / m)",
            "0-1 gap",
            &pts,
            fit.as_ref(),
        )?,
    )?;
    Ok(Figures { figures: figs, fit })
}
