//! Sweep folders lose nothing and mix nothing: a resume killed at every write point keeps
//! every finished record; a locked folder refuses a second writer; a folder of another sweep
//! is refused unless `--fresh`; re-runs keep every earlier record set; merged shards are
//! byte-identical to their shards' lines and equal the unsharded sweep; bad names and grid
//! ranges are refused before anything is written.

use crate::common;
use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::smoe;
use serde_json::Value;
use smoe_experiments::sweep::store::read_raw;
use smoe_experiments::sweep::{fault::FAULT_ENV, lock::LOCK, read_lines};

/// Four tiny runs (one epoch on 200 samples).
const SWEEP: &str = r#"
name = "safety"
description = "Four tiny runs."

[base.data]
d = 4
m_train = 200
m_test = 100

[base.model]
experts = 2
k = 1

[base.model.expert]
depth = 1
width = 4

[base.train]
epochs = 1
batch_size = 50
eval_every = 0

[grid]
seed = [0, 1, 2, 3]
"#;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

fn sweep_cmd(cfg: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_smoe"));
    c.args(["sweep", s(cfg), "--out", s(out), "--quiet", "--no-report"])
        .args(extra);
    c
}

fn run(mut c: Command) -> Output {
    c.output().expect("run smoe")
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "smoe failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Asserts exit code 2 and a single `smoe: error:` line; returns the line.
fn one_line_error(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "not one line: {err}");
    assert!(lines[0].starts_with("smoe: error: "), "{err}");
    lines[0].to_string()
}

fn setup(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, text).expect("config");
    (dir, cfg)
}

/// The exact text of each line of `dir/runs.jsonl`.
fn raw_lines(dir: &Path) -> Vec<String> {
    read_raw(&dir.join("runs.jsonl"))
        .expect("runs.jsonl")
        .lines
        .into_iter()
        .map(|l| l.text)
        .collect()
}

/// Every file of `dir` (not recursive) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).expect("file"),
            )
        })
        .collect()
}

/// The line's JSON with the record's wall-clock timings removed.
fn without_timings(line: &str) -> Value {
    let mut v: Value = serde_json::from_str(line).expect("json line");
    if let Some(r) = v.get_mut("record").and_then(Value::as_object_mut) {
        assert!(r.remove("timings").is_some(), "a record without timings");
    }
    v
}

/// Equal values, numbers compared by their bits (floats) or exactly (integers).
fn same_bits(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64(), x.as_u64()) {
            (Some(p), Some(q), _) => p == q,
            (None, None, Some(p)) => y.as_u64() == Some(p),
            _ => match (x.as_f64(), y.as_f64()) {
                (Some(p), Some(q)) => x.is_f64() && y.is_f64() && p.to_bits() == q.to_bits(),
                _ => false,
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_bits(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| same_bits(p, q)))
        }
        _ => a == b,
    }
}

/// key → line without timings, asserting each key appears once.
fn by_key(lines: &[String]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for l in lines {
        let v = without_timings(l);
        let key = v["key"].as_str().expect("key").to_string();
        assert!(out.insert(key.clone(), v).is_none(), "key {key} twice");
    }
    out
}

fn assert_same_records(got: &[String], want: &[String]) {
    let (g, w) = (by_key(got), by_key(want));
    assert_eq!(
        g.keys().collect::<Vec<_>>(),
        w.keys().collect::<Vec<_>>(),
        "keys"
    );
    for (k, v) in &g {
        assert!(same_bits(v, &w[k]), "run {k} differs:\n{v}\n{}", w[k]);
    }
}

/// Runs `cmd(dir)` in a fresh folder `prepare`d for each write point n = 1, 2, … with the
/// fault at n, until a run gets past the last point and succeeds; after each abort calls
/// `check(dir, n, name)`. Returns the names of the points in order.
fn at_every_write_point(
    root: &Path,
    tag: &str,
    prepare: impl Fn(&Path),
    cmd: impl Fn(&Path) -> Command,
    check: impl Fn(&Path, usize, &str),
) -> Vec<String> {
    let mut names = Vec::new();
    for n in 1..=60 {
        let dir = root.join(format!("{tag}-{n}"));
        std::fs::create_dir(&dir).expect("dir");
        prepare(&dir);
        let mut c = cmd(&dir);
        c.env(FAULT_ENV, n.to_string());
        let o = run(c);
        if o.status.success() {
            return names;
        }
        assert_eq!(o.status.signal(), Some(6), "not aborted at point {n}");
        let err = String::from_utf8_lossy(&o.stderr);
        let prefix = format!("smoe: fault injected at write point {n} (");
        let name = err
            .lines()
            .find_map(|l| l.strip_prefix(&prefix)?.strip_suffix(')'))
            .unwrap_or_else(|| panic!("no fault message at {n}: {err}"));
        check(&dir, n, name);
        names.push(name.to_string());
    }
    panic!("{tag}: still aborting after 60 write points");
}

