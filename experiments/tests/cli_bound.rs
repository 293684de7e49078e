//! Bounds beside every run, and `smoe bound`.

use crate::common;
use common::smoe;

use serde_json::Value;
use smoe_tasks::npy::{write_array1, write_array2};
use smoe_theory::BoundReport;

fn f(v: &Value, path: &[&str]) -> f64 {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number: {cur}"))
}

/// The report's named scalar `name` (`zhao.total`, `router.d_n`, ...).
fn scalar(r: &BoundReport, name: &str) -> f64 {
    r.scalars()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no scalar {name}"))
        .1
}

/// A `smoe train` record carries every bound and its terms; the paper-form Zhao value with
/// Golowich experts (`zhao_golowich`, THEORY.md §1.5) is recomputed here from the record's own
/// fields.
#[test]
fn train_records_carry_the_bounds_and_zhao_recomputes() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("r.jsonl");
    let ckpt = dir.path().join("m.safetensors");
    let o = smoe(&[
        "train",
        "--quiet",
        "--set",
        "data.m_train=600",
        "--set",
        "data.m_test=500",
        "--set",
        "train.epochs=2",
        "--set",
        "eval.delta=0.1",
        "--set",
        "eval.gamma=0.5",
        "--out",
        out.to_str().expect("utf8"),
        "--checkpoint",
        ckpt.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rec: Value =
        serde_json::from_str(std::fs::read_to_string(&out).expect("record").trim()).expect("json");
    let b = &rec["bounds"];
    let report: BoundReport = serde_json::from_value(b.clone()).expect("a BoundReport");
    assert_eq!(f(b, &["delta"]), 0.1);
    assert_eq!(f(b, &["gamma"]), 0.5);
    assert_eq!(f(b, &["lipschitz"]), 2.0);
    assert_eq!(f(b, &["m"]), 600.0);
    assert_eq!(f(b, &["k"]), f(&rec, &["config", "model", "k"]));
    assert_eq!(f(b, &["t"]), f(&rec, &["config", "model", "experts"]));
    // the measured gaps sit beside the bounds
    assert!(rec["final"]["gap_01"].is_number() && rec["final"]["gap_ramp"].is_number());
    let (c, r, k, t, d_n, m, delta) = (
        f(b, &["lipschitz"]),
        f(b, &["rademacher_m"]),
        f(b, &["k"]),
        f(b, &["t"]),
        scalar(&report, "router.d_n"),
        f(b, &["m"]),
        f(b, &["delta"]),
    );
    // linear router with bias: d_N = (d + 1)(T - 1)
    assert_eq!(d_n, (f(&rec, &["config", "data", "d"]) + 1.0) * (t - 1.0));
    let expert = 4.0 * c * r;
    let count = 2.0 * k * d_n * (1.0 + (t / k).ln()) + d_n * (2.0 * m).ln();
    // the empirical-form confidence term, with the margin's price if γ was chosen from the data
    let margin = scalar(&report, "zhao_golowich.margin_log_count");
    let zhao = expert
        + 2.0 * (count / (2.0 * m)).sqrt()
        + 3.0 * (((2.0 / delta).ln() + margin) / (2.0 * m)).sqrt();
    let recorded = scalar(&report, "zhao_golowich.total");
    assert!(
        (zhao - recorded).abs() <= 1e-12 * recorded.abs(),
        "{zhao} vs {recorded}"
    );
    let recorded_expert = scalar(&report, "zhao_golowich.expert_term");
    assert!((recorded_expert - expert).abs() <= 1e-12 * expert.abs().max(1.0));
    // `zhao` itself uses BFT experts, whose complexity already contains γ (no factor C)
    let bft = 4.0 * scalar(&report, "rademacher_m_bft");
    assert!((scalar(&report, "zhao.expert_term") - bft).abs() <= 1e-12 * bft.max(1.0));
    // every bound has its terms
    for name in [
        "d1_worst.total",
        "d1_worst.expert_term",
        "d1_worst.routing_term",
        "d1_worst.budget_log_count",
        "d1_a2.total",
        "d1_learned.total",
        "kratsios.total",
        "router.natarajan.exact",
    ] {
        let v = scalar(&report, name);
        assert!(v.is_finite() && v > 0.0, "{name} = {v}");
    }
    assert_eq!(b["experts"].as_array().map(Vec::len), Some(t as usize));

    // the same checkpoint through `smoe bound --checkpoint --data`, inputs read by
    // smoe_tasks::npy: f64 and f32 give the same table
    let x: ndarray::Array2<f64> =
        ndarray::Array2::from_shape_fn((50, 16), |(i, j)| ((i * 16 + j) as f64 * 0.1).sin());
    let xp = dir.path().join("x.npy");
    write_array2(&xp, &x).expect("npy");
    let x32p = dir.path().join("x32.npy");
    write_array2(&x32p, &x.mapv(|v| v as f32)).expect("npy");
    let bound = |data: &std::path::Path| {
        smoe(&[
            "bound",
            "--k",
            "2",
            "--T",
            "8",
            "--m",
            "50",
            "--d",
            "16",
            "--checkpoint",
            ckpt.to_str().expect("utf8"),
            "--data",
            data.to_str().expect("utf8"),
        ])
    };
    let o = bound(&xp);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = String::from_utf8_lossy(&o.stdout).to_string();
    // k = 2 with a softmax gate is case A2: the Step-4 form is heuristic, the remark's is proved
    assert!(
        table.contains("| d1_worst (heuristic) | total |"),
        "{table}"
    );
    assert!(
        table.contains("| d1_a2 (valid (A2 remark)) | total |"),
        "{table}"
    );
    let o = bound(&x32p);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table32 = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        table32.contains("| d1_a2 (valid (A2 remark)) | total |"),
        "{table32}"
    );
    // bad --data: one line naming the file, exit 2, nothing on stdout
    let x1 = dir.path().join("x1.npy");
    write_array1(&x1, &x.column(0).to_owned()).expect("npy");
    let missing = dir.path().join("nope.npy");
    // inputs that disagree with the checkpoint's d or with --m
    let narrow = dir.path().join("x3.npy");
    write_array2(&narrow, &x.slice(ndarray::s![.., ..3]).to_owned()).expect("npy");
    let short = dir.path().join("x40.npy");
    write_array2(&short, &x.slice(ndarray::s![..40, ..]).to_owned()).expect("npy");
    for (data, msg) in [
        (
            &narrow,
            format!(
                "{} holds [50, 3] inputs, but --m 50 --d 16 were given",
                narrow.display()
            ),
        ),
        (
            &short,
            format!(
                "{} holds [40, 16] inputs, but --m 50 --d 16 were given",
                short.display()
            ),
        ),
        (
            &x1,
            format!(
                "invalid .npy file {}: expected a 2-D [rows, cols] array, got shape [50] (1-D)",
                x1.display()
            ),
        ),
        (&missing, format!("cannot read {}", missing.display())),
    ] {
        let o = bound(data);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(&msg), "{err}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn bound_what_if_matches_the_worked_example() {
    // THEORY.md §1.7, first example: d = 16, T = 8, k = 2, m = 10^4, no router bias
    let o = smoe(&[
        "bound",
        "--k",
        "2",
        "--T",
        "8",
        "--m",
        "10000",
        "--d",
        "16",
        "--no-bias",
    ]);
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("| router (valid) | d_n | 112.000000 |"), "{s}");
    // Zhao in the paper's form: the worked example's 4 R = 0.04 and routing log-count
    // 2 k d_N (1 + ln 4) + d_N ln(2m) = 2178.250 under their own root (0.660038), plus the
    // empirical-form confidence 3 sqrt(ln 40 / 2e4) = 0.040743: 0.740781
    assert!(s.contains("| zhao (restated) | total | 0.740781 |"), "{s}");
    // D1: the worked example's 0.728912 with its confidence term 0.040743 replaced by
    // 3 sqrt((ln 40 + 8 ln 61) / 2e4) = 0.128293 (the union bound over the budget grid)
    assert!(
        s.contains("| d1_learned (heuristic) | total | 0.728912 |"),
        "{s}"
    );
    assert!(
        s.contains("| d1_worst (valid) | budget_log_count | 32.886991 |"),
        "{s}"
    );
    assert!(s.contains("| d1_worst (valid) | total | 0.816463 |"), "{s}");
}

