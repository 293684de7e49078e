//! The git commit of the source tree smoe was built from.

use std::sync::OnceLock;

/// `git rev-parse HEAD` in the source tree, if git and the tree are there (asked once per
/// process).
pub fn commit() -> Option<String> {
    static COMMIT: OnceLock<Option<String>> = OnceLock::new();
    COMMIT
        .get_or_init(|| {
            let out = std::process::Command::new("git")
                .args(["rev-parse", "HEAD"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .ok()?;
            if !out.status.success() {
                return None;
            }
            let s = String::from_utf8(out.stdout).ok()?;
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        })
        .clone()
}
