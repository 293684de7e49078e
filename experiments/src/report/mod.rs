//! `smoe report`: the summary table, the plots and `report.md` of a sweep folder.
//!
//! - [`summary`]: runs grouped into cells (all grid coordinates but the seed), with mean, std
//!   and 95 % confidence interval of every named scalar of the records; `summary.csv`; cells
//!   are looked up by the sweep's own axes, and a lookup that matches several is an error;
//! - [`seeds`]: the per-seed values of every cell (and the ranking baselines);
//! - [`trends`]: paired contrasts along each axis, Holm-corrected as one family;
//! - [`certificates`]: the PAC-Bayes certificate table of certified runs;
//! - [`ranking`]: the ranking tables with seed-bootstrap intervals and baselines;
//! - [`protocol`]: the stopping and margin rules the records state;
//! - [`labels`]: display names of bounds and validity labels;
//! - [`figures`]: the SVG plots;
//! - [`markdown`]: `report.md`, which reads on its own.

pub mod certificates;
pub mod figures;
pub mod labels;
pub mod markdown;
pub mod protocol;
pub mod ranking;
pub mod seeds;
pub mod summary;
pub mod trends;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::sweep::{SweepConfig, read_lines, store::RUNS};

/// Writes `summary.csv`, the plots and `report.md` into `dir` from its `runs.jsonl` (and
/// `sweep.toml`, when present); returns the path of `report.md`.
///
/// # Errors
/// Unreadable records, a folder without runs, unwritable outputs.
pub fn write_report(dir: &Path) -> Result<PathBuf> {
    let lines = read_lines(&dir.join(RUNS))?;
    anyhow::ensure!(
        !lines.is_empty(),
        "{} holds no runs",
        dir.join(RUNS).display()
    );
    let cfg_text = std::fs::read_to_string(dir.join("sweep.toml")).ok();
    let cfg = cfg_text.as_deref().and_then(|t| SweepConfig::parse(t).ok());
    let table = summary::Summary::from_lines(&lines)?;
    let csv = table.to_csv()?;
    std::fs::write(dir.join("summary.csv"), csv)
        .with_context(|| format!("cannot write {}", dir.join("summary.csv").display()))?;
    let seeds = seeds::SeedTable::new(&table, &lines);
    let figs = figures::write_all(dir, &table, &seeds)?;
    let proto =
        protocol::Protocol::from_text(&std::fs::read_to_string(dir.join(RUNS)).unwrap_or_default());
    let md = markdown::render(cfg.as_ref(), &lines, &table, &figs, &seeds, &proto)?;
    let path = dir.join("report.md");
    std::fs::write(&path, md).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
