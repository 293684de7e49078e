//! Save → load round trip (bit-exact, for every model of the catalogue and both float types)
//! and the errors of a bad checkpoint.

use crate::common;
use std::path::{Path, PathBuf};

use common::{describe_model, normal, rng};
use smoe_experts::ExpertConfig;
use smoe_gating::GateConfig;
use smoe_model::checkpoint::{self, CheckpointMeta};
use smoe_model::{ModelConfig, ModelError, SparseConfig, SparseMoe, build_model};
use smoe_nn::{ActivationKind, Float, ParamRef};
use smoe_router::RouterConfig;

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("smoe-ckpt-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

const D: usize = 6;

fn cfg() -> SparseConfig {
    SparseConfig {
        experts: 5,
        k: 2,
        router: RouterConfig::Mlp { hidden: 7 },
        gate: GateConfig::NoisyTopk,
        expert: ExpertConfig {
            depth: 2,
            width: 8,
            activation: ActivationKind::Prelu,
            ..Default::default()
        },
        capacity_factor: None,
    }
}

/// Perturbs every parameter so the round trip is not of the initial weights.
fn perturb<F: Float>(params: Vec<smoe_nn::ParamMut<'_, F>>) {
    for p in params {
        for (i, v) in p.value.iter_mut().enumerate() {
            *v += F::from_f64c(0.001 * (i as f64 + 1.0).sin());
        }
    }
}

fn trained(cfg: &SparseConfig) -> SparseMoe<f32> {
    let mut m = SparseMoe::<f32>::new(cfg, D, 11).expect("model");
    perturb(m.params_mut());
    m
}

/// The same bits (f32 → f64 is exact, so comparing as f64 bits is bit-exact for both).
fn same_bits<F: Float>(a: &[F], b: &[F]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_f64c().to_bits() == y.to_f64c().to_bits())
}

fn assert_same_params<F: Float>(a: &[ParamRef<'_, F>], b: &[ParamRef<'_, F>], tag: &str) {
    assert_eq!(a.len(), b.len(), "{tag}: number of tensors");
    for (p, q) in a.iter().zip(b) {
        assert_eq!(p.name, q.name, "{tag}");
        assert_eq!(p.shape, q.shape, "{tag}: {}", p.name);
        assert!(same_bits(p.value, q.value), "{tag}: {} differs", p.name);
    }
}

