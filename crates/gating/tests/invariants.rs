//! Invariants of every gate of the catalogue ([`GateConfig::examples`]), checked on random
//! logits: each gate is held to exactly what its [`GateConfig::properties`] declare, so a new
//! gate is tested by adding it to the catalogue.

use ndarray::Array2;
use proptest::prelude::*;
use smoe_gating::{GateConfig, GatingError, Routing, build_gate};

fn logits(b: usize, t: usize, seed: &[i32]) -> Array2<f64> {
    Array2::from_shape_fn((b, t), |(r, j)| {
        seed[(r * t + j) % seed.len()] as f64 * 0.37
    })
}

/// Standard-normal-ish noise with many distinct values, from the same seed values.
fn noise(b: usize, t: usize, seed: &[i32]) -> Array2<f64> {
    Array2::from_shape_fn((b, t), |(r, j)| {
        ((r * t + j) as f64 * 1.3 + seed[(r + 3 * j) % seed.len()] as f64).sin()
    })
}

/// Every row's indices are distinct and in range, and its weights satisfy what `cfg` declares.
fn check_weights(cfg: &GateConfig, r: &Routing<f64>, t: usize) -> Result<(), TestCaseError> {
    let p = cfg.properties();
    let k = r.idx.ncols();
    for row in 0..r.idx.nrows() {
        let idx: Vec<usize> = r.idx.row(row).to_vec();
        for a in 0..k {
            prop_assert!(idx[a] < t, "{:?}: index {} out of range", cfg, idx[a]);
            for c in a + 1..k {
                prop_assert!(idx[a] != idx[c], "{:?}: repeated index {}", cfg, idx[a]);
            }
        }
        let w = r.weight.row(row);
        prop_assert!(w.iter().all(|w| w.is_finite()), "{:?}: {}", cfg, w);
        let sum: f64 = w.sum();
        if p.weights_positive {
            prop_assert!(w.iter().all(|w| *w > 0.0), "{:?}: weights {}", cfg, w);
        }
        if p.weights_sum_to_one {
            prop_assert!((sum - 1.0).abs() < 1e-12, "{:?}: sum {}", cfg, sum);
        }
        if p.weights_at_most_one {
            prop_assert!(sum <= 1.0 + 1e-12, "{:?}: sum {}", cfg, sum);
        }
    }
    Ok(())
}