/// A finished sweep of [`SWEEP`] (one job): its folder's config bytes and record lines.
fn finished(root: &Path, cfg: &Path) -> (Vec<u8>, Vec<String>) {
    let full = root.join("full");
    ok(&run(sweep_cmd(cfg, &full, &["--jobs", "1"])));
    let lines = raw_lines(&full);
    assert_eq!(lines.len(), 4);
    let config = std::fs::read(full.join("sweep.toml")).expect("sweep.toml");
    assert_eq!(config, SWEEP.as_bytes());
    (config, lines)
}

#[test]
fn a_resume_killed_at_every_write_point_keeps_every_finished_record() {
    let (tmp, cfg) = setup(SWEEP);
    let (config, want) = finished(tmp.path(), &cfg);
    // two finished records and a torn third line, as a kill mid-append leaves
    let torn = format!(
        "{}\n{}\n{}",
        want[0],
        want[1],
        &want[2][..want[2].len() / 2]
    );
    let resume = |dir: &Path| sweep_cmd(&cfg, dir, &["--resume", "--jobs", "1"]);
    let names = at_every_write_point(
        tmp.path(),
        "resume",
        |dir| {
            std::fs::write(dir.join("sweep.toml"), &config).expect("config copy");
            std::fs::write(dir.join("runs.jsonl"), &torn).expect("torn records");
        },
        resume,
        |dir, n, name| {
            // every finished record is still there, byte for byte
            let keys = read_lines(&dir.join("runs.jsonl")).expect("readable after the crash");
            let lines = raw_lines(dir);
            assert!(
                lines.len() >= 2,
                "point {n} ({name}): {} lines",
                lines.len()
            );
            assert_eq!(lines[..2], want[..2], "point {n} ({name})");
            assert_eq!(keys.len(), lines.len());
            // a normal resume completes the sweep with each cell exactly once
            ok(&run(resume(dir)));
            let after = raw_lines(dir);
            assert_same_records(&after, &want);
            assert_eq!(after[..2], want[..2], "point {n} ({name}): bytes kept");
            assert!(
                !dir.join("runs.jsonl.tmp").exists(),
                "point {n}: temporary file left"
            );
            assert!(!dir.join(LOCK).exists(), "point {n}: lock file left");
        },
    );
    assert_eq!(
        names,
        [
            "runs.tmp_created",
            "runs.tmp_written",
            "runs.tmp_synced",
            "runs.renamed",
            "runs.dir_synced",
            "append.written",
            "append.synced",
            "append.written",
            "append.synced",
        ],
        "the write points of a resume"
    );
}

/// Every line of every `runs*.jsonl` of `dir`.
fn all_record_lines(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with("runs") && name.ends_with(".jsonl") {
            out.extend(
                read_raw(&e.path())
                    .expect("readable")
                    .lines
                    .into_iter()
                    .map(|l| l.text),
            );
        }
    }
    out
}

#[test]
fn a_rerun_killed_at_every_write_point_keeps_the_earlier_records() {
    let (tmp, cfg) = setup(SWEEP);
    let (config, old) = finished(tmp.path(), &cfg);
    let rerun = |dir: &Path| sweep_cmd(&cfg, dir, &["--jobs", "1"]);
    let names = at_every_write_point(
        tmp.path(),
        "rerun",
        |dir| {
            std::fs::write(dir.join("sweep.toml"), &config).expect("config copy");
            std::fs::write(dir.join("runs.jsonl"), format!("{}\n", old.join("\n")))
                .expect("records");
        },
        rerun,
        |dir, n, name| {
            let kept = all_record_lines(dir);
            for l in &old {
                assert!(
                    kept.contains(l),
                    "point {n} ({name}): an earlier record is lost"
                );
            }
            ok(&run(rerun(dir)));
            assert_eq!(raw_lines(dir).len(), 4, "point {n} ({name})");
            let kept = all_record_lines(dir);
            assert!(old.iter().all(|l| kept.contains(l)), "point {n} ({name})");
            assert_eq!(
                std::fs::read(dir.join("sweep.toml")).expect("config"),
                config,
                "point {n} ({name})"
            );
        },
    );
    let mut want = vec![
        "aside.runs",
        "aside.config",
        "config.tmp_created",
        "config.tmp_written",
        "config.tmp_synced",
        "config.renamed",
        "config.dir_synced",
    ];
    for _ in 0..4 {
        want.extend(["append.written", "append.synced"]);
    }
    assert_eq!(names, want, "the write points of a re-run");
}