#[test]
fn round_trip_is_bit_exact() {
    let dir = tmpdir("rt");
    let path = dir.join("model.safetensors");
    let model = trained(&cfg());
    model.save(&path).expect("save");
    assert!(checkpoint::config_path(&path).exists());
    let loaded = SparseMoe::<f32>::load(&path).expect("load");
    assert_eq!(loaded.config(), model.config());
    assert_eq!((loaded.input_dim(), loaded.seed()), (D, 11));
    assert_same_params(&model.params(), &loaded.params(), "noisy/mlp");
    let x = normal(20, D, &mut rng("rt")).mapv(|v| v as f32);
    let (fa, fb) = (
        model.infer(x.view()).expect("a"),
        loaded.infer(x.view()).expect("b"),
    );
    assert!(
        fa.f.iter()
            .zip(fb.f.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
    assert_eq!(fa.routing.idx, fb.routing.idx);
    std::fs::remove_dir_all(dir).ok();
}

/// Save → load through the [`smoe_model::Model`] interface ([`build_model`], [`checkpoint::save`],
/// [`checkpoint::load`]) for one model of type `F`: config, d, seed, every tensor and the
/// outputs and routing of a batch, bit for bit; and the JSON beside it.
fn round_trip_model<F: Float>(cfg: &ModelConfig, seed: u64, path: &Path, tag: &str) {
    let mut model = build_model::<F>(cfg, D, seed).expect("model");
    perturb(model.params_mut());
    // a loaded checkpoint is at the end of training (a scheduled temperature at τ₁)
    model.on_progress(&smoe_nn::Progress::at(1, 1, 1));
    checkpoint::save(model.as_ref(), path).expect("save");
    let loaded = checkpoint::load::<F>(path).expect("load");
    assert_eq!(loaded.config(), *cfg, "{tag}");
    assert_eq!((loaded.input_dim(), loaded.seed()), (D, seed), "{tag}");
    assert_same_params(&model.params(), &loaded.params(), tag);
    let x = normal(24, D, &mut rng(tag)).mapv(F::from_f64c);
    let (a, b) = (
        model.infer(x.view()).expect("a"),
        loaded.infer(x.view()).expect("b"),
    );
    assert!(same_bits(
        a.f.as_slice().expect("f"),
        b.f.as_slice().expect("f")
    ));
    match (a.top_k(), b.top_k()) {
        (Some(ra), Some(rb)) => {
            assert_eq!(ra.routing.idx, rb.routing.idx, "{tag}");
            assert_eq!(ra.counts, rb.counts, "{tag}");
        }
        _ => {
            let (sa, sb) = (a.soft().expect("soft"), b.soft().expect("soft"));
            assert!(same_bits(
                sa.combine.as_slice().expect("c"),
                sb.combine.as_slice().expect("c")
            ));
            assert!(same_bits(
                sa.dispatch.as_slice().expect("d"),
                sb.dispatch.as_slice().expect("d")
            ));
        }
    }
    // the JSON beside the tensors
    let json = std::fs::read_to_string(checkpoint::config_path(path)).expect("json");
    let meta: CheckpointMeta = serde_json::from_str(&json).expect("meta");
    assert_eq!(meta.format, "smoe-checkpoint");
    assert_eq!(meta.version, checkpoint::VERSION);
    assert_eq!(meta.version, 2);
    assert_eq!(meta.dtype, F::NAME);
    assert_eq!((meta.d, meta.seed), (D, seed));
    assert_eq!(meta.model, *cfg);
    assert!(
        json.contains(&format!("\"kind\": \"{}\"", cfg.kind())),
        "{tag}: {json}"
    );
    if let ModelConfig::Soft(c) = cfg {
        // the soft model's own loader reads it, and the sparse one refuses it clearly
        let soft_loaded = smoe_model::SoftMoe::<F>::load(path).expect("soft load");
        assert_eq!(soft_loaded.config(), c, "{tag}");
        assert_same_params(
            &model.params(),
            &smoe_model::SoftMoe::params(&soft_loaded),
            tag,
        );
        let e = SparseMoe::<F>::load(path).expect_err("not sparse");
        assert!(e.to_string().contains("holds a soft model"), "{e}");
        return;
    }
    // and the sparse model's own loader reads it too
    let sparse_loaded = SparseMoe::<F>::load(path).expect("sparse load");
    assert_eq!(
        ModelConfig::Sparse(sparse_loaded.config().clone()),
        *cfg,
        "{tag}"
    );
    assert_same_params(&model.params(), &SparseMoe::params(&sparse_loaded), tag);
}

#[test]
fn every_catalogue_model_round_trips_bit_exactly() {
    let dir = tmpdir("catalogue");
    let examples = ModelConfig::examples();
    for (i, cfg) in examples.iter().enumerate() {
        let tag = format!("examples[{i}] {}", describe_model(cfg));
        let seed = 100 + i as u64;
        round_trip_model::<f32>(cfg, seed, &dir.join(format!("m{i}-f32.safetensors")), &tag);
        round_trip_model::<f64>(cfg, seed, &dir.join(format!("m{i}-f64.safetensors")), &tag);
    }
    assert!(!examples.is_empty());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn tensor_names_follow_pytorch_layout() {
    let cfg = SparseConfig {
        experts: 2,
        k: 1,
        expert: ExpertConfig {
            depth: 1,
            width: 4,
            ..Default::default()
        },
        ..Default::default()
    };
    let model = SparseMoe::<f32>::new(&cfg, 3, 0).expect("model");
    let names: Vec<(String, Vec<usize>)> = model
        .params()
        .iter()
        .map(|p| (p.name.clone(), p.shape.clone()))
        .collect();
    let want = [
        ("router.weight", vec![2, 3]),
        ("router.bias", vec![2]),
        ("experts.0.layers.0.weight", vec![4, 3]),
        ("experts.0.layers.0.bias", vec![4]),
        ("experts.0.layers.1.weight", vec![1, 4]),
        ("experts.0.layers.1.bias", vec![1]),
    ];
    for (n, s) in want {
        assert!(
            names.contains(&(n.to_string(), s.clone())),
            "missing {n} {s:?}"
        );
    }
    assert_eq!(names.len(), 2 + 2 * 4);
}

/// Rewrites the checkpoint at `path` through `edit`, which gets (name, shape, data) triples.
fn rewrite(path: &Path, edit: impl FnOnce(&mut Vec<(String, Vec<usize>, Vec<u8>)>)) {
    let bytes = std::fs::read(path).expect("read");
    let st = safetensors::SafeTensors::deserialize(&bytes).expect("parse");
    let mut ts: Vec<(String, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.shape().to_vec(), v.data().to_vec()))
        .collect();
    edit(&mut ts);
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = ts
        .iter()
        .map(|(n, s, d)| {
            let v = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), d)
                .expect("view");
            (n.clone(), v)
        })
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).expect("ser")).expect("write");
}

