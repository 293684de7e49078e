//! `smoe train` runs the committed full-batch config to the end: one record with every
//! restart, the winner the lowest final objective; a noisy gate under `[train.full_batch]` is
//! a one-line error.

use crate::common;
use common::smoe;
use std::path::Path;

use smoe_train::RunRecord;

fn config() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs/fit-full-batch.toml")
        .to_str()
        .expect("utf8")
        .to_string()
}

#[test]
fn the_full_batch_config_runs_to_the_end() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("r.jsonl");
    let cfg = config();
    let o = smoe(&[
        "train",
        "--quiet",
        "--config",
        &cfg,
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).expect("record");
    let rec: RunRecord = serde_json::from_str(text.trim()).expect("parses");
    let fb = rec.full_batch.as_ref().expect("full-batch record");
    assert_eq!(fb.restarts.len(), 4);
    assert_eq!(rec.epochs.len(), 4);
    let finals: Vec<f64> = fb
        .restarts
        .iter()
        .map(|r| r.final_objective.expect("finite"))
        .collect();
    let min = finals.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(fb.best_objective, Some(min));
    assert!((1..=4).contains(&fb.reached_best));
    let fin = rec.final_eval.as_ref().expect("final evaluation");
    // the squared loss without aux or decay: the objective is the training loss
    let train_loss = fin.train.get("loss").expect("loss");
    assert!(
        (train_loss - min).abs() <= 1e-9 * min,
        "{train_loss} vs {min}"
    );
    assert!(fin.train.get("r2").expect("r2") > 0.5);
    eprintln!(
        "full-batch config: finals {finals:?}, best {} reached {}, test mse {:?}",
        fb.best,
        fb.reached_best,
        fin.test.get("mse")
    );
}

#[test]
fn a_noisy_gate_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("r.jsonl");
    let cfg = config();
    let o = smoe(&[
        "train",
        "--quiet",
        "--config",
        &cfg,
        "--set",
        "model.gate.kind=noisy_topk",
        "--set",
        "model.k=2",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    let e = common::assert_one_line_error(&o, "noisy gate, full batch");
    assert!(e.contains("deterministic"), "{e}");
    assert!(!out.exists());
}
