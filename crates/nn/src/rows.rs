//! Row gathers: a mini-batch from a data set, an expert's group from a batch.

use ndarray::{Array2, ArrayView2};

use crate::Float;

/// `out[p] = x[rows[p]]`, `[rows.len(), d]`: as `x.select(Axis(0), rows)`, by one copy per
/// row (ndarray's `select` concatenates row views, several times slower for narrow rows).
///
/// # Panics
/// If an index is out of bounds, as `select` does.
pub fn select_rows<F: Float>(x: ArrayView2<'_, F>, rows: &[usize]) -> Array2<F> {
    let d = x.ncols();
    let mut out = Array2::zeros((rows.len(), d));
    let x = x.as_standard_layout();
    if let (Some(src), Some(dst)) = (x.as_slice(), out.as_slice_mut()) {
        for (o, &r) in dst.chunks_exact_mut(d.max(1)).zip(rows) {
            assert!(r < x.nrows(), "select_rows: row {r} of {}", x.nrows());
            o.copy_from_slice(&src[r * d..(r + 1) * d]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Axis, array};

    #[test]
    fn equals_ndarray_select() {
        let x = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
        let rows = [2, 0, 2, 1];
        assert_eq!(select_rows(x.view(), &rows), x.select(Axis(0), &rows));
        // a transposed (non-standard) view
        assert_eq!(select_rows(x.t(), &rows), x.t().select(Axis(0), &rows));
        assert_eq!(select_rows(x.view(), &[]).dim(), (0, 3));
    }

    #[test]
    #[should_panic(expected = "row 3 of 3")]
    fn out_of_range_panics() {
        let x = Array2::<f64>::zeros((3, 2));
        let _ = select_rows(x.view(), &[3]);
    }
}
