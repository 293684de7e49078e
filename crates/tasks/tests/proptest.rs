//! Invariants over random small configs: labels in {−1, +1}, finite inputs, valid groups.

use proptest::prelude::*;
use smoe_tasks::{Task, TaskConfig};

fn config(d: usize) -> impl Strategy<Value = TaskConfig> {
    prop_oneof![
        (1usize..6, 0.0f64..=0.5)
            .prop_map(|(clusters, noise)| TaskConfig::MixtureOfLinear { clusters, noise }),
        (1usize..6, 1usize..6, 1usize..5, 0.0f64..=0.5).prop_map(|(experts, k, width, noise)| {
            TaskConfig::TeacherMoe {
                experts,
                k: k.min(experts),
                width,
                noise,
            }
        }),
        Just(TaskConfig::L2Norm {}),
        (1usize..=d).prop_map(|support| TaskConfig::SparseParity { support }),
        (1usize..4, 0.0f64..10.0).prop_map(|(components, separation)| {
            TaskConfig::GaussianMixture {
                components,
                separation,
            }
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn samples_have_valid_labels_inputs_and_groups(
        (d, cfg) in (1usize..7).prop_flat_map(|d| (Just(d), config(d))),
        m in 1usize..40,
        seed in any::<u64>(),
    ) {
        let task = Task::new(&cfg, d, seed).unwrap();
        let (train, test) = task.train_test::<f32>(m, 3, seed ^ 1).unwrap();
        for data in [&train, &test] {
            prop_assert_eq!(data.dim(), d);
            prop_assert!(data.y.iter().all(|y| *y == 1.0 || *y == -1.0));
            prop_assert!(data.x.iter().all(|v| v.is_finite()));
            match (task.num_groups(), &data.groups) {
                (Some(n), Some(g)) => {
                    prop_assert_eq!(g.len(), data.len());
                    prop_assert!(g.iter().all(|&i| i < n));
                }
                (None, None) => {}
                (n, g) => prop_assert!(false, "num_groups {:?} but groups {:?}", n, g),
            }
        }
        let s = task.score(train.x.view()).unwrap();
        prop_assert!(s.iter().all(|v| v.is_finite()));
    }
}
