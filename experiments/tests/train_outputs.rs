//! The outputs of `smoe train` (the real binary): colliding or unusable output paths are
//! refused before training with one line and exit code 2, creating nothing; a run that fails
//! leaves no record, no temporary file and no folder it created; a good run writes both
//! checkpoint files and exactly one record.

use crate::common;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use smoe_experiments::train_cmd::outputs::TrainOutputs;
use smoe_model::{SparseConfig, SparseMoe, checkpoint};

/// A tiny run: a few seconds at most.
const TINY: [&str; 8] = [
    "--set",
    "train.epochs=1",
    "--set",
    "data.m_train=64",
    "--set",
    "data.m_test=64",
    "--quiet",
    "--seed=5",
];

/// A run of many epochs: minutes if it were trained, so a refusal that comes back fast
/// came before training.
const LONG: [&str; 6] = [
    "--set",
    "train.epochs=200000",
    "--set",
    "data.m_train=64",
    "--set",
    "data.m_test=64",
];

/// Runs `smoe train <args>` in `dir`.
fn train(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smoe"))
        .current_dir(dir)
        .arg("train")
        .args(args)
        .output()
        .expect("run smoe")
}

/// Every entry under `dir` (relative, sorted), with each file's bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            let rel = p.strip_prefix(dir).expect("under dir").to_path_buf();
            let meta = std::fs::symlink_metadata(&p).expect("meta");
            if meta.is_dir() {
                stack.push(p);
                out.push((rel, None));
            } else if meta.file_type().is_symlink() {
                out.push((rel, None));
            } else {
                out.push((rel, Some(std::fs::read(&p).expect("read"))));
            }
        }
    }
    out.sort();
    out
}

/// The run was refused with exit code 2, one `smoe: error:` line containing `want`,
/// before training (fast, no summary), and `dir` is exactly as before.
fn assert_refused(dir: &Path, args: &[&str], want: &str, what: &str) {
    let before = snapshot(dir);
    let t = Instant::now();
    let o = train(dir, &[&LONG[..], args].concat());
    let stderr = common::assert_one_line_error(&o, what);
    assert!(stderr.contains(want), "{what}: {stderr:?} lacks {want:?}");
    assert!(o.stdout.is_empty(), "{what}: it trained: {:?}", o.stdout);
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "{what}: took {:?}, it trained first",
        t.elapsed()
    );
    assert_eq!(snapshot(dir), before, "{what}: the folder changed");
}

