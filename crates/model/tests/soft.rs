//! Soft MoE against a direct per-token implementation of THEORY §8.1 (plain loops, written
//! here independently of the batched code), the softmax invariants, and expert-subset
//! selection (Chung et al. Algorithm 1).

// the reference is written as plain index loops on purpose, close to the formulas
#![allow(clippy::needless_range_loop)]

use crate::common;
use common::{normal, rng};
use ndarray::{Array1, Array2};
use smoe_experts::ExpertConfig;
use smoe_model::soft::{SubsetRule, select_experts};
use smoe_model::{SoftConfig, SoftHead, SoftMoe};
use smoe_nn::ActivationKind;

/// One expert `d_tok → width → d_tok` with ReLU, by hand from its layers' weights.
fn expert_by_hand(model: &SoftMoe<f64>, j: usize, x: &[f64]) -> Vec<f64> {
    let mlp = &model.experts[j];
    let mut h = x.to_vec();
    for (l, layer) in mlp.layers.iter().enumerate() {
        let (out, inp) = layer.weight.dim();
        let mut next = vec![0.0; out];
        for o in 0..out {
            let mut a = layer.bias[o];
            for i in 0..inp {
                a += layer.weight[[o, i]] * h[i];
            }
            // every layer but the last is followed by ReLU
            next[o] = if l + 1 < mlp.layers.len() {
                a.max(0.0)
            } else {
                a
            };
        }
        h = next;
    }
    h
}

/// Soft MoE with one slot per expert, sum head, no normalisation, per input and per token:
/// L = XΦ, D = softmax over tokens per expert, C = softmax over experts per token,
/// slot j = Σ_i D_ij X_i, Y_i = Σ_j C_ij f_j(slot j), f = Σ_i Σ_t Y_it.
#[allow(clippy::type_complexity)]
fn reference(
    model: &SoftMoe<f64>,
    x: &Array2<f64>,
    m: usize,
) -> (Vec<f64>, Vec<Vec<Vec<f64>>>, Vec<Vec<Vec<f64>>>) {
    let n = model.phi.ncols();
    let dt = model.phi.nrows();
    let (mut fs, mut ds, mut cs) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..x.nrows() {
        let tok = |i: usize| -> Vec<f64> { (0..dt).map(|t| x[[r, i * dt + t]]).collect() };
        let mut l = vec![vec![0.0; n]; m];
        for i in 0..m {
            let xi = tok(i);
            for j in 0..n {
                l[i][j] = (0..dt).map(|t| xi[t] * model.phi[[t, j]]).sum();
            }
        }
        let mut d = vec![vec![0.0; n]; m];
        for j in 0..n {
            let z: f64 = (0..m).map(|i| l[i][j].exp()).sum();
            for i in 0..m {
                d[i][j] = l[i][j].exp() / z;
            }
        }
        let mut c = vec![vec![0.0; n]; m];
        for i in 0..m {
            let z: f64 = (0..n).map(|j| l[i][j].exp()).sum();
            for j in 0..n {
                c[i][j] = l[i][j].exp() / z;
            }
        }
        let mut outs = Vec::new();
        for j in 0..n {
            let mut slot = vec![0.0; dt];
            for i in 0..m {
                let xi = tok(i);
                for t in 0..dt {
                    slot[t] += d[i][j] * xi[t];
                }
            }
            outs.push(expert_by_hand(model, j, &slot));
        }
        let mut f = 0.0;
        for i in 0..m {
            for t in 0..dt {
                f += (0..n).map(|j| c[i][j] * outs[j][t]).sum::<f64>();
            }
        }
        fs.push(f);
        ds.push(d);
        cs.push(c);
    }
    (fs, ds, cs)
}

fn config(n: usize, p: usize, m: usize) -> SoftConfig {
    SoftConfig {
        experts: n,
        slots: p,
        tokens: m,
        expert: ExpertConfig {
            width: 6,
            ..Default::default()
        },
        head: SoftHead::Sum,
        normalize: false,
    }
}

#[test]
fn one_slot_per_expert_equals_the_per_token_reference() {
    let (n, m, dt) = (4, 3, 2);
    let model = SoftMoe::<f64>::new(&config(n, 1, m), m * dt, 7).expect("model");
    let x = normal(5, m * dt, &mut rng("reference"));
    let (f, routing) = model.infer(x.view()).expect("infer");
    let (fr, dr, cr) = reference(&model, &x, m);
    for r in 0..5 {
        assert!(
            (f[r] - fr[r]).abs() < 1e-12,
            "row {r}: {} vs {}",
            f[r],
            fr[r]
        );
        for i in 0..m {
            for j in 0..n {
                assert!((routing.dispatch[[r, i, j]] - dr[r][i][j]).abs() < 1e-14);
                assert!((routing.combine[[r, i, j]] - cr[r][i][j]).abs() < 1e-14);
            }
        }
    }
    // the outputs are not trivially equal (e.g. all zero)
    assert!(f.iter().any(|v| v.abs() > 1e-3), "{f:?}");
}

