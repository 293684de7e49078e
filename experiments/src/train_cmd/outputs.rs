//! The output files of `smoe train`, checked and opened before any training: the record
//! file (`--out`) open for append, the checkpoint's folder created and writable, and no
//! output that is another output or an input. After the run the checkpoint is saved first
//! and the record appended last, so a failed run leaves no record; whatever this created
//! for a run that then failed (folders, an empty record file) is removed again.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use smoe_model::{Model, checkpoint};

/// The outputs of one `smoe train` run, ready to be written.
#[derive(Debug)]
pub struct TrainOutputs {
    out: PathBuf,
    file: File,
    /// Length of the record file when it was opened (a failed append is cut back to it).
    start_len: u64,
    checkpoint: Option<PathBuf>,
    /// Folders and files this created, in creation order; removed on drop unless the run
    /// was committed (folders only if empty, the record file only if still empty).
    created: Vec<PathBuf>,
    committed: bool,
}

impl TrainOutputs {
    /// Checks the output paths, creates the folders, opens `out` for append and checks that
    /// the checkpoint's folder is writable. `inputs` (the config file) must not be outputs.
    ///
    /// # Errors
    /// Colliding outputs (the checkpoint or its JSON config is the record file, the
    /// checkpoint is its own JSON config, an output is an input), an existing file at the
    /// checkpoint's path or JSON path that is not a smoe checkpoint (its JSON config does not
    /// say `format = "smoe-checkpoint"`), an output that is a folder, or a folder or file
    /// that cannot be created or written. Nothing is left behind.
    pub fn prepare(out: &Path, ckpt: Option<&Path>, inputs: &[&Path]) -> Result<Self> {
        check_collisions(out, ckpt, inputs)?;
        let mut created = Vec::new();
        let opened = open_outputs(out, ckpt, &mut created);
        match opened {
            Ok((file, start_len)) => Ok(Self {
                out: out.to_path_buf(),
                file,
                start_len,
                checkpoint: ckpt.map(Path::to_path_buf),
                created,
                committed: false,
            }),
            Err(e) => {
                remove_created(&created);
                Err(e)
            }
        }
    }

    /// Saves the checkpoint (if asked), then appends `line` to the record file, flushed and
    /// synced. If saving fails nothing is appended; if appending fails the record file is
    /// cut back to its length before the run.
    ///
    /// # Errors
    /// The checkpoint or the record cannot be written.
    pub fn commit(mut self, line: &str, model: &dyn Model<f32>) -> Result<()> {
        if let Some(path) = &self.checkpoint {
            checkpoint::save(model, path)
                .with_context(|| format!("cannot save the checkpoint {}", path.display()))?;
        }
        self.append(line)?;
        self.committed = true;
        Ok(())
    }

    fn append(&mut self, line: &str) -> Result<()> {
        let written = writeln!(self.file, "{line}").and_then(|()| self.file.sync_all());
        if let Err(e) = written {
            // best effort: do not leave half a line behind
            let _ = self.file.set_len(self.start_len);
            return Err(e).with_context(|| format!("cannot write {}", self.out.display()));
        }
        Ok(())
    }
}

impl Drop for TrainOutputs {
    fn drop(&mut self) {
        if !self.committed {
            remove_created(&self.created);
        }
    }
}