#[test]
fn colliding_outputs_are_refused_before_training_and_create_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    std::fs::write(dir.join("old.jsonl"), b"{\"an\": \"earlier record\"}\n").expect("write");
    std::fs::write(dir.join("notes.json"), b"{\"mine\": true}\n").expect("write");
    std::fs::write(dir.join("c.toml"), b"[train]\nepochs = 1\n").expect("write");
    std::fs::write(dir.join("data.npy"), b"\x93NUMPY not a checkpoint").expect("write");
    std::fs::create_dir(dir.join("sub")).expect("mkdir");
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("old.jsonl"), dir.join("link.jsonl")).expect("symlink");
    let abs_old = dir.join("old.jsonl");
    let abs_old = abs_old.to_str().expect("utf8");
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "checkpoint = out",
            vec!["--out", "r.jsonl", "--checkpoint", "r.jsonl"],
            "is the --out record file",
        ),
        (
            "checkpoint = existing out, ./ form",
            vec!["--out", "old.jsonl", "--checkpoint", "./old.jsonl"],
            "is the --out record file",
        ),
        (
            "checkpoint = out through sub/..",
            vec!["--out", "r.jsonl", "--checkpoint", "sub/../r.jsonl"],
            "is the --out record file",
        ),
        (
            "checkpoint = out, absolute and relative",
            vec!["--out", abs_old, "--checkpoint", "old.jsonl"],
            "is the --out record file",
        ),
        (
            "checkpoint's JSON = out",
            vec!["--out", "r.json", "--checkpoint", "r.safetensors"],
            "the --out record file",
        ),
        (
            "checkpoint's JSON = out through sub/..",
            vec![
                "--out",
                "sub/../old.json",
                "--checkpoint",
                "old.safetensors",
            ],
            "the --out record file",
        ),
        (
            "checkpoint is its own JSON",
            vec!["--out", "r.jsonl", "--checkpoint", "m.json"],
            "ends in .json",
        ),
        (
            "checkpoint's JSON would overwrite a file that is not a checkpoint config",
            vec!["--out", "r.jsonl", "--checkpoint", "notes.safetensors"],
            "not a smoe checkpoint config",
        ),
        (
            "checkpoint would overwrite a file that is not a checkpoint",
            vec!["--out", "r.jsonl", "--checkpoint", "data.npy"],
            "not a smoe checkpoint (no checkpoint config",
        ),
        (
            "checkpoint = the config file",
            vec![
                "--config",
                "c.toml",
                "--out",
                "r.jsonl",
                "--checkpoint",
                "c.toml",
            ],
            "is the config file",
        ),
        (
            "out = the config file",
            vec!["--config", "c.toml", "--out", "./c.toml"],
            "is the config file",
        ),
        ("out is a folder", vec!["--out", "sub"], "is a folder"),
        (
            "checkpoint is a folder",
            vec!["--out", "r.jsonl", "--checkpoint", "sub"],
            "is a folder",
        ),
    ];
    for (what, args, want) in cases {
        assert_refused(dir, &args, want, what);
    }
    #[cfg(unix)]
    assert_refused(
        dir,
        &["--out", "old.jsonl", "--checkpoint", "link.jsonl"],
        "is the --out record file",
        "checkpoint = out through a symlink",
    );
}

#[test]
fn unwritable_output_folders_fail_before_training() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    // a file where a folder should be: no user (root included) can create under it
    std::fs::write(dir.join("blocker"), b"x").expect("write");
    assert_refused(
        dir,
        &["--out", "blocker/runs/r.jsonl"],
        "cannot create blocker",
        "out under a file",
    );
    assert_refused(
        dir,
        &[
            "--out",
            "new/r.jsonl",
            "--checkpoint",
            "blocker/m.safetensors",
        ],
        "blocker",
        "checkpoint under a file",
    );
    assert!(
        !dir.join("new").exists(),
        "the --out folder was left behind"
    );

    // a read-only folder (root ignores permissions: then there is nothing to check)
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = dir.join("ro");
        std::fs::create_dir(&ro).expect("mkdir");
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
        let honoured = std::fs::File::create(ro.join("probe")).is_err();
        if honoured {
            assert_refused(
                dir,
                &["--out", "ro/r.jsonl"],
                "cannot open",
                "read-only out",
            );
            assert_refused(
                dir,
                &["--out", "ro/sub/r.jsonl"],
                "cannot create",
                "out under a read-only folder",
            );
            assert_refused(
                dir,
                &["--out", "r.jsonl", "--checkpoint", "ro/m.safetensors"],
                "cannot write the checkpoint into",
                "read-only checkpoint folder",
            );
        } else {
            eprintln!("running as root: the read-only cases are not checked");
            std::fs::remove_file(ro.join("probe")).ok();
        }
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

#[test]
fn a_run_that_fails_in_training_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    std::fs::write(
        dir.join("c.toml"),
        b"[data]\nkind = \"npy\"\nx = \"no-such-x.npy\"\ny = \"no-such-y.npy\"\ntest_fraction = 0.5\n",
    )
    .expect("write");
    let before = snapshot(dir);
    let o = train(
        dir,
        &[
            "--config",
            "c.toml",
            "--out",
            "runs/deep/r.jsonl",
            "--checkpoint",
            "models/m.safetensors",
        ],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.contains("no-such-x.npy"), "{stderr}");
    // no record, no empty record file, no folder this run created
    assert_eq!(snapshot(dir), before);
}

