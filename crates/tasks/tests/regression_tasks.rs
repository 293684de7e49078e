//! The regression teachers: `softmax-gated-regression` (THEORY.md §7.5) and
//! `l2-norm-regression` (THEORY.md §8.3), and `data.fresh_batches` in the data config.

use ndarray::array;
use serde::Deserialize;
use smoe_tasks::{
    DataConfig, ExpertForm, SoftmaxGatedTeacher, Targets, Task, TaskConfig, TaskError,
    deserialize_data_config, load_data,
};

fn gated(experts: ExpertForm, components: usize, noise_variance: f64) -> TaskConfig {
    TaskConfig::SoftmaxGatedRegression {
        experts,
        components,
        noise_variance,
    }
}

#[test]
fn theory_teacher_at_d_1_with_variance_nu_noise() {
    for form in [ExpertForm::Sigmoid, ExpertForm::Linear] {
        let task = Task::new(&gated(form, 2, 0.01), 1, 3).unwrap();
        let t = task.softmax_gated_teacher().unwrap();
        assert_eq!(t, &SoftmaxGatedTeacher::theory(form));
        assert_eq!(t.beta0, array![-8.0, 0.0]);
        assert_eq!(t.beta1, array![[25.0], [0.0]]);
        assert_eq!(
            (t.b.clone(), t.a.clone()),
            (array![15.0, -5.0], array![[-20.0], [20.0]])
        );
        assert_eq!(
            (task.targets(), task.num_groups()),
            (Targets::Real, Some(2))
        );
        let n = 40_000;
        let data = task
            .sample::<f64>(n, &mut smoe_nn::stream_rng(1, "t", 0))
            .unwrap();
        assert!(data.x.iter().all(|v| (0.0..1.0).contains(v)));
        let mean_x = data.x.sum() / n as f64;
        assert!((mean_x - 0.5).abs() < 0.01, "{mean_x}");
        let clean = task.score(data.x.view()).unwrap();
        let r: Vec<f64> = data.y.iter().zip(&clean).map(|(y, f)| y - f).collect();
        let mean = r.iter().sum::<f64>() / n as f64;
        let var = r.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / n as f64;
        // ν is the variance: the residual variance is 0.01 (standard error ~0.7%)
        assert!((var / 0.01 - 1.0).abs() < 0.03, "{form:?}: {var}");
        assert!(mean.abs() < 0.002, "{mean}");
        // the groups are the larger gate: component 1 (index 0) wins for 25x - 8 > 0
        let groups = data.groups.as_ref().unwrap();
        for (row, g) in data.x.rows().into_iter().zip(groups) {
            assert_eq!(*g, usize::from(25.0 * row[0] - 8.0 <= 0.0));
        }
    }
    // without noise y is f*(x) itself
    let task = Task::new(&gated(ExpertForm::Sigmoid, 2, 0.0), 1, 3).unwrap();
    let data = task
        .sample::<f64>(100, &mut smoe_nn::stream_rng(1, "t", 0))
        .unwrap();
    assert_eq!(task.score(data.x.view()).unwrap(), data.y);
}

#[test]
fn random_teacher_for_d_above_1_is_seeded() {
    let cfg = gated(ExpertForm::Sigmoid, 3, 0.01);
    let a = Task::new(&cfg, 4, 7).unwrap();
    let b = Task::new(&cfg, 4, 7).unwrap();
    let c = Task::new(&cfg, 4, 8).unwrap();
    let (ta, tc) = (
        a.softmax_gated_teacher().unwrap(),
        c.softmax_gated_teacher().unwrap(),
    );
    assert_eq!(Some(ta), b.softmax_gated_teacher());
    assert_ne!(ta, tc);
    assert_eq!((ta.components(), ta.dim()), (3, 4));
    assert_eq!(ta.beta1.dim(), (3, 4));
    assert_eq!(ta.a.dim(), (3, 4));
    // the last component is the reference (0, 0); the others are not
    assert_eq!(ta.beta0[2], 0.0);
    assert!(ta.beta1.row(2).iter().all(|v| *v == 0.0));
    assert!(ta.beta1.row(0).iter().any(|v| *v != 0.0));
    // f* is Σ gates · experts, the gates sum to 1
    let x = array![[0.1, 0.2, 0.9, 0.5], [0.5, 0.5, 0.5, 0.5]];
    let g = ta.gates(x.view());
    for row in g.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-14);
    }
    let h = ta.expert_outputs(x.view());
    let f = a.score(x.view()).unwrap();
    for i in 0..2 {
        let want: f64 = (0..3).map(|j| g[[i, j]] * h[[i, j]]).sum();
        assert!((f[i] - want).abs() < 1e-14);
    }
    // d = 1 with k* = 3 is random too (the THEORY teacher has k* = 2)
    let t = Task::new(&gated(ExpertForm::Linear, 3, 0.01), 1, 7).unwrap();
    assert_eq!(t.softmax_gated_teacher().unwrap().components(), 3);
}

