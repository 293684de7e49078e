//! `runs.jsonl`: one line per finished run, appended, flushed and synced as each run ends,
//! so a killed sweep loses nothing; a torn last line is cut off by an atomic rewrite that
//! keeps every other line's bytes.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use smoe_train::{RunRecord, RunStatus};

use super::atomic::{sync_dir, write_atomic};
use super::fault;
use super::folder::SweepFolder;

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

/// One line of a record file as read: its exact text (without the newline) and its parse.
#[derive(Debug, Clone, PartialEq)]
pub struct RawLine {
    /// The line's bytes as they are in the file, without the trailing newline.
    pub text: String,
    /// The parsed line.
    pub line: SweepLine,
}

/// The complete lines of a record file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawLines {
    /// Every complete line, in file order (blank lines skipped).
    pub lines: Vec<RawLine>,
    /// Whether the file ends without a newline (a kill mid-write leaves such a tail; it is
    /// dropped if it does not parse, kept among `lines` if it does).
    pub torn: bool,
}

/// Reads the complete lines of `path` with their exact text. A torn last line, as a kill
/// mid-write leaves (possibly cut inside a UTF-8 character), is ignored; a missing file
/// reads as empty.
///
/// # Errors
/// An unreadable file, or a line other than the last that is not valid UTF-8 or not a
/// [`SweepLine`].
pub fn read_raw(path: &Path) -> Result<RawLines> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RawLines::default()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let torn = !bytes.is_empty() && !bytes.ends_with(b"\n");
    let parts: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let mut lines = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let parsed = std::str::from_utf8(part)
            .map_err(anyhow::Error::from)
            .and_then(|t| {
                let t = t.strip_suffix('\r').unwrap_or(t);
                if t.trim().is_empty() {
                    return Ok(None);
                }
                let line = serde_json::from_str::<SweepLine>(t)?;
                Ok(Some(RawLine {
                    text: t.to_string(),
                    line,
                }))
            });
        match parsed {
            Ok(Some(l)) => lines.push(l),
            Ok(None) => {}
            Err(_) if last && torn => {} // torn last line
            Err(e) => return Err(e.context(format!("{}: line {}", path.display(), i + 1))),
        }
    }
    Ok(RawLines { lines, torn })
}

/// Reads every complete line of `path` (a torn last line, as a kill mid-write leaves, is
/// ignored); a missing file reads as empty.
///
/// # Errors
/// An unreadable file or a malformed line other than the last.
pub fn read_lines(path: &Path) -> Result<Vec<SweepLine>> {
    Ok(read_raw(path)?.lines.into_iter().map(|l| l.line).collect())
}

/// The lines `lines` as file content: each line's exact text and a newline.
pub fn file_text<'a>(lines: impl IntoIterator<Item = &'a RawLine>) -> String {
    lines.into_iter().fold(String::new(), |mut s, l| {
        s.push_str(&l.text);
        s.push('\n');
        s
    })
}

/// The append side of `runs.jsonl`, shared by the workers.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl Store {
    /// Opens `runs.jsonl` of the locked, prepared folder `folder` for appending. With
    /// `resume` returns the keys already recorded, and a torn last line is first cut off by
    /// an atomic rewrite (temporary file, fsync, rename) that keeps every complete line's
    /// bytes. Without `resume` the folder holds no records ([`SweepFolder::open`] has kept
    /// them under a new name).
    ///
    /// # Errors
    /// If the file cannot be read, rewritten or opened.
    pub fn open(folder: &SweepFolder, resume: bool) -> Result<(Self, HashSet<String>)> {
        let path = folder.dir().join(RUNS);
        let mut done = HashSet::new();
        if resume {
            let raw = read_raw(&path)?;
            done.extend(raw.lines.iter().map(|l| l.line.key.clone()));
            if raw.torn {
                // rewrite without the torn tail so the next append starts on a fresh line
                write_atomic(&path, file_text(&raw.lines).as_bytes(), "runs")?;
            }
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        sync_dir(folder.dir()); // a new file's name survives a power loss too
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
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        fault::point("append.written");
        f.sync_data()
            .with_context(|| format!("cannot sync {}", self.path.display()))?;
        fault::point("append.synced");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &str, cell: usize, failure: &str) -> String {
        serde_json::to_string(&SweepLine {
            key: key.into(),
            cell,
            coords: BTreeMap::new(),
            status: LineStatus::Error,
            failure: Some(failure.into()),
            record: None,
        })
        .unwrap()
    }

    #[test]
    fn raw_lines_keep_their_bytes_and_drop_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RUNS);
        let (a, b) = (line("a", 0, "k ≤ T"), line("b", 1, "x"));
        // the tail is cut inside the three bytes of '≤'
        let c = line("c", 2, "≤≤");
        let cut = c.find('≤').unwrap() + 1;
        let mut bytes = format!("{a}\n{b}\n").into_bytes();
        bytes.extend_from_slice(&c.as_bytes()[..cut]);
        std::fs::write(&path, &bytes).unwrap();
        let raw = read_raw(&path).unwrap();
        assert!(raw.torn);
        assert_eq!(
            raw.lines
                .iter()
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>(),
            [a.as_str(), b.as_str()]
        );
        assert_eq!(raw.lines[1].line.key, "b");
        assert_eq!(file_text(&raw.lines), format!("{a}\n{b}\n"));
        // a complete last line without its newline is a record
        std::fs::write(&path, format!("{a}\n{b}")).unwrap();
        let raw = read_raw(&path).unwrap();
        assert!(raw.torn);
        assert_eq!(raw.lines.len(), 2);
        // a broken line before the last is an error naming it
        std::fs::write(&path, format!("{a}\n{{oops\n{b}\n")).unwrap();
        let e = read_raw(&path).unwrap_err().to_string();
        assert!(e.ends_with(": line 2"), "{e}");
        assert_eq!(
            read_raw(&dir.path().join("none")).unwrap(),
            RawLines::default()
        );
    }
}
