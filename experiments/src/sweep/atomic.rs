//! Atomic file replacement: write a temporary file beside the target, fsync it, rename it
//! over the target, fsync the folder. A crash at any step leaves either the old file or
//! the new one, never a mix or an empty file.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use super::fault;

/// Replaces `path` by `bytes` atomically. `label` names the write points reported to
/// [`fault::point`] (`LABEL.tmp_created`, `.tmp_written`, `.tmp_synced`, `.renamed`,
/// `.dir_synced`). The temporary file is `path` with `.tmp` appended; a stale one from an
/// earlier crash is overwritten (it never holds the only copy of anything: the target is
/// replaced only by the rename).
///
/// # Errors
/// If the temporary file cannot be created, written or synced, or the rename fails.
pub fn write_atomic(path: &Path, bytes: &[u8], label: &str) -> Result<()> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    fault::point(&format!("{label}.tmp_created"));
    f.write_all(bytes)
        .and_then(|()| f.flush())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    fault::point(&format!("{label}.tmp_written"));
    f.sync_all()
        .with_context(|| format!("cannot sync {}", tmp.display()))?;
    drop(f);
    fault::point(&format!("{label}.tmp_synced"));
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    fault::point(&format!("{label}.renamed"));
    sync_dir(path.parent().unwrap_or(Path::new(".")));
    fault::point(&format!("{label}.dir_synced"));
    Ok(())
}

/// Fsyncs the folder `dir` so a rename or a new file in it survives a power loss; a no-op
/// where folders cannot be opened or synced (the rename itself is still atomic).
pub fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