#[test]
fn a_merge_killed_at_every_write_point_leaves_no_partial_file() {
    let (tmp, cfg) = setup(SWEEP);
    let (_, want) = finished(tmp.path(), &cfg);
    let shards: Vec<PathBuf> = (1..=2).map(|i| tmp.path().join(format!("s{i}"))).collect();
    for (i, d) in shards.iter().enumerate() {
        let shard = format!("{}/2", i + 1);
        ok(&run(sweep_cmd(
            &cfg,
            d,
            &["--shard", &shard, "--jobs", "1"],
        )));
    }
    let merge = |dir: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_smoe"));
        c.args(["merge", s(&shards[0]), s(&shards[1]), "--out", s(dir)]);
        c
    };
    let names = at_every_write_point(
        tmp.path(),
        "merge",
        |_| {},
        merge,
        |dir, n, name| {
            // no records, or all of them
            let got = raw_lines(dir);
            assert!(
                got.is_empty() || got.len() == 4,
                "point {n} ({name}): {}",
                got.len()
            );
            ok(&run(merge(dir)));
            assert_same_records(&raw_lines(dir), &want);
        },
    );
    let want_names: Vec<String> = ["config", "merge"]
        .iter()
        .flat_map(|f| {
            [
                "tmp_created",
                "tmp_written",
                "tmp_synced",
                "renamed",
                "dir_synced",
            ]
            .map(|p| format!("{f}.{p}"))
        })
        .collect();
    assert_eq!(names, want_names, "the write points of a merge");
}

/// Holds the folder lock as a sweep would: the OS lock and the pid.
fn hold_lock(dir: &Path) -> std::fs::File {
    std::fs::create_dir_all(dir).expect("dir");
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join(LOCK))
        .expect("lock file");
    f.try_lock().expect("lock");
    writeln!(f, "{}", std::process::id()).expect("pid");
    f
}

#[test]
fn a_locked_folder_refuses_a_second_sweep_and_a_merge() {
    let (tmp, cfg) = setup(SWEEP);
    let shard = tmp.path().join("shard");
    ok(&run(sweep_cmd(&cfg, &shard, &["--shard", "1/2"])));
    let dir = tmp.path().join("busy");
    let lock = hold_lock(&dir);
    let pid = format!("pid {}", std::process::id());

    let line = one_line_error(&run(sweep_cmd(&cfg, &dir, &[])));
    assert!(line.contains(s(&dir)) && line.contains(&pid), "{line}");
    assert!(line.contains("in use by another smoe process"), "{line}");
    let line = one_line_error(&run(sweep_cmd(&cfg, &dir, &["--resume"])));
    assert!(line.contains(&pid), "{line}");
    let line = one_line_error(&smoe(&["merge", s(&shard), "--out", s(&dir)]));
    assert!(line.contains(s(&dir)) && line.contains(&pid), "{line}");
    // nothing was written beside the lock
    assert_eq!(
        snapshot(&dir).into_keys().collect::<Vec<_>>(),
        [LOCK.to_string()]
    );
    // a merge does not read a shard a sweep is writing
    let shard_lock = hold_lock(&shard);
    let merged = tmp.path().join("merged");
    let line = one_line_error(&smoe(&["merge", s(&shard), "--out", s(&merged)]));
    assert!(line.contains(s(&shard)) && line.contains(&pid), "{line}");
    drop(shard_lock);

    // the holder gone, its lock file (with a pid no longer running) does not block
    drop(lock);
    std::fs::write(dir.join(LOCK), "4000000000\n").expect("stale lock");
    ok(&run(sweep_cmd(&cfg, &dir, &[])));
    assert_eq!(raw_lines(&dir).len(), 4);
    assert!(!dir.join(LOCK).exists(), "the lock file is removed on exit");
}

