//! The Voronoi loss D₁ (THEORY.md §7.3): 0 at the truth, invariant to the common translation
//! of (β₀, β₁) and to relabelling, growing under perturbation; its cells and terms by hand;
//! reading the mixing measure of a model.

use ndarray::{Array1, Array2, array};
use smoe_experts::ExpertConfig;
use smoe_gating::GateConfig;
use smoe_model::{ModelConfig, SparseConfig, build_model};
use smoe_router::RouterConfig;
use smoe_tasks::{ExpertForm, SoftmaxGatedTeacher, Task, TaskConfig};
use smoe_theory::{MixingMeasure, TheoryError, model_voronoi_loss, voronoi_d1, voronoi_loss};

fn theory_truth() -> MixingMeasure {
    MixingMeasure::from_teacher(&SoftmaxGatedTeacher::theory(ExpertForm::Sigmoid))
}

fn random_truth(d: usize, k: usize, seed: u64) -> MixingMeasure {
    let cfg = TaskConfig::SoftmaxGatedRegression {
        experts: ExpertForm::Sigmoid,
        components: k,
        noise_variance: 0.01,
    };
    let task = Task::new(&cfg, d, seed).expect("task");
    MixingMeasure::from_teacher(task.softmax_gated_teacher().expect("teacher"))
}

/// A fixed pseudo-random direction of the measure's shape, entries in [-1, 1].
fn direction(m: &MixingMeasure, phase: f64) -> MixingMeasure {
    let mut i = 0.0;
    let mut next = || {
        i += 1.0;
        (i * 1.618 + phase).sin()
    };
    MixingMeasure {
        beta0: m.beta0.mapv(|_| next()),
        beta1: m.beta1.mapv(|_| next()),
        eta: m.eta.mapv(|_| next()),
    }
}

fn plus(m: &MixingMeasure, v: &MixingMeasure, s: f64) -> MixingMeasure {
    MixingMeasure {
        beta0: &m.beta0 + &(s * &v.beta0),
        beta1: &m.beta1 + &(s * &v.beta1),
        eta: &m.eta + &(s * &v.eta),
    }
}

fn translate(m: &MixingMeasure, t0: f64, t1: &Array1<f64>) -> MixingMeasure {
    let mut out = m.clone();
    out.beta0 += t0;
    for mut row in out.beta1.rows_mut() {
        row += t1;
    }
    out
}

fn permute(m: &MixingMeasure, order: &[usize]) -> MixingMeasure {
    MixingMeasure {
        beta0: order.iter().map(|&i| m.beta0[i]).collect(),
        beta1: m.beta1.select(ndarray::Axis(0), order),
        eta: m.eta.select(ndarray::Axis(0), order),
    }
}

/// k* + 1 fitted components: the truth with component `split` halved in mass into two
/// nearby copies, perturbed along a direction.
fn over_specified(truth: &MixingMeasure, split: usize, s: f64) -> MixingMeasure {
    let mut order: Vec<usize> = (0..truth.len()).collect();
    order.push(split);
    let mut m = permute(truth, &order);
    let half = 2f64.ln();
    m.beta0[split] -= half;
    m.beta0[truth.len()] -= half;
    plus(&m, &direction(&m, 0.3), s)
}

#[test]
fn zero_at_the_true_parameters() {
    for truth in [theory_truth(), random_truth(3, 3, 1), random_truth(2, 4, 5)] {
        let r = voronoi_loss(&truth, &truth, truth.len() - 1).expect("loss");
        assert_eq!(r.total, 0.0);
        assert_eq!(
            (r.mass, r.exact, r.over, r.shift_beta0),
            (0.0, 0.0, 0.0, 0.0)
        );
        assert!(r.shift_beta1.iter().all(|v| *v == 0.0));
        assert_eq!(r.reference_group, vec![truth.len() - 1]);
        let cells: Vec<Vec<usize>> = (0..truth.len()).map(|j| vec![j]).collect();
        assert_eq!(r.cells, cells);
        // and in the raw form
        assert_eq!(voronoi_d1(&truth, &truth).expect("d1").total, 0.0);
    }
    // a component split in two halves with the same θ is also the truth (mass preserved)
    let truth = theory_truth();
    let split = over_specified(&truth, 0, 0.0);
    let r = voronoi_loss(&split, &truth, 1).expect("loss");
    assert!(r.total < 1e-12, "{r:?}");
    assert_eq!(r.cells, vec![vec![0, 2], vec![1]]);
}

