//! `smoe sweep` and `smoe merge`: k × T × m × seed grids that run in parallel, resume after
//! a crash, and split into deterministic shards for clusters.
//!
//! - [`SweepConfig`] / [`Cell`]: the grid, expanded into fully resolved run configs;
//! - [`store`]: `runs.jsonl`, one [`SweepLine`] per finished run, flushed and synced;
//! - [`run_sweep`]: the parallel runner with its progress bars;
//! - [`merge`]: combines the outputs of shards.

mod config;
mod runner;
pub mod store;

pub use config::{Cell, GridAxis, SweepConfig, expand, parse_shard};
pub use runner::{SweepOptions, SweepOutcome, run_sweep};
pub use store::{LineStatus, SweepLine, merge, read_lines};

/// The quick k × T sweep: what `smoe sweep` runs without a config.
pub const QUICK_CONFIG: &str = include_str!("../../configs/kt-quick.toml");
/// Where `smoe sweep` writes without `--out`.
pub const QUICK_OUT: &str = "results/kt-quick";
