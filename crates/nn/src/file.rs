//! Reading a whole file whose size is capped: the one reader behind every file of user input
//! (data files, checkpoints, configs), so no file is read into memory before its size is known.

use std::io::Read;
use std::path::Path;

/// Why [`read_capped`] failed.
#[derive(Debug)]
pub enum ReadCapped {
    /// The file cannot be opened or read.
    Io(std::io::Error),
    /// The file holds more than the limit: `bytes` is its size (or, when it grew while being
    /// read, the limit plus one).
    TooLarge {
        /// How many bytes it holds, as far as they were counted.
        bytes: u64,
    },
}

/// Reads the whole file at `path` if it holds at most `limit` bytes: the size is checked
/// before a byte is read, and the read stops one byte past the limit should the file grow.
///
/// # Errors
/// [`ReadCapped::Io`], [`ReadCapped::TooLarge`].
pub fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, ReadCapped> {
    let file = std::fs::File::open(path).map_err(ReadCapped::Io)?;
    let size = file.metadata().map_err(ReadCapped::Io)?.len();
    if size > limit {
        return Err(ReadCapped::TooLarge { bytes: size });
    }
    let mut out = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(ReadCapped::Io)?;
    if out.len() as u64 > limit {
        return Err(ReadCapped::TooLarge {
            bytes: out.len() as u64,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_beyond() {
        let dir = std::env::temp_dir().join(format!("smoe-nn-read-capped-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(read_capped(&p, 5).unwrap(), b"12345");
        assert!(matches!(
            read_capped(&p, 4),
            Err(ReadCapped::TooLarge { bytes: 5 })
        ));
        assert!(matches!(
            read_capped(&dir.join("missing"), 5),
            Err(ReadCapped::Io(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
