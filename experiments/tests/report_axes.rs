//! The report is keyed by the sweep's own axes: a gate axis gets a plot per gate whose data
//! are that gate's cells; a squared-loss sweep reports MSE and R² with its plots and table;
//! a grid or a folder whose lookups would be ambiguous fails with one line.

use crate::common;
use std::path::Path;

use common::smoe;
use smoe_experiments::report::figures::{Chart, plan};
use smoe_experiments::report::summary::Summary;
use smoe_experiments::sweep::read_lines;

const GATES: &str = r#"
name = "gate-axis"
[base.data]
d = 5
m_train = 300
m_test = 300
[base.model.expert]
width = 8
[base.train]
epochs = 3
batch_size = 64
eval_every = 0
[grid]
"model.gate.kind" = ["topk_softmax", "softmax_topk"]
"model.k" = [1, 2]
"model.experts" = [2, 4]
seed = [0, 1]
"#;

const REGRESSION: &str = r#"
name = "regression-axis"
[base.data]
d = 4
m_train = 300
m_test = 300
[base.data.task]
kind = "norm-regression"
[base.loss]
kind = "squared"
[base.model.expert]
width = 8
[base.train]
epochs = 20
batch_size = 32
lr = 0.02
eval_every = 0
[grid]
"model.k" = [1, 2]
"model.experts" = [2, 4]
seed = [0, 1]
"#;

fn sweep_into(text: &str, dir: &Path) {
    assert_eq!(common::run_sweep_text(text, dir).failed, 0);
    smoe_experiments::report::write_report(dir).expect("report");
}

#[test]
fn a_gate_axis_gets_one_plot_per_gate_from_that_gates_cells() {
    let dir = tempfile::tempdir().expect("tmp");
    sweep_into(GATES, dir.path());
    let lines = read_lines(&dir.path().join("runs.jsonl")).expect("lines");
    let s = Summary::from_lines(&lines).expect("summary");
    assert_eq!(s.cells.len(), 8);
    let figs = plan(&s).expect("plan");
    for gate in ["topk_softmax", "softmax_topk"] {
        let file = format!("gap_vs_k_gate{gate}.svg");
        let fig = figs
            .figures
            .iter()
            .find(|f| f.file == file)
            .unwrap_or_else(|| {
                panic!(
                    "no {file} among {:?}",
                    figs.figures.iter().map(|f| &f.file).collect::<Vec<_>>()
                )
            });
        let Chart::Line(chart) = &fig.chart else {
            panic!("{file} is not a line chart");
        };
        assert!(chart.title.contains(gate), "{}", chart.title);
        // one series per T with a point at k = 1 and k = 2: that gate's cell means
        assert_eq!(chart.series.len(), 2);
        for (series, t) in chart.series.iter().zip([2.0, 4.0]) {
            assert_eq!(series.label, format!("T = {t}"));
            assert_eq!(series.points.len(), 2);
            for &(k, mean, lo, hi) in &series.points {
                let cell = s
                    .cells
                    .iter()
                    .find(|c| {
                        c.coords["model.gate.kind"] == gate
                            && c.coords["model.k"].as_f64() == Some(k)
                            && c.coords["model.experts"].as_f64() == Some(t)
                    })
                    .expect("cell");
                let st = cell.stats["gap_01"];
                assert_eq!(mean, st.mean);
                assert!((hi - lo - 2.0 * st.ci95.expect("2 seeds")).abs() < 1e-12);
            }
        }
        assert!(dir.path().join(&file).exists());
    }
    // the two gates' plots differ: softmax_topk trains its router at k = 1, topk_softmax not
    let md = std::fs::read_to_string(dir.path().join("report.md")).expect("report");
    assert!(md.contains("![gap_vs_k_gatesoftmax_topk.svg]"));
    assert!(md.contains("The mean 0-1 gap per gate"), "{md}");
    let csv = std::fs::read_to_string(dir.path().join("summary.csv")).expect("csv");
    assert!(
        csv.lines()
            .next()
            .expect("header")
            .contains("model.gate.kind")
    );
}

