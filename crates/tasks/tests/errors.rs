//! Every error variant from the bad input it names, and the config's serde form.

use ndarray::{Array2, array};
use smoe_nn::{NnError, stream_rng};
use smoe_tasks::{Dataset, Structure, Task, TaskConfig, TaskError};

fn invalid(cfg: TaskConfig, d: usize) -> &'static str {
    match Task::new(&cfg, d, 0) {
        Err(TaskError::InvalidParameter { name, .. }) => name,
        other => panic!("{cfg:?}: expected InvalidParameter, got {other:?}"),
    }
}

#[test]
fn zero_dimensions_are_rejected() {
    for cfg in [
        TaskConfig::mixture_of_linear(),
        TaskConfig::teacher_moe(),
        TaskConfig::l2_norm(),
        TaskConfig::norm_regression(),
        TaskConfig::sparse_parity(),
        TaskConfig::gaussian_mixture(),
    ] {
        assert_eq!(
            Task::new(&cfg, 0, 0),
            Err(TaskError::ZeroDim(smoe_nn::ZeroDim {
                what: "input dimension d"
            }))
        );
    }
    let cfg = TaskConfig::TeacherMoe {
        experts: 2,
        k: 1,
        width: 0,
        noise: 0.0,
    };
    assert_eq!(
        Task::new(&cfg, 3, 0),
        Err(TaskError::ZeroDim(smoe_nn::ZeroDim {
            what: "teacher width"
        }))
    );
}

#[test]
fn bad_noise_is_rejected() {
    for noise in [f64::NAN, -0.01, 0.51, f64::INFINITY] {
        let mol = TaskConfig::MixtureOfLinear { clusters: 2, noise };
        assert_eq!(invalid(mol, 3), "noise");
        let teacher = TaskConfig::TeacherMoe {
            experts: 2,
            k: 1,
            width: 2,
            noise,
        };
        assert_eq!(invalid(teacher, 3), "noise");
    }
    // the bounds themselves are allowed
    for noise in [0.0, 0.5] {
        let cfg = TaskConfig::MixtureOfLinear { clusters: 2, noise };
        assert!(Task::new(&cfg, 3, 0).is_ok());
    }
}

#[test]
fn zero_counts_and_bad_ranges_are_rejected() {
    let mol = TaskConfig::MixtureOfLinear {
        clusters: 0,
        noise: 0.0,
    };
    assert_eq!(invalid(mol, 3), "clusters");
    let teacher = TaskConfig::TeacherMoe {
        experts: 0,
        k: 1,
        width: 2,
        noise: 0.0,
    };
    assert_eq!(invalid(teacher, 3), "experts");
    assert_eq!(
        invalid(TaskConfig::SparseParity { support: 0 }, 3),
        "support"
    );
    assert_eq!(
        invalid(TaskConfig::SparseParity { support: 4 }, 3),
        "support"
    );
    assert!(Task::new(&TaskConfig::SparseParity { support: 3 }, 3, 0).is_ok());
    let gm = |components, separation| TaskConfig::GaussianMixture {
        components,
        separation,
    };
    assert_eq!(invalid(gm(0, 1.0), 3), "components");
    assert_eq!(invalid(gm(2, -1.0), 3), "separation");
    assert_eq!(invalid(gm(2, f64::NAN), 3), "separation");
    assert_eq!(invalid(gm(2, f64::INFINITY), 3), "separation");
    // structures too large to allocate are refused, not attempted
    let huge = TaskConfig::MixtureOfLinear {
        clusters: usize::MAX / 2,
        noise: 0.0,
    };
    assert_eq!(invalid(huge, 3), "clusters");
    let wide = TaskConfig::TeacherMoe {
        experts: 1 << 20,
        k: 1,
        width: 1 << 20,
        noise: 0.0,
    };
    assert_eq!(invalid(wide, 3), "experts");
}

#[test]
fn bad_top_k_is_rejected() {
    for (k, experts) in [(0, 4), (5, 4)] {
        let cfg = TaskConfig::TeacherMoe {
            experts,
            k,
            width: 2,
            noise: 0.0,
        };
        assert_eq!(
            Task::new(&cfg, 3, 0),
            Err(TaskError::InvalidTopK { k, experts })
        );
    }
}

