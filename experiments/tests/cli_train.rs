//! `smoe train` from the command line: bad input gives one line on stderr, exit code 2 and
//! writes nothing; a good run appends one parsable record; the committed default config is
//! the built-in default.

use crate::common;
use common::smoe;
use std::path::Path;

use smoe_train::{RunRecord, TrainConfig};

fn assert_rejected(args: &[&str], out: &Path, what: &str) {
    common::assert_one_line_error(&smoe(args), what);
    assert!(!out.exists(), "{what}: wrote {}", out.display());
}

#[test]
fn bad_input_is_one_line_exit_2_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("runs").join("r.jsonl");
    let o = out.to_str().expect("utf8");
    let unknown = dir.path().join("unknown.toml");
    std::fs::write(&unknown, "[train]\nepochs = 2\nfoo = 1\n").expect("write");
    let u = unknown.to_str().expect("utf8");
    let cases: [(&str, Vec<&str>); 8] = [
        ("unknown config key", vec!["--config", u]),
        ("k > T", vec!["--set", "model.k=9"]),
        ("negative lr", vec!["--set", "train.lr=-0.1"]),
        ("NaN lr", vec!["--set", "train.lr=nan"]),
        ("m = 0", vec!["--set", "data.m_train=0"]),
        ("unknown task", vec!["--set", "task.kind=no-such-task"]),
        ("unreadable file", vec!["--config", "/no/such/config.toml"]),
        ("bad --set", vec!["--set", "train.lr"]),
    ];
    for (what, extra) in cases {
        let mut args = vec!["train", "--quiet", "--out", o];
        args.extend(extra);
        assert_rejected(&args, &out, what);
    }
}

#[test]
fn a_run_appends_one_record_and_saves_a_checkpoint() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("r.jsonl");
    let ckpt = dir.path().join("m.safetensors");
    let o = smoe(&[
        "train",
        "--quiet",
        "--seed",
        "3",
        "--set",
        "data.m_train=512",
        "--set",
        "data.m_test=512",
        "--set",
        "train.epochs=2",
        "--out",
        out.to_str().expect("utf8"),
        "--checkpoint",
        ckpt.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).expect("record");
    assert_eq!(text.lines().count(), 1);
    let rec: RunRecord = serde_json::from_str(text.trim()).expect("parses");
    assert_eq!(rec.seed, 3);
    assert_eq!(rec.data.m_train, 512);
    assert_eq!(rec.epochs.len(), 2);
    assert!(ckpt.exists());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("| 0-1 error"), "{stdout}");
}

#[test]
fn committed_default_config_is_the_builtin_default() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/train-default.toml");
    let cfg: TrainConfig = smoe_experiments::config_io::load(Some(&path), &[]).expect("loads");
    assert_eq!(cfg, TrainConfig::default());
}
