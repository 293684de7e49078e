//! The two files of a checkpoint on disk: bounded reads (a size is checked before anything
//! is read into memory) and atomic writes (temporary file in the same folder, fsync, rename).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use safetensors::tensor::Metadata;

use super::err;
use crate::{ModelError, Result};

/// Largest JSON config a checkpoint may have, in bytes (16 MiB; a real one is under 1 KiB).
pub const MAX_JSON_BYTES: u64 = 16 << 20;

/// Largest safetensors header smoe reads, in bytes (the safetensors format's own limit).
pub const MAX_HEADER_BYTES: u64 = 100_000_000;

/// Largest number of parameter values a checkpoint may hold: [`smoe_nn::MAX_ELEMENTS`]
/// (2^28, 2 GiB of f64), the cap of a model's parameters; checked on the safetensors header
/// before the tensors are read or a model is built.
pub const MAX_VALUES: u64 = smoe_nn::MAX_ELEMENTS as u64;

/// Reads the whole file at `path` if it is at most `limit` bytes.
///
/// # Errors
/// [`ModelError::Checkpoint`] if it cannot be read, [`ModelError::CheckpointTooLarge`] if it
/// is larger than `limit`.
pub(super) fn read_capped(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>> {
    smoe_nn::read_capped(path, limit).map_err(|e| match e {
        smoe_nn::ReadCapped::Io(e) => err(path, e),
        smoe_nn::ReadCapped::TooLarge { bytes } => ModelError::CheckpointTooLarge {
            path: path.display().to_string(),
            what,
            size: bytes,
            limit,
        },
    })
}

/// Reads the safetensors file at `path` after checking its header: the header length within
/// [`MAX_HEADER_BYTES`] and the file, the tensor table well formed, at most [`MAX_VALUES`]
/// values in all, and the file exactly as long as the header says. Only then is the file
/// read (its size is known, and the buffer is reserved fallibly).
///
/// # Errors
/// [`ModelError::Checkpoint`] for an unreadable or malformed file,
/// [`ModelError::CheckpointTooLarge`] and [`ModelError::CheckpointFileSize`] as above.
pub(super) fn read_tensors(path: &Path) -> Result<Vec<u8>> {
    let mut file = File::open(path).map_err(|e| err(path, e))?;
    let actual = file.metadata().map_err(|e| err(path, e))?.len();
    if actual < 8 {
        return Err(err(
            path,
            format!("the file has {actual} bytes, too short for a safetensors header"),
        ));
    }
    let mut len = [0u8; 8];
    file.read_exact(&mut len).map_err(|e| err(path, e))?;
    let n = u64::from_le_bytes(len);
    if n > MAX_HEADER_BYTES {
        return Err(ModelError::CheckpointTooLarge {
            path: path.display().to_string(),
            what: "the safetensors header length in bytes",
            size: n,
            limit: MAX_HEADER_BYTES,
        });
    }
    if 8 + n > actual {
        return Err(ModelError::CheckpointFileSize {
            path: path.display().to_string(),
            expected: 8 + n,
            actual,
        });
    }
    // n ≤ MAX_HEADER_BYTES and ≤ the file's size: bounded
    let header = read_exact_fallible(&mut file, n, path)?;
    let meta: Metadata = serde_json::from_slice(&header)
        .map_err(|e| err(path, format!("malformed safetensors header: {e}")))?;
    let mut data_end = 0u64;
    let mut values = 0u64;
    for info in meta.tensors().values() {
        data_end = data_end.max(info.data_offsets.1 as u64);
        // the header's own validation already checked these products for overflow
        let count = info.shape.iter().map(|&s| s as u64).product::<u64>();
        values = values.saturating_add(count);
    }
    if values > MAX_VALUES {
        return Err(ModelError::CheckpointTooLarge {
            path: path.display().to_string(),
            what: "the number of values in the tensors",
            size: values,
            limit: MAX_VALUES,
        });
    }
    let expected = (8 + n).saturating_add(data_end);
    if expected != actual {
        return Err(ModelError::CheckpointFileSize {
            path: path.display().to_string(),
            expected,
            actual,
        });
    }
    file.seek(SeekFrom::Start(0)).map_err(|e| err(path, e))?;
    let bytes = read_exact_fallible(&mut file, actual, path)?;
    Ok(bytes)
}

/// Reads exactly `n` bytes (a size already checked against the file), reserving the buffer
/// fallibly so that a failed allocation is an error, not an abort.
fn read_exact_fallible(file: &mut File, n: u64, path: &Path) -> Result<Vec<u8>> {
    let len =
        usize::try_from(n).map_err(|_| err(path, format!("{n} bytes do not fit in memory")))?;
    let mut buf = Vec::new();
    buf.try_reserve_exact(len)
        .map_err(|e| err(path, format!("cannot reserve {n} bytes: {e}")))?;
    file.take(n)
        .read_to_end(&mut buf)
        .map_err(|e| err(path, e))?;
    if buf.len() != len {
        return Err(err(
            path,
            format!(
                "the file changed while it was read ({} of {n} bytes)",
                buf.len()
            ),
        ));
    }
    Ok(buf)
}

/// The temporary file `data` for `path` is written to: the same folder (so the rename is
/// atomic), the name with this process's id and `.tmp` appended.
pub(super) fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(ToOwned::to_owned).unwrap_or_default();
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// Writes every `(path, bytes)`: each to its [`temp_path`] first, flushed and synced; only
/// when all are on disk are they renamed into place (in order), and the folders synced. On
/// any failure every temporary file is removed and nothing is renamed after it.
///
/// # Errors
/// [`ModelError::Checkpoint`] naming the file that could not be written or renamed.
pub(super) fn write_all_atomic(files: &[(&Path, &[u8])]) -> Result<()> {
    let temps: Vec<PathBuf> = files.iter().map(|(p, _)| temp_path(p)).collect();
    let remove_temps = || {
        for t in &temps {
            // best effort: a temp that was never created is not an error
            let _ = std::fs::remove_file(t);
        }
    };
    for ((path, data), tmp) in files.iter().zip(&temps) {
        if let Err(e) = write_synced(tmp, data) {
            remove_temps();
            return Err(err(path, e));
        }
    }
    for ((path, _), tmp) in files.iter().zip(&temps) {
        if let Err(e) = std::fs::rename(tmp, path) {
            remove_temps();
            return Err(err(path, format!("cannot rename {}: {e}", tmp.display())));
        }
    }
    for (path, _) in files {
        sync_parent(path);
    }
    Ok(())
}

fn write_synced(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Syncs the folder of `path` so that a rename survives a crash. Best effort: not every
/// platform or file system lets a folder be opened and synced, and the data is already safe.
fn sync_parent(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
