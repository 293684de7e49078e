//! A sweep over model kinds (sparse vs soft, via `[variants.model.*]`): the shipped configs
//! expand and train, the records of soft runs carry no bounds with the reason while the
//! sparse runs of the same sweep have them, and the report renders both kinds.

use crate::common;
use common::{records, smoe};

/// The shipped soft-vs-sparse sweep with a classification task (so sparse runs have bounds),
/// shrunk to run in about a second.
const MIXED: &str = r#"
name = "mixed"
description = "sparse and soft runs in one sweep"

[base.data]
d = 8
m_train = 400
m_test = 400

[base.train]
epochs = 3
batch_size = 64
eval_every = 0

[variants.model.sparse]
kind = "sparse"
experts = 4
k = 2
expert = { depth = 1, width = 8 }

[variants.model.soft]
kind = "soft"
experts = 4
tokens = 4
head = "linear"
expert = { depth = 1, width = 8 }

[grid]
model = ["sparse", "soft"]
seed = [0, 1]
"#;

#[test]
fn a_sweep_mixing_sparse_and_soft_runs_renders_its_report() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("sweep.toml");
    std::fs::write(&cfg, MIXED).expect("config");
    let out = dir.path().join("out");
    let o = smoe(&[
        "sweep",
        cfg.to_str().expect("utf8"),
        "--out",
        out.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let recs = records(&out);
    assert_eq!(recs.len(), 4);
    let mut kinds = (0, 0);
    for line in recs.values() {
        let r = &line["record"];
        match r["config"]["model"]["kind"].as_str() {
            Some("soft") => {
                kinds.1 += 1;
                assert!(r["bounds"].is_null(), "{r}");
                assert!(
                    r["bounds_note"]
                        .as_str()
                        .is_some_and(|n| n.contains("soft"))
                );
                assert!(r["final"]["test"]["combine_entropy"].as_f64().is_some());
            }
            Some("sparse") => {
                kinds.0 += 1;
                assert!(r["bounds"].is_object(), "sparse runs keep their bounds");
                assert!(r.get("bounds_note").is_none());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(kinds, (2, 2));
    let md = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(
        md.contains("- model: `sparse`") && md.contains("- model: `soft`"),
        "{md}"
    );
    assert!(md.contains("| sparse |") && md.contains("| soft |"), "{md}");
    assert!(md.contains("some runs have none"), "{md}");
}

#[test]
fn the_shipped_soft_configs_are_valid() {
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let text = std::fs::read_to_string(base.join("soft-vs-sparse.toml")).expect("sweep");
    let cfg = smoe_experiments::sweep::SweepConfig::parse(&text).expect("parse");
    let (cells, notes) = smoe_experiments::sweep::expand(&cfg, None).expect("expands");
    assert_eq!(cells.len(), 12);
    assert!(notes.is_empty());
    let soft = cells
        .iter()
        .filter(|c| c.config.model.kind() == "soft")
        .count();
    assert_eq!(soft, 6);
    // an unknown variant name is a clear error
    let bad = text.replace(
        "model = [\"sparse\", \"soft\"]",
        "model = [\"sparse\", \"dense\"]",
    );
    let cfg = smoe_experiments::sweep::SweepConfig::parse(&bad).expect("parse");
    let e = smoe_experiments::sweep::expand(&cfg, None).expect_err("dense");
    assert!(
        format!("{e:#}").contains("not one of its variants"),
        "{e:#}"
    );
    let text = std::fs::read_to_string(base.join("soft-default.toml")).expect("train");
    let t: smoe_train::TrainConfig = toml::from_str(&text).expect("train config");
    t.validate().expect("valid");
    assert_eq!(t.model.kind(), "soft");
    assert!(t.eval.subsets.is_some());
}