#[test]
fn three_sweeps_into_one_folder_keep_all_three_record_sets() {
    let (tmp, cfg) = setup(SWEEP);
    let dir = tmp.path().join("out");
    let mut sets = Vec::new();
    for _ in 0..3 {
        ok(&run(sweep_cmd(&cfg, &dir, &[])));
        sets.push(std::fs::read(dir.join("runs.jsonl")).expect("runs"));
    }
    assert_eq!(std::fs::read(dir.join("runs.1.jsonl")).expect("1"), sets[0]);
    assert_eq!(std::fs::read(dir.join("runs.2.jsonl")).expect("2"), sets[1]);
    assert_eq!(std::fs::read(dir.join("runs.jsonl")).expect("3"), sets[2]);
    for set in &sets {
        assert_eq!(set.iter().filter(|b| **b == b'\n').count(), 4);
    }
    for name in ["sweep.1.toml", "sweep.2.toml", "sweep.toml"] {
        assert_eq!(
            std::fs::read_to_string(dir.join(name)).expect("config"),
            SWEEP
        );
    }
    assert!(!dir.join("runs.3.jsonl").exists());
}

#[test]
fn another_sweeps_folder_is_refused_unless_fresh() {
    let (tmp, cfg_a) = setup(SWEEP);
    let other = SWEEP.replace("Four tiny runs.", "Another sweep.");
    let cfg_b = tmp.path().join("other.toml");
    std::fs::write(&cfg_b, &other).expect("config b");
    let dir = tmp.path().join("out");
    ok(&run(sweep_cmd(&cfg_a, &dir, &[])));
    let before = snapshot(&dir);

    for extra in [&[][..], &["--resume"][..]] {
        let line = one_line_error(&run(sweep_cmd(&cfg_b, &dir, extra)));
        assert!(
            line.contains(s(&dir))
                && line.contains("sweep.toml differs")
                && line.contains("--fresh"),
            "{line}"
        );
        assert_eq!(snapshot(&dir), before, "{extra:?} changed the folder");
    }
    // --fresh and --resume contradict each other
    one_line_error(&run(sweep_cmd(&cfg_b, &dir, &["--fresh", "--resume"])));
    assert_eq!(snapshot(&dir), before);

    // the same config with other comments and layout is the same sweep
    let same = tmp.path().join("same.toml");
    std::fs::write(&same, format!("# a comment\n{}", SWEEP.replace(" = ", "="))).expect("same");
    let o = run(sweep_cmd(&same, &dir, &["--resume"]));
    ok(&o);
    assert_eq!(snapshot(&dir), before, "a resume with nothing to do");

    // starting over keeps the old records and config under new names
    ok(&run(sweep_cmd(&cfg_b, &dir, &["--fresh"])));
    let after = snapshot(&dir);
    assert_eq!(after["runs.1.jsonl"], before["runs.jsonl"]);
    assert_eq!(after["sweep.1.toml"], before["sweep.toml"]);
    assert_eq!(after["sweep.toml"], other.as_bytes());
    assert_eq!(raw_lines(&dir).len(), 4);

    // records without a sweep.toml belong to an unknown sweep
    let bare = tmp.path().join("bare");
    std::fs::create_dir(&bare).expect("bare");
    std::fs::write(bare.join("runs.jsonl"), &before["runs.jsonl"]).expect("records");
    let line = one_line_error(&run(sweep_cmd(&cfg_a, &bare, &["--resume"])));
    assert!(line.contains("no sweep.toml"), "{line}");
    assert!(!bare.join("sweep.toml").exists());
}

