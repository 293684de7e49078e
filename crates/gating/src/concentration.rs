//! [`topk_mass`]: how concentrated a gate's weights are, the measure of "as concentrated as
//! top-k" for gates that can be dense (dense-to-sparse, dense softmax, sigmoid).

use ndarray::ArrayView2;
use smoe_nn::Float;

use crate::{GatingError, Result};

/// The mean top-k mass of the weight rows `w [b, n]`:
/// `M_k = (1/b) Σ_rows (Σ of the k largest w_rj) / (Σ_j w_rj)`.
///
/// For a gate whose row weights sum to 1 (a softmax over all T, `n = T`) this is the mean
/// weight the k largest experts carry; `M_k = 1` exactly for a top-k gate (k of the T weights
/// nonzero), `M_k = k/T` for uniform weights. smoe calls routing "as concentrated as top-k"
/// when `M_k ≥ 0.99`. Weights are expected non-negative; a row whose total is not positive
/// (all zero) counts as fully concentrated (1). An empty batch gives 1.
///
/// # Errors
/// [`GatingError::InvalidTopK`] unless `1 ≤ k ≤ n`.
pub fn topk_mass<F: Float>(w: ArrayView2<'_, F>, k: usize) -> Result<f64> {
    let n = w.ncols();
    if k == 0 || k > n {
        return Err(GatingError::InvalidTopK { k, experts: n });
    }
    if w.nrows() == 0 {
        return Ok(1.0);
    }
    let mut row = Vec::with_capacity(n);
    let mut sum = 0.0;
    for r in w.rows() {
        row.clear();
        row.extend(r.iter().map(|v| v.to_f64c()));
        let total: f64 = row.iter().sum();
        row.sort_unstable_by(|a, b| b.total_cmp(a));
        let top: f64 = row[..k].iter().sum();
        sum += if total > 0.0 { top / total } else { 1.0 };
    }
    Ok(sum / w.nrows() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn uniform_peaked_and_errors() {
        let w = array![[0.25_f64, 0.25, 0.25, 0.25], [0.0, 0.9, 0.1, 0.0]];
        // row 0: 2/4; row 1: 1.0
        assert!((topk_mass(w.view(), 2).unwrap() - 0.75).abs() < 1e-15);
        assert!((topk_mass(w.view(), 1).unwrap() - (0.25 + 0.9) / 2.0).abs() < 1e-15);
        assert_eq!(topk_mass(w.view(), 4).unwrap(), 1.0);
        assert!(topk_mass(w.view(), 0).is_err());
        assert!(topk_mass(w.view(), 5).is_err());
    }
}
