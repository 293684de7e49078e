//! A checkpoint is read strictly and within bounds: an incomplete, unknown-versioned,
//! oversized, lying, truncated or non-finite checkpoint is a typed error with a one-line
//! message, never a default filled in, a panic or an allocation abort. Saving never
//! leaves a temporary file behind.

use std::path::{Path, PathBuf};

use serde_json::Value;
use smoe_experts::ExpertConfig;
use smoe_model::checkpoint::{self, MAX_HEADER_BYTES, MAX_JSON_BYTES, MAX_VALUES};
use smoe_model::{ModelError, SparseConfig, SparseMoe};

/// A saved model (T = 3, k = 1, d = 3, one hidden layer of 4) in its own folder.
struct Fixture {
    dir: PathBuf,
    path: PathBuf,
}

impl Fixture {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("smoe-strict-{tag}-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let path = dir.join("m.safetensors");
        let f = Self { dir, path };
        f.reset();
        f
    }

    fn cfg() -> SparseConfig {
        SparseConfig {
            experts: 3,
            k: 1,
            expert: ExpertConfig {
                depth: 1,
                width: 4,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// Writes the checkpoint afresh.
    fn reset(&self) {
        let model = SparseMoe::<f32>::new(&Self::cfg(), 3, 7).expect("model");
        model.save(&self.path).expect("save");
    }

    fn json_path(&self) -> PathBuf {
        checkpoint::config_path(&self.path)
    }

    fn json(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.json_path()).expect("json"))
            .expect("parses")
    }

    /// Rewrites the JSON config through `edit`.
    fn edit_json(&self, edit: impl FnOnce(&mut Value)) {
        self.reset();
        let mut v = self.json();
        edit(&mut v);
        std::fs::write(
            self.json_path(),
            serde_json::to_vec_pretty(&v).expect("ser"),
        )
        .expect("write");
    }

    fn tensor_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).expect("read")
    }

    /// The file's header (parsed) and the byte offset where the tensor data starts.
    fn header(&self) -> (Value, usize) {
        let b = self.tensor_bytes();
        let n = u64::from_le_bytes(b[..8].try_into().expect("8")) as usize;
        let h = serde_json::from_slice(&b[8..8 + n]).expect("header");
        (h, 8 + n)
    }

    /// Rewrites the tensor file with `header` (length recomputed) and the original data.
    fn write_header(&self, header: &Value) {
        let b = self.tensor_bytes();
        let (_, start) = self.header();
        let h = serde_json::to_vec(header).expect("ser");
        let mut out = (h.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&h);
        out.extend_from_slice(&b[start..]);
        std::fs::write(&self.path, out).expect("write");
    }

    /// Overwrites value `index` of tensor `name` (f32 or f64 per `width`) with `bytes`.
    fn poke(&self, name: &str, index: usize, bytes: &[u8]) {
        let (h, start) = self.header();
        let off = h[name]["data_offsets"][0].as_u64().expect("offset") as usize;
        let mut b = self.tensor_bytes();
        let at = start + off + index * bytes.len();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        std::fs::write(&self.path, b).expect("write");
    }

    /// Loads through both loaders; they must agree on the error, which must be one line
    /// naming the checkpoint.
    fn load_err(&self, what: &str) -> ModelError {
        let e = match SparseMoe::<f32>::load(&self.path) {
            Ok(_) => panic!("{what}: SparseMoe::load accepted it"),
            Err(e) => e,
        };
        let e2 = match checkpoint::load::<f64>(&self.path) {
            Ok(_) => panic!("{what}: checkpoint::load accepted it"),
            Err(e) => e,
        };
        let msg = e.to_string();
        assert!(!msg.contains('\n'), "{what}: not one line: {msg}");
        assert_eq!(msg, e2.to_string(), "{what}: the two loaders disagree");
        e
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn remove(v: &mut Value, dotted: &str) {
    let (parent, key) = match dotted.rsplit_once('.') {
        Some((p, k)) => (p.split('.').fold(&mut *v, |v, k| &mut v[k]), k),
        None => (&mut *v, dotted),
    };
    assert!(
        parent
            .as_object_mut()
            .expect("object")
            .remove(key)
            .is_some(),
        "no field {dotted}"
    );
}

fn set(v: &mut Value, dotted: &str, value: Value) {
    let target = dotted.split('.').fold(&mut *v, |v, k| &mut v[k]);
    *target = value;
}

#[test]
fn a_fresh_checkpoint_loads() {
    let f = Fixture::new("fresh");
    let m = SparseMoe::<f32>::load(&f.path).expect("loads");
    assert_eq!((m.input_dim(), m.seed()), (3, 7));
    assert_eq!(m.config(), &Fixture::cfg());
    assert_eq!(m.num_params(), 3 * 3 + 3 + 3 * (4 * 3 + 4 + 4 + 1));
}

#[test]
fn every_missing_field_is_named_and_no_default_is_filled_in() {
    let f = Fixture::new("missing");
    for field in [
        "format",
        "version",
        "dtype",
        "d",
        "seed",
        "model",
        "model.experts",
        "model.k",
        "model.router",
        "model.router.kind",
        "model.gate",
        "model.gate.kind",
        "model.expert",
        "model.expert.depth",
        "model.expert.width",
        "model.expert.activation",
        "model.expert.init",
        "model.capacity_factor",
    ] {
        f.edit_json(|v| remove(v, field));
        match f.load_err(field) {
            ModelError::CheckpointField {
                field: got,
                problem,
                ..
            } => {
                assert_eq!(got, field);
                assert!(problem.contains("missing"), "{field}: {problem}");
            }
            other => panic!("{field}: expected CheckpointField, got {other:?}"),
        }
    }
    // the model's tag is read by serde itself: still an error naming it
    f.edit_json(|v| remove(v, "model.kind"));
    let msg = f.load_err("model.kind").to_string();
    assert!(msg.contains("missing field `kind`"), "{msg}");
}

#[test]
fn unknown_fields_are_rejected_at_every_level() {
    let f = Fixture::new("unknown");
    f.edit_json(|v| set(v, "foo", Value::from(1)));
    match f.load_err("top-level foo") {
        ModelError::CheckpointField { field, problem, .. } => {
            assert_eq!(field, "foo");
            assert!(problem.contains("not a field"), "{problem}");
        }
        other => panic!("expected CheckpointField, got {other:?}"),
    }
    for field in ["model.foo", "model.expert.foo", "model.router.foo"] {
        f.edit_json(|v| set(v, field, Value::from(1)));
        let msg = f.load_err(field).to_string();
        assert!(msg.contains("unknown field `foo`"), "{field}: {msg}");
    }
    // a bare string where the checkpoint form is a table
    f.edit_json(|v| set(v, "model.router", Value::from("linear")));
    match f.load_err("bare router") {
        ModelError::CheckpointField { field, problem, .. } => {
            assert_eq!(field, "model.router");
            assert!(problem.contains("form"), "{problem}");
        }
        other => panic!("expected CheckpointField, got {other:?}"),
    }
}

#[test]
fn format_version_and_dtype_must_be_exact() {
    let f = Fixture::new("version");
    let cases: [(&str, Value, &str); 7] = [
        (
            "version",
            Value::from(99),
            "format version 99 (this smoe reads 2)",
        ),
        (
            "version",
            Value::from(1),
            "format version 1 (this smoe reads 2)",
        ),
        (
            "version",
            Value::from("2"),
            "format version \"2\" (this smoe reads 2)",
        ),
        (
            "dtype",
            Value::from("f16"),
            "dtype \"f16\" is not \"f32\" or \"f64\"",
        ),
        (
            "dtype",
            Value::from("F32"),
            "dtype \"F32\" is not \"f32\" or \"f64\"",
        ),
        (
            "dtype",
            Value::from(32),
            "dtype 32 is not \"f32\" or \"f64\"",
        ),
        (
            "format",
            Value::from("other"),
            "format is \"other\", not \"smoe-checkpoint\"",
        ),
    ];
    for (field, value, want) in cases {
        f.edit_json(|v| set(v, field, value.clone()));
        match f.load_err(field) {
            ModelError::Checkpoint { path, reason } => {
                assert_eq!(reason, want, "{field} = {value}");
                assert!(path.ends_with("m.json"), "{path}");
            }
            other => panic!("{field} = {value}: expected Checkpoint, got {other:?}"),
        }
    }
    // the declared dtype must be every tensor's
    f.edit_json(|v| set(v, "dtype", Value::from("f64")));
    match f.load_err("dtype f64 on f32 tensors") {
        ModelError::TensorDtype {
            name,
            dtype,
            expected,
            ..
        } => assert_eq!(
            (name.as_str(), dtype.as_str(), expected.as_str()),
            ("router.weight", "F32", "F64")
        ),
        other => panic!("expected TensorDtype, got {other:?}"),
    }
}

/// Each of these would allocate petabytes if it reached the model's constructor; passing
/// at all shows it did not (an allocation failure aborts the test process).
#[test]
fn huge_or_lying_dimensions_are_refused_before_anything_is_allocated() {
    let f = Fixture::new("huge");
    let big = 1_000_000_000_000_000_u64;
    let shape = |field: &str, value: Value, name: &str, expected: Vec<usize>, got: Vec<usize>| {
        f.edit_json(|v| set(v, field, value.clone()));
        match f.load_err(field) {
            ModelError::TensorShape {
                name: n,
                expected: e,
                got: g,
                ..
            } => assert_eq!(
                (n.as_str(), e, g),
                (name, expected, got),
                "{field} = {value}"
            ),
            other => panic!("{field} = {value}: expected TensorShape, got {other:?}"),
        }
    };
    // sizes over the parameter cap are refused by the config's own check, before the
    // tensors are even compared
    let too_large = |field: &str, value: Value| {
        f.edit_json(|v| set(v, field, value.clone()));
        match f.load_err(field) {
            ModelError::TooLarge(t) => {
                assert_eq!(t.max, smoe_nn::MAX_ELEMENTS, "{field} = {value}");
                assert!(
                    t.elements.is_none_or(|n| n > smoe_nn::MAX_ELEMENTS as u128),
                    "{field} = {value}: {t:?}"
                );
            }
            other => panic!("{field} = {value}: expected TooLarge, got {other:?}"),
        }
    };
    too_large("d", Value::from(big));
    too_large("d", Value::from(u64::MAX));
    too_large("model.experts", Value::from(1_000_000_000_000_u64));
    too_large("model.expert.width", Value::from(big));
    too_large("model.expert.depth", Value::from(1_000_000_000_000_u64));
    too_large(
        "model.router",
        serde_json::json!({"kind": "mlp", "hidden": big}),
    );
    // sizes within the cap that disagree with the file: the first tensor that differs
    shape("d", Value::from(5), "router.weight", vec![3, 5], vec![3, 3]);
    shape(
        "model.experts",
        Value::from(4),
        "router.weight",
        vec![4, 3],
        vec![3, 3],
    );
    shape(
        "model.expert.width",
        Value::from(7),
        "experts.0.layers.0.weight",
        vec![7, 3],
        vec![4, 3],
    );
    shape(
        "model.expert.depth",
        Value::from(3),
        "experts.0.layers.1.weight",
        vec![4, 4],
        vec![1, 4],
    );
    // an MLP router: its first tensor is not in the file
    f.edit_json(|v| {
        set(
            v,
            "model.router",
            serde_json::json!({"kind": "mlp", "hidden": 5}),
        )
    });
    match f.load_err("mlp hidden") {
        ModelError::MissingTensor { name, .. } => assert_eq!(name, "router.layers.0.weight"),
        other => panic!("expected MissingTensor, got {other:?}"),
    }
    // the noisy gate's weight [T, d] is not in the file
    f.edit_json(|v| set(v, "model.gate", serde_json::json!({"kind": "noisy_topk"})));
    match f.load_err("noisy gate") {
        ModelError::MissingTensor { name, .. } => assert_eq!(name, "gate.noise.weight"),
        other => panic!("expected MissingTensor, got {other:?}"),
    }
    // fewer experts than the file holds
    f.edit_json(|v| {
        set(v, "model.experts", Value::from(2));
    });
    match f.load_err("T = 2 of 3") {
        ModelError::TensorShape { name, .. } => assert_eq!(name, "router.weight"),
        other => panic!("expected TensorShape, got {other:?}"),
    }
    f.edit_json(|v| set(v, "model.k", Value::from(big)));
    assert!(matches!(
        f.load_err("k"),
        ModelError::InvalidTopK { k, experts: 3 } if k as u64 == big
    ));
    f.edit_json(|v| set(v, "d", Value::from(0)));
    assert!(matches!(
        f.load_err("d = 0"),
        ModelError::InvalidConfig { field: "d", .. }
    ));
    f.edit_json(|v| set(v, "d", Value::from(1e15)));
    let msg = f.load_err("d as a float").to_string();
    assert!(
        msg.contains("invalid config") && msg.contains("floating point"),
        "{msg}"
    );
}

#[test]
fn a_json_config_over_the_cap_is_not_read() {
    let f = Fixture::new("bigjson");
    // a sparse file: its size is checked before a byte is read
    let file = std::fs::File::options()
        .write(true)
        .open(f.json_path())
        .expect("open");
    file.set_len(MAX_JSON_BYTES + 1).expect("grow");
    match f.load_err("17 MiB JSON") {
        ModelError::CheckpointTooLarge { size, limit, .. } => {
            assert_eq!((size, limit), (MAX_JSON_BYTES + 1, 16 << 20));
        }
        other => panic!("expected CheckpointTooLarge, got {other:?}"),
    }
}

#[test]
fn a_safetensors_file_that_disagrees_with_its_header_is_refused() {
    let f = Fixture::new("header");
    let good = f.tensor_bytes();
    let len = good.len() as u64;
    let size_err = |what: &str, expected: u64, actual: u64| match f.load_err(what) {
        ModelError::CheckpointFileSize {
            expected: e,
            actual: a,
            ..
        } => assert_eq!((e, a), (expected, actual), "{what}"),
        other => panic!("{what}: expected CheckpointFileSize, got {other:?}"),
    };

    std::fs::write(&f.path, &good[..good.len() - 3]).expect("write");
    size_err("truncated by 3 bytes", len, len - 3);

    let mut padded = good.clone();
    padded.extend_from_slice(&[0; 5]);
    std::fs::write(&f.path, &padded).expect("write");
    size_err("padded by 5 bytes", len, len + 5);

    // a header length beyond the file
    let mut long = good.clone();
    long[..8].copy_from_slice(&len.to_le_bytes());
    std::fs::write(&f.path, &long).expect("write");
    size_err("header length = file length", 8 + len, len);

    // a header length beyond any header
    let mut huge = good.clone();
    huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    std::fs::write(&f.path, &huge).expect("write");
    match f.load_err("header length u64::MAX") {
        ModelError::CheckpointTooLarge { size, limit, .. } => {
            assert_eq!((size, limit), (u64::MAX, MAX_HEADER_BYTES));
        }
        other => panic!("expected CheckpointTooLarge, got {other:?}"),
    }

    std::fs::write(&f.path, b"12345").expect("write");
    match f.load_err("5 bytes") {
        ModelError::Checkpoint { reason, .. } => assert_eq!(
            reason,
            "the file has 5 bytes, too short for a safetensors header"
        ),
        other => panic!("expected Checkpoint, got {other:?}"),
    }

    // a shape that does not fit its byte range
    f.reset();
    let (mut h, _) = f.header();
    h["router.weight"]["shape"] = serde_json::json!([1_000_000_000_000_000_u64, 3]);
    f.write_header(&h);
    match f.load_err("shape lies") {
        ModelError::Checkpoint { reason, .. } => {
            assert!(
                reason.starts_with("malformed safetensors header"),
                "{reason}"
            )
        }
        other => panic!("expected Checkpoint, got {other:?}"),
    }

    // the last tensor (by offset) claims 2^31 values: shape and offsets agree, the file is
    // far too short, and the count is over the cap before the file size is even compared
    f.reset();
    let (mut h, _) = f.header();
    let last = last_tensor(&h);
    let start = h[&last]["data_offsets"][0].as_u64().expect("start");
    h[&last]["shape"] = serde_json::json!([1_u64 << 31]);
    h[&last]["data_offsets"] = serde_json::json!([start, start + (4_u64 << 31)]);
    f.write_header(&h);
    match f.load_err("2^31 values") {
        ModelError::CheckpointTooLarge { size, limit, .. } => {
            assert!(size > MAX_VALUES, "{size}");
            assert_eq!(limit, smoe_nn::MAX_ELEMENTS as u64);
        }
        other => panic!("expected CheckpointTooLarge, got {other:?}"),
    }

    // the same, with 4 more values than the file holds
    f.reset();
    let (mut h, data_start) = f.header();
    let last = last_tensor(&h);
    let start = h[&last]["data_offsets"][0].as_u64().expect("start");
    let end = h[&last]["data_offsets"][1].as_u64().expect("end");
    let count = (end - start) / 4 + 4;
    h[&last]["shape"] = serde_json::json!([count]);
    h[&last]["data_offsets"] = serde_json::json!([start, start + 4 * count]);
    f.write_header(&h);
    let (_, new_start) = f.header();
    let on_disk = std::fs::metadata(&f.path).expect("meta").len();
    assert_eq!(on_disk, len - data_start as u64 + new_start as u64);
    size_err("4 values short", on_disk + 16, on_disk);
}

/// The name of the tensor whose data comes last in the file.
fn last_tensor(h: &Value) -> String {
    h.as_object()
        .expect("object")
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .max_by_key(|(_, v)| v["data_offsets"][1].as_u64().expect("end"))
        .map(|(k, _)| k.clone())
        .expect("a tensor")
}

#[test]
fn non_finite_weights_are_refused_naming_the_tensor() {
    let f = Fixture::new("nan");
    let cases: [(&str, usize, f32); 3] = [
        ("experts.1.layers.0.weight", 2, f32::NAN),
        ("router.bias", 0, f32::INFINITY),
        ("experts.2.layers.1.bias", 0, f32::NEG_INFINITY),
    ];
    for (name, index, value) in cases {
        f.reset();
        f.poke(name, index, &value.to_le_bytes());
        match f.load_err(name) {
            ModelError::NonFiniteParam {
                name: n,
                index: i,
                value: v,
                ..
            } => {
                assert_eq!((n.as_str(), i), (name, index));
                assert_eq!(v.is_nan(), value.is_nan());
                if !value.is_nan() {
                    assert_eq!(v, f64::from(value));
                }
            }
            other => panic!("{name}: expected NonFiniteParam, got {other:?}"),
        }
    }
    let msg = {
        f.reset();
        f.poke("experts.1.layers.0.weight", 2, &f32::NAN.to_le_bytes());
        f.load_err("message").to_string()
    };
    assert!(
        msg.ends_with("tensor experts.1.layers.0.weight has a non-finite value NaN at index 2"),
        "{msg}"
    );
}

#[test]
fn an_f64_value_too_large_for_f32_is_refused_when_loaded_as_f32() {
    let dir = std::env::temp_dir().join(format!("smoe-strict-f64-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let path = dir.join("m.safetensors");
    let mut model = SparseMoe::<f64>::new(&Fixture::cfg(), 3, 1).expect("model");
    model.params_mut()[1].value[2] = 1e300;
    model.save(&path).expect("save");
    assert!(SparseMoe::<f64>::load(&path).is_ok());
    match SparseMoe::<f32>::load(&path) {
        Err(ModelError::NonFiniteParam {
            name, index, value, ..
        }) => assert_eq!(
            (name.as_str(), index, value),
            ("router.bias", 2, f64::INFINITY)
        ),
        other => panic!("expected NonFiniteParam, got {other:?}"),
    }
    std::fs::remove_dir_all(dir).ok();
}

/// The names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn saving_refuses_a_json_name_and_leaves_no_temporary_file() {
    let f = Fixture::new("save");
    let model = SparseMoe::<f32>::new(&Fixture::cfg(), 3, 7).expect("model");
    let before = entries(&f.dir);
    assert_eq!(before, ["m.json", "m.safetensors"]);

    // a .json checkpoint would be overwritten by its own config
    match model.save(&f.dir.join("x.json")) {
        Err(ModelError::Checkpoint { reason, .. }) => {
            assert!(reason.contains("*.json"), "{reason}")
        }
        other => panic!("expected Checkpoint, got {other:?}"),
    }
    assert_eq!(entries(&f.dir), before);

    // a folder that is a file: nothing is written
    let blocker = f.dir.join("file");
    std::fs::write(&blocker, b"x").expect("write");
    assert!(matches!(
        model.save(&blocker.join("m.safetensors")),
        Err(ModelError::Checkpoint { .. })
    ));
    assert_eq!(entries(&f.dir), ["file", "m.json", "m.safetensors"]);

    // the config's name is taken by a folder: the rename fails, the temporary files go
    let sub = f.dir.join("sub");
    std::fs::create_dir_all(sub.join("n.json")).expect("mkdir");
    let e = model
        .save(&sub.join("n.safetensors"))
        .expect_err("cannot rename");
    assert!(e.to_string().contains("n.json"), "{e}");
    let left = entries(&sub);
    assert!(left.iter().all(|n| !n.ends_with(".tmp")), "{left:?}");
    assert!(left.contains(&"n.json".to_string()), "{left:?}");
}
