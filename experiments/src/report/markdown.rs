//! `report.md`: a sweep's report that reads on its own.

use std::fmt::Write as _;

use anyhow::Result;
use smoe_theory::{GridRun, MissingCells, granulated_kendall, kendall_tau};

use super::figures::{BOUNDS, Figures};
use super::summary::{CellSummary, Summary};
use crate::sweep::{QUICK_CONFIG, SweepConfig, SweepLine};

fn f3(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.3}"))
}

/// How a metric changes along one axis, other axes fixed: (rose, fell, flat, mean change).
fn trend(
    s: &Summary,
    metric: &str,
    key: impl Fn(&CellSummary) -> (usize, usize),
    along: impl Fn(&CellSummary) -> usize,
) -> (usize, usize, usize, f64) {
    let mut groups: std::collections::BTreeMap<(usize, usize), Vec<&CellSummary>> =
        std::collections::BTreeMap::new();
    for c in &s.cells {
        groups.entry(key(c)).or_default().push(c);
    }
    let (mut rose, mut fell, mut flat, mut total, mut n) = (0, 0, 0, 0.0, 0);
    for cells in groups.values() {
        let lo = cells.iter().min_by_key(|c| along(c));
        let hi = cells.iter().max_by_key(|c| along(c));
        let (Some(lo), Some(hi)) = (lo, hi) else {
            continue;
        };
        if along(lo) == along(hi) {
            continue;
        }
        let (Some(a), Some(b)) = (lo.mean(metric), hi.mean(metric)) else {
            continue;
        };
        let d = b - a;
        total += d;
        n += 1;
        if d > 1e-4 {
            rose += 1;
        } else if d < -1e-4 {
            fell += 1;
        } else {
            flat += 1;
        }
    }
    (rose, fell, flat, if n > 0 { total / n as f64 } else { 0.0 })
}

fn trend_sentence(what: &str, axis: &str, fixed: &str, t: (usize, usize, usize, f64)) -> String {
    let (rose, fell, flat, mean) = t;
    let n = rose + fell + flat;
    if n == 0 {
        return format!(
            "- {what} against {axis}: the grid has a single {axis} value, no trend to read.\n"
        );
    }
    let verdict = if rose > fell {
        "rose"
    } else if fell > rose {
        "fell"
    } else {
        "moved both ways"
    };
    format!(
        "- **{what} {verdict} with {axis}**: from the smallest to the largest {axis}, at fixed {fixed}, it rose in {rose} of {n} comparisons and fell in {fell} (mean change {mean:+.4}).\n"
    )
}

/// Reads one grid coordinate of a cell.
type AxisOf = fn(&CellSummary) -> usize;
/// A measure of a cell compared with its gap.
type Measure<'a> = Box<dyn Fn(&CellSummary) -> Option<f64> + 'a>;

/// Kendall τ and granulated Ψ of `measure` against the ramp gap over cells.
fn ranking(
    s: &Summary,
    measure: impl Fn(&CellSummary) -> Option<f64>,
) -> (Option<f64>, Option<f64>, String) {
    let (ks, ts, ms) = s.axes();
    let pairs: Vec<(&CellSummary, f64, f64)> = s
        .cells
        .iter()
        .filter_map(|c| Some((c, measure(c)?, c.mean("gap_ramp")?)))
        .collect();
    let (m, g): (Vec<f64>, Vec<f64>) = pairs.iter().map(|p| (p.1, p.2)).unzip();
    let tau = kendall_tau(&m, &g).ok();
    let all: [(&str, usize, AxisOf); 3] = [
        ("k", ks.len(), |c| c.k),
        ("T", ts.len(), |c| c.t),
        ("m", ms.len(), |c| c.m),
    ];
    let axes: Vec<(&str, AxisOf)> = all
        .into_iter()
        .filter(|(_, n, _)| *n > 1)
        .map(|(a, _, f)| (a, f))
        .collect();
    if axes.is_empty() {
        return (tau, None, String::new());
    }
    let runs: Vec<GridRun<usize>> = pairs
        .iter()
        .map(|(c, m, g)| GridRun {
            coords: axes.iter().map(|(_, f)| f(c)).collect(),
            measure: *m,
            gap: *g,
        })
        .collect();
    match granulated_kendall(&runs, MissingCells::Skip) {
        Ok(gk) => {
            let per = gk
                .axes
                .iter()
                .map(|a| format!("ψ_{} = {:.3}", axes.get(a.axis).map_or("?", |x| x.0), a.psi))
                .collect::<Vec<_>>()
                .join(", ");
            (tau, Some(gk.psi), per)
        }
        Err(e) => (tau, None, format!("Ψ not defined here: {e}")),
    }
}

