//! Auxiliary routing losses, each with its value and its exact gradient.
//!
//! **Load-balancing convention** ([`BALANCE_CONVENTION`]): Switch-style
//! `α · T · Σ_j frac_j · P_j`, where `frac_j` is the share of the batch's *(input, slot)*
//! assignments — all k slots, divided by `b·k` — that went to expert j (dropped ones
//! included, as the router chose them), and `P_j` the batch mean of the full softmax
//! probability of j. It equals α at perfect balance for every k, so its scale does not move
//! with k. Only `P` carries gradient (`frac` is a count).

use ndarray::{Array2, ArrayView2};
use smoe_nn::Float;
use smoe_nn::kernels::dot;

/// The balance-loss convention, written into every run record.
pub const BALANCE_CONVENTION: &str = "switch: alpha*T*sum_j frac_j*P_j; frac_j over all k slots / (b*k), P_j = batch mean of full softmax(z)_j; equals alpha at perfect balance";

/// Row-wise softmax of `z [b, T]`, computed in f64.
pub fn softmax_rows<F: Float>(z: ArrayView2<'_, F>) -> Array2<f64> {
    smoe_gating::softmax_rows(z.mapv(|v| v.to_f64c()).view())
}

/// Switch load balancing: value `α T Σ_j frac_j P_j` and `dL/dz [b, T]`
/// (`α T / b · p_i (frac_i − Σ_j frac_j p_j)` per row).
///
/// # Shapes
/// `z [b, T]`, `idx [b, k]`.
pub fn balance<F: Float>(
    z: ArrayView2<'_, F>,
    idx: &Array2<usize>,
    alpha: f64,
) -> (f64, Array2<F>) {
    let (b, t) = z.dim();
    let k = idx.ncols();
    let p = softmax_rows(z);
    let mut frac = vec![0.0f64; t];
    for &j in idx.iter() {
        frac[j] += 1.0 / (b * k).max(1) as f64;
    }
    // column sums in row order (each column summed first to last, as `column(j).sum()`)
    let mut pmean = vec![0.0f64; t];
    for row in p.rows() {
        for (m, &v) in pmean.iter_mut().zip(row.iter()) {
            *m += v;
        }
    }
    for m in &mut pmean {
        *m /= b.max(1) as f64;
    }
    let value = alpha * t as f64 * frac.iter().zip(&pmean).map(|(f, p)| f * p).sum::<f64>();
    let scale = alpha * t as f64 / b.max(1) as f64;
    let mut dz = Array2::<F>::zeros((b, t));
    for (prow, mut drow) in p.rows().into_iter().zip(dz.rows_mut()) {
        let s = prow
            .as_slice()
            .map_or_else(|| prow.dot(&ndarray::aview1(&frac)), |r| dot(r, &frac));
        for ((d, &pi), &fi) in drow.iter_mut().zip(prow.iter()).zip(&frac) {
            *d = F::from_f64c(scale * pi * (fi - s));
        }
    }
    (value, dz)
}

/// Router z-loss (ST-MoE): `β · mean_r (logsumexp(z_r))²` and `dL/dz = 2β lse_r softmax(z_r) / b`.
pub fn z_loss<F: Float>(z: ArrayView2<'_, F>, beta: f64) -> (f64, Array2<F>) {
    let b = z.nrows().max(1) as f64;
    let mut value = 0.0;
    let mut dz = Array2::<F>::zeros(z.dim());
    for (row, mut drow) in z.rows().into_iter().zip(dz.rows_mut()) {
        let max = row
            .iter()
            .fold(f64::NEG_INFINITY, |m, &v| m.max(v.to_f64c()));
        let sum: f64 = row.iter().map(|&v| (v.to_f64c() - max).exp()).sum();
        let lse = max + sum.ln();
        value += lse * lse;
        for (d, &v) in drow.iter_mut().zip(row.iter()) {
            *d = F::from_f64c(2.0 * beta * lse * (v.to_f64c() - lse).exp() / b);
        }
    }
    (beta * value / b, dz)
}