/// The selection is the top-k of `z`, in descending order with lower index first on ties.
fn check_top_k(cfg: &GateConfig, r: &Routing<f64>, z: &Array2<f64>) -> Result<(), TestCaseError> {
    let (k, t) = (r.idx.ncols(), z.ncols());
    for row in 0..z.nrows() {
        let idx: Vec<usize> = r.idx.row(row).to_vec();
        for a in 0..k {
            for c in a + 1..k {
                let (za, zc) = (z[[row, idx[a]]], z[[row, idx[c]]]);
                prop_assert!(
                    za > zc || (za == zc && idx[a] < idx[c]),
                    "{:?}: order {:?}",
                    cfg,
                    idx
                );
            }
        }
        // nothing outside the selection scores higher than the k-th
        let kth = z[[row, idx[k - 1]]];
        for j in (0..t).filter(|j| !idx.contains(j)) {
            prop_assert!(
                z[[row, j]] < kth || (z[[row, j]] == kth && j > idx[k - 1]),
                "{:?}: expert {} left out of {:?}",
                cfg,
                j,
                idx
            );
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn weights_and_indices(
        b in 1usize..6,
        t in 1usize..9,
        kk in 1usize..9,
        vals in proptest::collection::vec(-5i32..5, 1..40),
    ) {
        let z = logits(b, t, &vals);
        let eps = noise(b, t, &vals);
        let x = Array2::<f64>::zeros((b, 2));
        for cfg in GateConfig::examples() {
            let p = cfg.properties();
            let k = if p.needs_k_equal_t { t } else { kk.min(t) };
            if let Err(e) = cfg.validate(k, t) {
                // a gate with a layout (hierarchical groups) refuses some (k, T), with the
                // same typed error from build_gate
                prop_assert!(
                    matches!(e, GatingError::InvalidConfig { .. } | GatingError::KNotSupported { .. }),
                    "{:?}: {}",
                    cfg,
                    e
                );
                prop_assert_eq!(build_gate::<f64>(&cfg, k, t, 2).unwrap_err(), e);
                continue;
            }
            let gate = build_gate::<f64>(&cfg, k, t, 2).expect("gate");
            prop_assert_eq!(gate.k(), k);
            prop_assert_eq!(gate.num_experts(), t);
            prop_assert_eq!(gate.uses_noise(), p.uses_noise, "{:?}: uses_noise", cfg);
            let r = gate.route(x.view(), z.view(), None).expect("route");
            prop_assert_eq!(r.idx.dim(), (b, k));
            prop_assert_eq!(r.weight.dim(), (b, k));
            check_weights(&cfg, &r, t)?;
            if p.selects_top_k_logits {
                check_top_k(&cfg, &r, &z)?;
            }
            if p.uses_noise {
                // training routing: the selection follows the noisy scores, the weights still
                // satisfy every declared property
                let r = gate.route(x.view(), z.view(), Some(eps.view())).expect("noisy route");
                prop_assert_eq!(r.idx.dim(), (b, k));
                check_weights(&cfg, &r, t)?;
            }
        }
    }
}

/// A gate that declares it needs k = T refuses k < T with `KNotSupported` (naming k = T);
/// a hierarchical gate refuses exactly the k its layout cannot split (k not a multiple of
/// `top_groups`, or more than a group holds); every other gate builds at every 1 ≤ k ≤ T.
#[test]
fn declared_k_support_holds() {
    let t = 4;
    for cfg in GateConfig::examples() {
        for k in 1..=t {
            let built = build_gate::<f64>(&cfg, k, t, 2);
            if let GateConfig::HierarchicalSoftmax { groups, top_groups } = cfg {
                let kg = top_groups.unwrap_or(groups);
                let fits = k % kg == 0 && k / kg <= t / groups;
                match built {
                    Ok(g) => assert!(fits && g.k() == k, "{cfg:?} k = {k} built"),
                    Err(e) => assert!(
                        !fits && matches!(e, GatingError::KNotSupported { .. }),
                        "{cfg:?} k = {k}: {e}"
                    ),
                }
            } else if cfg.properties().needs_k_equal_t && k < t {
                match built {
                    Err(e @ GatingError::KNotSupported { .. }) => {
                        assert!(e.to_string().contains("k = T"), "{cfg:?}: {e}");
                    }
                    other => panic!("{cfg:?} k = {k}: expected KNotSupported, got {other:?}"),
                }
            } else {
                let gate = built.unwrap_or_else(|e| panic!("{cfg:?} k = {k}: {e}"));
                assert_eq!((gate.k(), gate.num_experts()), (k, t));
            }
        }
    }
}

#[test]
fn bad_k_is_a_typed_error() {
    for cfg in GateConfig::examples() {
        assert_eq!(
            build_gate::<f32>(&cfg, 0, 4, 2).unwrap_err(),
            GatingError::InvalidTopK { k: 0, experts: 4 },
            "{cfg:?}"
        );
        assert_eq!(
            build_gate::<f32>(&cfg, 5, 4, 2).unwrap_err(),
            GatingError::InvalidTopK { k: 5, experts: 4 },
            "{cfg:?}"
        );
    }
    assert!(matches!(
        build_gate::<f32>(&GateConfig::DenseSoftmax, 2, 4, 2).unwrap_err(),
        GatingError::KNotSupported {
            k: 2,
            experts: 4,
            ..
        }
    ));
    assert!(matches!(
        build_gate::<f32>(
            &GateConfig::Custom {
                name: "mine".into()
            },
            1,
            4,
            2
        )
        .unwrap_err(),
        GatingError::InvalidConfig { .. }
    ));
    let gate = build_gate::<f64>(&GateConfig::TopkSoftmax, 1, 3, 2).expect("gate");
    let mut z = Array2::<f64>::zeros((2, 3));
    z[[1, 2]] = f64::NAN;
    let x = Array2::<f64>::zeros((2, 2));
    assert_eq!(
        gate.route(x.view(), z.view(), None).unwrap_err(),
        GatingError::NonFinite { row: 1, expert: 2 }
    );
    // every gate of the catalogue refuses a non-finite logit
    for cfg in GateConfig::examples() {
        let (k, t) = match &cfg {
            GateConfig::HierarchicalSoftmax { .. } => (2, 4),
            _ if cfg.properties().needs_k_equal_t => (3, 3),
            _ => (1, 3),
        };
        let gate = build_gate::<f64>(&cfg, k, t, 2).expect("gate");
        let mut z = Array2::<f64>::zeros((2, t));
        z[[1, 2]] = f64::NAN;
        assert_eq!(
            gate.route(x.view(), z.view(), None).unwrap_err(),
            GatingError::NonFinite { row: 1, expert: 2 },
            "{cfg:?}"
        );
    }
}
