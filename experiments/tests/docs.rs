//! Every path `docs/architecture.md` names exists.

use std::path::Path;

#[test]
fn every_path_in_the_architecture_doc_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("docs/architecture.md")).expect("doc");
    let mut checked = 0;
    let mut missing = Vec::new();
    for token in text.split(|c: char| c.is_whitespace() || "`()|,;".contains(c)) {
        let t = token.trim_end_matches(['.', ':']);
        let rooted = ["crates/", "experiments/", "docs/", "results/"]
            .iter()
            .any(|p| t.starts_with(p));
        if !rooted || t.contains('<') || t.contains('{') {
            continue;
        }
        checked += 1;
        if !root.join(t).exists() {
            missing.push(t.to_string());
        }
    }
    assert!(missing.is_empty(), "missing paths: {missing:?}");
    assert!(checked >= 40, "only {checked} paths found");
}