#[test]
fn a_good_run_writes_both_checkpoint_files_and_one_record() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let args = [
        &TINY[..],
        &[
            "--out",
            "runs/r.jsonl",
            "--checkpoint",
            "models/m.safetensors",
        ],
    ]
    .concat();
    let o = train(dir, &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let names: Vec<PathBuf> = snapshot(dir).into_iter().map(|(p, _)| p).collect();
    let want: Vec<PathBuf> = [
        "models",
        "models/m.json",
        "models/m.safetensors",
        "runs",
        "runs/r.jsonl",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    assert_eq!(
        names, want,
        "exactly the outputs, no temporary or probe file"
    );
    let text = std::fs::read_to_string(dir.join("runs/r.jsonl")).expect("record");
    assert_eq!(text.lines().count(), 1);
    let rec: smoe_train::RunRecord = serde_json::from_str(text.trim()).expect("parses");
    assert_eq!(rec.seed, 5);
    let model = checkpoint::load::<f32>(&dir.join("models/m.safetensors")).expect("loads");
    assert_eq!(model.input_dim(), rec.data.d);
    assert_eq!(model.config(), rec.config.model);

    // again: one more record, the checkpoint replaced (its JSON config is a checkpoint's)
    let o = train(dir, &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(dir.join("runs/r.jsonl")).expect("record");
    assert_eq!(text.lines().count(), 2);
    let names2: Vec<PathBuf> = snapshot(dir).into_iter().map(|(p, _)| p).collect();
    assert_eq!(names2, want);
}

/// A checkpoint that cannot be saved after training (its folder replaced by a file while
/// the run trained): no record is appended, the record file this run created is removed,
/// and no temporary file stays in either folder.
#[test]
fn a_checkpoint_that_cannot_be_saved_leaves_no_record_and_no_temporary_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let out = dir.join("runs/r.jsonl");
    let ck = dir.join("models/m.safetensors");
    let model = SparseMoe::<f32>::new(&SparseConfig::default(), 4, 0).expect("model");

    // a new record file
    let outputs = TrainOutputs::prepare(&out, Some(&ck), &[]).expect("prepare");
    assert!(out.exists() && dir.join("models").is_dir());
    std::fs::remove_dir(dir.join("models")).expect("rmdir");
    std::fs::write(dir.join("models"), b"not a folder").expect("write");
    let e = outputs
        .commit("{\"x\": 1}", &model)
        .expect_err("cannot save");
    assert!(
        format!("{e:#}").contains("cannot save the checkpoint"),
        "{e:#}"
    );
    let names: Vec<PathBuf> = snapshot(dir).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        names,
        [PathBuf::from("models")],
        "record file and folder removed"
    );

    // an existing record file keeps its bytes
    std::fs::remove_file(dir.join("models")).expect("rm");
    std::fs::create_dir(dir.join("runs")).expect("mkdir");
    std::fs::write(&out, b"{\"earlier\": 1}\n").expect("write");
    let outputs = TrainOutputs::prepare(&out, Some(&ck), &[]).expect("prepare");
    std::fs::remove_dir(dir.join("models")).expect("rmdir");
    std::fs::write(dir.join("models"), b"not a folder").expect("write");
    assert!(outputs.commit("{\"x\": 2}", &model).is_err());
    assert_eq!(std::fs::read(&out).expect("read"), b"{\"earlier\": 1}\n");
    let snap = snapshot(dir);
    assert!(
        snap.iter()
            .all(|(p, _)| !p.to_string_lossy().contains("tmp")),
        "{snap:?}"
    );
    assert_eq!(snap.len(), 3, "{snap:?}");

    // and the same outputs, committed, hold the line and both files
    std::fs::remove_file(dir.join("models")).expect("rm");
    let outputs = TrainOutputs::prepare(&out, Some(&ck), &[]).expect("prepare");
    outputs.commit("{\"x\": 3}", &model).expect("commit");
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "{\"earlier\": 1}\n{\"x\": 3}\n"
    );
    assert!(ck.exists() && checkpoint::config_path(&ck).exists());
    assert_eq!(
        std::fs::read_dir(dir.join("models")).expect("dir").count(),
        2
    );
}
