//! `smoe merge`: the `runs.jsonl` of shard folders combined into one folder, each record line
//! kept byte for byte.
//!
//! Refused, with one line and nothing written: shards of different sweeps (their
//! `sweep.toml` parse to different configs, or some shards have one and others do not), a
//! run recorded differently in two places (duplicates that differ only in their wall-clock
//! `timings` are the same run and kept once, the first by argument order), and an output
//! folder that holds another sweep. Records already in the output folder that the merge
//! would not reproduce byte for byte are kept as `runs.N.jsonl` (see
//! [`super::folder::keep_aside`]).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::atomic::write_atomic;
use super::folder::{CONFIG, SweepFolder, folder_config, has_records, keep_aside};
use super::store::{RUNS, RawLine, file_text, read_raw};
use super::{SweepConfig, SweepError};

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeOutcome {
    /// Runs in the merged `runs.jsonl`.
    pub runs: usize,
    /// Lines dropped as duplicates of a run already taken (identical, or differing only in
    /// `timings`).
    pub duplicates: usize,
    /// Where the output folder's earlier records were kept, if they had to be moved.
    pub kept_as: Option<PathBuf>,
}

/// A shard's sweep config: its text and its parse.
type ShardConfig = Option<(String, SweepConfig)>;

fn shard_config(dir: &Path) -> Result<ShardConfig> {
    match folder_config(dir)? {
        None => Ok(None),
        Some(t) => {
            let c = SweepConfig::parse(&t)
                .with_context(|| format!("{}", dir.join(CONFIG).display()))?;
            Ok(Some((t, c)))
        }
    }
}

fn same_sweep(a: &ShardConfig, b: &ShardConfig) -> Option<&'static str> {
    match (a, b) {
        (None, None) => None,
        (Some((_, x)), Some((_, y))) if x == y => None,
        (Some(_), Some(_)) => Some("their sweep.toml differ (different sweeps)"),
        (Some(_), None) => Some("the second has no sweep.toml"),
        (None, Some(_)) => Some("the first has no sweep.toml"),
    }
}

/// The line's JSON without the record's wall-clock timings.
fn without_timings(text: &str) -> Option<serde_json::Value> {
    let mut v: serde_json::Value = serde_json::from_str(text).ok()?;
    if let Some(r) = v
        .get_mut("record")
        .and_then(serde_json::Value::as_object_mut)
    {
        r.remove("timings");
    }
    Some(v)
}

/// Whether two lines of one key are the same run.
fn same_run(a: &str, b: &str) -> bool {
    a == b || without_timings(a).is_some_and(|x| Some(x) == without_timings(b))
}

/// Locks a shard for reading; a folder that cannot hold a lock file (read-only) is read
/// unlocked, but one locked by a running sweep is refused.
fn lock_shard(dir: &Path) -> Result<Option<SweepFolder>> {
    match SweepFolder::lock(dir) {
        Ok(l) => Ok(Some(l)),
        Err(e) if e.downcast_ref::<SweepError>().is_some() => Err(e),
        Err(_) => Ok(None),
    }
}

/// Combines the `runs.jsonl` of shard folders `dirs` into `out/runs.jsonl` (sorted by cell
/// index then key, each line's bytes as in its shard) and copies the shards' `sweep.toml`.
/// Both files are written atomically; `out` is locked meanwhile.
///
/// # Errors
/// [`SweepError::ShardsDiffer`], [`SweepError::ConflictingRecords`],
/// [`SweepError::Locked`]; a shard without `runs.jsonl`; unreadable inputs or an unwritable
/// output.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<MergeOutcome> {
    anyhow::ensure!(!dirs.is_empty(), "merge needs at least one shard folder");
    let out_lock = SweepFolder::lock(out)?;
    let out_real =
        std::fs::canonicalize(out).with_context(|| format!("cannot find {}", out.display()))?;
    let mut shards: Vec<(PathBuf, PathBuf)> = Vec::new(); // (as given, canonical)
    for d in dirs {
        let real =
            std::fs::canonicalize(d).with_context(|| format!("cannot find {}", d.display()))?;
        if !shards.iter().any(|(_, r)| *r == real) {
            shards.push((d.clone(), real));
        }
    }
    // held until the merged file is written: no sweep may append to a shard meanwhile
    let mut shard_locks = Vec::new();
    for (d, real) in &shards {
        if *real != out_real {
            shard_locks.push(lock_shard(d)?);
        }
    }
    // one sweep: every shard's config equals the first's
    let mut config: Option<(PathBuf, ShardConfig)> = None;
    for (d, _) in &shards {
        let c = shard_config(d)?;
        match &config {
            None => config = Some((d.clone(), c)),
            Some((first, fc)) => {
                if let Some(why) = same_sweep(fc, &c) {
                    return Err(SweepError::ShardsDiffer {
                        a: first.clone(),
                        b: d.clone(),
                        why: why.into(),
                    }
                    .into());
                }
            }
        }
    }
    let (first, config) = config.unwrap_or_default();
    // the output folder may only hold this sweep
    let out_is_shard = shards.iter().any(|(_, r)| *r == out_real);
    let out_records = has_records(out);
    if !out_is_shard && (out_records || folder_config(out)?.is_some()) {
        let oc = shard_config(out).ok().flatten();
        if same_sweep(&oc, &config).is_some() {
            return Err(SweepError::ShardsDiffer {
                a: out.to_path_buf(),
                b: first,
                why: "the output folder holds another sweep (its sweep.toml differs, or it has records and no sweep.toml)".into(),
            }
            .into());
        }
    }
    // the records: one line per key, a conflict refused
    let mut by_key: BTreeMap<String, (RawLine, PathBuf)> = BTreeMap::new();
    let mut duplicates = 0;
    for (d, _) in &shards {
        let path = d.join(RUNS);
        anyhow::ensure!(path.exists(), "{} has no {RUNS}", d.display());
        for l in read_raw(&path)?.lines {
            match by_key.get(&l.line.key) {
                None => {
                    by_key.insert(l.line.key.clone(), (l, path.clone()));
                }
                Some((kept, _)) if same_run(&kept.text, &l.text) => duplicates += 1,
                Some((kept, at)) => {
                    return Err(SweepError::ConflictingRecords {
                        key: l.line.key,
                        cell: kept.line.cell,
                        a: at.clone(),
                        b: path,
                    }
                    .into());
                }
            }
        }
    }
    let mut all: Vec<RawLine> = by_key.into_values().map(|(l, _)| l).collect();
    all.sort_by(|a, b| (a.line.cell, &a.line.key).cmp(&(b.line.cell, &b.line.key)));
    // earlier records of the output that the merge does not reproduce are kept aside
    let mut kept_as = None;
    if out_records {
        let texts: HashSet<&str> = all.iter().map(|l| l.text.as_str()).collect();
        let old = read_raw(&out.join(RUNS))?;
        if old.torn || old.lines.iter().any(|l| !texts.contains(l.text.as_str())) {
            kept_as = keep_aside(out, true, false)?;
        }
    }
    if let Some((text, _)) = &config
        && folder_config(out)?.is_none()
    {
        write_atomic(&out.join(CONFIG), text.as_bytes(), "config")?;
    }
    write_atomic(&out.join(RUNS), file_text(&all).as_bytes(), "merge")?;
    drop(shard_locks);
    drop(out_lock);
    Ok(MergeOutcome {
        runs: all.len(),
        duplicates,
        kept_as,
    })
}
