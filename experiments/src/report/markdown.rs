//! `report.md`: a sweep's report that reads on its own, keyed by the sweep's own axes.

use std::fmt::Write as _;

use anyhow::Result;

use super::figures::{Figures, bounds_in, gap_label};
use super::labels::SPARSE_FACTOR;
use super::protocol::Protocol;
use super::ranking::{Est, RankTable, tables};
use super::seeds::SeedTable;
use super::summary::{Axis, CellSummary, INTERPOLATION_THRESHOLD, Summary, show};
use super::trends::{Trends, class_words, describe, fmt_p, setting_words, verdict};
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
        "- loss: `{}`; training: {}, batch {}, `{}` lr {}, auxiliary losses: balance {}, z-loss {}, importance {}",
        c.loss.kind(),
        match c.train.steps {
            Some(s) => format!("{s} optimiser steps (the same at every m)"),
            None => format!("{} epochs", c.train.epochs),
        },
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
    seeds: &SeedTable,
    protocol: &Protocol,
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
    md.push_str(&protocol.lines());
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
        "- {} cells, {} runs, {} failed (diverged or error)",
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

    let interp: Vec<&CellSummary> = s
        .cells
        .iter()
        .filter(|c| c.interpolating() == Some(true))
        .collect();
    let any_interp_info = s.cells.iter().any(|c| c.interpolating().is_some());
    if any_interp_info {
        writeln!(
            md,
            "- interpolating cells (mean train error < {INTERPOLATION_THRESHOLD}; their 0-1 gap is just the test error): {} of {}, flagged in the cell table; their contrasts are stated apart",
            interp.len(),
            s.cells.len()
        )?;
    }
    writeln!(md)?;

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
    let mut metrics = vec![g.clone()];
    if headline != g {
        metrics.push(headline.clone());
    }
    let trends = Trends::new(s, seeds, &metrics);
    let family = trends.contrasts.len();
    if family > 0 {
        writeln!(
            md,
            "Trends are paired by seed (a seed fixes teacher, data and test set in every cell). For each numeric axis and each setting of the other axes, the cell at the axis's smallest value is contrasted with the cell at its largest; a sentence averages the per-seed differences over the settings it names (split by m when m varies, and by interpolation) and applies a two-sided paired t-test to them. p_Holm is Holm-adjusted over all {family} contrasts this report states (the sentences and every row of the table below, one family); \"rose\" or \"fell\" needs p_Holm < 0.05.{}\n",
            if any_interp_info {
                format!(
                    " A contrast is \"interpolating\" when one of its cells has mean train error < {INTERPOLATION_THRESHOLD} (its 0-1 gap is then just its test error): those are stated apart."
                )
            } else {
                String::new()
            }
        )?;
    }
    let label_of = |metric: &str| {
        if metric == g {
            format!("The {gl}")
        } else {
            format!("The {headline_label}")
        }
    };
    for c in trends.sentences() {
        let axis = super::summary::short_name(&c.axis);
        let what = label_of(&c.metric);
        let head = match verdict(c) {
            Some(v) => format!("**{what} {v} with {axis}**"),
            None => {
                format!("**{what}: no trend with {axis} survives the correction** (p_Holm ≥ 0.05)")
            }
        };
        let mut at: Vec<String> = Vec::new();
        if let Some(r) = &c.regime {
            at.push(format!("at m = {}", show(r)));
        }
        if any_interp_info && (c.interpolating || !interp.is_empty()) {
            at.push(class_words(c.interpolating));
        }
        let others: Vec<String> = varying
            .iter()
            .filter(|o| {
                o.name != c.axis && !(c.regime.is_some() && o.name == super::trends::REGIME_AXIS)
            })
            .map(|o| o.label())
            .collect();
        let over = if others.is_empty() {
            String::new()
        } else {
            format!(
                ", averaged over {} setting{} of {}",
                c.settings,
                if c.settings == 1 { "" } else { "s" },
                others.join(", ")
            )
        };
        writeln!(
            md,
            "- {head}{}: {axis} = {} → {}{over}; {}.",
            if at.is_empty() {
                String::new()
            } else {
                format!(" ({})", at.join("; "))
            },
            show(&c.from),
            show(&c.to),
            describe(c)
        )?;
    }
    let rows: Vec<_> = trends.rows().collect();
    if !rows.is_empty() {
        writeln!(
            md,
            "\n<details><summary>All {} per-setting contrasts (one row per setting of the other axes; same family)</summary>\n",
            rows.len()
        )?;
        writeln!(
            md,
            "| metric | axis | setting | from → to | interp. | mean change | 95 % CI | test | p | p_Holm | seeds up / down |\n|---|---|---|---|---|---|---|---|---|---|---|"
        )?;
        for c in rows {
            let t = &c.test;
            writeln!(
                md,
                "| {} | {} | {} | {} → {} | {} | {:+.4} | [{:+.4}, {:+.4}] | {} | {} | {} | {} |",
                label_of(&c.metric).trim_start_matches("The "),
                super::summary::short_name(&c.axis),
                c.setting.as_ref().map_or("—".into(), setting_words),
                show(&c.from),
                show(&c.to),
                if c.interpolating { "yes" } else { "no" },
                t.mean,
                t.ci_low,
                t.ci_high,
                if t.paired {
                    format!("paired t({})", t.df)
                } else {
                    format!("Welch t({:.1})", t.df)
                },
                fmt_p(t.p).trim_start_matches("= "),
                fmt_p(c.p_holm).trim_start_matches("= "),
                c.seeds_up_down
                    .map_or("n/a (unpaired)".into(), |(u, d)| format!("{u} / {d}"))
            )?;
        }
        writeln!(md, "\n</details>\n")?;
    }
    for a in varying.iter().filter(|a| !a.numeric()) {
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
                let mean = (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64);
                format!("{} {}", show(v), f3(mean))
            })
            .collect();
        writeln!(
            md,
            "- The mean {gl} per {} (over the cells of each; descriptive, no test): {}.",
            a.label(),
            per.join(", ")
        )?;
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
    let ranks = tables(s, seeds, lines);
    if !ranks.is_empty() {
        writeln!(md, "## Which bound tracks the gap\n")?;
        writeln!(
            md,
            "Each bound is ranked against the gap of the loss it bounds (the ramp-loss gap for the Rademacher bounds, the 0-1 gap for the VC shape). Kendall τ over cells (cell means; +1: the measure orders the cells exactly as the gap) and the granulated Kendall Ψ of Jiang et al. (2019): the mean over axes of ψ_axis, the τ along one axis with the others fixed (missing cells, such as k > T, are skipped). Brackets: 95 % seed-bootstrap intervals ({} draws; a draw resamples the seed set with replacement and every cell uses the same drawn seeds). Baselines: parameters / m, active parameters / m (router and gate parameters plus k experts' parameters), sqrt(T/(k m)), 1/sqrt(m) and the train error; the last column is τ(bound) − τ(best baseline) with its paired bootstrap interval. The {SPARSE_FACTOR} is the k-dependence of the restated bound's routing term at fixed d_N (THEORY.md §1.1), not that bound's shape (its routing term grows like sqrt(T ln T / m) through d_N ∝ T).\n",
            ranks[0].draws
        )?;
        for t in &ranks {
            rank_table(&mut md, t)?;
        }
    }
    if let Some(fit) = &figs.fit {
        writeln!(
            md,
            "\nLeast-squares fit of the mean {gl} on MELD's sparse factor sqrt(k(1 + ln(T/k))/m) over cells: gap ≈ {:.4} · x {:+.4}, R² = {:.3}.",
            fit.slope, fit.intercept, fit.r2
        )?;
    }

    if let Some(sec) = super::certificates::section(lines) {
        writeln!(md)?;
        md.push_str(&sec);
    }

    writeln!(md, "\n## Plots\n")?;
    for f in &figs.figures {
        writeln!(md, "![{}]({})\n\n*{}*\n", f.file, f.file, f.caption)?;
    }

    writeln!(md, "## Cells\n")?;
    writeln!(
        md,
        "Means over seeds (± 95 % CI half-width for the {gl}); each gap beside the train and test values of its metric{}. The same statistics with std and CI of every scalar are in `summary.csv` (its `interpolating` column flags the interpolating cells).\n",
        if any_interp_info {
            format!(
                "; interp.: mean train error < {INTERPOLATION_THRESHOLD} (the 0-1 gap is then the test error)"
            )
        } else {
            String::new()
        }
    )?;
    let long = s.cells.len() > 40;
    if long {
        writeln!(
            md,
            "<details><summary>The {} cells</summary>\n",
            s.cells.len()
        )?;
    }
    cell_table(&mut md, s, &varying, &g, &bounds)?;
    if long {
        writeln!(md, "\n</details>")?;
    }
    Ok(md)
}

