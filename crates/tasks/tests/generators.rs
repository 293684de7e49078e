//! Statistical properties of each generator, checked on m = 20 000 samples.

use smoe_tasks::{Dataset, Structure, Targets, Task, TaskConfig, TaskError};

const M: usize = 20_000;

fn data(cfg: &TaskConfig, d: usize, seed: u64) -> (Task, Dataset<f64>) {
    let task = Task::new(cfg, d, seed).unwrap();
    let (train, _) = task.train_test::<f64>(M, 1, seed).unwrap();
    (task, train)
}

fn assert_balanced(cfg: &TaskConfig, d: usize, seed: u64) {
    let (_, train) = data(cfg, d, seed);
    let pos = train.positive_fraction();
    assert!(
        (pos - 0.5).abs() < 0.02,
        "{cfg:?} d = {d}: P(y = +1) = {pos}"
    );
}

/// Fraction of labels that differ from the clean label `sign(score(x))`.
fn flip_rate<F: smoe_nn::Float>(task: &Task, data: &Dataset<F>) -> f64 {
    let clean = task.clean_labels(data.x.view()).unwrap();
    let flips = clean.iter().zip(&data.y).filter(|(a, b)| a != b).count();
    flips as f64 / data.len() as f64
}

#[test]
fn mixture_of_linear_is_balanced_in_high_and_low_dimension() {
    for (clusters, d) in [(4, 10), (4, 3), (8, 2), (1, 1)] {
        let cfg = TaskConfig::MixtureOfLinear {
            clusters,
            noise: 0.0,
        };
        assert_balanced(&cfg, d, 11);
    }
    assert_balanced(&TaskConfig::mixture_of_linear(), 20, 12);
}

#[test]
fn mixture_of_linear_flip_rate_matches_noise_and_groups_cover_clusters() {
    for noise in [0.05, 0.2] {
        let cfg = TaskConfig::MixtureOfLinear { clusters: 4, noise };
        let (task, train) = data(&cfg, 10, 3);
        let rate = flip_rate(&task, &train);
        assert!(
            (rate - noise).abs() < 0.01,
            "noise {noise}: flip rate {rate}"
        );
        let groups = train.groups.as_ref().unwrap();
        let mut counts = [0usize; 4];
        for g in groups {
            counts[*g] += 1;
        }
        // every cluster gets a visible share of the samples
        assert!(counts.iter().all(|c| *c > M / 20), "{counts:?}");
    }
}

#[test]
fn teacher_is_balanced_after_centering() {
    for (experts, k, width) in [(4, 1, 16), (4, 2, 16), (8, 3, 8), (1, 1, 4)] {
        let cfg = TaskConfig::TeacherMoe {
            experts,
            k,
            width,
            noise: 0.0,
        };
        assert_balanced(&cfg, 10, 5);
    }
}

#[test]
fn teacher_labels_are_the_planted_sign_without_noise() {
    let cfg = TaskConfig::TeacherMoe {
        experts: 6,
        k: 2,
        width: 16,
        noise: 0.0,
    };
    let task = Task::new(&cfg, 12, 21).unwrap();
    let Structure::TeacherMoe(teacher) = task.structure() else {
        panic!("wrong structure")
    };
    // f32 inputs too: labels are computed from the rounded x
    let (train, _) = task.train_test::<f32>(M, 1, 4).unwrap();
    let f = teacher.output(train.x.view()).unwrap();
    for (fi, yi) in f.iter().zip(&train.y) {
        assert_eq!(*yi, if *fi >= 0.0 { 1.0 } else { -1.0 });
    }
    // groups are the top-1 expert
    let (sel, _) = teacher.route(train.x.view()).unwrap();
    assert_eq!(train.groups.unwrap(), sel.column(0).to_vec());
}

#[test]
fn teacher_flip_rate_matches_noise() {
    let cfg = TaskConfig::TeacherMoe {
        experts: 4,
        k: 1,
        width: 16,
        noise: 0.1,
    };
    let (task, train) = data(&cfg, 10, 8);
    let rate = flip_rate(&task, &train);
    assert!((rate - 0.1).abs() < 0.01, "flip rate {rate}");
    assert_eq!(task.bayes_error(), Some(0.1));
    let est = task.estimate_bayes_error(M, 1).unwrap();
    assert!((est - 0.1).abs() < 0.01, "estimated Bayes error {est}");
}

#[test]
fn l2_norm_is_balanced_and_noise_free() {
    for d in [1, 2, 10, 50] {
        assert_balanced(&TaskConfig::l2_norm(), d, 9);
    }
    let (task, train) = data(&TaskConfig::l2_norm(), 5, 2);
    assert_eq!(flip_rate(&task, &train), 0.0);
    let Structure::L2Norm { radius } = task.structure() else {
        panic!("wrong structure")
    };
    // median of χ²(5) is 4.351460191...
    assert!(
        (radius * radius - 4.351_460_191_095_526).abs() < 1e-9,
        "{radius}"
    );
    assert!(train.groups.is_none());
}

