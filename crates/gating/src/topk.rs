//! Deterministic top-k selection.

use ndarray::{Array2, ArrayView2};
use smoe_nn::Float;

/// Writes into `out` (length k) the indices of the k largest `scores`, in descending order;
/// ties go to the lower index. Cost O(T k), which beats sorting for the small k of MoE.
pub fn topk_indices<F: Float>(scores: &[F], out: &mut [usize]) {
    let k = out.len();
    if k == 0 || scores.is_empty() {
        return;
    }
    if k == 1 {
        // argmax, the first of equal maxima: a conditional move per score, no branches
        let mut best = 0;
        for (i, &s) in scores.iter().enumerate().skip(1) {
            best = if scores[best] < s { i } else { best };
        }
        out[0] = best;
        return;
    }
    if k == 2 && scores.len() >= 2 {
        top2(scores, out);
        return;
    }
    let mut len = 0;
    for (i, &s) in scores.iter().enumerate() {
        // the common case once the list is full: not above its last entry
        if len == k && s.partial_cmp(&scores[out[k - 1]]) != Some(std::cmp::Ordering::Greater) {
            continue;
        }
        // position among the current top list: after every entry >= s (earlier index wins ties)
        let mut pos = len;
        while pos > 0 && scores[out[pos - 1]] < s {
            pos -= 1;
        }
        if pos >= k {
            continue;
        }
        let end = if len < k { len } else { k - 1 };
        let mut j = end;
        while j > pos {
            out[j] = out[j - 1];
            j -= 1;
        }
        out[pos] = i;
        if len < k {
            len += 1;
        }
    }
}

/// [`topk_indices`] for k = 2 and at least two scores, the two best kept in registers.
fn top2<F: Float>(scores: &[F], out: &mut [usize]) {
    let (mut i1, mut v1, mut i2, mut v2) = if scores[0] < scores[1] {
        (1, scores[1], 0, scores[0])
    } else {
        (0, scores[0], 1, scores[1])
    };
    for (i, &s) in scores.iter().enumerate().skip(2) {
        if v2 < s {
            if v1 < s {
                (i2, v2) = (i1, v1);
                (i1, v1) = (i, s);
            } else {
                (i2, v2) = (i, s);
            }
        }
    }
    out[0] = i1;
    out[1] = i2;
}

/// Top-k of every row of `scores [b, T]` as `[b, k]`.
pub fn select_topk<F: Float>(scores: ArrayView2<'_, F>, k: usize) -> Array2<usize> {
    let scores = scores.as_standard_layout();
    let t = scores.ncols();
    let mut idx = Array2::zeros((scores.nrows(), k));
    if t == 0 || k == 0 {
        return idx;
    }
    let (Some(src), Some(dst)) = (scores.as_slice(), idx.as_slice_mut()) else {
        unreachable!("standard layout arrays are contiguous")
    };
    for (row, out) in src.chunks_exact(t).zip(dst.chunks_exact_mut(k)) {
        topk_indices(row, out);
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ties_go_to_the_lower_index() {
        let mut out = [0; 2];
        topk_indices(&[1.0, 2.0, 2.0, 0.5], &mut out);
        assert_eq!(out, [1, 2]);
        topk_indices(&[3.0, 3.0, 3.0], &mut out);
        assert_eq!(out, [0, 1]);
    }

    proptest! {
        #[test]
        fn matches_a_stable_sort(v in proptest::collection::vec(-3i32..3, 1..20), kk in 1usize..20) {
            let scores: Vec<f64> = v.iter().map(|&x| x as f64).collect();
            let k = kk.min(scores.len());
            let mut order: Vec<usize> = (0..scores.len()).collect();
            // stable sort by descending score keeps lower indices first on ties
            order.sort_by(|&a, &b| scores[b].partial_cmp(&scores[a]).unwrap_or(std::cmp::Ordering::Equal));
            let mut out = vec![0; k];
            topk_indices(&scores, &mut out);
            prop_assert_eq!(&out[..], &order[..k]);
        }

        #[test]
        fn the_k1_and_k2_paths_match_the_general_one(
            v in proptest::collection::vec(-2i32..2, 1..24),
            k in 1usize..=2,
        ) {
            let scores: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            let k = k.min(scores.len());
            let mut order: Vec<usize> = (0..scores.len()).collect();
            order.sort_by(|&a, &b| scores[b].partial_cmp(&scores[a]).unwrap_or(std::cmp::Ordering::Equal));
            let mut out = vec![0; k];
            topk_indices(&scores, &mut out);
            prop_assert_eq!(&out[..], &order[..k]);
        }
    }
}
