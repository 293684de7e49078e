//! The smoe experiment runner as a library: what each `smoe` subcommand does, so it can be
//! tested and reused. `main.rs` only parses the command line and dispatches here.
//!
//! - [`config_io`]: TOML configs with `--set key=value` overrides;
//! - [`train_cmd`]: `smoe train` (progress bar, record, summary table);
//! - [`bound_cmd`]: `smoe bound` (every term of every bound, what-if or for a checkpoint);
//! - [`certify_cmd`]: `smoe certify` (a PAC-Bayes certificate for a run or checkpoint);
//! - [`inspect`]: `smoe inspect` (f64 evaluation and gradients of a checkpoint, as .npy files);
//! - [`run`]: one run — training plus every bound beside the measured gaps;
//! - [`sweep`], [`sweep_cmd`]: `smoe sweep` / `smoe merge` (grids, resume, shards);
//! - [`report`]: `smoe report` (summary.csv, SVG plots via [`plot`], report.md);
//! - [`claims`], [`claims_cmd`]: `smoe claims` (each paper claim tested, `REPORT.md`);
//! - [`stats`]: sweep statistics (paired t, Welch, Holm, the seed bootstrap);
//! - [`slurm`]: the Slurm job-array script of a sweep (`smoe sweep --print-sbatch`);
//! - [`git`]: the source's git commit, for run records.

pub mod bound_cmd;
pub mod certify_cmd;
pub mod claims;
pub mod claims_cmd;
pub mod config_io;
pub mod git;
pub mod inspect;
pub mod plot;
pub mod report;
pub mod run;
pub mod slurm;
pub mod stats;
pub mod sweep;
pub mod sweep_cmd;
pub mod train_cmd;

/// Formats an error (with its causes) as one line.
pub fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
