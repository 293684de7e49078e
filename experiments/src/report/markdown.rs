//! `report.md`: a sweep's report that reads on its own, keyed by the sweep's own axes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Result;
use smoe_theory::{GridRun, MissingCells, granulated_kendall, kendall_tau};

use super::figures::{Figures, bound_label, bounds_in, gap_label};
use super::summary::{Axis, CellSummary, Summary, show};
use crate::sweep::{LineStatus, QUICK_CONFIG, SweepConfig, SweepLine};

/// Routing statistics among the `test.*` scalars (everything else there is a loss metric).
const ROUTING: &[&str] = &[
    "load_entropy",
    "routing_entropy",
    "dead_experts",
    "distinct_subsets",
    "routing_margin",
    "dropped_fraction",
    "group_nmi",
    "dispatch_entropy",
    "combine_entropy",
];

fn f3(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.3}"))
}

/// The loss's metric names (`loss`, `error`, `ramp` / `loss`, `mse`, `r2`), in record order.
fn loss_metrics(s: &Summary) -> Vec<String> {
    s.scalars
        .iter()
        .filter_map(|n| n.strip_prefix("test."))
        .filter(|n| !ROUTING.contains(n))
        .map(String::from)
        .collect()
}

/// How a loss metric reads in text: `error`, `MSE`, `R²`, else its name.
fn metric_label(name: &str) -> String {
    match name {
        "mse" => "MSE".into(),
        "r2" => "R²".into(),
        other => other.replace('_', " "),
    }
}

/// The test metric a reader looks at first, and whether lower is better.
fn headline_metric(s: &Summary) -> (String, bool) {
    let m = loss_metrics(s);
    for (name, lower) in [("error", true), ("mse", true)] {
        if m.iter().any(|x| x == name) {
            return (format!("test.{name}"), lower);
        }
    }
    ("test.loss".into(), true)
}

