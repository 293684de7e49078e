//! Content hashes of data files: SHA-256 (the `sha2` crate) over a framed stream of files.

use sha2::{Digest, Sha256};

/// A running content hash over the bytes of one or more files, in order.
///
/// Each file is framed by its length: the digest is SHA-256 of, for each file in order, its
/// byte count as a little-endian `u64` followed by its bytes. So moving bytes from one file to
/// the next changes the hash, while the files' names and locations never enter it. The result
/// is 64 lowercase hex digits.
///
/// # Example
/// ```
/// use smoe_tasks::ContentHasher;
///
/// let mut h = ContentHasher::new();
/// h.update(b"x file");
/// h.update(b"y file");
/// let digest = h.finish();
/// assert_eq!(digest.len(), 64);
/// assert_eq!(digest, smoe_tasks::content_hash([&b"x file"[..], &b"y file"[..]]));
/// assert_ne!(digest, smoe_tasks::content_hash([&b"x fil"[..], &b"ey file"[..]]));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ContentHasher {
    sha: Sha256,
}

impl ContentHasher {
    /// An empty hash (no file yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next file's bytes.
    pub fn update(&mut self, file: &[u8]) {
        self.sha.update((file.len() as u64).to_le_bytes());
        self.sha.update(file);
    }

    /// The hex digest of the files added so far.
    pub fn finish(self) -> String {
        self.sha
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The [`ContentHasher`] digest of `files`, in order.
pub fn content_hash<'a>(files: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = ContentHasher::new();
    for f in files {
        h.update(f);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest_and_sensitivity() {
        // SHA-256 of eight zero bytes (the empty file's length frame)
        assert_eq!(
            content_hash([&b""[..]]),
            "af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc"
        );
        let a = content_hash([&b"abc"[..]]);
        assert_ne!(a, content_hash([&b"abd"[..]]));
        assert_ne!(a, content_hash([&b"ab"[..], &b"c"[..]]));
        assert_eq!(a, content_hash([&b"abc"[..]]));
    }
}