#[test]
fn invariant_to_translation_and_relabelling() {
    let t1s = [array![3.0], array![-12.5]];
    for (truth, fitted) in [
        (
            theory_truth(),
            plus(&theory_truth(), &direction(&theory_truth(), 0.0), 0.05),
        ),
        (theory_truth(), over_specified(&theory_truth(), 0, 0.05)),
        (theory_truth(), over_specified(&theory_truth(), 1, 0.1)),
        (
            random_truth(3, 3, 2),
            over_specified(&random_truth(3, 3, 2), 1, 0.05),
        ),
    ] {
        let r = truth.len() - 1;
        let base = voronoi_loss(&fitted, &truth, r).expect("loss");
        assert!(base.total > 0.0);
        let d = truth.beta1.ncols();
        for (t0, t1) in [(0.7, t1s[0].clone()), (-4.0, t1s[1].clone())] {
            let t1 = Array1::from_shape_fn(d, |c| t1[0] * (1.0 + c as f64));
            let moved = voronoi_loss(&translate(&fitted, t0, &t1), &truth, r).expect("loss");
            for (a, b) in [
                (base.total, moved.total),
                (base.mass, moved.mass),
                (base.exact, moved.exact),
                (base.over, moved.over),
            ] {
                assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{a} vs {b}");
            }
            assert_eq!(base.cells, moved.cells);
            // the raw D₁ is not invariant: the alignment is what makes it so
            let raw = voronoi_d1(&translate(&fitted, t0, &t1), &truth)
                .expect("d1")
                .total;
            assert!((raw - base.total).abs() > 1e-3);
        }
        let k = fitted.len();
        for order in [
            (0..k).rev().collect::<Vec<_>>(),
            (1..k).chain([0]).collect(),
        ] {
            let p = voronoi_loss(&permute(&fitted, &order), &truth, r).expect("loss");
            assert!((p.total - base.total).abs() <= 1e-12 * base.total.max(1.0));
            // the same cells, relabelled
            let mut relabelled: Vec<Vec<usize>> = p
                .cells
                .iter()
                .map(|c| {
                    let mut v: Vec<usize> = c.iter().map(|&i| order[i]).collect();
                    v.sort_unstable();
                    v
                })
                .collect();
            relabelled.iter_mut().for_each(|c| c.sort_unstable());
            assert_eq!(relabelled, base.cells);
        }
    }
}

#[test]
fn grows_along_a_ray() {
    for (truth, v) in [
        (theory_truth(), direction(&theory_truth(), 0.0)),
        (
            random_truth(3, 3, 4),
            direction(&random_truth(3, 3, 4), 1.0),
        ),
    ] {
        let r = truth.len() - 1;
        let mut last = 0.0;
        for s in [1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.3] {
            let l = voronoi_loss(&plus(&truth, &v, s), &truth, r)
                .expect("loss")
                .total;
            assert!(l > last, "s = {s}: {l} <= {last}");
            last = l;
        }
    }
    // over-fitted: the split's cell grows quadratically
    let truth = theory_truth();
    let mut last = 0.0;
    for s in [1e-3, 1e-2, 0.1, 0.3] {
        let l = voronoi_loss(&over_specified(&truth, 0, s), &truth, 1)
            .expect("loss")
            .total;
        assert!(l > last, "s = {s}");
        last = l;
    }
}

#[test]
fn terms_by_hand() {
    // truth: two components in d = 1, q = 1; the second is the reference (0, 0)
    let truth = MixingMeasure {
        beta0: array![0.5, 0.0],
        beta1: array![[2.0], [0.0]],
        eta: array![[1.0], [-1.0]],
    };
    // fitted: component 0 exactly fitted with an error, component 1 split in two (over-fitted)
    let fitted = MixingMeasure {
        beta0: array![0.5, (0.4f64).ln(), (0.6f64).ln()],
        beta1: array![[2.3], [0.1], [-0.1]],
        eta: array![[1.4], [-1.2], [-0.8]],
    };
    let smoe_theory::VoronoiTerms {
        total,
        mass,
        exact,
        over,
        cells,
    } = voronoi_d1(&fitted, &truth).expect("d1");
    assert_eq!(cells, vec![vec![0], vec![1, 2]]);
    assert!(mass.abs() < 1e-15);
    let e05 = 0.5f64.exp();
    assert!((exact - e05 * (0.3 + 0.4)).abs() < 1e-14, "{exact}");
    let want_over = 0.4 * (0.01 + 0.04) + 0.6 * (0.01 + 0.04);
    assert!((over - want_over).abs() < 1e-14, "{over}");
    assert!((total - (exact + over)).abs() < 1e-15);
    // aligned: R = {1, 2} (η nearest to -1), its mass is already 1 = e^0 and its weighted
    // slope 0.4·0.1 + 0.6·(-0.1) = -0.02, so c₀ = 0 and c₁ = 0.02
    let r = voronoi_loss(&fitted, &truth, 1).expect("loss");
    assert_eq!(r.reference_group, vec![1, 2]);
    assert!(r.shift_beta0.abs() < 1e-15);
    assert!((r.shift_beta1[0] - 0.02).abs() < 1e-15);
    let want_exact = e05 * (0.32 + 0.4);
    let want_over = 0.4 * (0.12f64.powi(2) + 0.04) + 0.6 * (0.08f64.powi(2) + 0.04);
    assert!((r.exact - want_exact).abs() < 1e-14 && (r.over - want_over).abs() < 1e-14);
    // an empty cell counts its whole mass
    let one = MixingMeasure {
        beta0: array![0.0],
        beta1: array![[0.0]],
        eta: array![[-1.0]],
    };
    let mass = voronoi_d1(&one, &truth).expect("d1").mass;
    assert!((mass - e05).abs() < 1e-15);
}

