//! `smoe sweep` as a Slurm job array against a live Slurm — ignored by default; `.ci/run`
//! runs it through `../shared/slurm-local.sh`, which brings up a single-node cluster:
//!
//! ```sh
//! bash ../shared/slurm-local.sh cargo test --workspace --test slurm -- --ignored
//! ```
//!
//! It types the README's three commands (`smoe sweep --print-sbatch`, `sbatch` of the array,
//! `sbatch --dependency=afterok` of the merge and report) and checks that the merged records
//! equal those of the same sweep run locally in one process (timings aside); then it cancels
//! one array task mid-run, resubmits the same script, and checks the records again.

mod common;

use common::records;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const SWEEP: &str = r#"
name = "slurm-test"
description = "A small grid for the live-Slurm test."

[base.data]
d = 8
m_train = 4000
m_test = 1000

[base.model.expert]
depth = 1
width = 32

[base.train]
epochs = 60
batch_size = 64
eval_every = 0

[grid]
"model.k" = [1, 2]
"model.experts" = [4, 8]
seed = [0, 1, 2, 3]
"#;

const SHARDS: usize = 4;

fn smoe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_smoe"))
}

/// Runs `cmd`, asserts success, returns stdout.
fn ok(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// `sbatch --parsable ARGS...` → the job id.
fn sbatch(args: &[&str]) -> String {
    let out = ok(Command::new("sbatch").arg("--parsable").args(args));
    out.trim().split(';').next().unwrap_or_default().to_string()
}

/// Waits until none of `jobs` is queued or running.
fn wait_gone(jobs: &[&str], limit: Duration) {
    let start = Instant::now();
    loop {
        let o = Command::new("squeue")
            .args(["-h", "-j", &jobs.join(",")])
            .output()
            .expect("squeue");
        if String::from_utf8_lossy(&o.stdout).trim().is_empty() {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "jobs {jobs:?} still queued after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn lines_in(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

/// The README's first command: the job-array script, written to `script`.
fn print_sbatch(cfg: &Path, out: &Path, script: &Path) {
    let text = ok(Command::new(smoe()).args([
        "sweep",
        cfg.to_str().expect("utf8"),
        "--print-sbatch",
        "--shards",
        &SHARDS.to_string(),
        "--out",
        out.to_str().expect("utf8"),
    ]));
    assert!(text.starts_with("#!/bin/bash"));
    std::fs::write(script, text).expect("script");
}

fn merge_job(array: &str, out: &Path) -> String {
    let cmd = smoe_experiments::slurm::merge_command(&smoe(), out);
    sbatch(&[&format!("--dependency=afterok:{array}"), "--wrap", &cmd])
}

#[test]
#[ignore = "needs a live Slurm: run through ../shared/slurm-local.sh (see .ci/run)"]
fn sweep_as_a_job_array_equals_a_local_sweep() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let cfg = dir.join("sweep.toml");
    std::fs::write(&cfg, SWEEP).expect("config");
    let local = dir.join("local");
    ok(Command::new(smoe()).args([
        "sweep",
        cfg.to_str().expect("utf8"),
        "--out",
        local.to_str().expect("utf8"),
        "--jobs",
        "1",
        "--quiet",
        "--no-report",
    ]));
    let want = records(&local);
    assert_eq!(want.len(), 16);

    // 1. a clean run: the README's three commands
    let out = dir.join("array");
    let script = dir.join("array.sbatch");
    print_sbatch(&cfg, &out, &script);
    let jid = sbatch(&[script.to_str().expect("utf8")]);
    let mjid = merge_job(&jid, &out);
    wait_gone(&[&jid, &mjid], Duration::from_secs(600));
    assert_eq!(
        records(&out),
        want,
        "merged array records differ from the local sweep"
    );
    assert!(
        out.join("report.md").exists(),
        "the follow-up job wrote no report"
    );
    for i in 1..=SHARDS {
        assert!(
            lines_in(&out.join(format!("shard-{i}/runs.jsonl"))) > 0,
            "shard {i} is empty"
        );
    }

    // 2. one task cancelled mid-run, then the same script resubmitted
    let out = dir.join("killed");
    let script = dir.join("killed.sbatch");
    print_sbatch(&cfg, &out, &script);
    let jid = sbatch(&[script.to_str().expect("utf8")]);
    let shard2 = out.join("shard-2/runs.jsonl");
    let start = Instant::now();
    while lines_in(&shard2) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "task 2 never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    ok(Command::new("scancel").arg(format!("{jid}_2")));
    wait_gone(&[&jid], Duration::from_secs(600));
    let partial = lines_in(&shard2);
    assert!(
        (1..SHARDS).contains(&partial),
        "task 2 was not cut mid-run ({partial} of 4 runs)"
    );
    let jid = sbatch(&[script.to_str().expect("utf8")]);
    let mjid = merge_job(&jid, &out);
    wait_gone(&[&jid, &mjid], Duration::from_secs(600));
    assert_eq!(lines_in(&shard2), 4, "resubmission did not finish shard 2");
    assert_eq!(
        records(&out),
        want,
        "records after kill + resubmit differ from the local sweep"
    );
}