#[test]
fn sparse_parity_labels_are_the_product_of_the_support() {
    let cfg = TaskConfig::SparseParity { support: 3 };
    let (task, train) = data(&cfg, 16, 6);
    let Structure::SparseParity { support } = task.structure() else {
        panic!("wrong structure")
    };
    assert_eq!(support.len(), 3);
    assert!(support.windows(2).all(|w| w[0] < w[1]) && support[2] < 16);
    for (row, y) in train.x.rows().into_iter().zip(&train.y) {
        assert!(row.iter().all(|v| *v == 1.0 || *v == -1.0));
        let prod: f64 = support.iter().map(|&i| row[i]).product();
        assert_eq!(*y, prod);
    }
    let pos = train.positive_fraction();
    assert!((pos - 0.5).abs() < 0.02, "{pos}");
    assert_balanced(&TaskConfig::SparseParity { support: 1 }, 1, 3);
    assert_balanced(&TaskConfig::SparseParity { support: 7 }, 7, 3);
}

#[test]
fn gaussian_mixture_is_balanced_and_groups_follow_the_class() {
    let cfg = TaskConfig::gaussian_mixture();
    assert_balanced(&cfg, 10, 4);
    let (task, train) = data(&cfg, 10, 4);
    let groups = train.groups.as_ref().unwrap();
    assert_eq!(task.num_groups(), Some(4));
    for (g, y) in groups.iter().zip(&train.y) {
        assert!(*g < 4);
        assert_eq!(*y, if *g >= 2 { 1.0 } else { -1.0 });
    }
}

#[test]
fn gaussian_mixture_bayes_error_tracks_separation() {
    let task = |separation| {
        let cfg = TaskConfig::GaussianMixture {
            components: 2,
            separation,
        };
        Task::new(&cfg, 8, 1).unwrap()
    };
    assert_eq!(task(2.0).bayes_error(), None);
    // identical means: the label is independent of x
    let chance = task(0.0).estimate_bayes_error(M, 3).unwrap();
    assert!((chance - 0.5).abs() < 0.02, "{chance}");
    // far-apart means: almost separable
    let easy = task(20.0).estimate_bayes_error(M, 3).unwrap();
    assert!(easy < 0.01, "{easy}");
    let mid = task(2.0).estimate_bayes_error(M, 3).unwrap();
    assert!(mid > easy && mid < chance, "{mid}");
}

#[test]
fn exact_bayes_errors_are_reported() {
    let t = |cfg: TaskConfig| Task::new(&cfg, 6, 0).unwrap().bayes_error();
    assert_eq!(t(TaskConfig::mixture_of_linear()), Some(0.05));
    assert_eq!(t(TaskConfig::teacher_moe()), Some(0.0));
    assert_eq!(t(TaskConfig::l2_norm()), Some(0.0));
    assert_eq!(t(TaskConfig::sparse_parity()), Some(0.0));
    assert_eq!(t(TaskConfig::norm_regression()), None);
}

#[test]
fn norm_regression_has_the_l2_norm_inputs_and_their_norms_as_targets() {
    for (d, seed) in [(1, 0), (5, 2), (16, 9)] {
        let l2 = Task::new(&TaskConfig::l2_norm(), d, seed).unwrap();
        let reg = Task::new(&TaskConfig::norm_regression(), d, seed).unwrap();
        let (l2_train, l2_test) = l2.train_test::<f32>(500, 100, seed).unwrap();
        let (train, test) = reg.train_test::<f32>(500, 100, seed).unwrap();
        assert_eq!(train.x, l2_train.x, "d = {d}");
        assert_eq!(test.x, l2_test.x, "d = {d}");
        assert_eq!(
            (train.targets, l2_train.targets),
            (Targets::Real, Targets::Labels)
        );
        assert!(train.groups.is_none() && test.groups.is_none());
        for data in [&train, &test] {
            for (row, y) in data.x.rows().into_iter().zip(&data.y) {
                let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
                assert!((y - norm).abs() <= 1e-6 * norm.max(1.0), "{y} vs {norm}");
            }
        }
        // E‖x‖² = d
        let mean_sq = train.y.iter().map(|y| f64::from(y * y)).sum::<f64>() / 500.0;
        assert!((mean_sq / d as f64 - 1.0).abs() < 0.2, "d = {d}: {mean_sq}");
    }
    let task = Task::new(&TaskConfig::norm_regression(), 3, 0).unwrap();
    assert_eq!(task.bayes_error(), None);
    assert_eq!((task.targets(), task.num_groups()), (Targets::Real, None));
    assert_eq!(task.config().kind(), "norm-regression");
    let x = ndarray::array![[3.0, 4.0, 0.0], [0.0, 0.0, 0.0]];
    assert_eq!(task.score(x.view()).unwrap(), ndarray::array![5.0, 0.0]);
    let not_cls = TaskError::NotClassification {
        op: "Task::clean_labels",
        kind: "norm-regression",
    };
    assert_eq!(task.clean_labels(x.view()), Err(not_cls));
    assert!(matches!(
        task.estimate_bayes_error(10, 0),
        Err(TaskError::NotClassification { .. })
    ));
}