#[test]
fn bad_checkpoints_are_typed_errors_naming_the_tensor() {
    let dir = tmpdir("bad");
    // experts of width 64: the old default, written out
    let cfg = SparseConfig {
        experts: 3,
        k: 1,
        expert: ExpertConfig::default(),
        ..Default::default()
    };
    let model = SparseMoe::<f32>::new(&cfg, 3, 0).expect("model");
    let path = dir.join("m.safetensors");

    model.save(&path).expect("save");
    rewrite(&path, |ts| {
        ts.retain(|(n, _, _)| n != "experts.1.layers.0.bias")
    });
    match SparseMoe::<f32>::load(&path) {
        Err(ModelError::MissingTensor { name, .. }) => assert_eq!(name, "experts.1.layers.0.bias"),
        other => panic!("expected MissingTensor, got {other:?}"),
    }

    model.save(&path).expect("save");
    rewrite(&path, |ts| {
        for t in ts.iter_mut().filter(|t| t.0 == "router.weight") {
            t.1 = vec![9, 1];
        }
    });
    match SparseMoe::<f32>::load(&path) {
        Err(ModelError::TensorShape {
            name,
            expected,
            got,
            ..
        }) => {
            assert_eq!(
                (name.as_str(), expected, got),
                ("router.weight", vec![3, 3], vec![9, 1])
            );
        }
        other => panic!("expected TensorShape, got {other:?}"),
    }

    // a config that disagrees with the tensors: it claims 4 experts
    model.save(&path).expect("save");
    let cpath = checkpoint::config_path(&path);
    let json = std::fs::read_to_string(&cpath).expect("json");
    std::fs::write(&cpath, json.replace("\"experts\": 3", "\"experts\": 4")).expect("write");
    match SparseMoe::<f32>::load(&path) {
        Err(ModelError::TensorShape { name, .. }) => assert_eq!(name, "router.weight"),
        other => panic!("expected TensorShape, got {other:?}"),
    }

    // an extra tensor the config does not have
    model.save(&path).expect("save");
    rewrite(&path, |ts| {
        ts.push(("experts.9.layers.0.bias".into(), vec![1], vec![0; 4]))
    });
    assert!(matches!(
        SparseMoe::<f32>::load(&path),
        Err(ModelError::UnexpectedTensor { name, .. }) if name == "experts.9.layers.0.bias"
    ));

    // a checkpoint of another format version
    model.save(&path).expect("save");
    let json = std::fs::read_to_string(&cpath).expect("json");
    std::fs::write(&cpath, json.replace("\"version\": 2", "\"version\": 1")).expect("write");
    match SparseMoe::<f32>::load(&path) {
        Err(ModelError::Checkpoint { reason, .. }) => {
            assert!(reason.contains("version 1"), "{reason}")
        }
        other => panic!("expected Checkpoint, got {other:?}"),
    }
    assert!(matches!(
        checkpoint::load::<f32>(&path),
        Err(ModelError::Checkpoint { .. })
    ));

    // unreadable files
    std::fs::write(&path, b"not a safetensors file").expect("write");
    assert!(matches!(
        SparseMoe::<f32>::load(&path),
        Err(ModelError::Checkpoint { .. })
    ));
    assert!(matches!(
        SparseMoe::<f32>::load(&dir.join("absent.safetensors")),
        Err(ModelError::Checkpoint { .. })
    ));
    std::fs::remove_dir_all(dir).ok();
}
