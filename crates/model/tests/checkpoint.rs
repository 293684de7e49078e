//! Save → load round trip and the errors of a bad checkpoint.

mod common;

use std::path::{Path, PathBuf};

use common::{normal, rng};
use smoe_experts::ExpertConfig;
use smoe_gating::GateConfig;
use smoe_model::{ModelError, MoeConfig, SparseMoe, checkpoint};
use smoe_nn::ActivationKind;
use smoe_router::RouterConfig;

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("smoe-ckpt-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

fn cfg() -> MoeConfig {
    MoeConfig {
        d: 6,
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
        seed: 11,
        ..Default::default()
    }
}

fn trained(cfg: &MoeConfig) -> SparseMoe<f32> {
    let mut m = SparseMoe::<f32>::new(cfg).expect("model");
    // perturb every parameter so the round trip is not of the initial weights
    for p in m.params_mut() {
        for (i, v) in p.value.iter_mut().enumerate() {
            *v += 0.001 * (i as f32 + 1.0).sin();
        }
    }
    m
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
    let (a, b) = (model.params(), loaded.params());
    assert_eq!(a.len(), b.len());
    for (p, q) in a.iter().zip(&b) {
        assert_eq!(p.name, q.name);
        assert_eq!(p.shape, q.shape);
        let same = p
            .value
            .iter()
            .zip(q.value)
            .all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "{} differs", p.name);
    }
    let x = normal(20, 6, &mut rng("rt")).mapv(|v| v as f32);
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

#[test]
fn tensor_names_follow_pytorch_layout() {
    let model = SparseMoe::<f32>::new(&MoeConfig {
        d: 3,
        experts: 2,
        k: 1,
        expert: ExpertConfig {
            depth: 1,
            width: 4,
            ..Default::default()
        },
        ..Default::default()
    })
    .expect("model");
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
    let cfg = MoeConfig {
        d: 3,
        experts: 3,
        k: 1,
        ..Default::default()
    };
    let model = SparseMoe::<f32>::new(&cfg).expect("model");
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
