//! No input aborts: every size field of a run config given a huge value, and `.npy` files
//! whose headers lie, give one line `smoe: error: …` and exit code 2 — never an aborted
//! allocation (exit 134), a panic or a wrapped number.

use crate::common;
use common::smoe;

/// Runs `smoe train` with `args` and checks the one-line rejection; returns stderr.
fn rejected(args: &[&str], what: &str) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("r.jsonl");
    let mut all = vec!["train", "--quiet", "--out", out.to_str().expect("utf8")];
    all.extend_from_slice(args);
    let o = smoe(&all);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{what}: exit code; stderr {stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{what}: {stderr:?}");
    assert!(stderr.starts_with("smoe: error: "), "{what}: {stderr}");
    for bad in ["panicked", "memory allocation", "capacity overflow"] {
        assert!(!stderr.contains(bad), "{what}: {stderr}");
    }
    assert!(!out.exists(), "{what}: a record was written");
    stderr
}

const HUGE: &str = "1000000000000";

#[test]
fn every_size_field_with_a_huge_value_is_one_line() {
    // (the --set arguments, a word the message must contain)
    let cases: &[(&[&str], &str)] = &[
        (&["data.d"], "values"),
        (&["data.m_train"], "m_train"),
        (&["data.m_test"], "m_test"),
        (&["data.task.clusters"], "clusters"),
        (
            &["data.task.kind=\"teacher-moe\"", "data.task.experts"],
            "experts",
        ),
        (
            &["data.task.kind=\"teacher-moe\"", "data.task.width"],
            "values",
        ),
        (&["data.task.kind=\"teacher-moe\"", "data.task.k"], "k"),
        (
            &[
                "data.task.kind=\"gaussian-mixture\"",
                "data.task.components",
            ],
            "components",
        ),
        (
            &["data.task.kind=\"sparse-parity\"", "data.task.support"],
            "support",
        ),
        (&["model.experts"], "parameters"),
        (&["model.k"], "k"),
        (&["model.expert.width"], "parameters"),
        (&["model.expert.depth"], "parameters"),
        (
            &["model.router.kind=\"mlp\"", "model.router.hidden"],
            "parameters",
        ),
        (&["train.epochs"], "train.epochs"),
        (&["eval.mc_draws"], "eval.mc_draws"),
    ];
    for (sets, word) in cases {
        let mut args = Vec::new();
        for (i, s) in sets.iter().enumerate() {
            args.push("--set".to_string());
            if i + 1 == sets.len() {
                args.push(format!("{s}={HUGE}"));
            } else {
                args.push((*s).to_string());
            }
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = rejected(&refs, &format!("{sets:?}"));
        assert!(err.contains(word), "{sets:?}: {err}");
    }
    // 2^64 − 1 is beyond TOML's integers: said so, not read as a string or wrapped to 0
    let err = rejected(
        &["--set", "model.expert.width=18446744073709551615"],
        "u64::MAX",
    );
    assert!(err.contains("out of range"), "{err}");
    // sizes just inside usize but whose products overflow
    let err = rejected(
        &[
            "--set",
            "model.expert.width=4294967296",
            "--set",
            "model.expert.depth=4294967296",
        ],
        "overflowing product",
    );
    assert!(err.contains("more than 2^64"), "{err}");
    // a batch's widest array over the cap: k × width of the gathered expert layers times the
    // batch's rows (the parameters, 2 × 17 × 10⁵, are far below it); with the default batch,
    // an evaluation block's array is over the cap
    let wide = [
        "--set",
        "model.expert.width=100000",
        "--set",
        "model.experts=2",
        "--set",
        "model.k=2",
    ];
    for (extra, want) in [
        (
            &["--set", "train.batch_size=4096"][..],
            "an array of a training batch",
        ),
        (&[][..], "an array of an evaluation block"),
    ] {
        let err = rejected(&[&wide[..], extra].concat(), want);
        assert!(err.contains(want), "{err}");
    }
}

/// A version-1 `.npy` file with the given header fields and payload.
fn npy(descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&u16::try_from(header.len()).expect("short").to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(payload);
    out
}

#[test]
fn npy_files_whose_headers_lie_are_one_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let y = dir.path().join("y.npy");
    let ones: Vec<u8> = (0..8).flat_map(|_| 1.0f64.to_le_bytes()).collect();
    std::fs::write(&y, npy("<f8", "(8,)", &ones)).expect("write");
    let payload: Vec<u8> = (0..16).flat_map(|i| f64::from(i).to_le_bytes()).collect();
    let cases: &[(&str, &str, &[u8])] = &[
        ("<f8", "(1000000000000, 16)", &payload),
        (
            "<f8",
            "(18446744073709551615, 18446744073709551615)",
            &payload,
        ),
        ("<f8", "(4294967296, 4294967296)", &payload),
        ("<f8", "(8, 2, 1)", &payload),
        ("<f8", "(9, 2)", &payload),
        ("<f4", "(8, 2)", &payload[..40]),
        ("<c16", "(8, 2)", &payload),
        ("|O", "(8, 2)", &payload),
    ];
    for (i, (descr, shape, body)) in cases.iter().enumerate() {
        let x = dir.path().join(format!("x{i}.npy"));
        std::fs::write(&x, npy(descr, shape, body)).expect("write");
        let data = format!(
            "data={{kind=\"npy\", x=\"{}\", y=\"{}\", test_fraction=0.5}}",
            x.display(),
            y.display()
        );
        let err = rejected(&["--set", &data], &format!("npy {descr} {shape}"));
        assert!(
            err.contains(&format!("x{i}.npy")),
            "{shape}: names the file: {err}"
        );
    }
    // a truncated header and a file that is not npy at all
    for (i, bytes) in [b"\x93NUMPY\x01\x00\xff\xff{".to_vec(), b"hello".to_vec()]
        .into_iter()
        .enumerate()
    {
        let x = dir.path().join(format!("bad{i}.npy"));
        std::fs::write(&x, bytes).expect("write");
        let data = format!(
            "data={{kind=\"npy\", x=\"{}\", y=\"{}\", test_fraction=0.5}}",
            x.display(),
            y.display()
        );
        rejected(&["--set", &data], "truncated npy");
    }
}
