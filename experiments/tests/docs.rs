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

/// The README shows the committed claims report's verdict table, row for row (its links
/// pointing into the report).
#[test]
fn readme_shows_the_claims_verdict_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let report = std::fs::read_to_string(root.join("results/claims/REPORT.md")).expect("report");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let rows: Vec<String> = report
        .lines()
        .filter(|l| l.starts_with("| [C"))
        .map(|l| l.replace("](#c", "](results/claims/REPORT.md#c"))
        .collect();
    assert_eq!(rows.len(), 7, "the report's verdict table has 7 rows");
    for r in &rows {
        assert!(readme.contains(r.as_str()), "README lacks the row {r}");
    }
}
