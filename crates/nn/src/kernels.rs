//! Small dense kernels written so the compiler vectorises them.
//!
//! The general matrix product (matrixmultiply, through ndarray) costs about a microsecond per
//! call whatever the size, which dominates when an expert receives a handful of rows or when a
//! layer has a single output. These kernels have no per-call overhead. Reductions use eight
//! independent accumulators in a fixed order, so results do not depend on the vector width.

use crate::Float;

const LANES: usize = 8;

/// `Σ a[i] b[i]` with eight interleaved partial sums (deterministic order).
///
/// # Shapes
/// `a` and `b` have the same length; extra entries of the longer one are ignored.
#[inline]
pub fn dot<F: Float>(a: &[F], b: &[F]) -> F {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [F::zero(); LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (xa, xb) in (&mut ca).zip(&mut cb) {
        for l in 0..LANES {
            acc[l] += xa[l] * xb[l];
        }
    }
    let mut tail = F::zero();
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += *x * *y;
    }
    let s01 = (acc[0] + acc[4]) + (acc[1] + acc[5]);
    let s23 = (acc[2] + acc[6]) + (acc[3] + acc[7]);
    (s01 + s23) + tail
}

/// `y[i] += alpha x[i]`.
#[inline]
pub fn axpy<F: Float>(alpha: F, x: &[F], y: &mut [F]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * *xi;
    }
}

/// `out[r, o] = bias[o] + Σ_i x[r, i] w[o, i]` for row-major `x [n, d_in]`, `w [d_out, d_in]`,
/// `out [n, d_out]`.
pub fn affine_rows<F: Float>(x: &[F], w: &[F], bias: &[F], d_in: usize, out: &mut [F]) {
    let d_out = bias.len();
    for (xr, or) in x.chunks_exact(d_in).zip(out.chunks_exact_mut(d_out)) {
        for ((o, wr), b) in or.iter_mut().zip(w.chunks_exact(d_in)).zip(bias) {
            *o = *b + dot(wr, xr);
        }
    }
}

/// Backward of [`affine_rows`]: `dw += dyᵀ x`, `db += Σ_r dy[r]`, and if `dx` is given
/// `dx = dy w` (overwritten).
#[allow(clippy::too_many_arguments)]
pub fn affine_rows_backward<F: Float>(
    x: &[F],
    w: &[F],
    dy: &[F],
    d_in: usize,
    d_out: usize,
    dw: &mut [F],
    db: &mut [F],
    mut dx: Option<&mut [F]>,
) {
    for (r, (xr, dyr)) in x.chunks_exact(d_in).zip(dy.chunks_exact(d_out)).enumerate() {
        for ((g, dwr), dbo) in dyr.iter().zip(dw.chunks_exact_mut(d_in)).zip(db.iter_mut()) {
            *dbo += *g;
            axpy(*g, xr, dwr);
        }
        if let Some(dx) = dx.as_deref_mut() {
            let dxr = &mut dx[r * d_in..(r + 1) * d_in];
            dxr.fill(F::zero());
            for (g, wr) in dyr.iter().zip(w.chunks_exact(d_in)) {
                axpy(*g, wr, dxr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_naive_for_all_tails() {
        for n in 0..40 {
            let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
            let naive: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() < 1e-12, "n = {n}");
        }
    }

    #[test]
    fn affine_rows_matches_hand_values() {
        // x = [[1, 2]], w = [[1, 0], [2, -1], [0.5, 0.5]], b = [1, 0, -1]
        let x = [1.0, 2.0];
        let w = [1.0, 0.0, 2.0, -1.0, 0.5, 0.5];
        let b = [1.0, 0.0, -1.0];
        let mut out = [0.0; 3];
        affine_rows(&x, &w, &b, 2, &mut out);
        assert_eq!(out, [2.0, 0.0, 0.5]);
        let dy = [1.0, 2.0, -1.0];
        let mut dw = [0.0; 6];
        let mut db = [0.0; 3];
        let mut dx = [9.0; 2];
        affine_rows_backward(&x, &w, &dy, 2, 3, &mut dw, &mut db, Some(&mut dx));
        assert_eq!(dw, [1.0, 2.0, 2.0, 4.0, -1.0, -2.0]);
        assert_eq!(db, [1.0, 2.0, -1.0]);
        // dx = 1*[1,0] + 2*[2,-1] - [0.5,0.5] = [4.5, -2.5]
        assert_eq!(dx, [4.5, -2.5]);
    }
}
