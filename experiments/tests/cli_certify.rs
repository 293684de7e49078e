//! `smoe certify`: a run config, its record and its checkpoint give the same certificate (the
//! run is deterministic), the line appended to --out carries every part, and bad sources and
//! options are one-line errors.

use serde_json::Value;

use crate::common::{assert_one_line_error, smoe};

const CONFIG: &str = r#"
seed = 3
[data]
kind = "synthetic"
d = 8
m_train = 600
m_test = 400
[data.task]
kind = "mixture-of-linear"
clusters = 2
noise = 0.05
[model]
experts = 4
k = 2
[model.expert]
width = 8
[train]
epochs = 5
batch_size = 64
[eval]
bounds = false
[certify]
steps = 200
samples = 20
test_samples = 4
"#;

fn last_line(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).expect("certificate file");
    serde_json::from_str(text.lines().last().expect("a line")).expect("JSON")
}

#[test]
fn config_record_and_checkpoint_give_the_same_certificate() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let out = dir.path().join("cert.jsonl");
    let (cfg_s, out_s) = (cfg.to_str().unwrap(), out.to_str().unwrap());

    let o = smoe(&["certify", cfg_s, "--out", out_s, "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("PAC-Bayes certificate"), "{stdout}");
    let first = last_line(&out);
    let c = &first["certificate"];
    let bound = c["bound"].as_f64().expect("bound");
    assert!(bound > c["mc_bound"].as_f64().unwrap() && bound <= 1.0);
    assert_eq!(c["m"], 600);
    assert_eq!(c["steps"], 200);
    assert_eq!(c["samples"], 20);
    for part in [
        "kl",
        "kl_per_param",
        "b_re",
        "mc_error",
        "test_error",
        "holdout_bound",
    ] {
        assert!(c[part].as_f64().is_some_and(f64::is_finite), "{part}");
    }
    assert_eq!(c["blocks"][0]["name"], "all");
    assert!(stdout.contains(&format!("{bound:.4}")));

    // the same run from its record and from its checkpoint
    let rec = dir.path().join("run.jsonl");
    let ck = dir.path().join("model.safetensors");
    let o = smoe(&[
        "train",
        "--config",
        cfg_s,
        "--out",
        rec.to_str().unwrap(),
        "--checkpoint",
        ck.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let train_rec = last_line(&rec);
    assert_eq!(
        train_rec["certificate"]["bound"].as_f64(),
        Some(bound),
        "smoe train certifies too"
    );
    for args in [
        vec!["certify", rec.to_str().unwrap()],
        vec!["certify", ck.to_str().unwrap(), "--config", cfg_s],
        vec![
            "certify",
            rec.to_str().unwrap(),
            "--line",
            "1",
            "--threads",
            "1",
        ],
    ] {
        let mut a = args.clone();
        a.extend(["--out", out_s, "--quiet"]);
        let o = smoe(&a);
        assert!(
            o.status.success(),
            "{a:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let again = last_line(&out);
        assert_eq!(again["certificate"]["bound"].as_f64(), Some(bound), "{a:?}");
        assert_eq!(
            again["certificate"]["kl"], first["certificate"]["kl"],
            "{a:?}"
        );
    }
    // overrides reach the certificate
    let o = smoe(&[
        "certify",
        cfg_s,
        "--set",
        "certify.separate_router_prior=true",
        "--out",
        out_s,
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let split = last_line(&out);
    assert_eq!(split["certificate"]["blocks"][0]["name"], "router");
    assert_eq!(split["certificate"]["blocks"][1]["name"], "experts");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 5);

    // bad sources and options
    let bad_ext = dir.path().join("x.txt");
    std::fs::write(&bad_ext, "x").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["certify", bad_ext.to_str().unwrap()],
            "expected a run config",
        ),
        (vec!["certify", ck.to_str().unwrap()], "needs --config"),
        (
            vec!["certify", rec.to_str().unwrap(), "--line", "9"],
            "holds 1 records",
        ),
        (
            vec!["certify", cfg_s, "--line", "1"],
            "--line needs a run record",
        ),
        (
            vec!["certify", cfg_s, "--set", "certify.delta=2"],
            "certify.delta",
        ),
        (
            vec!["certify", cfg_s, "--set", "certify.samples=0"],
            "certify.samples",
        ),
        (vec!["certify", cfg_s, "--threads", "0"], "--threads"),
        (vec!["certify", "/nonexistent/run.toml"], "cannot read"),
    ];
    for (args, want) in cases {
        let o = smoe(&args);
        let err = assert_one_line_error(&o, &format!("{args:?}"));
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