#[test]
fn bad_measures_are_errors() {
    let truth = theory_truth();
    let wide = random_truth(2, 2, 0);
    assert!(matches!(
        voronoi_loss(&wide, &truth, 1),
        Err(TheoryError::Shape(_))
    ));
    assert!(matches!(
        voronoi_loss(&truth, &truth, 2),
        Err(TheoryError::Recovery { .. })
    ));
    let mut nan = truth.clone();
    nan.eta[[0, 0]] = f64::NAN;
    assert!(matches!(
        voronoi_d1(&nan, &truth),
        Err(TheoryError::NonFinite { .. })
    ));
    let empty = MixingMeasure {
        beta0: Array1::zeros(0),
        beta1: Array2::zeros((0, 1)),
        eta: Array2::zeros((0, 2)),
    };
    assert!(voronoi_d1(&empty, &truth).is_err());
    let ragged = MixingMeasure {
        beta0: array![0.0],
        ..truth.clone()
    };
    assert!(voronoi_d1(&ragged, &truth).is_err());
}

#[test]
fn a_model_at_the_teacher_has_zero_loss_and_other_models_are_refused() {
    let teacher = SoftmaxGatedTeacher::theory(ExpertForm::Sigmoid);
    let truth = MixingMeasure::from_teacher(&teacher);
    let mut model =
        build_model::<f64>(&MixingMeasure::model_config(2, ExpertForm::Sigmoid), 1, 0).unwrap();
    truth.write_to_model(model.as_mut()).expect("write");
    let (read, form) = MixingMeasure::from_model(model.as_ref()).expect("read");
    assert_eq!((read, form), (truth.clone(), ExpertForm::Sigmoid));
    assert_eq!(
        model_voronoi_loss(model.as_ref(), &teacher).unwrap().total,
        0.0
    );
    // the model computes the teacher's f*
    let x = array![[0.0], [0.3], [0.9]];
    let out = model.infer(x.view()).unwrap();
    let (f, _) = teacher.output(x.view());
    for (a, b) in out.f.iter().zip(&f) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    // linear experts against a sigmoid teacher, and the other shapes, are refused
    let lin =
        build_model::<f64>(&MixingMeasure::model_config(2, ExpertForm::Linear), 1, 0).unwrap();
    assert!(matches!(
        model_voronoi_loss(lin.as_ref(), &teacher),
        Err(TheoryError::Recovery { .. })
    ));
    let mut others = Vec::new();
    for (k, gate) in [(1, GateConfig::TopkSoftmax), (2, GateConfig::NoisyTopk)] {
        let ModelConfig::Sparse(mut c) = MixingMeasure::model_config(2, ExpertForm::Sigmoid) else {
            unreachable!("model_config builds a sparse config")
        };
        (c.k, c.gate) = (k, gate);
        others.push(c);
    }
    let ModelConfig::Sparse(base) = MixingMeasure::model_config(2, ExpertForm::Sigmoid) else {
        unreachable!("model_config builds a sparse config")
    };
    others.push(SparseConfig {
        router: RouterConfig::Mlp { hidden: 3 },
        ..base.clone()
    });
    others.push(SparseConfig {
        capacity_factor: Some(1.0),
        ..base.clone()
    });
    others.push(SparseConfig {
        expert: ExpertConfig {
            depth: 1,
            width: 3,
            ..base.expert
        },
        ..base.clone()
    });
    for c in others {
        let m = build_model::<f64>(&ModelConfig::Sparse(c.clone()), 1, 0).unwrap();
        let e = MixingMeasure::from_model(m.as_ref()).unwrap_err();
        assert!(matches!(e, TheoryError::Recovery { .. }), "{c:?}: {e}");
        assert!(e.to_string().starts_with("parameter recovery"), "{e}");
    }
    // k = T with topk_softmax is the full softmax too
    let ModelConfig::Sparse(c) = MixingMeasure::model_config(2, ExpertForm::Sigmoid) else {
        unreachable!("model_config builds a sparse config")
    };
    let m = build_model::<f64>(
        &ModelConfig::Sparse(SparseConfig {
            gate: GateConfig::TopkSoftmax,
            ..c
        }),
        1,
        0,
    )
    .unwrap();
    assert!(MixingMeasure::from_model(m.as_ref()).is_ok());
}