/// Importance loss (Shazeer et al. 2017): `γ · CV²(I)` with `I_j = Σ_r w_rj` the total gate
/// weight of expert j in the batch (population variance). Returns the value and
/// `dL/dweight [b, k]` (`2γ / (T Ī²) · (I_j − ΣI² / (T Ī))` at each slot's expert).
pub fn importance<F: Float>(
    weight: ArrayView2<'_, F>,
    idx: &Array2<usize>,
    experts: usize,
    gamma: f64,
) -> (f64, Array2<F>) {
    let t = experts as f64;
    let mut imp = vec![0.0f64; experts];
    for (w, &j) in weight.iter().zip(idx.iter()) {
        imp[j] += w.to_f64c();
    }
    let mean = imp.iter().sum::<f64>() / t;
    let mut dw = Array2::<F>::zeros(weight.dim());
    if mean <= 0.0 {
        return (0.0, dw);
    }
    let s2: f64 = imp.iter().map(|v| v * v).sum();
    let var = s2 / t - mean * mean;
    let value = gamma * var / (mean * mean);
    let grad: Vec<f64> = imp
        .iter()
        .map(|&ij| gamma * 2.0 / (t * mean * mean) * (ij - s2 / (t * mean)))
        .collect();
    for (d, &j) in dw.iter_mut().zip(idx.iter()) {
        *d = F::from_f64c(grad[j]);
    }
    (value, dw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn balance_by_hand_and_at_perfect_balance() {
        // equal logits: P_j = 1/T; two rows to two different experts: frac = 1/2 each
        let z = array![[0.0f32, 0.0], [0.0, 0.0]];
        let idx = array![[0usize], [1]];
        let (v, dz) = balance(z.view(), &idx, 0.1);
        assert!((v - 0.1).abs() < 1e-12);
        assert!(dz.iter().all(|d| d.abs() < 1e-9));
        // all to expert 0, which is also favoured: frac = (1, 0), P_0 = σ(1)
        let z = array![[1.0f32, 0.0], [1.0, 0.0]];
        let idx = array![[0usize], [0]];
        let (v, _) = balance(z.view(), &idx, 1.0);
        let p0 = 1.0 / (1.0 + (-1.0f64).exp());
        assert!((v - 2.0 * p0).abs() < 1e-7);
    }

    /// Finite differences of each auxiliary loss.
    #[test]
    fn gradients_match_finite_differences() {
        let z = array![[0.3f32, -0.2, 0.9], [1.1, 0.4, -0.7], [0.0, 0.2, 0.1]];
        let idx = array![[2usize, 0], [0, 1], [1, 2]];
        let h = 1e-3f32;
        for which in 0..2 {
            let f = |z: &Array2<f32>| -> (f64, Array2<f32>) {
                if which == 0 {
                    balance(z.view(), &idx, 0.7)
                } else {
                    z_loss(z.view(), 0.3)
                }
            };
            let (_, g) = f(&z);
            for r in 0..3 {
                for c in 0..3 {
                    let (mut up, mut dn) = (z.clone(), z.clone());
                    up[[r, c]] += h;
                    dn[[r, c]] -= h;
                    let num = (f(&up).0 - f(&dn).0) / (2.0 * h as f64);
                    assert!(
                        (num - g[[r, c]] as f64).abs() < 2e-4,
                        "{which} {r} {c}: {num} vs {}",
                        g[[r, c]]
                    );
                }
            }
        }
        let w = array![[0.6f32, 0.4], [0.7, 0.3], [0.5, 0.5]];
        let (_, g) = importance(w.view(), &idx, 3, 0.5);
        for r in 0..3 {
            for s in 0..2 {
                let (mut up, mut dn) = (w.clone(), w.clone());
                up[[r, s]] += h;
                dn[[r, s]] -= h;
                let num = (importance(up.view(), &idx, 3, 0.5).0
                    - importance(dn.view(), &idx, 3, 0.5).0)
                    / (2.0 * h as f64);
                assert!((num - g[[r, s]] as f64).abs() < 2e-4);
            }
        }
    }
}