/// The metric a gap is the test − train difference of (`gap_01` → `error`).
fn gap_metric(gap: &str) -> String {
    match gap {
        "gap_01" => "error".into(),
        other => other.strip_prefix("gap_").unwrap_or(other).to_string(),
    }
}

fn cell_table(
    md: &mut String,
    s: &Summary,
    varying: &[&Axis],
    g: &str,
    bounds: &[String],
) -> Result<()> {
    let metrics: Vec<String> = loss_metrics(s)
        .into_iter()
        .filter(|m| m != "loss")
        .collect();
    let gaps: Vec<String> = s
        .scalars
        .iter()
        .filter(|n| n.starts_with("gap_"))
        .cloned()
        .collect();
    // columns: per metric train, test and its gap; gaps of no listed metric at the end
    let mut cols: Vec<(String, String)> = Vec::new();
    for m in &metrics {
        cols.push((format!("train {}", metric_label(m)), format!("train.{m}")));
        cols.push((format!("test {}", metric_label(m)), format!("test.{m}")));
        if let Some(gap) = gaps.iter().find(|x| gap_metric(x) == *m) {
            cols.push((gap_label(gap), gap.clone()));
        }
    }
    for gap in gaps.iter().filter(|x| !metrics.contains(&gap_metric(x))) {
        cols.push((gap_label(gap), gap.clone()));
    }
    let mut header: Vec<String> = varying.iter().map(|a| a.label()).collect();
    header.push("runs".into());
    let any_interp = s.cells.iter().any(|c| c.interpolating().is_some());
    if any_interp {
        header.push("interp.".into());
    }
    header.extend(cols.iter().map(|c| c.0.clone()));
    header.extend(bounds.iter().cloned());
    writeln!(md, "| {} |", header.join(" | "))?;
    writeln!(md, "|{}", "---|".repeat(header.len()))?;
    for c in &s.cells {
        let mut row: Vec<String> = varying
            .iter()
            .map(|a| c.coord(&a.name).map_or("–".into(), show))
            .collect();
        row.push(c.runs.to_string());
        if any_interp {
            row.push(match c.interpolating() {
                Some(true) => "**yes**".into(),
                Some(false) => "no".into(),
                None => "–".into(),
            });
        }
        for (_, name) in &cols {
            row.push(if name == g {
                c.stats.get(name).map_or("–".into(), |st| {
                    format!(
                        "{:.3} ± {}",
                        st.mean,
                        st.ci95.map_or("–".into(), |h| format!("{h:.3}"))
                    )
                })
            } else {
                f3(c.mean(name))
            });
        }
        for b in bounds {
            row.push(f3(c.mean(&format!("{b}.total"))));
        }
        writeln!(md, "| {} |", row.join(" | "))?;
    }
    Ok(())
}

