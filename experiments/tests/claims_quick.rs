//! `smoe claims --quick`: every claim runs on tiny settings through the same code path as the
//! full form, and the report has the structure the issue asks for: all seven claims, every
//! statistic finite, every verdict one of the three words, every referenced plot on disk.
//! The same command again (fresh folder, another job count) gives the same statistics, and a
//! second call in the same folder resumes without running anything.

use std::path::Path;

use serde_json::Value;

use crate::common::smoe;

const WORDS: [&str; 3] = ["supported", "not_supported", "inconclusive"];

fn run_quick(out: &Path, jobs: &str) -> String {
    run_quick_with(out, jobs, &[])
}

fn run_quick_with(out: &Path, jobs: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "claims",
        "--quick",
        "--quiet",
        "--jobs",
        jobs,
        "--out",
        out.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    let o = smoe(&args);
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "smoe claims --quick failed: {}\n{stdout}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

fn finite(v: &Value, what: &str) -> f64 {
    let x = v
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a finite number: {v}"));
    assert!(x.is_finite(), "{what} = {x}");
    x
}

fn check_structure(out: &Path) -> Value {
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("claims.json")).expect("claims.json"),
    )
    .expect("claims.json parses");
    let claims = json.as_array().expect("a list of claims");
    let ids: Vec<&str> = claims.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, ["C1", "C2", "C3", "C4", "C5", "C6", "C7"]);
    for c in claims {
        let id = c["id"].as_str().unwrap_or("?");
        let v = c["verdict"].as_str().unwrap_or("(none)");
        assert!(WORDS.contains(&v), "{id}: verdict {v:?}");
        let e = &c["estimate"];
        let (val, lo, hi) = (
            finite(&e["value"], id),
            finite(&e["ci_low"], id),
            finite(&e["ci_high"], id),
        );
        assert!(lo <= val && val <= hi, "{id}: {val} outside [{lo}, {hi}]");
        for p in ["p_for", "p_for_holm", "p_against", "p_against_holm"] {
            let x = finite(&c[p], p);
            assert!((0.0..=1.0).contains(&x), "{id}: {p} = {x}");
        }
        assert!(
            c["p_for_holm"].as_f64() >= c["p_for"].as_f64(),
            "{id}: Holm never lowers a p-value"
        );
        let stats = c["statistics"].as_object().expect("statistics");
        assert!(!stats.is_empty(), "{id}: no statistics");
        for (name, x) in stats {
            finite(x, &format!("{id} statistic {name}"));
        }
    }
    let md = std::fs::read_to_string(out.join("REPORT.md")).expect("REPORT.md");
    for (i, c) in claims.iter().enumerate() {
        let id = format!("C{}", i + 1);
        assert!(md.contains(&format!("\n## {id} — ")), "{id}: no section");
        assert!(
            md.contains(&format!("claims --quick --only {id}`")),
            "{id}: no regenerate command"
        );
        let word = c["verdict"].as_str().unwrap_or("").replace('_', " ");
        assert!(
            md.contains(&format!("**Verdict: {word}**")),
            "{id}: verdict {word} not stated"
        );
    }
    // the verdict table: a header and one row per claim
    let rows = md
        .lines()
        .filter(|l| l.starts_with("| [C") && l.ends_with('|'))
        .count();
    assert_eq!(rows, 7, "verdict table rows");
    // every figure referenced exists and is an SVG; every claim has at least one
    let mut figures = 0;
    for part in md.split("](").skip(1) {
        let Some(end) = part.find(')') else { continue };
        let link = &part[..end];
        if link.starts_with("plots/") {
            let text = std::fs::read_to_string(out.join(link))
                .unwrap_or_else(|e| panic!("figure {link}: {e}"));
            assert!(text.starts_with("<svg"), "{link} is not an SVG");
            assert!(!text.contains("NaN"), "{link} holds NaN");
            figures += 1;
        }
    }
    assert!(figures >= 7, "only {figures} figures");
    for i in 1..=7 {
        assert!(md.contains(&format!("](plots/c{i}")), "C{i} has no figure");
    }
    json
}

#[test]
fn quick_claims_report_is_complete_and_reproducible() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let start = std::time::Instant::now();
    run_quick(&a, "2");
    let secs = start.elapsed().as_secs_f64();
    assert!(
        secs < 300.0,
        "--quick took {secs:.0} s (must stay under 5 minutes)"
    );
    let first = check_structure(&a);
    // resuming in the same folder runs nothing and states the same numbers
    let again = run_quick(&a, "2");
    assert!(again.starts_with("claims: 0 runs"), "{again}");
    let resumed: Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("claims.json")).expect("json"))
            .expect("json");
    assert_eq!(first, resumed);
    // a fresh folder with one job: the same statistics
    run_quick(&b, "1");
    let fresh = check_structure(&b);
    assert_eq!(first, fresh, "claims.json differs between two fresh runs");
    // two shards (as a Slurm array runs them), then the unsharded call merges and reports
    let c = tmp.path().join("c");
    for shard in ["1/2", "2/2"] {
        let s = run_quick_with(&c, "1", &["--shard", shard]);
        assert!(s.contains("shard done"), "{s}");
    }
    assert!(!c.join("REPORT.md").exists(), "a shard writes no report");
    let merged = run_quick(&c, "2");
    assert!(merged.starts_with("claims: 0 runs"), "{merged}");
    assert_eq!(first, check_structure(&c), "sharded claims.json differs");
}

#[test]
fn bad_claims_options_are_one_line_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("x");
    let out = out.to_str().expect("utf-8");
    let e = crate::common::assert_one_line_error(
        &smoe(&["claims", "--quick", "--only", "C9", "--out", out]),
        "unknown claim",
    );
    assert!(
        e.contains("C9") && e.contains("C1, C2, C3, C4, C5, C6, C7"),
        "{e}"
    );
    let e = crate::common::assert_one_line_error(
        &smoe(&["claims", "--quick", "--jobs", "0", "--out", out]),
        "zero jobs",
    );
    assert!(e.contains("--jobs"), "{e}");
    crate::common::assert_one_line_error(
        &smoe(&["claims", "--quick", "--shard", "3/2", "--out", out]),
        "bad shard",
    );
    assert!(!Path::new(out).join("runs").exists(), "nothing may run");
}
