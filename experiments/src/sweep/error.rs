//! The ways a sweep folder, a grid or a merge is refused: typed, each one readable line.

use std::path::PathBuf;

/// Why a sweep, a resume or a merge does not touch a folder, or a grid does not expand.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Another process holds the folder's lock.
    #[error(
        "{} is in use by another smoe process ({}); wait for it to finish or use another --out",
        dir.display(),
        pid.map_or_else(|| "pid unknown".to_string(), |p| format!("pid {p}"))
    )]
    Locked {
        /// The locked folder.
        dir: PathBuf,
        /// The holder's process id, as written in the lock file (if readable).
        pid: Option<u32>,
    },
    /// The folder holds records of a different sweep config (or records without a config).
    #[error(
        "{} holds {what}; pass --fresh to start over there (its records are kept under a new name) or choose another --out",
        dir.display()
    )]
    OtherSweep {
        /// The sweep folder.
        dir: PathBuf,
        /// What is there, e.g. "another sweep (its sweep.toml differs from this config)".
        what: String,
    },
    /// Shards to merge were written by different sweep configs.
    #[error("cannot merge {} and {}: {why}", a.display(), b.display())]
    ShardsDiffer {
        /// The first shard (or the merge output folder).
        a: PathBuf,
        /// The shard that differs from it.
        b: PathBuf,
        /// How they differ.
        why: String,
    },
    /// One key recorded twice with different results.
    #[error(
        "cannot merge: run {key} (cell {cell}) is recorded differently in {} and {}",
        a.display(),
        b.display()
    )]
    ConflictingRecords {
        /// The resume key.
        key: String,
        /// Its cell index.
        cell: usize,
        /// The file holding the first version.
        a: PathBuf,
        /// The file holding the other version.
        b: PathBuf,
    },
    /// A grid range with more values than an axis may have (or a count that cannot be
    /// computed).
    #[error(
        "grid axis {axis}: the range from {} to {} has {count} values; at most {max}",
        short(*start),
        short(*stop)
    )]
    AxisTooLong {
        /// The axis name.
        axis: String,
        /// Range start.
        start: f64,
        /// Range stop.
        stop: f64,
        /// The number of values as computed, e.g. `200001`, `1.000e300` or `inf`.
        count: String,
        /// The cap, [`super::config::MAX_AXIS_VALUES`].
        max: usize,
    },
    /// A sweep name that cannot name a folder under `results/`.
    #[error(
        "sweep name {name:?} cannot name a folder under results/: use letters, digits, '-', '_' and '.' (not only dots), or give --out"
    )]
    BadName {
        /// The rejected name.
        name: String,
    },
}

/// A number for a message: exact below 1e15, else in scientific notation with 4 digits.
pub(crate) fn short(x: f64) -> String {
    if x.is_finite() && x.abs() < 1e15 {
        format!("{x}")
    } else {
        format!("{x:.3e}")
    }
}
