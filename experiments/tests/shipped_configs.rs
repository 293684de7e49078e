//! Every config shipped in `experiments/configs/` works: each run config trains to the end
//! (shortened by overrides: fewer samples and epochs or iterations), and each sweep config
//! expands to its cells without an error. A config added to the folder is tested here without
//! editing this file.

use std::path::{Path, PathBuf};

use smoe_experiments::sweep::{SweepConfig, expand};
use smoe_train::{RunStatus, TrainConfig, train};

fn configs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("configs folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    out.sort();
    out
}

fn is_sweep(text: &str) -> bool {
    let table: toml::Table = toml::from_str(text).expect("TOML");
    table.contains_key("grid")
}

#[test]
fn every_run_config_trains_to_the_end() {
    let mut runs = 0;
    for path in configs() {
        let text = std::fs::read_to_string(&path).expect("read");
        if is_sweep(&text) {
            continue;
        }
        let full: TrainConfig = smoe_experiments::config_io::load(Some(&path), &[]).expect("loads");
        let mut sets = vec![
            "data.m_train=240".to_string(),
            "data.m_test=120".to_string(),
            "train.epochs=2".to_string(),
            "eval.mc_draws=10".to_string(),
        ];
        if full.train.batch_size > 120 {
            sets.push("train.batch_size=60".into());
        }
        if full.certify.is_some() {
            sets.push("certify.steps=50".into());
            sets.push("certify.samples=10".into());
            sets.push("certify.test_samples=2".into());
        }
        if full.train.full_batch.is_some() {
            sets.push("train.full_batch.max_iters=20".into());
            sets.push("train.full_batch.restarts=2".into());
        }
        let cfg: TrainConfig =
            smoe_experiments::config_io::load(Some(&path), &sets).expect("loads with overrides");
        let rec = train(&cfg, &mut |_| {})
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .record;
        assert_eq!(rec.status, RunStatus::Ok, "{}", path.display());
        if let Some(c) = &rec.certificate {
            assert!(
                c.bound > 0.0 && c.bound <= 1.0,
                "{}: {}",
                path.display(),
                c.bound
            );
        }
        let fin = rec.final_eval.as_ref().expect("final evaluation");
        assert!(
            fin.test
                .metrics
                .values()
                .all(|v| v.is_none_or(f64::is_finite))
                && fin.test.metrics.values().any(Option::is_some),
            "{}: {:?}",
            path.display(),
            fin.test.metrics
        );
        runs += 1;
    }
    // train-default, train-regression, fit-full-batch, the gate, router, soft and regression
    // configs of issue 11
    assert!(runs >= 11, "{runs} run configs");
}

#[test]
fn every_sweep_config_expands() {
    let mut sweeps = 0;
    for path in configs() {
        let text = std::fs::read_to_string(&path).expect("read");
        if !is_sweep(&text) {
            continue;
        }
        let cfg = SweepConfig::parse(&text).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
        let (cells, _skipped) =
            expand(&cfg, None).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
        assert!(!cells.is_empty(), "{}", path.display());
        if path.ends_with("sweep-gates.toml") {
            let mut kinds: Vec<&str> = cells
                .iter()
                .filter_map(|c| c.config.model.as_sparse().map(|s| s.gate.kind()))
                .collect();
            kinds.sort_unstable();
            kinds.dedup();
            assert_eq!(
                kinds,
                [
                    "dense_softmax",
                    "dense_to_sparse",
                    "hierarchical_softmax",
                    "sigmoid",
                    "softmax_topk",
                    "topk_softmax"
                ]
            );
        }
        sweeps += 1;
    }
    assert!(sweeps >= 5, "{sweeps} sweep configs");
}