fn fe(e: Option<Est>) -> String {
    match e {
        None => "–".into(),
        Some(Est { value, ci: None }) => format!("{value:.3}"),
        Some(Est {
            value,
            ci: Some((lo, hi)),
        }) => format!("{value:.3} [{lo:.3}, {hi:.3}]"),
    }
}

fn fd(e: Est) -> String {
    match e.ci {
        None => format!("{:+.3}", e.value),
        Some((lo, hi)) => format!("{:+.3} [{lo:+.3}, {hi:+.3}]", e.value),
    }
}

fn rank_table(md: &mut String, t: &RankTable) -> Result<()> {
    let gl = gap_label(&t.gap);
    writeln!(md, "### Against the {gl}\n")?;
    let axes: Vec<String> = t
        .rows
        .first()
        .map(|r| r.per_axis.iter().map(|(a, _)| format!("ψ_{a}")).collect())
        .unwrap_or_default();
    let mut header = vec![
        "measure".to_string(),
        "validity".into(),
        "Kendall τ".into(),
        "granulated Ψ".into(),
    ];
    header.extend(axes.iter().cloned());
    header.push("τ − τ(best baseline)".into());
    writeln!(md, "| {} |", header.join(" | "))?;
    writeln!(md, "|{}", "---|".repeat(header.len()))?;
    for r in &t.rows {
        let mut row = vec![r.label.clone(), r.validity.clone(), fe(r.tau), fe(r.psi)];
        row.extend(r.per_axis.iter().map(|(_, e)| fe(*e)));
        row.push(r.vs_baseline.as_ref().map_or("–".into(), |(_, e)| fd(*e)));
        writeln!(md, "| {} |", row.join(" | "))?;
    }
    if let Some((base, _)) = t.rows.iter().find_map(|r| r.vs_baseline.as_ref()) {
        writeln!(md, "\nBest baseline (highest τ): {base}.")?;
    }
    match (&t.top_two, t.separated_best()) {
        (Some((top, second, d)), Some(_)) => writeln!(
            md,
            "\nThe measure that ranks the cells most like the {gl} is **{top}**: τ(top) − τ({second}) = {} (paired seed bootstrap; the interval excludes 0).\n",
            fd(*d)
        )?,
        (Some((top, second, d)), None) => writeln!(
            md,
            "\nThe top two measures, {top} and {second}, are not separated: τ difference {}, whose interval includes 0; no best measure is named.\n",
            fd(*d)
        )?,
        (None, _) => writeln!(md)?,
    }
    Ok(())
}
