//! `smoe train` with the training-protocol options: bad budgets, stopping rules and margins are
//! one line on stderr (exit 2, nothing written); a step-budget run with early stopping and the
//! `p10` margin prints the γ it chose in the summary's ramp label.

use crate::common;
use common::smoe;

use smoe_train::RunRecord;

#[test]
fn bad_protocol_values_are_one_line_errors() {
    use smoe_experiments::train_cmd::gamma_text;
    assert_eq!(gamma_text(2f64.powi(-20)), "2^-20");
    assert_eq!(gamma_text(0.015625), "2^-6");
    assert_eq!(gamma_text(0.5), "0.5");
    assert_eq!(gamma_text(1.0), "1");
    assert_eq!(gamma_text(0.3), "0.3");
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("r.jsonl");
    let o = out.to_str().expect("utf8");
    let cases: [(&str, Vec<&str>); 7] = [
        (
            "both budgets",
            vec!["--set", "train.epochs=2", "--set", "train.steps=10"],
        ),
        ("negative steps", vec!["--set", "train.steps=-3"]),
        ("zero steps", vec!["--set", "train.steps=0"]),
        (
            "fraction 1",
            vec!["--set", "train.early_stopping.fraction=1.0"],
        ),
        (
            "patience 0",
            vec!["--set", "train.early_stopping.patience=0"],
        ),
        ("p11", vec!["--set", "eval.gamma=\"p11\""]),
        (
            "steps with full batch",
            vec![
                "--set",
                "train.steps=5",
                "--set",
                "train.full_batch.restarts=1",
            ],
        ),
    ];
    for (what, extra) in cases {
        let mut args = vec!["train", "--quiet", "--out", o];
        args.extend(extra);
        common::assert_one_line_error(&smoe(&args), what);
        assert!(!out.exists(), "{what}: wrote a record");
    }
}

#[test]
fn a_step_budget_run_with_early_stopping_prints_its_p10_gamma() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("r.jsonl");
    let o = smoe(&[
        "train",
        "--quiet",
        "--set",
        "data.m_train=200",
        "--set",
        "data.m_test=100",
        "--set",
        "train.steps=12",
        "--set",
        "train.early_stopping.patience=2",
        "--set",
        "eval.mc_draws=5",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).expect("record");
    let r: RunRecord = serde_json::from_str(text.trim()).expect("parses");
    // 200 samples: 20 for validation, 180 to fit = 2 steps of 128 per epoch, 12 steps
    let s = r.stopping.as_ref().expect("stopping");
    assert_eq!(s.validation.as_ref().map(|v| v.n), Some(20));
    assert_eq!(s.budget_steps, 12);
    assert!(s.step <= 12 && s.step == 2 * s.epoch, "{s:?}");
    let m = r.margin.as_ref().expect("margin");
    assert_eq!(m.rule, "p10");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(&format!(
            "ramp (γ = {})",
            smoe_experiments::train_cmd::gamma_text(m.gamma)
        )),
        "{stdout}"
    );
    // the record's config keeps the step budget and no epochs
    assert_eq!(r.config.train.steps, Some(12));
    let json: serde_json::Value = serde_json::from_str(text.trim()).expect("json");
    assert!(json["config"]["train"].get("epochs").is_none());
}

#[test]
fn train_steps_is_a_grid_axis_that_equalises_steps_across_m() {
    let text = r#"
name = "steps-axis"
description = "train.steps as an axis: the same steps at every m"

[base.data]
d = 4
m_test = 64

[base.train]
batch_size = 32

[base.eval]
bounds = false

[grid]
"train.steps" = [5, 9]
"data.m_train" = [64, 200]
"#;
    let dir = tempfile::tempdir().expect("tmp");
    let outcome = common::run_sweep_text(text, dir.path());
    assert_eq!((outcome.ran, outcome.failed), (4, 0));
    let lines = smoe_experiments::sweep::read_lines(&dir.path().join("runs.jsonl")).expect("lines");
    let mut seen = Vec::new();
    for l in &lines {
        let r = l.record.as_ref().expect("record");
        let s = r.stopping.as_ref().expect("stopping");
        let steps = r.config.train.steps.expect("steps");
        // m = 64: 2 steps per epoch; m = 200: 7
        let per_epoch = r.data.m_train.div_ceil(32);
        assert_eq!(s.step, steps);
        assert_eq!(s.epoch, steps.div_ceil(per_epoch));
        assert_eq!(r.epochs.len(), s.epoch);
        seen.push((steps, r.data.m_train));
    }
    seen.sort_unstable();
    assert_eq!(seen, [(5, 64), (5, 200), (9, 64), (9, 200)]);
}
