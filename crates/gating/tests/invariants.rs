//! Invariants of every gate, checked on random logits.

use ndarray::Array2;
use proptest::prelude::*;
use smoe_gating::{GateConfig, build_gate};

fn logits(b: usize, t: usize, seed: &[i32]) -> Array2<f64> {
    Array2::from_shape_fn((b, t), |(r, j)| {
        seed[(r * t + j) % seed.len()] as f64 * 0.37
    })
}

proptest! {
    #[test]
    fn weights_and_indices(
        b in 1usize..6,
        t in 1usize..9,
        kk in 1usize..9,
        vals in proptest::collection::vec(-5i32..5, 1..40),
    ) {
        let k = kk.min(t);
        let z = logits(b, t, &vals);
        let x = Array2::<f64>::zeros((b, 2));
        for cfg in [GateConfig::TopkSoftmax, GateConfig::SoftmaxTopk, GateConfig::NoisyTopk, GateConfig::DenseSoftmax] {
            let k = if cfg == GateConfig::DenseSoftmax { t } else { k };
            let gate = build_gate::<f64>(cfg, k, t, 2).expect("gate");
            let r = gate.route(x.view(), z.view(), None).expect("route");
            prop_assert_eq!(r.idx.dim(), (b, k));
            for row in 0..b {
                let idx: Vec<usize> = r.idx.row(row).to_vec();
                // distinct, in range, in descending score order with lower index first on ties
                for a in 0..k {
                    prop_assert!(idx[a] < t);
                    for c in a + 1..k {
                        prop_assert!(idx[a] != idx[c]);
                        let (za, zc) = (z[[row, idx[a]]], z[[row, idx[c]]]);
                        prop_assert!(za > zc || (za == zc && idx[a] < idx[c]));
                    }
                }
                // nothing outside the selection scores higher than the k-th
                let kth = z[[row, idx[k - 1]]];
                for j in (0..t).filter(|j| !idx.contains(j)) {
                    prop_assert!(z[[row, j]] < kth || (z[[row, j]] == kth && j > idx[k - 1]));
                }
                let sum: f64 = r.weight.row(row).sum();
                prop_assert!(r.weight.row(row).iter().all(|w| *w > 0.0));
                match cfg {
                    GateConfig::SoftmaxTopk => prop_assert!(sum <= 1.0 + 1e-12),
                    _ => prop_assert!((sum - 1.0).abs() < 1e-12, "{:?}: sum {}", cfg, sum),
                }
            }
        }
    }
}

#[test]
fn bad_k_is_a_typed_error() {
    use smoe_gating::GatingError;
    assert_eq!(
        build_gate::<f32>(GateConfig::TopkSoftmax, 0, 4, 2).unwrap_err(),
        GatingError::InvalidTopK { k: 0, experts: 4 }
    );
    assert_eq!(
        build_gate::<f32>(GateConfig::SoftmaxTopk, 5, 4, 2).unwrap_err(),
        GatingError::InvalidTopK { k: 5, experts: 4 }
    );
    assert_eq!(
        build_gate::<f32>(GateConfig::DenseSoftmax, 2, 4, 2).unwrap_err(),
        GatingError::InvalidTopK { k: 2, experts: 4 }
    );
    let gate = build_gate::<f64>(GateConfig::TopkSoftmax, 1, 3, 2).expect("gate");
    let mut z = Array2::<f64>::zeros((2, 3));
    z[[1, 2]] = f64::NAN;
    let x = Array2::<f64>::zeros((2, 2));
    assert_eq!(
        gate.route(x.view(), z.view(), None).unwrap_err(),
        GatingError::NonFinite { row: 1, expert: 2 }
    );
}
