//! `runs.jsonl`: one line per finished run, appended, flushed and synced as each run ends,
//! so a killed sweep loses nothing.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use smoe_train::{RunRecord, RunStatus};

/// File name of the records inside a sweep folder.
pub const RUNS: &str = "runs.jsonl";

/// How a sweep's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// Trained to the end.
    Ok,
    /// A non-finite loss or logit stopped it (the record says where).
    Diverged,
    /// It failed before producing a record (see `failure`).
    Error,
}

impl From<RunStatus> for LineStatus {
    fn from(s: RunStatus) -> Self {
        match s {
            RunStatus::Ok => LineStatus::Ok,
            RunStatus::Diverged => LineStatus::Diverged,
        }
    }
}

/// One line of `runs.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepLine {
    /// Hash of the fully resolved config and seed (the resume key).
    pub key: String,
    /// Index of the cell in grid order.
    pub cell: usize,
    /// Grid coordinates, axis → value.
    pub coords: BTreeMap<String, serde_json::Value>,
    /// How the run ended.
    pub status: LineStatus,
    /// Why a run failed or diverged.
    pub failure: Option<String>,
    /// The run record (absent for `error`).
    pub record: Option<RunRecord>,
}

/// Reads every complete line of `path` (a torn last line, as a kill mid-write leaves, is
/// ignored); a missing file reads as empty.
///
/// # Errors
/// An unreadable file or a malformed line other than the last.
pub fn read_lines(path: &Path) -> Result<Vec<SweepLine>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        match serde_json::from_str::<SweepLine>(l) {
            Ok(v) => out.push(v),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => {} // torn last line
            Err(e) => {
                return Err(e).with_context(|| format!("{}: line {}", path.display(), i + 1));
            }
        }
    }
    Ok(out)
}

/// The append side of `runs.jsonl`, shared by the workers.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl Store {
    /// Opens `dir/runs.jsonl` for appending; with `resume` false an existing file is first
    /// moved to `runs.jsonl.prev` (nothing is lost). Returns the store and the keys already
    /// recorded (empty unless resuming). A torn last line is cut off before appending.
    ///
    /// # Errors
    /// If the folder or file cannot be created, read or written.
    pub fn open(dir: &Path, resume: bool) -> Result<(Self, HashSet<String>)> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(RUNS);
        let mut done = HashSet::new();
        if resume {
            let lines = read_lines(&path)?;
            done.extend(lines.iter().map(|l| l.key.clone()));
            // rewrite without a torn tail so the next append starts on a fresh line
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if !text.is_empty() && !text.ends_with('\n') {
                let body: String = lines
                    .iter()
                    .map(|l| serde_json::to_string(l).map(|s| s + "\n"))
                    .collect::<std::result::Result<_, _>>()?;
                std::fs::write(&path, body)?;
            }
        } else if path.exists() {
            let prev = dir.join(format!("{RUNS}.prev"));
            std::fs::rename(&path, &prev)
                .with_context(|| format!("cannot move {} aside", path.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok((
            Self {
                path,
                file: Mutex::new(file),
            },
            done,
        ))
    }

    /// Appends one line, flushed and fsynced before returning.
    ///
    /// # Errors
    /// If the write or the sync fails.
    pub fn append(&self, line: &SweepLine) -> Result<()> {
        let text = serde_json::to_string(line)? + "\n";
        let mut f = self.file.lock().map_err(|_| {
            anyhow::anyhow!("a worker panicked while writing {}", self.path.display())
        })?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.flush())
            .and_then(|()| f.sync_data())
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

/// Combines the `runs.jsonl` of shard folders `dirs` into `out/runs.jsonl`: one line per key
/// (the first seen), sorted by cell index then key. Returns the number of runs.
///
/// # Errors
/// Unreadable inputs or an unwritable output.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<usize> {
    let mut seen = HashSet::new();
    let mut all = Vec::new();
    for d in dirs {
        let lines = read_lines(&d.join(RUNS))?;
        anyhow::ensure!(
            !lines.is_empty() || d.join(RUNS).exists(),
            "{} has no {RUNS}",
            d.display()
        );
        for l in lines {
            if seen.insert(l.key.clone()) {
                all.push(l);
            }
        }
    }
    all.sort_by(|a, b| (a.cell, &a.key).cmp(&(b.cell, &b.key)));
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let body: String = all
        .iter()
        .map(|l| serde_json::to_string(l).map(|s| s + "\n"))
        .collect::<std::result::Result<_, _>>()?;
    let path = out.join(RUNS);
    let tmp = out.join(format!("{RUNS}.tmp"));
    std::fs::write(&tmp, body).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    // the sweep config travels with the merged records
    if let Some(cfg) = dirs
        .iter()
        .map(|d| d.join("sweep.toml"))
        .find(|p| p.exists())
    {
        std::fs::copy(&cfg, out.join("sweep.toml"))
            .with_context(|| format!("cannot copy {}", cfg.display()))?;
    }
    Ok(all.len())
}
