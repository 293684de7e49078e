//! Sweeps: a SIGKILLed sweep resumed equals an uninterrupted one; shards merged equal the
//! unsharded sweep; --jobs 1 and --jobs 2 give identical records; summary.csv has its
//! documented columns; every SVG is well-formed XML.

use crate::common;
use common::{records, smoe};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SWEEP: &str = r#"
name = "test-sweep"
description = "A tiny grid for the tests."

[base.data]
d = 8
m_train = 1200
m_test = 400

[base.model.expert]
depth = 1
width = 8

[base.train]
epochs = 6
batch_size = 64
eval_every = 0

[grid]
"model.k" = [1, 2, 4]
"model.experts" = [2, 4]
seed = [0, 1]
"#;

fn sweep(cfg: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "sweep",
        cfg.to_str().expect("utf8"),
        "--out",
        out.to_str().expect("utf8"),
        "--quiet",
    ];
    args.extend(extra);
    let o = smoe(&args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("sweep.toml");
    std::fs::write(&cfg, SWEEP).expect("config");
    (dir, cfg)
}

#[test]
fn jobs_shards_and_report() {
    let (dir, cfg) = setup();
    let one = dir.path().join("one");
    let two = dir.path().join("two");
    sweep(&cfg, &one, &["--jobs", "1"]);
    sweep(&cfg, &two, &["--jobs", "2"]);
    let (a, b) = (records(&one), records(&two));
    // k = 4 > T = 2 is skipped: 3·2·2 − 2 = 10 runs
    assert_eq!(a.len(), 10);
    assert_eq!(a, b, "--jobs 1 and --jobs 2 differ");
    assert!(a.values().all(|v| v["status"] == "ok"));

    let s1 = dir.path().join("s1");
    let s2 = dir.path().join("s2");
    sweep(&cfg, &s1, &["--shard", "1/2", "--jobs", "2"]);
    sweep(&cfg, &s2, &["--shard", "2/2", "--jobs", "1"]);
    let (r1, r2) = (records(&s1), records(&s2));
    assert!(!r1.is_empty() && !r2.is_empty());
    assert!(r1.keys().all(|k| !r2.contains_key(k)), "shards overlap");
    let merged = dir.path().join("merged");
    let o = smoe(&[
        "merge",
        s1.to_str().expect("utf8"),
        s2.to_str().expect("utf8"),
        "--out",
        merged.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        records(&merged),
        a,
        "merged shards differ from the unsharded sweep"
    );

    // the report of the merged folder
    let o = smoe(&["report", merged.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    check_report(&merged, 5);
    check_report(&one, 5);
}

fn check_report(dir: &Path, cells: usize) {
    // summary.csv: documented columns, one row per cell
    let mut rdr = csv_rows(&dir.join("summary.csv"));
    let header = rdr.remove(0);
    for col in [
        "cell",
        "k",
        "T",
        "m",
        "model.k",
        "model.experts",
        "runs",
        "failed",
        "interpolating",
        "gap_01_mean",
        "gap_01_std",
        "gap_01_ci95",
        "gap_ramp_mean",
        "train.error_mean",
        "test.error_mean",
        "zhao.total_mean",
        "zhao.expert_term_mean",
        "d1_worst.total_mean",
        "d1_learned.total_mean",
        "kratsios.total_mean",
    ] {
        assert!(header.iter().any(|h| h == col), "summary.csv lacks {col}");
    }
    assert_eq!(rdr.len(), cells);
    let idx = |name: &str| header.iter().position(|h| h == name).expect("column");
    for row in &rdr {
        assert_eq!(row.len(), header.len());
        assert_eq!(row[idx("runs")], "2");
        let gap: f64 = row[idx("gap_01_mean")].parse().expect("gap mean");
        let te: f64 = row[idx("test.error_mean")].parse().expect("test mean");
        let tr: f64 = row[idx("train.error_mean")].parse().expect("train mean");
        assert!((gap - (te - tr)).abs() < 1e-9, "gap = test − train");
    }
    // every SVG is well-formed XML with an <svg> root
    let mut svgs = 0;
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "svg") {
            let text = std::fs::read_to_string(&p).expect("svg");
            let doc = roxmltree::Document::parse(&text)
                .unwrap_or_else(|err| panic!("{} is not well-formed: {err}", p.display()));
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            svgs += 1;
        }
    }
    // one m: gap vs k, gap vs T, their paired-difference plots, heat map; six bounds (zhao,
    // zhao_golowich, d1_learned, d1_worst, d1_a2, kratsios); the sparse-factor fit
    assert_eq!(svgs, 12, "plots");
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    for part in [
        "## Setup",
        "## What the sweep shows",
        "Kendall τ",
        "granulated Ψ",
        "R² =",
        "![gap_vs_k.svg]",
        "![diff_vs_k.svg]",
        "Holm-adjusted over all",
        "seed-bootstrap intervals",
        "### Against the ramp-loss gap",
        "| parameters / m | baseline |",
    ] {
        assert!(md.contains(part), "report.md lacks {part}");
    }
}

/// A minimal CSV reader for the test (quoted fields with doubled quotes).
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).expect("csv");
    text.lines()
        .map(|line| {
            let mut out = Vec::new();
            let mut cur = String::new();
            let mut quoted = false;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        cur.push('"');
                        chars.next();
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => out.push(std::mem::take(&mut cur)),
                    _ => cur.push(c),
                }
            }
            out.push(cur);
            out
        })
        .collect()
}

#[test]
fn killed_sweep_resumes_to_the_same_records() {
    let (dir, cfg) = setup();
    let full = dir.path().join("full");
    sweep(&cfg, &full, &["--jobs", "2"]);
    let want = records(&full);

    let part = dir.path().join("part");
    let mut child = Command::new(env!("CARGO_BIN_EXE_smoe"))
        .args([
            "sweep",
            cfg.to_str().expect("utf8"),
            "--out",
            part.to_str().expect("utf8"),
            "--quiet",
            "--jobs",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    let runs = part.join("runs.jsonl");
    loop {
        let n = std::fs::read_to_string(&runs).map_or(0, |t| t.lines().count());
        if n >= 3 || start.elapsed() > Duration::from_secs(120) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL"); // SIGKILL on Unix
    let _ = child.wait();
    let partial = records(&part);
    assert!(
        !partial.is_empty() && partial.len() < want.len(),
        "killed too late: {} runs",
        partial.len()
    );

    sweep(&cfg, &part, &["--resume", "--jobs", "2"]);
    assert_eq!(
        records(&part),
        want,
        "resumed sweep differs from the uninterrupted one"
    );
}

#[test]
fn quick_config_is_valid() {
    let (cfg, _) = smoe_experiments::sweep_cmd::load_config(None).expect("quick config");
    let (cells, notes) = smoe_experiments::sweep::expand(&cfg, None).expect("expands");
    assert_eq!(cells.len(), 90);
    assert!(notes.is_empty());
}