#[test]
fn empty_and_oversized_samples_are_rejected() {
    let task = Task::new(&TaskConfig::l2_norm(), 3, 0).unwrap();
    let mut rng = stream_rng(0, "t", 0);
    assert!(matches!(
        task.sample::<f32>(0, &mut rng),
        Err(TaskError::EmptyDataset { .. })
    ));
    assert!(matches!(
        task.train_test::<f32>(10, 0, 0),
        Err(TaskError::EmptyDataset { .. })
    ));
    assert!(matches!(
        task.estimate_bayes_error(0, 0),
        Err(TaskError::EmptyDataset { .. })
    ));
    assert!(matches!(
        task.sample::<f32>(usize::MAX / 2, &mut rng),
        Err(TaskError::InvalidParameter { name: "m", .. })
    ));
}

#[test]
fn shape_index_and_label_errors() {
    let task = Task::new(&TaskConfig::teacher_moe(), 3, 0).unwrap();
    let wrong = Array2::<f64>::zeros((2, 4));
    assert_eq!(
        task.score(wrong.view()),
        Err(TaskError::from(smoe_nn::ShapeError {
            op: "Task::score (input width)",
            expected: vec![3],
            got: vec![4],
        }))
    );
    let Structure::TeacherMoe(teacher) = task.structure() else {
        panic!("wrong structure")
    };
    // the expert's own layer reports the mismatch through the wrapped smoe-nn error
    assert!(matches!(
        teacher.experts()[0].forward(wrong.view()),
        Err(TaskError::Nn(NnError::Shape(_)))
    ));
    let (train, _) = task.train_test::<f64>(5, 1, 0).unwrap();
    assert_eq!(
        train.subset(&[0, 5]),
        Err(TaskError::IndexOutOfRange { index: 5, len: 5 })
    );
    assert_eq!(
        Dataset::new(array![[0.0]], array![0.0], None),
        Err(TaskError::InvalidLabel {
            index: 0,
            value: 0.0
        })
    );
}

#[test]
fn error_messages_name_the_problem() {
    let e = Task::new(&TaskConfig::SparseParity { support: 9 }, 4, 0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid task parameter support = 9: must be in 1..=d = 1..=4"
    );
}

#[test]
fn configs_parse_with_defaults_and_reject_unknown_fields() {
    let parse = |s: &str| serde_json::from_str::<TaskConfig>(s);
    assert_eq!(
        parse(r#"{"kind":"mixture-of-linear"}"#).unwrap(),
        TaskConfig::MixtureOfLinear {
            clusters: 4,
            noise: 0.05
        }
    );
    assert_eq!(
        parse(r#"{"kind":"teacher-moe","k":2}"#).unwrap(),
        TaskConfig::TeacherMoe {
            experts: 4,
            k: 2,
            width: 16,
            noise: 0.0
        }
    );
    assert_eq!(
        parse(r#"{"kind":"l2-norm"}"#).unwrap(),
        TaskConfig::L2Norm {}
    );
    assert_eq!(
        parse(r#"{"kind":"norm-regression"}"#).unwrap(),
        TaskConfig::NormRegression {}
    );
    assert!(parse(r#"{"kind":"norm-regression","noise":0.1}"#).is_err());
    assert_eq!(
        parse(r#"{"kind":"gaussian-mixture","separation":3.5}"#).unwrap(),
        TaskConfig::GaussianMixture {
            components: 2,
            separation: 3.5
        }
    );
    assert!(parse(r#"{"kind":"sparse-parity","suport":2}"#).is_err());
    assert!(parse(r#"{"kind":"l2-norm","radius":2}"#).is_err());
    assert!(parse(r#"{"kind":"spiral"}"#).is_err());
    assert!(parse(r#"{"clusters":2}"#).is_err());
    assert_eq!(TaskConfig::default(), TaskConfig::mixture_of_linear());
    for cfg in [
        TaskConfig::mixture_of_linear(),
        TaskConfig::teacher_moe(),
        TaskConfig::l2_norm(),
        TaskConfig::norm_regression(),
        TaskConfig::sparse_parity(),
        TaskConfig::gaussian_mixture(),
    ] {
        let json = serde_json::to_string(&cfg).unwrap();
        assert!(
            json.contains(&format!("\"kind\":\"{}\"", cfg.kind())),
            "{json}"
        );
        assert_eq!(parse(&json).unwrap(), cfg);
        // every default runs
        let task = Task::new(&cfg, 8, 0).unwrap();
        assert_eq!(task.train_test::<f32>(16, 16, 0).unwrap().0.len(), 16);
    }
}