/// Removes what was created, newest first: files only if empty, folders only if empty.
fn remove_created(created: &[PathBuf]) {
    for p in created.iter().rev() {
        // best effort: whatever another process put there stays
        if p.is_dir() {
            let _ = std::fs::remove_dir(p);
        } else if std::fs::metadata(p).is_ok_and(|m| m.len() == 0) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Creates the folders of both outputs, opens the record file for append and probes the
/// checkpoint's folder; every folder or file created is pushed onto `created`.
fn open_outputs(
    out: &Path,
    ckpt: Option<&Path>,
    created: &mut Vec<PathBuf>,
) -> Result<(File, u64)> {
    create_parent(out, created)?;
    let existed = out.exists();
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .with_context(|| format!("cannot open {} for appending the record", out.display()))?;
    if !existed {
        created.push(out.to_path_buf());
    }
    let start_len = file
        .metadata()
        .with_context(|| format!("cannot read {}", out.display()))?
        .len();
    if let Some(ck) = ckpt {
        create_parent(ck, created)?;
        probe_writable(ck)?;
    }
    Ok((file, start_len))
}

/// The folder `path` is in (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Creates the missing folders above `path`, outermost first, recording each.
fn create_parent(path: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    let dir = parent_of(path);
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .collect();
    for d in missing.into_iter().rev() {
        match std::fs::create_dir(d) {
            Ok(()) => created.push(d.to_path_buf()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", d.display())),
        }
    }
    Ok(())
}

/// Checks that a file can be created beside `path` (where the checkpoint's temporary files
/// go) by creating and removing one.
fn probe_writable(path: &Path) -> Result<()> {
    let dir = parent_of(path);
    let probe = dir.join(format!(".smoe-write-probe.{}", std::process::id()));
    File::create(&probe)
        .with_context(|| format!("cannot write the checkpoint into {}", dir.display()))?;
    std::fs::remove_file(&probe).with_context(|| format!("cannot remove {}", probe.display()))
}

/// Refuses outputs that would overwrite each other or an input.
fn check_collisions(out: &Path, ckpt: Option<&Path>, inputs: &[&Path]) -> Result<()> {
    for (p, flag) in [(Some(out), "--out"), (ckpt, "--checkpoint")] {
        if let Some(p) = p
            && p.is_dir()
        {
            bail!("{flag} {} is a folder, not a file", p.display());
        }
    }
    for input in inputs {
        if same_file(out, input) {
            bail!(
                "--out {} is the config file {}: the record would be appended to it",
                out.display(),
                input.display()
            );
        }
    }
    let Some(ck) = ckpt else {
        return Ok(());
    };
    let json = checkpoint::config_path(ck);
    if same_file(ck, &json) {
        bail!(
            "--checkpoint {} ends in .json: its JSON config would overwrite the tensors (use a .safetensors name)",
            ck.display()
        );
    }
    if same_file(ck, out) {
        bail!(
            "--checkpoint {} is the --out record file: the model would replace the records",
            ck.display()
        );
    }
    if same_file(&json, out) {
        bail!(
            "--checkpoint {} writes its JSON config to {}, the --out record file: the config would replace the records",
            ck.display(),
            json.display()
        );
    }
    for input in inputs {
        for (what, p) in [("checkpoint", ck), ("checkpoint's JSON config", &json)] {
            if same_file(p, input) {
                bail!(
                    "the {what} {} is the config file {}: it would be overwritten",
                    p.display(),
                    input.display()
                );
            }
        }
    }
    if json.is_dir() {
        bail!(
            "--checkpoint {} writes its JSON config to {}, which is a folder",
            ck.display(),
            json.display()
        );
    }
    if ck.exists() && !(json.exists() && is_checkpoint_config(&json)) {
        bail!(
            "--checkpoint {} would overwrite a file that is not a smoe checkpoint (no checkpoint config {} beside it; move it or pick another name)",
            ck.display(),
            json.display()
        );
    }
    if json.exists() && !is_checkpoint_config(&json) {
        bail!(
            "--checkpoint {} would overwrite {}, which is not a smoe checkpoint config (move it or pick another name)",
            ck.display(),
            json.display()
        );
    }
    Ok(())
}

/// Whether the file at `path` is a smoe checkpoint's JSON config (its `format` field says
/// so); a file too large to be one is not.
fn is_checkpoint_config(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if meta.len() > checkpoint::MAX_JSON_BYTES {
        return false;
    }
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("format").and_then(|f| f.as_str()) == Some(checkpoint::FORMAT))
}

/// Whether `a` and `b` name the same file: the same normalized absolute path (the deepest
/// existing folder canonicalized, symlinks resolved, `.` and `..` folded), or, for files
/// that exist, the same file on disk (symlinks, hard links).
pub fn same_file(a: &Path, b: &Path) -> bool {
    if normalize(a) == normalize(b) {
        return true;
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) if x == y => return true,
        _ => {}
    }
    same_inode(a, b)
}

#[cfg(unix)]
fn same_inode(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_inode(_: &Path, _: &Path) -> bool {
    false
}

/// `path` made absolute and resolved folder by folder: each existing folder canonicalized
/// (symlinks resolved), `.` dropped, `..` taken from the resolved folder (or folded, past
/// the folders that exist). The file name itself is not resolved, so a symlink at the path
/// stays a name ([`same_file`] compares resolved files separately).
pub fn normalize(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(cwd) => cwd.join(path),
            Err(_) => path.to_path_buf(),
        }
    };
    let comps: Vec<Component<'_>> = abs.components().collect();
    let last = comps
        .iter()
        .rposition(|c| matches!(c, Component::Normal(_)))
        .unwrap_or(comps.len());
    let mut out = PathBuf::new();
    for (i, c) in comps.iter().enumerate() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(c);
                }
            }
            Component::Normal(n) => {
                out.push(n);
                // resolve every folder that exists; the file name (the last normal
                // component, unless `..` follows it) stays as written
                if (i != last || comps[i + 1..].contains(&Component::ParentDir))
                    && let Ok(real) = std::fs::canonicalize(&out)
                {
                    out = real;
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_dots_and_resolves_existing_folders() {
        let dir = std::env::temp_dir();
        let canon = std::fs::canonicalize(&dir).unwrap();
        assert_eq!(
            normalize(&dir.join("./a/../b.jsonl")),
            canon.join("b.jsonl")
        );
        assert_eq!(
            normalize(&dir.join("no-such-dir-smoe/./x/../y.json")),
            canon.join("no-such-dir-smoe/y.json")
        );
        assert!(same_file(&dir.join("q/../r"), &dir.join("./r")));
        assert!(!same_file(&dir.join("q/r"), &dir.join("r")));
    }
}
