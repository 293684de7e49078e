//! Fuzz-style property tests of every reader of user input: arbitrary bytes and arbitrary TOML
//! to the run- and sweep-config readers, arbitrary and mutated bytes to the `.npy` reader,
//! mutated checkpoints (JSON and safetensors) to the checkpoint reader. The property: no panic
//! (and no abort — an aborted allocation would kill the test binary). Errors are fine.
//!
//! The default run uses a few hundred cases per reader; the documented long run is
//!
//! ```text
//! SMOE_FUZZ_CASES=100000 cargo test -p smoe-experiments --test all fuzz_readers::
//! ```

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Cases per property: `SMOE_FUZZ_CASES`, default 256.
fn cases() -> u32 {
    std::env::var("SMOE_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Words configs are made of: every section and field name, every kind, and some others.
const WORDS: &[&str] = &[
    "seed",
    "data",
    "model",
    "loss",
    "train",
    "aux",
    "eval",
    "kind",
    "d",
    "m_train",
    "m_test",
    "task",
    "clusters",
    "noise",
    "experts",
    "k",
    "width",
    "support",
    "components",
    "separation",
    "router",
    "gate",
    "expert",
    "depth",
    "activation",
    "init",
    "hidden",
    "capacity_factor",
    "epochs",
    "batch_size",
    "optimizer",
    "lr",
    "momentum",
    "beta1",
    "beta2",
    "weight_decay",
    "schedule",
    "warmup_epochs",
    "clip_norm",
    "eval_every",
    "balance",
    "z_loss",
    "importance",
    "gamma",
    "delta",
    "bounds",
    "mc_draws",
    "x",
    "y",
    "test_x",
    "test_y",
    "test_fraction",
    "targets",
    "path",
    "label",
    "test",
    "name",
    "description",
    "base",
    "grid",
    "start",
    "stop",
    "step",
    "factor",
    "synthetic",
    "npy",
    "csv",
    "given",
    "sparse",
    "linear",
    "mlp",
    "topk_softmax",
    "softmax_topk",
    "dense_softmax",
    "noisy_topk",
    "custom",
    "logistic",
    "squared",
    "relu",
    "prelu",
    "none",
    "pytorch_uniform",
    "kaiming_normal",
    "adam",
    "adamw",
    "sgd",
    "constant",
    "cosine",
    "labels",
    "real",
    "mixture-of-linear",
    "teacher-moe",
    "l2-norm",
    "norm-regression",
    "sparse-parity",
    "gaussian-mixture",
    "softmax-gated-regression",
    "l2-norm-regression",
    "sigmoid",
    "fresh_batches",
    "model.k",
    "model.experts",
    "data.d",
    "train.epochs",
    "",
    "ü",
    "a.b",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(WORDS).prop_map(str::to_string),
        1 => "[a-z_.]{0,12}",
    ]
}

fn scalar() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        proptest::sample::select(vec![
            0i64,
            1,
            2,
            -1,
            1 << 40,
            i64::MAX,
            i64::MIN,
            4_294_967_296,
            268_435_457
        ])
        .prop_map(toml::Value::Integer),
        any::<i64>().prop_map(toml::Value::Integer),
        proptest::sample::select(vec![
            0.0,
            0.5,
            -0.5,
            1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e308,
            1e-308,
            f64::MIN_POSITIVE
        ])
        .prop_map(toml::Value::Float),
        any::<f64>().prop_map(toml::Value::Float),
        any::<bool>().prop_map(toml::Value::Boolean),
        word().prop_map(toml::Value::String),
    ]
}

/// Arbitrary TOML values, tables keyed by config words.
fn toml_value() -> impl Strategy<Value = toml::Value> {
    scalar().prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(toml::Value::Array),
            proptest::collection::btree_map(word(), inner, 0..8)
                .prop_map(|m| toml::Value::Table(m.into_iter().collect())),
        ]
    })
}

fn toml_table() -> impl Strategy<Value = toml::Table> {
    proptest::collection::btree_map(word(), toml_value(), 0..8)
        .prop_map(|m| m.into_iter().collect())
}

/// Reads `text` as a run config (with validation) and as a sweep config (with expansion).
fn read_configs(dir: &Path, text: &[u8]) {
    let path = dir.join("c.toml");
    std::fs::write(&path, text).expect("write");
    if let Ok(cfg) = smoe_experiments::config_io::load::<smoe_train::TrainConfig>(Some(&path), &[])
    {
        let _ = cfg.validate();
    }
    if let Ok(s) = std::str::from_utf8(text)
        && let Ok(sweep) = smoe_experiments::sweep::SweepConfig::parse(s)
    {
        // expansion resolves every cell (no training); bounded by the grid cap
        let _ = smoe_experiments::sweep::expand(&sweep, Some(dir));
    }
}

#[test]
fn config_readers_never_panic_on_arbitrary_toml() {
    let dir = tempfile::tempdir().expect("tmp");
    runner()
        .run(&toml_table(), |t| {
            let text = toml::to_string(&t).unwrap_or_default();
            read_configs(dir.path(), text.as_bytes());
            // the same as --set overrides, one per top-level key
            let sets: Vec<String> = t.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if let Ok(cfg) =
                smoe_experiments::config_io::load::<smoe_train::TrainConfig>(None, &sets)
            {
                let _ = cfg.validate();
            }
            Ok(())
        })
        .expect("no panic");
}

