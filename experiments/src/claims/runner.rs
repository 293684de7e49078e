//! Runs the claims: every arm as a sweep (resumable; `--shard` slices each arm for Slurm),
//! then every claim's analysis, then the report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::context::{ClaimContext, ClaimDef};
use super::outcome::ClaimOutcome;
use crate::sweep::{self, SweepOptions, read_lines, store::RUNS};

/// How to run `smoe claims`.
#[derive(Debug, Clone)]
pub struct ClaimsOptions {
    /// The report folder: records under `runs/<arm>/`, figures under `plots/`.
    pub out: PathBuf,
    /// The tiny settings of each arm's `[quick]` table.
    pub quick: bool,
    /// Run only these claims (`C3`, case-insensitive); the report still covers every claim
    /// whose records are in `out`.
    pub only: Option<Vec<String>>,
    /// Runs in parallel.
    pub jobs: usize,
    /// Run only slice I of N of every arm, into `out/shards/I-of-N/<arm>`, and no report.
    pub shard: Option<(usize, usize)>,
    /// No progress bars.
    pub quiet: bool,
}

/// What `smoe claims` did.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimsOutcome {
    /// Runs finished by this call.
    pub ran: usize,
    /// Runs found already recorded.
    pub resumed: usize,
    /// Of the runs finished, failed ones.
    pub failed: usize,
    /// The report, when one was written.
    pub report: Option<PathBuf>,
}

/// The claims `only` selects (all without it).
///
/// # Errors
/// A name that is no claim.
pub fn select(only: Option<&[String]>) -> Result<Vec<&'static ClaimDef>> {
    let all = super::all();
    let Some(only) = only else {
        return Ok(all.to_vec());
    };
    let mut out = Vec::new();
    for name in only {
        let Some(def) = all.iter().find(|d| d.id.eq_ignore_ascii_case(name.trim())) else {
            bail!(
                "--only {name}: no such claim (the claims are {})",
                all.map(|d| d.id).join(", ")
            );
        };
        if !out.iter().any(|d: &&ClaimDef| d.id == def.id) {
            out.push(*def);
        }
    }
    Ok(out)
}

fn arm_dir(out: &Path, arm: &str) -> PathBuf {
    out.join("runs").join(arm)
}

/// Shard folders of `arm` under `out/shards/*/`, in name order.
fn shard_dirs(out: &Path, arm: &str) -> Result<Vec<PathBuf>> {
    let root = out.join("shards");
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Ok(Vec::new());
    };
    let mut dirs = Vec::new();
    for e in entries {
        let d = e
            .with_context(|| format!("reading {}", root.display()))?
            .path()
            .join(arm);
        if d.join(RUNS).is_file() {
            dirs.push(d);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Runs the selected claims' arms, then (unless sharded) analyses every claim with records
/// and writes the report.
///
/// # Errors
/// An invalid config or option (before anything runs), an unwritable folder, a failing
/// analysis.
pub fn run_claims(opts: &ClaimsOptions) -> Result<ClaimsOutcome> {
    let selected = select(opts.only.as_deref())?;
    anyhow::ensure!(opts.jobs >= 1, "--jobs must be at least 1");
    // every config is checked before the first run
    let mut plans = Vec::new();
    for def in &selected {
        for arm in def.arms {
            let (cfg, text) = arm.resolve(opts.quick)?;
            sweep::expand(&cfg, None).with_context(|| arm.path())?;
            plans.push((def.id, *arm, cfg, text));
        }
    }
    let (mut ran, mut resumed, mut failed) = (0, 0, 0);
    for (id, arm, cfg, text) in &plans {
        let out = match opts.shard {
            Some((i, n)) => opts
                .out
                .join("shards")
                .join(format!("{i}-of-{n}"))
                .join(arm.name),
            None => {
                let dir = arm_dir(&opts.out, arm.name);
                merge_shards(&opts.out, arm.name, &dir)?;
                dir
            }
        };
        if !opts.quiet {
            eprintln!("{id} {}: {}", arm.name, out.display());
        }
        let o = sweep::run_sweep(
            cfg,
            text,
            &SweepOptions {
                out,
                jobs: opts.jobs,
                resume: true,
                fresh: false,
                shard: opts.shard,
                quiet: opts.quiet,
                base_dir: None,
            },
        )
        .with_context(|| format!("{id}: {}", arm.path()))?;
        ran += o.ran;
        resumed += o.resumed;
        failed += o.failed;
    }
    let report = if opts.shard.is_none() {
        Some(write(&opts.out, opts.quick)?)
    } else {
        None
    };
    Ok(ClaimsOutcome {
        ran,
        resumed,
        failed,
        report,
    })
}

/// Folds the records of `out/shards/*/<arm>` into `dir` (with the records `dir` already
/// has), so a Slurm array's shards resume as one folder.
fn merge_shards(out: &Path, arm: &str, dir: &Path) -> Result<()> {
    let mut dirs = shard_dirs(out, arm)?;
    if dirs.is_empty() {
        return Ok(());
    }
    if dir.join(RUNS).is_file() {
        dirs.insert(0, dir.to_path_buf());
    }
    sweep::merge(&dirs, dir).with_context(|| format!("merging the shards of {arm}"))?;
    Ok(())
}

/// Analyses every claim whose arms all have records in `out` and writes `REPORT.md` and
/// `claims.json`; returns the report's path.
///
/// # Errors
/// Unreadable records, a failing analysis, unwritable outputs.
pub fn write(out: &Path, quick: bool) -> Result<PathBuf> {
    let mut outcomes: Vec<(&'static ClaimDef, Option<ClaimOutcome>)> = Vec::new();
    for def in super::all() {
        let mut lines = BTreeMap::new();
        for arm in def.arms {
            let path = arm_dir(out, arm.name).join(RUNS);
            if path.is_file() {
                // grid order, not finishing order: sums over records then do not depend on
                // the job count or on how shards were merged
                let mut l = read_lines(&path)?;
                l.sort_by(|a, b| (a.cell, &a.key).cmp(&(b.cell, &b.key)));
                lines.insert(arm.name, l);
            }
        }
        if def.arms.is_empty() || lines.len() < def.arms.len() {
            outcomes.push((def, None));
            continue;
        }
        let ctx = ClaimContext {
            def,
            out,
            quick,
            lines,
        };
        let o = (def.analyse)(&ctx).with_context(|| format!("analysing {}", def.id))?;
        outcomes.push((def, Some(o)));
    }
    super::report::write(out, quick, &outcomes)
}