#[test]
fn merged_shards_are_byte_identical_and_equal_the_unsharded_sweep() {
    let (tmp, cfg) = setup(SWEEP);
    let full = tmp.path().join("full");
    ok(&run(sweep_cmd(&cfg, &full, &["--jobs", "2"])));
    let shards: Vec<PathBuf> = (1..=3).map(|i| tmp.path().join(format!("s{i}"))).collect();
    for (i, d) in shards.iter().enumerate() {
        let shard = format!("{}/3", i + 1);
        ok(&run(sweep_cmd(
            &cfg,
            d,
            &["--shard", &shard, "--jobs", "1"],
        )));
    }
    let merged = tmp.path().join("merged");
    let merge = |out: &Path, dirs: &[&Path]| {
        let mut args = vec!["merge"];
        args.extend(dirs.iter().map(|d| s(d)));
        args.extend(["--out", s(out)]);
        smoe(&args)
    };
    let all: Vec<&Path> = shards.iter().map(PathBuf::as_path).collect();
    let o = merge(&merged, &all);
    ok(&o);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("merged 4 runs into {}", s(&merged.join("runs.jsonl")))
    );
    let got = raw_lines(&merged);
    let shard_lines: Vec<String> = shards.iter().flat_map(|d| raw_lines(d)).collect();
    assert_eq!(got.len(), 4);
    for l in &got {
        assert!(
            shard_lines.contains(l),
            "a merged line is not a shard's line: {l}"
        );
    }
    assert_same_records(&got, &raw_lines(&full));
    assert_eq!(
        std::fs::read_to_string(merged.join("sweep.toml")).expect("config"),
        SWEEP
    );
    // merging again into the same folder reproduces it: nothing to keep aside
    ok(&merge(&merged, &all));
    assert_eq!(raw_lines(&merged), got);
    assert!(!merged.join("runs.1.jsonl").exists());

    // (a) shards of different sweeps, or a shard without sweep.toml
    let fresh_out = tmp.path().join("never");
    let s2_config = std::fs::read_to_string(shards[1].join("sweep.toml")).expect("s2");
    std::fs::write(
        shards[1].join("sweep.toml"),
        s2_config.replace("Four tiny runs.", "Other."),
    )
    .expect("edit");
    let line = one_line_error(&merge(&fresh_out, &all));
    assert!(
        line.contains(s(&shards[0])) && line.contains(s(&shards[1])) && line.contains("differ"),
        "{line}"
    );
    std::fs::remove_file(shards[1].join("sweep.toml")).expect("rm");
    let line = one_line_error(&merge(&fresh_out, &all));
    assert!(line.contains("no sweep.toml"), "{line}");
    std::fs::write(shards[1].join("sweep.toml"), &s2_config).expect("restore");
    assert!(
        snapshot(&fresh_out).is_empty(),
        "a refused merge wrote files"
    );

    // (b) one run recorded differently in two shards; an identical copy is merged once
    let extra = raw_lines(&shards[0]).remove(0);
    let s2_runs = std::fs::read(shards[1].join("runs.jsonl")).expect("s2 runs");
    let mut copy = s2_runs.clone();
    copy.extend(format!("{extra}\n").bytes());
    std::fs::write(shards[1].join("runs.jsonl"), &copy).expect("copy");
    let o = merge(&fresh_out, &all);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("(1 duplicate lines"));
    assert_eq!(raw_lines(&fresh_out), got);
    let mut v: Value = serde_json::from_str(&extra).expect("json");
    let cell = v["cell"].as_u64().expect("cell");
    let key = v["key"].as_str().expect("key").to_string();
    v["failure"] = Value::from("edited");
    let mut conflict = s2_runs.clone();
    conflict.extend(format!("{v}\n").bytes());
    std::fs::write(shards[1].join("runs.jsonl"), &conflict).expect("conflict");
    let before = snapshot(&fresh_out);
    let line = one_line_error(&merge(&fresh_out, &all));
    assert!(
        line.contains(&format!("run {key} (cell {cell}) is recorded differently")),
        "{line}"
    );
    assert_eq!(snapshot(&fresh_out), before);
    std::fs::write(shards[1].join("runs.jsonl"), &s2_runs).expect("restore");

    // (c) an output folder holding another sweep
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).expect("other");
    std::fs::write(
        other.join("sweep.toml"),
        SWEEP.replace("Four tiny runs.", "Other."),
    )
    .expect("other config");
    std::fs::write(other.join("runs.jsonl"), format!("{}\n", got[0])).expect("other runs");
    let before = snapshot(&other);
    let line = one_line_error(&merge(&other, &all));
    assert!(
        line.contains(s(&other)) && line.contains("holds another sweep"),
        "{line}"
    );
    assert_eq!(snapshot(&other), before);
}

#[test]
fn bad_names_and_overlong_ranges_are_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().expect("tmp");
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).expect("work");
    for name in ["../escape", "..", "", "a/b"] {
        let cfg = work.join("bad.toml");
        std::fs::write(&cfg, SWEEP.replace("\"safety\"", &format!("{name:?}"))).expect("cfg");
        let o = Command::new(env!("CARGO_BIN_EXE_smoe"))
            .current_dir(&work)
            .args(["sweep", "bad.toml", "--quiet"])
            .output()
            .expect("smoe");
        let line = one_line_error(&o);
        assert!(
            line.contains(&format!("sweep name {name:?} cannot name a folder")),
            "{line}"
        );
    }
    assert!(!tmp.path().join("escape").exists() && !work.join("results").exists());
    let cfg = work.join("long.toml");
    std::fs::write(
        &cfg,
        SWEEP.replace(
            "seed = [0, 1, 2, 3]",
            "seed = { start = 0, stop = 1, step = 1e-300 }",
        ),
    )
    .expect("cfg");
    let out = work.join("long");
    let line = one_line_error(&run(sweep_cmd(&cfg, &out, &[])));
    assert!(
        line.ends_with(
            "grid axis seed: the range from 0 to 1 has 1.000e300 values; at most 100000"
        ),
        "{line}"
    );
    assert!(!out.exists());
}
