//! `smoe sweep` and `smoe merge`: k × T × m × seed grids that run in parallel, resume after
//! a crash, and split into deterministic shards for clusters.
//!
//! - [`SweepConfig`] / [`Cell`]: the grid, expanded into fully resolved run configs;
//! - [`store`]: `runs.jsonl`, one [`SweepLine`] per finished run, flushed and synced;
//! - [`folder`]: a sweep folder locked and checked to belong to the sweep writing it;
//!   earlier records are kept under a new name, never deleted;
//! - [`atomic`]: every rewrite is temporary file + fsync + rename ([`fault`] kills the
//!   process at any of these steps in tests);
//! - [`run_sweep`]: the parallel runner with its progress bars;
//! - [`merge()`]: combines the outputs of shards, each line byte for byte;
//! - [`SweepError`]: why a folder, a grid or a merge is refused.

pub mod atomic;
mod config;
mod error;
pub mod fault;
pub mod folder;
pub mod lock;
mod merge;
mod runner;
pub mod store;

pub use config::{Cell, GridAxis, MAX_AXIS_VALUES, MAX_CELLS, SweepConfig, expand, parse_shard};
pub use error::SweepError;
pub use folder::SweepFolder;
pub use merge::{MergeOutcome, merge};
pub use runner::{SweepOptions, SweepOutcome, run_sweep};
pub use store::{LineStatus, SweepLine, read_lines};

/// The quick k × T sweep: what `smoe sweep` runs without a config.
pub const QUICK_CONFIG: &str = include_str!("../../configs/kt-quick.toml");
/// Where `smoe sweep` writes without `--out`.
pub const QUICK_OUT: &str = "results/kt-quick";