#[test]
fn config_readers_never_panic_on_arbitrary_bytes() {
    let dir = tempfile::tempdir().expect("tmp");
    runner()
        .run(&proptest::collection::vec(any::<u8>(), 0..512), |bytes| {
            read_configs(dir.path(), &bytes);
            Ok(())
        })
        .expect("no panic");
}

/// A valid `[4, 3]` `.npy` file of every dtype the reader takes.
fn valid_npys() -> Vec<Vec<u8>> {
    let a = ndarray::Array2::<f64>::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f64);
    vec![
        smoe_tasks::npy::encode_array2(&a),
        smoe_tasks::npy::encode_array2(&a.mapv(|v| v as f32)),
        smoe_tasks::npy::encode_array2_i64(&a.mapv(|v| v as i64)),
        smoe_tasks::npy::encode_array1(&a.column(0).to_owned()),
    ]
}

/// A mutation of `bytes`: flip, set or insert bytes, truncate, or rewrite the header text.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Header(String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        "\\{'descr': '(<f8|<f4|<i8|\\|b1|<c16|>f8|<u8|\\|O)', 'fortran_order': (False|True), 'shape': \\(([0-9]{1,20}, ?){0,3}[0-9]{0,20}\\), \\}"
            .prop_map(Mutation::Header),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    match m {
        Mutation::Set(i, b) if !bytes.is_empty() => {
            let n = bytes.len();
            bytes[i % n] = *b;
        }
        Mutation::Truncate(i) => bytes.truncate(i % (bytes.len() + 1)),
        Mutation::Insert(i, b) => {
            let at = i % (bytes.len() + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        Mutation::Header(h) if bytes.len() >= 10 => {
            // replace the header dict, keeping the payload, with a consistent length field
            let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
            let payload = bytes.get(10 + len..).unwrap_or(&[]).to_vec();
            let mut header = h.clone();
            header.push('\n');
            let mut out = bytes[..8].to_vec();
            out.extend_from_slice(&(header.len() as u16).to_le_bytes());
            out.extend_from_slice(header.as_bytes());
            out.extend_from_slice(&payload);
            *bytes = out;
        }
        _ => {}
    }
}

#[test]
fn npy_reader_never_panics() {
    let valid = valid_npys();
    let strategy = (
        0..valid.len(),
        proptest::collection::vec(mutation(), 0..4),
        proptest::collection::vec(any::<u8>(), 0..64),
        any::<bool>(),
    );
    runner()
        .run(&strategy, |(which, muts, raw, use_raw)| {
            let mut bytes = if use_raw { raw } else { valid[which].clone() };
            for m in &muts {
                apply(&mut bytes, m);
            }
            let _ = smoe_tasks::npy::decode_array2_f64(&bytes, "fuzz.npy");
            let _ = smoe_tasks::npy::decode_array1_f64(&bytes, "fuzz.npy");
            Ok(())
        })
        .expect("no panic");
}

/// Random JSON values for checkpoint fields.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        proptest::sample::select(vec![0i64, 1, 2, -1, 1 << 40, i64::MAX, 99])
            .prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        word().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(word(), inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every dotted path of a JSON object's values.
fn json_paths(v: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    if let serde_json::Value::Object(m) = v {
        for (k, x) in m {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.push(p.clone());
            json_paths(x, &p, out);
        }
    }
}

fn set_path(v: &mut serde_json::Value, path: &str, x: serde_json::Value) {
    let mut cur = v;
    let parts: Vec<&str> = path.split('.').collect();
    for p in &parts[..parts.len() - 1] {
        match cur.get_mut(*p) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Some(m) = cur.as_object_mut() {
        m.insert(parts[parts.len() - 1].to_string(), x);
    }
}

#[test]
fn checkpoint_reader_never_panics() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("m.safetensors");
    let mut saved = Vec::new();
    for cfg in smoe_model::ModelConfig::examples().into_iter().step_by(5) {
        let model = smoe_model::build_model::<f32>(&cfg, 3, 0).expect("build");
        smoe_model::checkpoint::save(model.as_ref(), &path).expect("save");
        let json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(smoe_model::checkpoint::config_path(&path)).expect("json"),
        )
        .expect("json");
        saved.push((json, std::fs::read(&path).expect("tensors")));
    }
    let strategy = (
        0..saved.len(),
        proptest::collection::vec((any::<prop::sample::Index>(), json_value()), 0..3),
        proptest::collection::vec(mutation(), 0..3),
        proptest::option::of(any::<u64>()),
    );
    runner()
        .run(&strategy, |(which, edits, muts, header_len)| {
            let (json, tensors) = &saved[which];
            let mut json = json.clone();
            for (at, value) in edits {
                let mut paths = Vec::new();
                json_paths(&json, "", &mut paths);
                if !paths.is_empty() {
                    set_path(&mut json, &paths[at.index(paths.len())], value);
                }
            }
            let mut bytes = tensors.clone();
            for m in &muts {
                apply(&mut bytes, m);
            }
            if let Some(n) = header_len
                && bytes.len() >= 8
            {
                bytes[..8].copy_from_slice(&n.to_le_bytes());
            }
            std::fs::write(smoe_model::checkpoint::config_path(&path), json.to_string())
                .expect("write");
            std::fs::write(&path, &bytes).expect("write");
            let _ = smoe_model::checkpoint::load::<f64>(&path);
            let _ = smoe_model::checkpoint::load::<f32>(&path);
            Ok(())
        })
        .expect("no panic");
}
