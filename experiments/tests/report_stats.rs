//! The report's statistics on constructed `runs.jsonl` files: a tiny real sweep gives the
//! records, whose gaps, errors and bound totals are then overwritten with values whose
//! trends are known, and the report is rebuilt from them.

use crate::common;
use std::path::Path;

use serde_json::{Value, json};

const GRID: &str = r#"
name = "report-stats"
[base.data]
d = 4
m_train = 200
m_test = 200
[base.model]
experts = 4
[base.model.expert]
width = 4
[base.train]
epochs = 1
batch_size = 64
eval_every = 0
[grid]
"data.m_train" = [200, 400]
"model.k" = [1, 2, 4]
seed = [0, 1, 2, 3, 4]
"#;

/// Runs the tiny sweep once into `dir`, then rewrites every record with `edit(line)` and
/// rebuilds the report; returns report.md.
fn constructed(dir: &Path, edit: impl Fn(&mut Value)) -> String {
    assert_eq!(common::run_sweep_text(GRID, dir).failed, 0);
    let text = std::fs::read_to_string(dir.join("runs.jsonl")).expect("runs");
    let mut out = String::new();
    for line in text.lines() {
        let mut v: Value = serde_json::from_str(line).expect("json");
        edit(&mut v);
        out.push_str(&serde_json::to_string(&v).expect("json"));
        out.push('\n');
    }
    std::fs::write(dir.join("runs.jsonl"), out).expect("write");
    let path = smoe_experiments::report::write_report(dir).expect("report");
    std::fs::read_to_string(path).expect("report.md")
}

fn coords(v: &Value) -> (f64, usize, f64) {
    let m = v["coords"]["data.m_train"].as_f64().expect("m");
    let k = v["coords"]["model.k"].as_u64().expect("k") as usize;
    let s = v["coords"]["seed"].as_f64().expect("seed");
    (m, k, s)
}

/// The 0-1 gap rises with k at m = 400 and falls at m = 200 in every seed (by 0.05 per
/// doubling of k, seed noise 0.002 s); train error 0.1 everywhere, or 0 at (k = 4, m = 400)
/// when `interpolate`. The ramp gap is the 0-1 gap + 0.01 and both D1 totals are 10 × the
/// ramp gap, so they rank the cells identically (a tie at τ = 1).
fn set_values(v: &mut Value, interpolate: bool) {
    let (m, k, s) = coords(v);
    let ki = (k as f64).log2();
    let gap = if m > 300.0 {
        0.10 + 0.05 * ki + 0.002 * s
    } else {
        0.30 - 0.05 * ki + 0.003 * s
    };
    let train = if interpolate && k == 4 && m > 300.0 {
        0.0
    } else {
        0.1
    };
    let r = &mut v["record"];
    r["final"]["train"]["error"] = json!(train);
    r["final"]["test"]["error"] = json!(train + gap);
    r["final"]["gap_01"] = json!(gap);
    r["final"]["gap_ramp"] = json!(gap + 0.01);
    for b in r["bounds"]["bounds"].as_array_mut().expect("bounds") {
        match b["name"].as_str() {
            Some("d1_worst" | "d1_learned") => b["total"] = json!(10.0 * (gap + 0.01)),
            Some("kratsios") => {
                b["loss"] = json!("zero_one");
                b["validity"] = json!("shape_only");
            }
            Some("zhao") => b["name"] = json!("some_new_bound"),
            _ => {}
        }
    }
    // the record's own types, complete (a record is read strictly)
    r["stopping"] = json!({"rule": "target_loss", "fired": true, "epoch": 1, "step": 4,
                           "budget_steps": 8});
    r["margin"] = json!({"rule": "p10", "gamma": 0.2 + 0.01 * s, "percentile_value": 0.2,
                         "grid_points": 20, "log_count": 20f64.ln(), "floored": false});
}

