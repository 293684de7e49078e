//! The lock of a sweep folder: one writer (a sweep or a merge) at a time.
//!
//! `DIR/.smoe.lock` holds the holder's pid and an OS lock (`File::try_lock`, `flock` on
//! Unix). The OS lock dies with its process, so a crashed sweep never leaves a stale lock: a
//! leftover file whose pid is gone is simply locked again. The file is removed when the
//! lock is dropped.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::SweepError;

/// File name of the lock inside a sweep folder.
pub const LOCK: &str = ".smoe.lock";

/// An exclusive lock on a sweep folder, released (and its file removed) on drop.
#[derive(Debug)]
pub struct FolderLock {
    path: PathBuf,
    file: Option<File>,
}

impl FolderLock {
    /// Takes the lock of `dir` (which must exist) without waiting.
    ///
    /// # Errors
    /// [`SweepError::Locked`] (with the holder's pid) if another process holds it; an I/O
    /// error if the lock file cannot be created or locked.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK);
        // a holder that drops its lock removes the file; a file opened just before that is
        // no longer the lock, so check that the locked file is still the one at `path`
        for _ in 0..16 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| format!("cannot create the lock {}", path.display()))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    return Err(SweepError::Locked {
                        dir: dir.to_path_buf(),
                        pid: text.trim().parse().ok(),
                    }
                    .into());
                }
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
            if !same_file(&file, &path) {
                continue;
            }
            file.set_len(0)
                .and_then(|()| file.seek(SeekFrom::Start(0)).map(|_| ()))
                .and_then(|()| writeln!(file, "{}", std::process::id()))
                .with_context(|| format!("cannot write the lock {}", path.display()))?;
            return Ok(Self {
                path,
                file: Some(file),
            });
        }
        anyhow::bail!(
            "cannot lock {}: the lock file keeps changing",
            path.display()
        )
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        // remove while still locked, then unlock by closing
        let _ = std::fs::remove_file(&self.path);
        drop(self.file.take());
    }
}