#[test]
fn l2_norm_regression_has_covariance_5_i() {
    let task = Task::new(&TaskConfig::l2_norm_regression(), 10, 0).unwrap();
    assert_eq!((task.targets(), task.num_groups()), (Targets::Real, None));
    let n = 20_000;
    let data = task
        .sample::<f32>(n, &mut smoe_nn::stream_rng(2, "t", 0))
        .unwrap();
    let vals: Vec<f64> = data.x.iter().map(|v| f64::from(*v)).collect();
    let var = vals.iter().map(|v| v * v).sum::<f64>() / vals.len() as f64;
    // per-coordinate variance 5 (standard deviation sqrt 5), standard error ~0.45%
    assert!((var / 5.0 - 1.0).abs() < 0.02, "{var}");
    for (row, y) in data.x.rows().into_iter().zip(&data.y) {
        let norm = row
            .iter()
            .map(|v| f64::from(*v).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!((f64::from(*y) - norm).abs() <= 1e-6 * norm, "{y} vs {norm}");
    }
    let other = TaskConfig::L2NormRegression { variance: 1.0 };
    let t1 = Task::new(&other, 10, 0).unwrap();
    let d1 = t1
        .sample::<f64>(4, &mut smoe_nn::stream_rng(2, "t", 0))
        .unwrap();
    let d5 = task
        .sample::<f64>(4, &mut smoe_nn::stream_rng(2, "t", 0))
        .unwrap();
    for (a, b) in d1.x.iter().zip(&d5.x) {
        assert!((b - 5f64.sqrt() * a).abs() < 1e-12);
    }
}

#[test]
fn bad_regression_configs_are_errors() {
    for (cfg, name) in [
        (gated(ExpertForm::Sigmoid, 0, 0.01), "components"),
        (gated(ExpertForm::Sigmoid, 2, -0.1), "noise_variance"),
        (gated(ExpertForm::Sigmoid, 2, f64::NAN), "noise_variance"),
        (TaskConfig::L2NormRegression { variance: 0.0 }, "variance"),
        (
            TaskConfig::L2NormRegression {
                variance: f64::INFINITY,
            },
            "variance",
        ),
    ] {
        match Task::new(&cfg, 2, 0) {
            Err(TaskError::InvalidParameter { name: n, .. }) => assert_eq!(n, name, "{cfg:?}"),
            other => panic!("{cfg:?}: {other:?}"),
        }
    }
    let huge = gated(ExpertForm::Sigmoid, usize::MAX / 2, 0.01);
    assert!(Task::new(&huge, 4, 0).is_err());
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Run {
    #[serde(default, deserialize_with = "deserialize_data_config")]
    data: DataConfig,
}

fn parse(text: &str) -> Result<DataConfig, String> {
    toml::from_str::<Run>(text)
        .map(|r| r.data)
        .map_err(|e| e.to_string())
}

#[test]
fn configs_read_with_defaults_and_fresh_batches_only_for_synthetic_data() {
    let d = parse("[data]\nd = 1\n[data.task]\nkind = \"softmax-gated-regression\"\n").unwrap();
    let DataConfig::Synthetic(s) = &d else {
        panic!("not synthetic")
    };
    assert_eq!(s.task, TaskConfig::softmax_gated_regression());
    assert!(!d.fresh_batches());
    let d = parse(
        "[data]\nfresh_batches = true\n[data.task]\nkind = \"softmax-gated-regression\"\nexperts = \"linear\"\nnoise_variance = 0.5\ncomponents = 3\n",
    )
    .unwrap();
    assert!(d.fresh_batches());
    let DataConfig::Synthetic(s) = &d else {
        panic!("not synthetic")
    };
    assert_eq!(s.task, gated(ExpertForm::Linear, 3, 0.5));
    let d = parse("[data.task]\nkind = \"l2-norm-regression\"\nvariance = 2.0\n").unwrap();
    let DataConfig::Synthetic(s) = &d else {
        panic!("not synthetic")
    };
    assert_eq!(s.task, TaskConfig::L2NormRegression { variance: 2.0 });
    // false is not written back, so resolved configs of old runs read the same
    let json = serde_json::to_string(&DataConfig::default()).unwrap();
    assert!(!json.contains("fresh_batches"), "{json}");
    for kind in ["npy", "csv"] {
        let e = parse(&format!(
            "[data]\nkind = \"{kind}\"\nx = \"a.npy\"\ny = \"b.npy\"\npath = \"c.csv\"\nfresh_batches = true\n"
        ))
        .unwrap_err();
        assert!(e.contains("fresh_batches needs a synthetic task"), "{e}");
        assert!(e.contains(kind), "{e}");
    }
    assert!(parse("[data.task]\nkind = \"softmax-gated-regression\"\nnoise = 0.1\n").is_err());
    // a loaded synthetic source keeps its task (the teacher's parameters)
    let loaded = load_data(&d, 0, None).unwrap();
    assert_eq!(loaded.task.as_ref().map(|t| t.dim()), Some(16));
}