#[test]
fn a_squared_loss_sweep_reports_mse_and_r2_with_plots_and_table() {
    let dir = tempfile::tempdir().expect("tmp");
    sweep_into(REGRESSION, dir.path());
    let md = std::fs::read_to_string(dir.path().join("report.md")).expect("report");
    for part in [
        "loss: `squared`",
        "MSE gap",
        "| train MSE | test MSE | MSE gap | train R² | test R² |",
        "![gap_vs_k.svg]",
        "![heatmap_gap.svg]",
        "bounds: none",
    ] {
        assert!(md.contains(part), "report.md lacks {part}:\n{md}");
    }
    assert!(
        !md.contains("0-1"),
        "a regression report shows no 0-1 metric"
    );
    let csv = std::fs::read_to_string(dir.path().join("summary.csv")).expect("csv");
    let header = csv.lines().next().expect("header");
    for col in [
        "gap_mse_mean",
        "test.mse_mean",
        "test.r2_mean",
        "train.mse_mean",
    ] {
        assert!(
            header.split(',').any(|h| h == col),
            "summary.csv lacks {col}"
        );
    }
    assert!(
        !header
            .split(',')
            .any(|h| h == "test.error_mean" || h == "gap_01_mean"),
        "{header}"
    );
    let lines = read_lines(&dir.path().join("runs.jsonl")).expect("lines");
    for l in &lines {
        let fin = l
            .record
            .as_ref()
            .and_then(|r| r.final_eval.as_ref())
            .expect("final");
        let (tr, te) = (
            fin.train.get("mse").expect("mse"),
            fin.test.get("mse").expect("mse"),
        );
        assert_eq!(fin.gap("gap_mse"), Some(te - tr));
        assert!(
            fin.test.get("r2").expect("r2") > 0.0,
            "the norm is learnable"
        );
    }
    let s = Summary::from_lines(&lines).expect("summary");
    assert_eq!(s.primary_gap, "gap_mse");
    let figs = plan(&s).expect("plan");
    let heat = figs
        .figures
        .iter()
        .find_map(|f| match &f.chart {
            Chart::Heatmap(h) => Some(h),
            _ => None,
        })
        .expect("heatmap");
    // k = 2 > T = 2 is fine, k ∈ {1, 2} × T ∈ {2, 4}: every cell exists
    assert_eq!(heat.hatched(), 0);
    assert_eq!(heat.values.len(), 2);
    for f in &figs.figures {
        let svg = std::fs::read_to_string(dir.path().join(&f.file)).expect("svg");
        roxmltree::Document::parse(&svg).expect("well-formed SVG");
    }
}

#[test]
fn ambiguous_grids_and_mixed_folders_fail_with_one_line() {
    let dir = tempfile::tempdir().expect("tmp");
    // an axis listing a value twice: its cells could not be told apart
    let cfg = dir.path().join("dup.toml");
    std::fs::write(
        &cfg,
        "name = \"dup\"\n[grid]\n\"model.k\" = [1, 2, 1]\nseed = [0]\n",
    )
    .expect("write");
    let o = smoe(&[
        "sweep",
        cfg.to_str().expect("utf8"),
        "--out",
        dir.path().join("d").to_str().expect("utf8"),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("lists 1 twice"), "{err}");

    // a folder whose runs share grid coordinates but not their config (two sweeps mixed)
    let a = dir.path().join("a");
    sweep_into(GATES, &a);
    let text = std::fs::read_to_string(a.join("runs.jsonl")).expect("runs");
    let first = text.lines().next().expect("a line");
    let mut v: serde_json::Value = serde_json::from_str(first).expect("json");
    v["key"] = "0000000000000000".into();
    v["record"]["config"]["train"]["lr"] = 0.5.into();
    let mixed = format!("{text}{}\n", serde_json::to_string(&v).expect("json"));
    std::fs::write(a.join("runs.jsonl"), mixed).expect("write");
    let o = smoe(&["report", a.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("ambiguous"), "{err}");
}