#[test]
fn paired_trends_split_by_m_and_tied_measures_name_no_winner() {
    let dir = tempfile::tempdir().expect("tmp");
    let md = constructed(dir.path(), |v| set_values(v, false));
    // one sentence per m, with the sign of each regime, its statistics and seeds up/down
    let rose = md
        .lines()
        .find(|l| l.contains("**The 0-1 gap rose with k**") && l.contains("at m = 400"))
        .unwrap_or_else(|| panic!("no rising sentence at m = 400:\n{md}"));
    assert!(rose.contains("k = 1 → 4"), "{rose}");
    // every seed: +0.10 exactly (0.05 per doubling, two doublings; seed noise cancels)
    assert!(rose.contains("mean change +0.1000"), "{rose}");
    assert!(rose.contains("up in 5 of 5 seeds, down in 0"), "{rose}");
    assert!(rose.contains("p_Holm"), "{rose}");
    let fell = md
        .lines()
        .find(|l| l.contains("**The 0-1 gap fell with k**") && l.contains("at m = 200"))
        .unwrap_or_else(|| panic!("no falling sentence at m = 200:\n{md}"));
    assert!(fell.contains("up in 0 of 5 seeds, down in 5"), "{fell}");
    // the family: states its size; k contrasts: 2 metrics × 2 m values, one setting each (no
    // rows: the sentence is the row); m contrasts: 2 metrics × (1 pooled + 3 rows) → 12
    assert!(md.contains("Holm-adjusted over all 12 contrasts"), "{md}");
    assert!(
        md.contains("<details><summary>All 6 per-setting contrasts"),
        "{md}"
    );
    // the ranking tables: each bound against its own gap, with baselines and intervals
    assert!(md.contains("### Against the ramp-loss gap"), "{md}");
    assert!(md.contains("### Against the 0-1 gap"), "{md}");
    for row in [
        "| parameters / m | baseline |",
        "| active parameters / m | baseline |",
        "| sqrt(T/(k m)) | baseline |",
        "| 1/sqrt(m) | baseline |",
        "| train error | baseline |",
        "| MELD sparse factor sqrt(k(1+ln(T/k))/m) | shape |",
        // valid at k = 1 (one weight 1: case A1), heuristic at k = 2, 4 (softmax weights, A2)
        "| D1, worst case over patterns | valid / heuristic |",
        "| D1, A2 case | valid (A2 remark) |",
        "| bound some_new_bound |",
        "| Kratsios et al. VC shape (constant 1) | shape |",
    ] {
        assert!(md.contains(row), "report.md lacks {row}:\n{md}");
    }
    let d1 = md
        .lines()
        .find(|l| l.starts_with("| D1 at the learned pattern |"))
        .expect("D1 row");
    // τ = 1 exactly in every draw: the interval is [1, 1]
    assert!(d1.contains("1.000 [1.000, 1.000]"), "{d1}");
    // the two D1 bounds tie at the top: no best measure is named for the ramp gap
    assert!(md.contains("are not separated"), "{md}");
    assert!(
        !md.contains("most like the ramp-loss gap"),
        "a tie must not name a best measure:\n{md}"
    );
    assert!(!md.contains("the shape of the restated bound"), "{md}");
    // the protocol from the records
    assert!(
        md.contains("- stopping rule: `target_loss` in 30 runs (fired in 30)"),
        "{md}"
    );
    assert!(
        md.contains("- margin rule: `p10` in 30 runs, γ from 0.2 to 0.24"),
        "{md}"
    );
    assert!(
        md.contains("interpolating cells (mean train error < 0.01"),
        "{md}"
    );
    assert!(md.contains(": 0 of 6"), "{md}");
    // the paired-difference plot of the gap against k, one line per m
    assert!(md.contains("![diff_vs_k.svg]"), "{md}");
    assert!(dir.path().join("diff_vs_k.svg").exists());
}

#[test]
fn an_interpolating_cell_is_flagged_and_analysed_apart() {
    let dir = tempfile::tempdir().expect("tmp");
    let md = constructed(dir.path(), |v| set_values(v, true));
    assert!(md.contains(": 1 of 6, flagged"), "{md}");
    let row = md
        .lines()
        .find(|l| l.starts_with("| 400 | 4 |"))
        .unwrap_or_else(|| panic!("no row for m = 400, k = 4:\n{md}"));
    assert!(row.contains("| **yes** |"), "{row}");
    // the k contrast at m = 400 involves that cell: stated as such
    let s = md
        .lines()
        .find(|l| l.contains("with k**") && l.contains("at m = 400") && l.contains("0-1 gap"))
        .expect("k sentence at m = 400");
    assert!(s.contains("contrasts involving interpolating cells"), "{s}");
    let s200 = md
        .lines()
        .find(|l| l.contains("with k**") && l.contains("at m = 200") && l.contains("0-1 gap"))
        .expect("k sentence at m = 200");
    assert!(s200.contains("non-interpolating cells"), "{s200}");
    let csv = std::fs::read_to_string(dir.path().join("summary.csv")).expect("csv");
    let mut rd = csv::Reader::from_reader(csv.as_bytes());
    let h = rd.headers().expect("header").clone();
    let col = |n: &str| h.iter().position(|x| x == n).expect(n);
    let (mc, kc, ic) = (col("data.m_train"), col("model.k"), col("interpolating"));
    let flagged: Vec<(String, String)> = rd
        .records()
        .map(|r| r.expect("row"))
        .filter(|r| &r[ic] == "1")
        .map(|r| (r[mc].to_string(), r[kc].to_string()))
        .collect();
    assert_eq!(flagged, vec![("400".to_string(), "4".to_string())]);
}

#[test]
fn cells_without_shared_seeds_fall_back_to_welch_and_say_so() {
    let dir = tempfile::tempdir().expect("tmp");
    // the cell (m = 400, k = 4) ran seeds 5..9 instead of 0..4: no pairing with k = 1
    let md = constructed(dir.path(), |v| {
        set_values(v, false);
        let (m, k, s) = coords(v);
        if m > 300.0 && k == 4 {
            v["coords"]["seed"] = json!(s + 5.0);
            v["record"]["seed"] = json!(s as u64 + 5);
            v["record"]["config"]["seed"] = json!(s as u64 + 5);
        }
    });
    let s = md
        .lines()
        .find(|l| l.contains("0-1 gap") && l.contains("with k**") && l.contains("at m = 400"))
        .unwrap_or_else(|| panic!("no k sentence at m = 400:\n{md}"));
    assert!(
        s.contains("Welch t(") && s.contains("unpaired (the cells share fewer than two seeds)"),
        "{s}"
    );
    assert!(
        !s.contains("seeds, down in"),
        "no seed counts without pairing: {s}"
    );
    // the values were set before the seeds were renamed: the means differ by the constructed
    // +0.10; Welch's df for two samples of 5 with equal variances is 8
    assert!(
        s.contains("mean change +0.1000") && s.contains("Welch t(8.0)"),
        "{s}"
    );
    // at m = 200 the cells share their seeds: still paired
    let p = md
        .lines()
        .find(|l| l.contains("0-1 gap") && l.contains("with k**") && l.contains("at m = 200"))
        .expect("k sentence at m = 200");
    assert!(p.contains("paired t(4)"), "{p}");
}