#[test]
fn bound_help_documents_every_input_and_bad_input_is_one_line() {
    let help = String::from_utf8_lossy(&smoe(&["bound", "--help"]).stdout).to_string();
    for flag in [
        "--k",
        "--T",
        "--m",
        "--d",
        "--delta",
        "--gamma",
        "--router-hidden",
        "--no-bias",
        "--expert-complexity",
        "--depth",
        "--width",
        "--checkpoint",
        "--data",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    for args in [
        vec!["bound", "--k", "5", "--T", "4", "--m", "10", "--d", "3"],
        vec![
            "bound", "--k", "1", "--T", "4", "--m", "10", "--d", "3", "--delta", "1.5",
        ],
        vec!["bound", "--k", "1", "--T", "4", "--m", "0", "--d", "3"],
        vec!["bound", "--k", "1", "--T", "4", "--d", "3"],
        vec!["bound", "--k", "x", "--T", "4", "--m", "10", "--d", "3"],
    ] {
        let o = smoe(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

const MAX: &str = "18446744073709551615"; // u64::MAX

/// `smoe bound --k 2 --T 8 --m 100 --d 4` with `extra` flags replacing or adding to these.
fn bound_with(extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&str> = vec!["bound"];
    for (flag, value) in [("--k", "2"), ("--T", "8"), ("--m", "100"), ("--d", "4")] {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend(extra);
    smoe(&args)
}

/// Every extreme input is one line on stderr naming the problem, exit 2, nothing on stdout:
/// no panic, no failed allocation, no wrapped number.
#[test]
fn bound_extremes_are_one_line_and_exit_2() {
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--delta", "0"], "delta = 0 is not in (0, 1)"),
        (vec!["--delta", "1"], "delta = 1 is not in (0, 1)"),
        (vec!["--delta", "nan"], "delta = NaN is not in (0, 1)"),
        (vec!["--delta", "-0.5"], "delta = -0.5 is not in (0, 1)"),
        (vec!["--delta", "inf"], "delta = inf is not in (0, 1)"),
        (
            vec!["--gamma", "0"],
            "gamma = 0 is invalid: must be finite and > 0",
        ),
        (
            vec!["--gamma", "-1"],
            "gamma = -1 is invalid: must be finite and > 0",
        ),
        (
            vec!["--gamma", "inf"],
            "gamma = inf is invalid: must be finite and > 0",
        ),
        (
            vec!["--gamma", "nan"],
            "gamma = NaN is invalid: must be finite and > 0",
        ),
        (
            vec!["--expert-complexity", "nan"],
            "expert complexity R_m(H) is not finite (NaN)",
        ),
        (
            vec!["--expert-complexity", "inf"],
            "expert complexity R_m(H) is not finite (inf)",
        ),
        (
            vec!["--expert-complexity", "-1"],
            "expert complexity R_m(H) = -1 is invalid: must be >= 0",
        ),
        (vec!["--m", "0"], "the sample is empty (m = 0)"),
        (vec!["--k", "0"], "k = 0 with 8 experts"),
        (vec!["--k", "9"], "k = 9 with 8 experts"),
        (vec!["--T", "0"], "k = 2 with 0 experts"),
        (
            vec!["--d", "0"],
            "input width d = 0 is invalid: must be >= 1",
        ),
        (vec!["--k", "-1"], "invalid value '-1' for '--k <K>'"),
        (vec!["--T", "-8"], "invalid value '-8' for '--T <T>'"),
        (vec!["--m", "-100"], "invalid value '-100' for '--m <M>'"),
        (
            vec!["--width", "-3"],
            "invalid value '-3' for '--width <WIDTH>'",
        ),
        (
            vec!["--T", "18446744073709551616"],
            "invalid value '18446744073709551616'",
        ),
        (vec!["--k", MAX], "k = 18446744073709551615 with 8 experts"),
        (
            vec!["--T", MAX],
            "d_N = inf is invalid: must be representable as usize",
        ),
        (
            vec!["--m", MAX],
            "k m = inf is invalid: must be representable as usize",
        ),
        (
            vec!["--d", MAX],
            "d_N = inf is invalid: must be representable as usize",
        ),
        (
            vec!["--router-hidden", MAX],
            "router parameter count = inf is invalid: must be representable as usize",
        ),
        (
            vec!["--depth", MAX],
            "expert depth + 1 = inf is invalid: must be representable as usize",
        ),
    ];
    for (extra, want) in cases {
        let o = bound_with(&extra);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{extra:?}: {err}");
        assert!(err.starts_with("smoe: error: "), "{extra:?}: {err}");
        assert!(err.contains(want), "{extra:?}: {err} lacks {want}");
        assert!(!err.contains("panicked") && !err.contains("memory allocation"));
        assert!(o.stdout.is_empty(), "{extra:?}");
    }
}

/// Sizes whose bounds have a closed form are computed without per-expert memory, exactly.
#[test]
fn bound_with_a_trillion_experts_is_computed_in_closed_form() {
    let o = bound_with(&["--T", "1000000000000"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // d_N = (d + 1)(T - 1), exact in usize
    assert!(
        out.contains("| router (valid) | d_n | 4999999999995.000000 |"),
        "{out}"
    );
    // 100 * 2 inputs over 10^12 experts: the learned pattern sees 200 experts of load 1
    let row = out
        .lines()
        .find(|l| l.starts_with("| d1_worst (valid) | total |"))
        .expect("d1_worst row");
    let total: f64 = row
        .trim_end_matches(" |")
        .rsplit("| ")
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a number");
    assert!(total.is_finite() && total > 1.0, "{row}");
    for extra in [
        vec!["--k", "1000000000000", "--T", "1000000000000"],
        vec!["--width", MAX],
        vec!["--d", "1000000000000"],
    ] {
        let o = bound_with(&extra);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            out.contains("| d1_worst (valid) | total |"),
            "{extra:?}: {out}"
        );
        assert!(
            !out.contains("NaN") && !out.contains("inf |"),
            "{extra:?}: {out}"
        );
    }
}