#[test]
fn dispatch_columns_and_combine_rows_sum_to_one() {
    for (p, normalize) in [(1, false), (2, false), (3, true)] {
        let cfg = SoftConfig {
            normalize,
            ..config(3, p, 4)
        };
        let model = SoftMoe::<f64>::new(&cfg, 8, 1).expect("model");
        let x = normal(7, 8, &mut rng("sums")).mapv(|v| 3.0 * v);
        let (_, routing) = model.infer(x.view()).expect("infer");
        let (b, m, np) = routing.combine.dim();
        assert_eq!((b, m, np), (7, 4, 3 * p));
        for r in 0..b {
            for c in 0..np {
                let s: f64 = (0..m).map(|i| routing.dispatch[[r, i, c]]).sum();
                assert!((s - 1.0).abs() < 1e-12, "dispatch column {c}: {s}");
            }
            for i in 0..m {
                let s: f64 = (0..np).map(|c| routing.combine[[r, i, c]]).sum();
                assert!((s - 1.0).abs() < 1e-12, "combine row {i}: {s}");
            }
            let cs: f64 = routing.column_sums().row(r).sum();
            assert!((cs - m as f64).abs() < 1e-12, "{cs}");
        }
    }
}

/// A model whose experts differ visibly (so zeroing one changes f).
fn subset_model(head: SoftHead, p: usize) -> SoftMoe<f64> {
    let cfg = SoftConfig {
        head,
        expert: ExpertConfig {
            width: 6,
            activation: ActivationKind::Prelu,
            ..Default::default()
        },
        ..config(5, p, 3)
    };
    SoftMoe::<f64>::new(&cfg, 6, 3).expect("model")
}

#[test]
fn largest_keeps_exactly_the_k_largest_column_sums_and_k_n_is_the_full_model() {
    for (head, p) in [(SoftHead::Sum, 1), (SoftHead::Linear, 2)] {
        let model = subset_model(head, p);
        let x = normal(9, 6, &mut rng("subset")).mapv(|v| 2.0 * v);
        let (full, routing) = model.infer(x.view()).expect("infer");
        let cs = routing.column_sums();
        for k in 1..=5 {
            for rule in [
                SubsetRule::Largest,
                SubsetRule::Smallest,
                SubsetRule::Random,
            ] {
                let out = model
                    .infer_with_rule(x.view(), rule, k, 11)
                    .expect("subset");
                assert_eq!(out.selected.dim(), (9, k));
                for r in 0..9 {
                    let mut sel = out.selected.row(r).to_vec();
                    sel.sort_unstable();
                    sel.dedup();
                    assert_eq!(sel.len(), k, "{rule:?}: distinct experts");
                    let kept_min = sel
                        .iter()
                        .map(|&j| cs[[r, j]])
                        .fold(f64::INFINITY, f64::min);
                    let kept_max = sel
                        .iter()
                        .map(|&j| cs[[r, j]])
                        .fold(f64::NEG_INFINITY, f64::max);
                    let others: Vec<f64> = (0..5)
                        .filter(|j| !sel.contains(j))
                        .map(|j| cs[[r, j]])
                        .collect();
                    match rule {
                        SubsetRule::Largest => {
                            assert!(others.iter().all(|&o| o <= kept_min), "row {r}")
                        }
                        SubsetRule::Smallest => {
                            assert!(others.iter().all(|&o| o >= kept_max), "row {r}")
                        }
                        _ => {}
                    }
                }
                // the output is the head of C Ŷ with only the kept experts' slot outputs:
                // by hand from the full per-expert runs (one expert at a time)
                let mut by_hand = Array1::<f64>::zeros(9);
                let bias = model.head.as_ref().map_or(0.0, |h| h.bias[0]);
                for r in 0..9 {
                    by_hand[r] = bias;
                    for &j in out.selected.row(r) {
                        let one = Array2::from_elem((1, 1), j);
                        let xr = x.row(r).insert_axis(ndarray::Axis(0));
                        by_hand[r] += model.infer_subset(xr, &one).expect("one")[0] - bias;
                    }
                }
                for r in 0..9 {
                    assert!((out.f[r] - by_hand[r]).abs() < 1e-12, "{rule:?} k = {k}");
                }
                if k == 5 {
                    for r in 0..9 {
                        assert!((out.f[r] - full[r]).abs() < 1e-12, "k = n: {rule:?}");
                    }
                } else if rule == SubsetRule::Largest {
                    assert!((&out.f - &full).iter().any(|v| v.abs() > 1e-9));
                }
            }
        }
    }
}

