//! Bounds beside every run, and `smoe bound`.

mod common;

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

/// A `smoe train` record carries every bound and its terms; the restated Zhao value is
/// recomputed here from the record's own fields.
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
    let zhao = expert + 2.0 * ((count + (4.0 / delta).ln()) / (2.0 * m)).sqrt();
    let recorded = scalar(&report, "zhao.total");
    assert!(
        (zhao - recorded).abs() <= 1e-12 * recorded.abs(),
        "{zhao} vs {recorded}"
    );
    assert!((scalar(&report, "zhao.expert_term") - expert).abs() <= 1e-12 * expert.abs().max(1.0));
    // every bound has its terms
    for name in [
        "d1_worst.total",
        "d1_worst.expert_term",
        "d1_worst.routing_term",
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
    assert!(table.contains("| d1_worst (valid) | total |"), "{table}");
    let o = bound(&x32p);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table32 = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        table32.contains("| d1_worst (valid) | total |"),
        "{table32}"
    );
    // bad --data: one line naming the file, exit 2, nothing on stdout
    let x1 = dir.path().join("x1.npy");
    write_array1(&x1, &x.column(0).to_owned()).expect("npy");
    let missing = dir.path().join("nope.npy");
    for (data, msg) in [
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
    assert!(s.contains("| zhao (restated) | total | 0.700702 |"), "{s}");
    assert!(s.contains("| d1_worst (valid) | total | 0.728912 |"), "{s}");
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