/// Renders the report.
///
/// # Errors
/// Formatting errors only.
pub fn render(
    cfg: Option<&SweepConfig>,
    lines: &[SweepLine],
    s: &Summary,
    figs: &Figures,
) -> Result<String> {
    let mut md = String::new();
    let name = cfg.map_or("sweep", |c| c.name.as_str());
    writeln!(md, "# Sweep report: {name}\n")?;
    if let Some(c) = cfg.filter(|c| !c.description.trim().is_empty()) {
        writeln!(md, "{}\n", c.description.trim())?;
    }
    let quick =
        cfg.is_some_and(|c| SweepConfig::parse(QUICK_CONFIG).is_ok_and(|q| q.name == c.name));
    writeln!(md, "## How this was made\n")?;
    if quick {
        writeln!(
            md,
            "```sh\ncargo run --release -- sweep            # runs experiments/configs/{name}.toml, writes this folder\n```\n"
        )?;
    } else {
        writeln!(
            md,
            "```sh\ncargo run --release -- sweep experiments/configs/{name}.toml --out results/{name}\n```\n"
        )?;
    }
    writeln!(
        md,
        "The report alone is rebuilt from the records with `cargo run --release -- report <this folder>`. Records: `runs.jsonl` (one JSON line per run); per-cell statistics: `summary.csv` (columns documented in `experiments/src/report/summary.rs`); the exact sweep config: `sweep.toml`.\n"
    )?;

    // setup
    writeln!(md, "## Setup\n")?;
    if let Some(r) = lines.iter().find_map(|l| l.record.as_ref()) {
        let c = &r.config;
        let task = serde_json::to_string(&c.task).unwrap_or_default();
        writeln!(
            md,
            "- task: `{task}`, d = {}, {} test samples",
            c.data.d, c.data.m_test
        )?;
        writeln!(
            md,
            "- model: router `{}`, gate `{}`, experts of depth {} and width {} (`{}`), {}",
            serde_json::to_string(&c.model.router).unwrap_or_default(),
            serde_json::to_string(&c.model.gate)
                .unwrap_or_default()
                .trim_matches('"'),
            c.model.expert.depth,
            c.model.expert.width,
            serde_json::to_string(&c.model.expert.activation)
                .unwrap_or_default()
                .trim_matches('"'),
            c.model
                .capacity_factor
                .map_or("dropless".into(), |cf| format!("capacity factor {cf}"))
        )?;
        writeln!(
            md,
            "- training: {} epochs, batch {}, `{}` lr {}, auxiliary losses: balance {}, z-loss {}, importance {}",
            c.train.epochs,
            c.train.batch_size,
            serde_json::to_string(&c.train.optimizer)
                .unwrap_or_default()
                .trim_matches('"'),
            c.train.lr,
            c.aux.balance,
            c.aux.z_loss,
            c.aux.importance
        )?;
        writeln!(
            md,
            "- bounds: δ = {}, ramp margin γ = {} (so C = 1/γ); gaps against bounds use the ramp loss the bounds speak of",
            c.eval.delta, c.eval.gamma
        )?;
    }
    if let Some(c) = cfg {
        let axes: Vec<String> = c
            .grid
            .iter()
            .map(|(k, a)| {
                let vals = a
                    .values(k)
                    .map(|v| {
                        v.iter()
                            .map(|x| x.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                format!("`{k}` ∈ {{{vals}}}")
            })
            .collect();
        writeln!(md, "- grid: {}", axes.join("; "))?;
    }
    writeln!(
        md,
        "- {} cells, {} runs, {} failed (diverged or error)\n",
        s.cells.len(),
        s.runs,
        s.failed
    )?;
    for l in lines.iter().filter(|l| l.status != "ok").take(10) {
        writeln!(
            md,
            "  - failed: `{}` — {}",
            serde_json::to_string(&l.coords).unwrap_or_default(),
            l.failure.as_deref().unwrap_or("?")
        )?;
    }

    // findings
    writeln!(md, "## What the sweep shows\n")?;
    md.push_str(&trend_sentence(
        "The 0-1 gap",
        "k",
        "T and m",
        trend(s, "gap_01", |c| (c.t, c.m), |c| c.k),
    ));
    md.push_str(&trend_sentence(
        "The 0-1 gap",
        "T",
        "k and m",
        trend(s, "gap_01", |c| (c.k, c.m), |c| c.t),
    ));
    md.push_str(&trend_sentence(
        "The 0-1 gap",
        "m",
        "k and T",
        trend(s, "gap_01", |c| (c.k, c.t), |c| c.m),
    ));
    md.push_str(&trend_sentence(
        "The test error",
        "k",
        "T and m",
        trend(s, "test_error", |c| (c.t, c.m), |c| c.k),
    ));
    md.push_str(&trend_sentence(
        "The test error",
        "T",
        "k and m",
        trend(s, "test_error", |c| (c.k, c.m), |c| c.t),
    ));
    if let Some(best) = s
        .cells
        .iter()
        .filter(|c| c.mean("test_error").is_some())
        .min_by(|a, b| {
            a.mean("test_error")
                .unwrap_or(1.0)
                .total_cmp(&b.mean("test_error").unwrap_or(1.0))
        })
    {
        writeln!(
            md,
            "- The lowest mean test error, {}, is at k = {}, T = {}, m = {}.",
            f3(best.mean("test_error")),
            best.k,
            best.t,
            best.m
        )?;
    }
    let vacuous = |metric: &str| {
        s.cells
            .iter()
            .filter(|c| c.mean(metric).is_some_and(|v| v >= 1.0))
            .count()
    };
    writeln!(
        md,
        "- In absolute terms the bounds are vacuous (≥ 1, the loss's range) in {} (Zhao), {} (D1 worst case) and {} (Kratsios shape) of {} cells: they can only be read as rankings, which the next section measures.\n",
        vacuous("zhao_total"),
        vacuous("d1_worst_total"),
        vacuous("kratsios_total"),
        s.cells.len()
    )?;

    // rank statistics
    writeln!(md, "## Which bound tracks the gap\n")?;
    writeln!(
        md,
        "Kendall τ over cells (cell means; +1: the measure orders the cells exactly as the measured ramp-loss gap) and the granulated Kendall Ψ of Jiang et al. (2019): the mean over axes of the τ along one axis with the others fixed (cells with k > T are skipped, so Ψ is computed over the cells that exist).\n"
    )?;
    writeln!(
        md,
        "| measure | Kendall τ | granulated Ψ | per axis |\n|---|---|---|---|"
    )?;
    let mut best: Option<(String, f64)> = None;
    let mut rows: Vec<(String, Measure<'_>)> = vec![(
        "shape sqrt(k(1+ln(T/k))/m)".into(),
        Box::new(|c: &CellSummary| Some(c.complexity_shape())),
    )];
    for (metric, label) in BOUNDS {
        rows.push((
            label.to_string(),
            Box::new(move |c: &CellSummary| c.mean(metric)),
        ));
    }
    for (label, f) in &rows {
        let (tau, psi, per) = ranking(s, f);
        if let Some(t) = tau
            && best.as_ref().is_none_or(|b| t > b.1)
        {
            best = Some((label.clone(), t));
        }
        writeln!(md, "| {label} | {} | {} | {per} |", f3(tau), f3(psi))?;
    }
    if let Some((label, t)) = best {
        writeln!(
            md,
            "\nThe measure that ranks the cells most like the measured gap is **{label}** (τ = {t:.3})."
        )?;
    }
    if let Some(fit) = &figs.fit {
        writeln!(
            md,
            "\nLeast-squares fit of the mean 0-1 gap on sqrt(k(1 + ln(T/k))/m) over cells: gap ≈ {:.4} · x {:+.4}, R² = {:.3}.",
            fit.slope, fit.intercept, fit.r2
        )?;
    }

    writeln!(md, "\n## Plots\n")?;
    for f in &figs.figures {
        writeln!(md, "![{}]({})\n\n*{}*\n", f.file, f.file, f.caption)?;
    }

    if s.cells.len() <= 40 {
        writeln!(md, "## Cells\n")?;
        writeln!(md, "Means over seeds (± 95 % CI half-width for the gap).\n")?;
        writeln!(
            md,
            "| k | T | m | runs | train err | test err | 0-1 gap | ramp gap | Zhao | D1 (valid) | Kratsios |\n|---|---|---|---|---|---|---|---|---|---|---|"
        )?;
        for c in &s.cells {
            let gap = c.stats.get("gap_01").map_or("–".into(), |st| {
                format!(
                    "{:.3} ± {}",
                    st.mean,
                    st.ci95.map_or("–".into(), |h| format!("{h:.3}"))
                )
            });
            writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {gap} | {} | {} | {} | {} |",
                c.k,
                c.t,
                c.m,
                c.runs,
                f3(c.mean("train_error")),
                f3(c.mean("test_error")),
                f3(c.mean("gap_ramp")),
                f3(c.mean("zhao_total")),
                f3(c.mean("d1_worst_total")),
                f3(c.mean("kratsios_total"))
            )?;
        }
    } else {
        writeln!(
            md,
            "The {} cells' statistics are in `summary.csv`.",
            s.cells.len()
        )?;
    }
    Ok(md)
}
