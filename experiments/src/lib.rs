//! The smoe experiment runner as a library: what each `smoe` subcommand does, so it can be
//! tested and reused. `main.rs` only parses the command line and dispatches here.
//!
//! - [`config_io`]: TOML configs with `--set key=value` overrides;
//! - [`train_cmd`]: `smoe train` (progress bar, record, summary table);
//! - [`inspect`]: `smoe inspect` (f64 evaluation and gradients of a checkpoint, as .npy files);
//! - [`git`]: the source's git commit, for run records.

pub mod config_io;
pub mod git;
pub mod inspect;
pub mod train_cmd;

/// Formats an error (with its causes) as one line.
pub fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
