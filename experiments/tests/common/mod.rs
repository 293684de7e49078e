//! Helpers shared by the runner's integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

pub mod compare;

use serde_json::Value;

/// Runs the `smoe` binary with `args`.
pub fn smoe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smoe"))
        .args(args)
        .output()
        .expect("run smoe")
}

/// The sweep records of `dir/runs.jsonl`, key → line with the record's timings removed.
pub fn records(dir: &Path) -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(dir.join("runs.jsonl")).expect("runs.jsonl");
    text.lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("json line");
            if let Some(r) = v.get_mut("record").and_then(Value::as_object_mut) {
                r.remove("timings");
            }
            (v["key"].as_str().expect("key").to_string(), v)
        })
        .collect()
}

/// Runs the sweep config `text` into `out` through the library (2 jobs, quiet, no shard).
pub fn run_sweep_text(text: &str, out: &Path) -> smoe_experiments::sweep::SweepOutcome {
    let cfg = smoe_experiments::sweep::SweepConfig::parse(text).expect("sweep config");
    smoe_experiments::sweep::run_sweep(
        &cfg,
        text,
        &smoe_experiments::sweep::SweepOptions {
            out: out.to_path_buf(),
            jobs: 2,
            resume: false,
            shard: None,
            quiet: true,
            base_dir: None,
        },
    )
    .expect("sweep")
}
