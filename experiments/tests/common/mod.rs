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

/// Checks that `o` is a refusal: exit code 2, exactly one stderr line starting
/// `smoe: error: `, nothing that betrays a panic or an aborted allocation. Returns stderr.
pub fn assert_one_line_error(o: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{what}: exit code; stderr {stderr}"
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{what}: not one line: {stderr:?}"
    );
    assert!(stderr.starts_with("smoe: error: "), "{what}: {stderr}");
    for bad in ["panicked", "memory allocation", "capacity overflow"] {
        assert!(!stderr.contains(bad), "{what}: {stderr}");
    }
    stderr
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
            fresh: false,
            shard: None,
            quiet: true,
            base_dir: None,
        },
    )
    .expect("sweep")
}

/// A small seeded generator (SplitMix64, Box–Muller normals), so test data need no extra
/// dependency.
pub struct Gen(pub u64);

impl Gen {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    /// Standard normal.
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}
