//! A sweep folder made ready for writing: locked, checked to belong to this sweep, earlier
//! records kept under a new name when the sweep starts over.
//!
//! The rules, so that no sweep ever mixes into or deletes another one's records:
//! - the folder is locked ([`FolderLock`]) for as long as the [`SweepFolder`] lives;
//! - its `sweep.toml` must parse to the same [`SweepConfig`] as this sweep's (the parsed
//!   configs are compared, so comments and layout may differ; name, description, base and
//!   grid may not). A folder with records but no `sweep.toml` belongs to an unknown sweep.
//!   Either mismatch is refused, with or without `--resume`, unless the sweep starts over
//!   (`fresh`);
//! - starting over (`fresh`) or running again without `--resume` keeps the folder's
//!   `runs.jsonl` and `sweep.toml` as `runs.N.jsonl` and `sweep.N.toml`, N the first number
//!   for which neither exists (1, 2, …): nothing is overwritten;
//! - `sweep.toml` is written (atomically) only when the folder has none.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::atomic::{sync_dir, write_atomic};
use super::lock::FolderLock;
use super::store::RUNS;
use super::{SweepConfig, SweepError, fault};

/// File name of the sweep config copy inside a sweep folder.
pub const CONFIG: &str = "sweep.toml";

/// How many `runs.N.jsonl` a folder may hold before a sweep gives up looking for a free N.
const MAX_KEPT: u32 = 100_000;

/// A locked sweep folder, checked against the sweep that writes it.
#[derive(Debug)]
pub struct SweepFolder {
    dir: PathBuf,
    kept_as: Option<PathBuf>,
    _lock: FolderLock,
}

/// Whether a folder's existing content belongs to a sweep config.
enum Belongs {
    Yes,
    No(String),
}

/// The sweep config a folder's `sweep.toml` holds: `None` if it has none.
///
/// # Errors
/// An unreadable file.
pub fn folder_config(dir: &Path) -> Result<Option<String>> {
    let path = dir.join(CONFIG);
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Whether `dir/runs.jsonl` holds anything (an empty file holds no records).
pub fn has_records(dir: &Path) -> bool {
    std::fs::metadata(dir.join(RUNS)).is_ok_and(|m| m.len() > 0)
}

fn belongs(existing: Option<&str>, records: bool, cfg: &SweepConfig) -> Belongs {
    match existing.map(SweepConfig::parse) {
        Some(Ok(c)) if c == *cfg => Belongs::Yes,
        Some(Ok(_)) => {
            Belongs::No("another sweep (its sweep.toml differs from this config)".into())
        }
        Some(Err(_)) => Belongs::No("a sweep.toml that is not a valid sweep config".into()),
        None if records => Belongs::No("records (runs.jsonl) but no sweep.toml".into()),
        None => Belongs::Yes,
    }
}

impl SweepFolder {
    /// Creates and locks `dir` for the sweep `cfg` (whose text is `text`), applying the
    /// rules of this module: `resume` keeps the records to skip their cells, `fresh` starts
    /// over even if the folder holds another sweep.
    ///
    /// # Errors
    /// [`SweepError::Locked`], [`SweepError::OtherSweep`] (nothing in the folder changed),
    /// or an I/O error.
    pub fn open(
        dir: &Path,
        cfg: &SweepConfig,
        text: &str,
        resume: bool,
        fresh: bool,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let lock = FolderLock::acquire(dir)?;
        let existing = folder_config(dir)?;
        let records = has_records(dir);
        let verdict = belongs(existing.as_deref(), records, cfg);
        if let Belongs::No(what) = &verdict
            && !fresh
        {
            return Err(SweepError::OtherSweep {
                dir: dir.to_path_buf(),
                what: what.clone(),
            }
            .into());
        }
        let mut kept_as = None;
        if fresh || !resume {
            let other_config = existing.is_some() && matches!(verdict, Belongs::No(_));
            kept_as = keep_aside(dir, records, records || other_config)?;
        }
        let cfg_path = dir.join(CONFIG);
        if folder_config(dir)?.is_none() {
            write_atomic(&cfg_path, text.as_bytes(), "config")?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            kept_as,
            _lock: lock,
        })
    }

    /// Locks `dir` for a merge (no config check: the merge checks the shards itself).
    ///
    /// # Errors
    /// [`SweepError::Locked`] or an I/O error.
    pub fn lock(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let lock = FolderLock::acquire(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            kept_as: None,
            _lock: lock,
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the folder's earlier records were kept, if this sweep moved them.
    pub fn kept_as(&self) -> Option<&Path> {
        self.kept_as.as_deref()
    }
}

/// Moves `runs.jsonl` (if `runs`) and `sweep.toml` (if `config` and it exists) of `dir` to
/// `runs.N.jsonl` / `sweep.N.toml`, N the first number for which neither file exists.
/// Returns the new name of whichever was moved (the records' if both).
///
/// # Errors
/// A failed rename, or no free N up to 100 000.
pub fn keep_aside(dir: &Path, runs: bool, config: bool) -> Result<Option<PathBuf>> {
    let config = config && dir.join(CONFIG).exists();
    if !runs && !config {
        return Ok(None);
    }
    for n in 1..=MAX_KEPT {
        let r = dir.join(format!("runs.{n}.jsonl"));
        let c = dir.join(format!("sweep.{n}.toml"));
        if r.try_exists().unwrap_or(true) || c.try_exists().unwrap_or(true) {
            continue;
        }
        if runs {
            std::fs::rename(dir.join(RUNS), &r)
                .with_context(|| format!("cannot keep {} as {}", RUNS, r.display()))?;
            fault::point("aside.runs");
        }
        if config {
            std::fs::rename(dir.join(CONFIG), &c)
                .with_context(|| format!("cannot keep {} as {}", CONFIG, c.display()))?;
            fault::point("aside.config");
        }
        sync_dir(dir);
        return Ok(Some(if runs { r } else { c }));
    }
    bail!(
        "{} already holds {MAX_KEPT} earlier record sets; clean it up or use another --out",
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_records_take_the_first_number_free_for_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("runs.1.jsonl"), "one").unwrap();
        std::fs::write(d.join("sweep.2.toml"), "two").unwrap();
        std::fs::write(d.join(RUNS), "records").unwrap();
        std::fs::write(d.join(CONFIG), "config").unwrap();
        let kept = keep_aside(d, true, true).unwrap();
        assert_eq!(kept, Some(d.join("runs.3.jsonl")));
        assert_eq!(
            std::fs::read_to_string(d.join("runs.3.jsonl")).unwrap(),
            "records"
        );
        assert_eq!(
            std::fs::read_to_string(d.join("sweep.3.toml")).unwrap(),
            "config"
        );
        assert_eq!(
            std::fs::read_to_string(d.join("runs.1.jsonl")).unwrap(),
            "one"
        );
        assert_eq!(
            std::fs::read_to_string(d.join("sweep.2.toml")).unwrap(),
            "two"
        );
        assert!(!d.join(RUNS).exists() && !d.join(CONFIG).exists());
        assert_eq!(keep_aside(d, false, true).unwrap(), None, "nothing to keep");
    }
}