#[test]
fn smallest_is_the_ascending_sort_and_largest_is_not() {
    let model = subset_model(SoftHead::Sum, 1);
    let x = normal(20, 6, &mut rng("asc")).mapv(|v| 3.0 * v);
    let (_, routing) = model.infer(x.view()).expect("infer");
    let cs = routing.column_sums();
    let small = select_experts(SubsetRule::Smallest, cs.view(), 2, 0).expect("small");
    let large = select_experts(SubsetRule::Largest, cs.view(), 2, 0).expect("large");
    for r in 0..20 {
        // argsort ascending, first two: what Chung et al.'s Algorithm 2 writes
        let mut order: Vec<usize> = (0..5).collect();
        order.sort_by(|&a, &b| cs[[r, a]].total_cmp(&cs[[r, b]]));
        assert_eq!(small.row(r).to_vec(), order[..2].to_vec());
        order.reverse();
        assert_eq!(large.row(r).to_vec(), order[..2].to_vec());
        assert_ne!(small.row(r), large.row(r));
    }
}

#[test]
fn exhaustive_is_the_best_subset_and_matches_its_sparse_run() {
    let model = subset_model(SoftHead::Linear, 2);
    let x = normal(12, 6, &mut rng("exh"));
    let y: Vec<f64> = (0..12).map(|r| (r as f64 * 0.37).sin()).collect();
    let score = |r: usize, f: f64| (f - y[r]) * (f - y[r]);
    for k in [1, 2, 5] {
        let best = model.best_subsets(x.view(), k, &score).expect("exhaustive");
        let run = model.infer_subset(x.view(), &best.selected).expect("run");
        for r in 0..12 {
            assert!((best.f[r] - run[r]).abs() < 1e-12);
        }
        // no rule does better per row than the exhaustive one
        for rule in [
            SubsetRule::Largest,
            SubsetRule::Smallest,
            SubsetRule::Random,
        ] {
            let out = model.infer_with_rule(x.view(), rule, k, 5).expect("rule");
            for r in 0..12 {
                assert!(score(r, best.f[r]) <= score(r, out.f[r]) + 1e-12);
            }
        }
    }
    // n > 8 is refused
    let big = SoftMoe::<f64>::new(&config(9, 1, 3), 6, 0).expect("model");
    let e = big.best_subsets(x.view(), 2, &score).expect_err("n = 9");
    assert!(e.to_string().contains("at most 8"), "{e}");
    assert!(
        model
            .infer_with_rule(x.view(), SubsetRule::Largest, 6, 0)
            .is_err()
    );
}

#[test]
fn bad_inputs_and_calls_are_typed_errors() {
    use smoe_model::{AuxGrad, Model, ModelError};
    let mut m = SoftMoe::<f64>::new(&config(3, 1, 2), 4, 0).expect("model");
    let wrong = Array2::<f64>::zeros((2, 5));
    assert!(matches!(m.infer(wrong.view()), Err(ModelError::Shape(_))));
    let mut x = Array2::<f64>::zeros((3, 4));
    x[[1, 2]] = f64::NAN;
    assert!(matches!(
        m.infer(x.view()),
        Err(ModelError::NonFiniteInput { row: 1, col: 2 })
    ));
    assert!(matches!(
        SoftMoe::backward(&mut m, Array1::zeros(3).view()),
        Err(ModelError::NoForward)
    ));
    let x = Array2::<f64>::ones((3, 4));
    SoftMoe::forward(&mut m, x.view()).expect("forward");
    assert!(matches!(
        SoftMoe::backward(&mut m, Array1::zeros(2).view()),
        Err(ModelError::Shape(_))
    ));
    // auxiliary routing gradients are top-k concepts
    Model::forward(&mut m, x.view(), true).expect("forward");
    let dz = Array2::<f64>::zeros((3, 3));
    let e = Model::backward(
        &mut m,
        Array1::zeros(3).view(),
        AuxGrad {
            dweight: None,
            dlogits: Some(dz.view()),
        },
    )
    .expect_err("aux");
    assert!(
        matches!(e, ModelError::AuxNotSupported { kind: "soft" }),
        "{e}"
    );
    // an empty batch is fine
    let empty = Array2::<f64>::zeros((0, 4));
    assert_eq!(m.infer(empty.view()).expect("empty").0.len(), 0);
    // subsets naming an expert that does not exist
    let sel = Array2::from_elem((3, 1), 7usize);
    assert!(matches!(
        m.infer_subset(x.view(), &sel),
        Err(ModelError::Shape(_))
    ));
}