/// How `metric` changes along `axis` at fixed other coordinates, from its smallest to its
/// largest value: (rose, fell, flat, mean change).
fn trend(s: &Summary, metric: &str, axis: &Axis) -> (usize, usize, usize, f64) {
    let mut groups: BTreeMap<String, Vec<&CellSummary>> = BTreeMap::new();
    for c in &s.cells {
        let mut rest = c.coords.clone();
        rest.remove(&axis.name);
        groups
            .entry(serde_json::to_string(&rest).unwrap_or_default())
            .or_default()
            .push(c);
    }
    let pos = |c: &CellSummary| {
        c.coord(&axis.name)
            .and_then(|v| axis.values.iter().position(|x| x == v))
            .unwrap_or(0)
    };
    let (mut rose, mut fell, mut flat, mut total, mut n) = (0, 0, 0, 0.0, 0);
    for cells in groups.values() {
        let lo = cells.iter().min_by_key(|c| pos(c));
        let hi = cells.iter().max_by_key(|c| pos(c));
        let (Some(lo), Some(hi)) = (lo, hi) else {
            continue;
        };
        if pos(lo) == pos(hi) {
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
            "- {what} against {axis}: no two cells differ only in {axis}, no trend to read.\n"
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

/// A measure of a cell compared with its gap.
type Measure<'a> = Box<dyn Fn(&CellSummary) -> Option<f64> + 'a>;

/// Kendall τ and granulated Ψ of `measure` against the ramp gap over cells, the granulation
/// over every varying axis.
fn ranking(
    s: &Summary,
    measure: impl Fn(&CellSummary) -> Option<f64>,
) -> (Option<f64>, Option<f64>, String) {
    let pairs: Vec<(&CellSummary, f64, f64)> = s
        .cells
        .iter()
        .filter_map(|c| Some((c, measure(c)?, c.mean("gap_ramp")?)))
        .collect();
    let (m, g): (Vec<f64>, Vec<f64>) = pairs.iter().map(|p| (p.1, p.2)).unzip();
    let tau = kendall_tau(&m, &g).ok();
    let axes: Vec<&Axis> = s.axes.iter().filter(|a| a.values.len() > 1).collect();
    if axes.is_empty() {
        return (tau, None, String::new());
    }
    let runs: Vec<GridRun<usize>> = pairs
        .iter()
        .map(|(c, m, g)| GridRun {
            coords: axes
                .iter()
                .map(|a| {
                    c.coord(&a.name)
                        .and_then(|v| a.values.iter().position(|x| x == v))
                        .unwrap_or(0)
                })
                .collect(),
            measure: *m,
            gap: *g,
        })
        .collect();
    match granulated_kendall(&runs, MissingCells::Skip) {
        Ok(gk) => {
            let per = gk
                .axes
                .iter()
                .map(|a| {
                    format!(
                        "ψ_{} = {:.3}",
                        axes.get(a.axis).map_or("?".into(), |x| x.label()),
                        a.psi
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            (tau, Some(gk.psi), per)
        }
        Err(e) => (tau, None, format!("Ψ not defined here: {e}")),
    }
}

/// One model config in words (the first of its kind in the sweep).
fn model_line(model: &smoe_model::ModelConfig) -> String {
    let act = |a: &smoe_nn::ActivationKind| {
        serde_json::to_string(a)
            .unwrap_or_default()
            .trim_matches('"')
            .to_string()
    };
    if let Some(m) = model.as_sparse() {
        format!(
            "`{}`, router `{}`, gate `{}`, experts of depth {} and width {} (`{}`), {}",
            model.kind(),
            m.router.kind(),
            m.gate.kind(),
            m.expert.depth,
            m.expert.width,
            act(&m.expert.activation),
            m.capacity_factor
                .map_or("dropless".into(), |cf| format!("capacity factor {cf}"))
        )
    } else if let Some(m) = model.as_soft() {
        format!(
            "`soft`, {} experts, {} tokens, {} slot(s) per expert, experts of depth {} and width {} (`{}`), head `{}`, normalisation {}",
            m.experts,
            m.tokens,
            m.slots,
            m.expert.depth,
            m.expert.width,
            act(&m.expert.activation),
            serde_json::to_string(&m.head)
                .unwrap_or_default()
                .trim_matches('"'),
            if m.normalize { "on" } else { "off" }
        )
    } else {
        format!("`{}`", model.kind())
    }
}

/// The setup lines of the report, from the first record (and the first of each model kind).
fn setup(md: &mut String, lines: &[SweepLine]) -> Result<()> {
    let Some(r) = lines.iter().find_map(|l| l.record.as_ref()) else {
        return Ok(());
    };
    let c = &r.config;
    match &c.data {
        smoe_tasks::DataConfig::Synthetic(sy) => writeln!(
            md,
            "- data: synthetic task `{}`, d = {}, {} test samples",
            serde_json::to_string(&sy.task).unwrap_or_default(),
            r.data.d,
            r.data.m_test
        )?,
        smoe_tasks::DataConfig::Given(g) => writeln!(
            md,
            "- data: `{}`, given in memory by the program that trained (content hash `{}`), d = {}, {} training and {} test samples",
            g.name,
            r.data.content_hash.as_deref().unwrap_or("-"),
            r.data.d,
            r.data.m_train,
            r.data.m_test
        )?,
        _ => writeln!(
            md,
            "- data: {} files {} (content hash `{}`), d = {}, {} training and {} test samples",
            r.data.kind,
            r.data.paths.join(", "),
            r.data.content_hash.as_deref().unwrap_or("-"),
            r.data.d,
            r.data.m_train,
            r.data.m_test
        )?,
    }
    // one line per model kind among the records (a sweep may mix them)
    let mut kinds: Vec<&smoe_model::ModelConfig> = Vec::new();
    for rec in lines.iter().filter_map(|l| l.record.as_ref()) {
        if !kinds.iter().any(|k| k.kind() == rec.config.model.kind()) {
            kinds.push(&rec.config.model);
        }
    }
    for m in kinds {
        writeln!(md, "- model: {}", model_line(m))?;
    }
    writeln!(
        md,
        "- loss: `{}`; training: {} epochs, batch {}, `{}` lr {}, auxiliary losses: balance {}, z-loss {}, importance {}",
        c.loss.kind(),
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
    let note = lines
        .iter()
        .filter_map(|l| l.record.as_ref())
        .find_map(|r| r.bounds_note.as_ref());
    let any_bounds = lines
        .iter()
        .filter_map(|l| l.record.as_ref())
        .any(|r| r.bounds.is_some());
    if any_bounds {
        writeln!(
            md,
            "- bounds: δ = {}, ramp margin γ = {} (so C = 1/γ); gaps against bounds use the ramp loss the bounds speak of{}",
            c.eval.delta,
            c.eval.gamma,
            note.map_or(String::new(), |n| format!(
                "; some runs have none ({n}): bound columns cover the others"
            ))
        )?;
    } else if let Some(note) = note {
        writeln!(
            md,
            "- bounds: none ({note}; or no bound of smoe covers the `{}` loss)",
            c.loss.kind()
        )?;
    } else {
        writeln!(
            md,
            "- bounds: none (off, or no bound of smoe covers the `{}` loss)",
            c.loss.kind()
        )?;
    }
    Ok(())
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
    if cfg.is_none() {
        writeln!(
            md,
            "The records were written by a program, not by `smoe sweep` (this folder has no `sweep.toml`).\n"
        )?;
    } else if quick {
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
    setup(&mut md, lines)?;
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
    for l in lines.iter().filter(|l| l.status != LineStatus::Ok).take(10) {
        writeln!(
            md,
            "  - failed: `{}` — {}",
            serde_json::to_string(&l.coords).unwrap_or_default(),
            l.failure.as_deref().unwrap_or("?")
        )?;
    }

    // findings
    let g = s.primary_gap.clone();
    let gl = gap_label(&g);
    let (headline, lower_better) = headline_metric(s);
    let headline_label = format!(
        "test {}",
        metric_label(headline.strip_prefix("test.").unwrap_or(&headline))
    );
    writeln!(md, "## What the sweep shows\n")?;
    let varying: Vec<&Axis> = s.axes.iter().filter(|a| a.values.len() > 1).collect();
    for a in &varying {
        let fixed: Vec<String> = varying
            .iter()
            .filter(|o| o.name != a.name)
            .map(|o| o.label())
            .collect();
        let fixed = if fixed.is_empty() {
            "everything else".to_string()
        } else {
            fixed.join(", ")
        };
        if a.numeric() {
            md.push_str(&trend_sentence(
                &format!("The {gl}"),
                &a.label(),
                &fixed,
                trend(s, &g, a),
            ));
            md.push_str(&trend_sentence(
                &format!("The {headline_label}"),
                &a.label(),
                &fixed,
                trend(s, &headline, a),
            ));
        } else {
            let per: Vec<String> = a
                .values
                .iter()
                .map(|v| {
                    let vals: Vec<f64> = s
                        .cells
                        .iter()
                        .filter(|c| c.coord(&a.name) == Some(v))
                        .filter_map(|c| c.mean(&g))
                        .collect();
                    let mean =
                        (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64);
                    format!("{} {}", show(v), f3(mean))
                })
                .collect();
            writeln!(
                md,
                "- The mean {gl} per {} (over the cells of each): {}.",
                a.label(),
                per.join(", ")
            )?;
        }
    }
    let better = |a: f64, b: f64| if lower_better { a < b } else { a > b };
    let mut best: Option<(&CellSummary, f64)> = None;
    for c in &s.cells {
        if let Some(v) = c.mean(&headline)
            && best.is_none_or(|(_, b)| better(v, b))
        {
            best = Some((c, v));
        }
    }
    if let Some((c, v)) = best {
        let at: Vec<String> = varying
            .iter()
            .filter_map(|a| {
                c.coord(&a.name)
                    .map(|v| format!("{} = {}", a.label(), show(v)))
            })
            .collect();
        writeln!(
            md,
            "- The best mean {headline_label}, {v:.3}, is at {}.",
            if at.is_empty() {
                "the one cell".to_string()
            } else {
                at.join(", ")
            }
        )?;
    }
    let bounds = bounds_in(s);
    if !bounds.is_empty() {
        let vac: Vec<String> = bounds
            .iter()
            .map(|b| {
                let n = s
                    .cells
                    .iter()
                    .filter(|c| c.mean(&format!("{b}.total")).is_some_and(|v| v >= 1.0))
                    .count();
                format!("{n} ({})", b)
            })
            .collect();
        writeln!(
            md,
            "- In absolute terms the bounds are vacuous (≥ 1, the loss's range) in {} of {} cells: they can only be read as rankings, which the next section measures.",
            vac.join(", "),
            s.cells.len()
        )?;
    }
    writeln!(md)?;

    // rank statistics
    if !bounds.is_empty() && s.scalars.iter().any(|n| n == "gap_ramp") {
        writeln!(md, "## Which bound tracks the gap\n")?;
        writeln!(
            md,
            "Kendall τ over cells (cell means; +1: the measure orders the cells exactly as the measured ramp-loss gap) and the granulated Kendall Ψ of Jiang et al. (2019): the mean over axes of the τ along one axis with the others fixed (missing cells, such as k > T, are skipped, so Ψ is computed over the cells that exist).\n"
        )?;
        writeln!(
            md,
            "| measure | Kendall τ | granulated Ψ | per axis |\n|---|---|---|---|"
        )?;
        let mut top: Option<(String, f64)> = None;
        let mut rows: Vec<(String, Measure<'_>)> = vec![(
            "shape sqrt(k(1+ln(T/k))/m)".into(),
            Box::new(|c: &CellSummary| Some(c.complexity_shape())),
        )];
        for b in &bounds {
            let metric = format!("{b}.total");
            rows.push((
                bound_label(b),
                Box::new(move |c: &CellSummary| c.mean(&metric)),
            ));
        }
        for (label, f) in &rows {
            let (tau, psi, per) = ranking(s, f);
            if let Some(t) = tau
                && top.as_ref().is_none_or(|b| t > b.1)
            {
                top = Some((label.clone(), t));
            }
            writeln!(md, "| {label} | {} | {} | {per} |", f3(tau), f3(psi))?;
        }
        if let Some((label, t)) = top {
            writeln!(
                md,
                "\nThe measure that ranks the cells most like the measured gap is **{label}** (τ = {t:.3})."
            )?;
        }
    }
    if let Some(fit) = &figs.fit {
        writeln!(
            md,
            "\nLeast-squares fit of the mean {gl} on sqrt(k(1 + ln(T/k))/m) over cells: gap ≈ {:.4} · x {:+.4}, R² = {:.3}.",
            fit.slope, fit.intercept, fit.r2
        )?;
    }

    writeln!(md, "\n## Plots\n")?;
    for f in &figs.figures {
        writeln!(md, "![{}]({})\n\n*{}*\n", f.file, f.file, f.caption)?;
    }

    if s.cells.len() <= 40 {
        writeln!(md, "## Cells\n")?;
        writeln!(
            md,
            "Means over seeds (± 95 % CI half-width for the {gl}).\n"
        )?;
        let metrics = loss_metrics(s);
        let gaps: Vec<String> = s
            .scalars
            .iter()
            .filter(|n| n.starts_with("gap_"))
            .cloned()
            .collect();
        let mut header: Vec<String> = varying.iter().map(|a| a.label()).collect();
        header.push("runs".into());
        for m in metrics.iter().filter(|m| *m != "loss") {
            header.push(format!("train {}", metric_label(m)));
            header.push(format!("test {}", metric_label(m)));
        }
        header.extend(gaps.iter().map(|g| gap_label(g)));
        header.extend(bounds.iter().cloned());
        writeln!(md, "| {} |", header.join(" | "))?;
        writeln!(md, "|{}", "---|".repeat(header.len()))?;
        for c in &s.cells {
            let mut row: Vec<String> = varying
                .iter()
                .map(|a| c.coord(&a.name).map_or("–".into(), show))
                .collect();
            row.push(c.runs.to_string());
            for m in metrics.iter().filter(|m| *m != "loss") {
                row.push(f3(c.mean(&format!("train.{m}"))));
                row.push(f3(c.mean(&format!("test.{m}"))));
            }
            for gname in &gaps {
                row.push(if *gname == g {
                    c.stats.get(gname).map_or("–".into(), |st| {
                        format!(
                            "{:.3} ± {}",
                            st.mean,
                            st.ci95.map_or("–".into(), |h| format!("{h:.3}"))
                        )
                    })
                } else {
                    f3(c.mean(gname))
                });
            }
            for b in &bounds {
                row.push(f3(c.mean(&format!("{b}.total"))));
            }
            writeln!(md, "| {} |", row.join(" | "))?;
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
