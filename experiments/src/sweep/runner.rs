//! The parallel sweep runner.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::folder::SweepFolder;
use super::store::{LineStatus, Store, SweepLine};
use super::{Cell, SweepConfig, expand};
use crate::run::run_one;

/// How to run a sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Output folder (records, config copy, report).
    pub out: PathBuf,
    /// Runs in parallel (each run single-threaded).
    pub jobs: usize,
    /// Skip cells already in `runs.jsonl`.
    pub resume: bool,
    /// Start over even if the folder holds another sweep (its records are kept under a
    /// new name, see [`super::folder`]).
    pub fresh: bool,
    /// Run only the I-th of N slices (1-based): cells with index ≡ I−1 (mod N).
    pub shard: Option<(usize, usize)>,
    /// No progress bars.
    pub quiet: bool,
    /// Folder that relative data paths of the config are resolved against (the sweep
    /// config's folder); `None`: the working directory.
    pub base_dir: Option<PathBuf>,
}

/// What a sweep did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Valid cells in the whole grid.
    pub cells: usize,
    /// Cells in this shard.
    pub in_shard: usize,
    /// Already recorded, skipped on resume.
    pub resumed: usize,
    /// Runs this call finished (ok, diverged or error).
    pub ran: usize,
    /// Of those, failed (diverged or error).
    pub failed: usize,
    /// Notes on skipped cells (k > T).
    pub notes: Vec<String>,
    /// Where the folder's earlier records were kept (a re-run without resume, or fresh).
    pub kept_as: Option<PathBuf>,
}

fn bars(total: usize, jobs: usize, quiet: bool) -> (MultiProgress, ProgressBar, Vec<ProgressBar>) {
    let multi = MultiProgress::new();
    if quiet || !std::io::stderr().is_terminal() {
        multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let main = multi.add(ProgressBar::new(total as u64));
    if let Ok(s) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} runs [{elapsed} < {eta}] {msg}")
    {
        main.set_style(s);
    }
    let workers = (0..jobs)
        .map(|_| {
            let b = multi.add(ProgressBar::new_spinner());
            if let Ok(s) = ProgressStyle::with_template("  {spinner} {msg}") {
                b.set_style(s);
            }
            b
        })
        .collect();
    (multi, main, workers)
}

fn line_for(cell: &Cell, result: Result<smoe_train::TrainOutcome>) -> SweepLine {
    match result {
        Ok(outcome) => {
            let r = outcome.record;
            SweepLine {
                key: cell.key.clone(),
                cell: cell.index,
                coords: cell.coords.clone(),
                status: r.status.into(),
                failure: r.failure.clone(),
                record: Some(r),
            }
        }
        Err(e) => SweepLine {
            key: cell.key.clone(),
            cell: cell.index,
            coords: cell.coords.clone(),
            status: LineStatus::Error,
            failure: Some(crate::one_line(&e)),
            record: None,
        },
    }
}

/// Runs the sweep `cfg` (its text `text` is copied to `out/sweep.toml` unless the folder
/// already has this sweep's config). The folder is locked and checked first (see
/// [`super::folder`]).
///
/// # Errors
/// Invalid grid or base config (before anything runs), a folder locked by another process
/// or holding another sweep (before anything is written), unwritable output.
pub fn run_sweep(cfg: &SweepConfig, text: &str, opts: &SweepOptions) -> Result<SweepOutcome> {
    anyhow::ensure!(opts.jobs >= 1, "--jobs must be at least 1");
    let (cells, notes) = expand(cfg, opts.base_dir.as_deref())?;
    let mine: Vec<&Cell> = cells
        .iter()
        .filter(|c| opts.shard.is_none_or(|(i, n)| c.index % n == i - 1))
        .collect();
    let folder = SweepFolder::open(&opts.out, cfg, text, opts.resume, opts.fresh)?;
    let (store, done) = Store::open(&folder, opts.resume)?;
    let todo: Vec<&Cell> = mine
        .iter()
        .copied()
        .filter(|c| !done.contains(&c.key))
        .collect();
    let (_multi, main, workers) = bars(todo.len(), opts.jobs, opts.quiet);
    // J plain worker threads pull cells from a shared counter; each owns a one-thread rayon
    // pool for its runs. (Nesting rayon pools would let a waiting worker steal more cells and
    // run far more than J at once.)
    let next = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let first_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for w in 0..opts.jobs.min(todo.len().max(1)) {
            let (next, failed, stop, first_error) = (&next, &failed, &stop, &first_error);
            let (todo, store, main, bar) = (&todo, &store, &main, workers.get(w));
            scope.spawn(move || {
                let work = || -> Result<()> {
                    let single = rayon::ThreadPoolBuilder::new()
                        .num_threads(1)
                        .build()
                        .context("cannot start a worker's thread pool")?;
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(cell) = todo.get(i) else { break };
                        if let Some(b) = bar {
                            b.set_message(serde_json::to_string(&cell.coords).unwrap_or_default());
                            b.tick();
                        }
                        let result = single.install(|| {
                            run_one(&cell.config, opts.base_dir.as_deref(), &mut |_| {})
                        });
                        let line = line_for(cell, result);
                        if line.status != LineStatus::Ok {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                        store.append(&line)?;
                        main.inc(1);
                    }
                    Ok(())
                };
                if let Err(e) = work() {
                    stop.store(true, Ordering::Relaxed);
                    if let Ok(mut slot) = first_error.lock() {
                        slot.get_or_insert(e);
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(e);
    }
    main.finish_and_clear();
    for w in &workers {
        w.finish_and_clear();
    }
    Ok(SweepOutcome {
        cells: cells.len(),
        in_shard: mine.len(),
        resumed: mine.len() - todo.len(),
        ran: todo.len(),
        failed: failed.into_inner(),
        notes,
        kept_as: folder.kept_as().map(PathBuf::from),
    })
}
