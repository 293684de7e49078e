//! Small dense kernels: the affine layer's forward and backward for few rows, a dot product,
//! a sum, a maximum and an axpy.
//!
//! The general matrix product (matrixmultiply, through ndarray) costs about a microsecond per
//! call whatever the size and packs both operands, which dominates when an expert receives a
//! handful of rows. These kernels run under [`pulp::Arch::dispatch`] (AVX-512 or AVX2 + FMA
//! where the CPU has it) and keep their accumulators in registers:
//! - [`affine_rows`] packs up to one vector of rows transposed and runs 8 outputs × one vector
//!   of rows per micro-tile;
//! - [`affine_rows_backward`] computes `dW += dyᵀ x` and `dx = dy W` as row-major rank-n
//!   updates, 4 rows × 2 vectors per micro-tile.
//!
//! Each output element is one fused multiply-add chain over the reduced index, in index order,
//! so the result does not depend on the vector width. [`dot`] keeps eight partial sums in a
//! fixed order for the same reason.

use pulp::{Arch, Simd, WithSimd};

use crate::Float;
use crate::simd::lanes;

const LANES: usize = 8;

/// Outputs per micro-tile of [`affine_rows`].
const MR: usize = 8;

/// `Σ a[i] b[i]` with eight interleaved partial sums (deterministic order).
///
/// # Shapes
/// `a` and `b` have the same length; extra entries of the longer one are ignored.
#[inline]
pub fn dot<F: Float>(a: &[F], b: &[F]) -> F {
    Arch::new().dispatch(DotOp(a, b))
}

/// [`dot_plain`] as a pulp operation (a named type, which pulp inlines into its
/// target-feature wrapper; its closure form was left out of line in pulp 0.22).
struct DotOp<'a, F>(&'a [F], &'a [F]);

impl<F: Float> WithSimd for DotOp<'_, F> {
    type Output = F;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> F {
        dot_plain(self.0, self.1)
    }
}

#[inline(always)]
fn dot_plain<F: Float>(a: &[F], b: &[F]) -> F {
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

/// `Σ a[i]` with eight interleaved partial sums, in the order of [`dot`] (deterministic, and
/// eight independent addition chains instead of one).
#[inline]
pub fn sum<F: Float>(a: &[F]) -> F {
    let mut acc = [F::zero(); LANES];
    let mut chunks = a.chunks_exact(LANES);
    for x in &mut chunks {
        for l in 0..LANES {
            acc[l] += x[l];
        }
    }
    let tail = chunks.remainder().iter().fold(F::zero(), |t, &x| t + x);
    let s01 = (acc[0] + acc[4]) + (acc[1] + acc[5]);
    let s23 = (acc[2] + acc[6]) + (acc[3] + acc[7]);
    (s01 + s23) + tail
}

/// `max_i a[i]` (`-inf` for an empty slice; NaN entries are skipped, as by `F::max`): eight
/// running maxima, which gives the same result as one since the maximum is exact.
#[inline]
pub fn max<F: Float>(a: &[F]) -> F {
    let mut acc = [F::neg_infinity(); LANES];
    let mut chunks = a.chunks_exact(LANES);
    for x in &mut chunks {
        for l in 0..LANES {
            acc[l] = acc[l].max(x[l]);
        }
    }
    let m = chunks
        .remainder()
        .iter()
        .fold(F::neg_infinity(), |m, &x| m.max(x));
    acc.iter().fold(m, |m, &x| m.max(x))
}

/// `y[i] += alpha x[i]`.
#[inline]
pub fn axpy<F: Float>(alpha: F, x: &[F], y: &mut [F]) {
    Arch::new().dispatch(AxpyOp { alpha, x, y })
}

/// The operands of [`axpy`], as a pulp operation.
struct AxpyOp<'a, F> {
    alpha: F,
    x: &'a [F],
    y: &'a mut [F],
}

impl<F: Float> WithSimd for AxpyOp<'_, F> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        for (yi, xi) in self.y.iter_mut().zip(self.x) {
            *yi += self.alpha * *xi;
        }
    }
}

/// `out[r, o] = bias[o] + Σ_i x[r, i] w[o, i]` for row-major `x [n, d_in]`, `w [d_out, d_in]`,
/// `out [n, d_out]`.
pub fn affine_rows<F: Float>(x: &[F], w: &[F], bias: &[F], d_in: usize, out: &mut [F]) {
    if d_in == 0 || bias.is_empty() || w.len() < bias.len() * d_in {
        return;
    }
    Arch::new().dispatch(Affine {
        x,
        w,
        bias,
        d_in,
        out,
    })
}

/// The operands of [`affine_rows`], as a pulp operation.
struct Affine<'a, F> {
    x: &'a [F],
    w: &'a [F],
    bias: &'a [F],
    d_in: usize,
    out: &'a mut [F],
}

impl<F: Float> WithSimd for Affine<'_, F> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        let Affine {
            x,
            w,
            bias,
            d_in,
            out,
        } = self;
        let d_out = bias.len();
        let nr = lanes::<F, S>();
        let n = (x.len() / d_in).min(out.len() / d_out);
        // one vector of rows, packed transposed: xt[i · nr + r] = x[r0 + r, i]
        let mut xt = vec![F::zero(); d_in * nr];
        let mut acc = vec![F::zero(); MR * nr];
        let mut r0 = 0;
        while r0 < n {
            let rows = nr.min(n - r0);
            for (r, xr) in x[r0 * d_in..(r0 + rows) * d_in]
                .chunks_exact(d_in)
                .enumerate()
            {
                for (col, v) in xt.chunks_exact_mut(nr).zip(xr) {
                    col[r] = *v;
                }
            }
            if rows < nr {
                for col in xt.chunks_exact_mut(nr) {
                    col[rows..].fill(F::zero());
                }
            }
            let xv = F::split::<S>(&xt).0;
            let block = &mut out[r0 * d_out..(r0 + rows) * d_out];
            let mut o0 = 0;
            while o0 < d_out {
                let m = MR.min(d_out - o0);
                if m == MR {
                    tile::<F, S, MR>(s, &w[o0 * d_in..(o0 + MR) * d_in], xv, &mut acc);
                } else {
                    for j in 0..m {
                        let wj = &w[(o0 + j) * d_in..(o0 + j + 1) * d_in];
                        tile::<F, S, 1>(s, wj, xv, &mut acc[j * nr..(j + 1) * nr]);
                    }
                }
                for (r, orow) in block.chunks_exact_mut(d_out).enumerate() {
                    for j in 0..m {
                        orow[o0 + j] = bias[o0 + j] + acc[j * nr + r];
                    }
                }
                o0 += m;
            }
            r0 += rows;
        }
    }
}

/// `acc[m] = Σ_i w[m, i] · xt[i]` for `M` rows of `w` against the packed columns `xv` (one
/// vector of rows per input index), written to the first `M` vectors of `out`.
#[inline(always)]
fn tile<F: Float, S: Simd, const M: usize>(s: S, w: &[F], xv: &[F::V<S>], out: &mut [F]) {
    let d_in = xv.len();
    let zero = F::splat(s, F::zero());
    let mut acc = [zero; M];
    let rows: [&[F]; M] = std::array::from_fn(|m| &w[m * d_in..(m + 1) * d_in]);
    for (i, b) in xv.iter().enumerate() {
        for m in 0..M {
            acc[m] = F::fma(s, F::splat(s, rows[m][i]), *b, acc[m]);
        }
    }
    for (o, a) in F::split_mut::<S>(out).0.iter_mut().zip(acc) {
        *o = a;
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
    dx: Option<&mut [F]>,
) {
    if d_in == 0 || d_out == 0 {
        return;
    }
    let n = (x.len() / d_in).min(dy.len() / d_out);
    let arch = Arch::new();
    // dW[o, :] += Σ_r dy[r, o] x[r, :]
    arch.dispatch(RowGemm {
        c: dw,
        np: d_out,
        ops: RowOps {
            a: dy,
            sp: 1,
            sq: d_out,
            nq: n,
            b: x,
            width: d_in,
            accumulate: true,
        },
    });
    for (o, dbo) in db.iter_mut().enumerate().take(d_out) {
        let mut sum = F::zero();
        for g in dy.iter().skip(o).step_by(d_out).take(n) {
            sum += *g;
        }
        *dbo += sum;
    }
    // dX[r, :] = Σ_o dy[r, o] W[o, :]
    if let Some(dx) = dx {
        arch.dispatch(RowGemm {
            c: dx,
            np: n,
            ops: RowOps {
                a: dy,
                sp: d_out,
                sq: 1,
                nq: d_out,
                b: w,
                width: d_in,
                accumulate: false,
            },
        });
    }
}

/// The read-only operands of `C[p, :] (+)= Σ_q A[p, q] · B[q, :]`: C and B row-major, `width`
/// wide; A read as `a[p·sp + q·sq]` for `q < nq`.
#[derive(Clone, Copy)]
struct RowOps<'a, F> {
    a: &'a [F],
    sp: usize,
    sq: usize,
    nq: usize,
    b: &'a [F],
    width: usize,
    accumulate: bool,
}

/// `C[p, :] (+)= Σ_q A[p, q] · B[q, :]` for `p < np`, as a pulp operation.
struct RowGemm<'a, F> {
    c: &'a mut [F],
    np: usize,
    ops: RowOps<'a, F>,
}

impl<F: Float> WithSimd for RowGemm<'_, F> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        let RowGemm { c, np, ops: g } = self;
        let l = lanes::<F, S>();
        let nv = g.width / l;
        let mut p = 0;
        while p < np {
            let mp = if np - p >= 4 { 4 } else { 1 };
            let mut v = 0;
            while v < nv {
                let kv = if nv - v >= 2 { 2 } else { 1 };
                match (mp, kv) {
                    (4, 2) => micro::<F, S, 4, 2>(s, c, g, p, v),
                    (4, _) => micro::<F, S, 4, 1>(s, c, g, p, v),
                    (_, 2) => micro::<F, S, 1, 2>(s, c, g, p, v),
                    _ => micro::<F, S, 1, 1>(s, c, g, p, v),
                }
                v += kv;
            }
            for pp in p..p + mp {
                for col in nv * l..g.width {
                    let mut acc = F::zero();
                    for q in 0..g.nq {
                        acc = g.a[pp * g.sp + q * g.sq].mul_add(g.b[q * g.width + col], acc);
                    }
                    let cell = &mut c[pp * g.width + col];
                    *cell = if g.accumulate { *cell + acc } else { acc };
                }
            }
            p += mp;
        }
    }
}

/// One `MP`-row × `KV`-vector tile of [`RowGemm`] from row `p` and vector column `v`, its
/// accumulators in registers over q.
#[inline(always)]
fn micro<F: Float, S: Simd, const MP: usize, const KV: usize>(
    s: S,
    c: &mut [F],
    g: RowOps<'_, F>,
    p: usize,
    v: usize,
) {
    let zero = F::splat(s, F::zero());
    let mut acc = [[zero; KV]; MP];
    for q in 0..g.nq {
        let brow = F::split::<S>(&g.b[q * g.width..(q + 1) * g.width]).0;
        let bv: [F::V<S>; KV] = std::array::from_fn(|k| brow[v + k]);
        for (m, am) in acc.iter_mut().enumerate() {
            let a = F::splat(s, g.a[(p + m) * g.sp + q * g.sq]);
            for k in 0..KV {
                am[k] = F::fma(s, a, bv[k], am[k]);
            }
        }
    }
    for (m, am) in acc.iter().enumerate() {
        let row = (p + m) * g.width;
        let cv = F::split_mut::<S>(&mut c[row..row + g.width]).0;
        for k in 0..KV {
            cv[v + k] = if g.accumulate {
                F::vadd(s, cv[v + k], am[k])
            } else {
                am[k]
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_and_max_for_all_tails() {
        for n in 0..40 {
            // integers sum exactly in any order
            let a: Vec<f32> = (0..n).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
            assert_eq!(sum(&a), a.iter().sum::<f32>(), "n = {n}");
            let want = a.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(max(&a), want, "n = {n}");
        }
        assert_eq!(max::<f64>(&[f64::NAN, -3.0, f64::NAN]), -3.0);
        // the fixed order: partial sums of lanes 0..8, then the tail
        let a: Vec<f64> = (0..19).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        let mut acc = [0.0; 8];
        for (i, v) in a[..16].iter().enumerate() {
            acc[i % 8] += v;
        }
        let want = (((acc[0] + acc[4]) + (acc[1] + acc[5]))
            + ((acc[2] + acc[6]) + (acc[3] + acc[7])))
            + ((0.0 + a[16]) + a[17] + a[18]);
        assert_eq!(sum(&a).to_bits(), want.to_bits());
    }

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

    fn vals(n: usize, s: f32) -> Vec<f32> {
        (0..n).map(|i| ((i as f32 + 0.5) * s).sin()).collect()
    }

    /// `Σ_q a_q b_q` as one fused multiply-add chain in q order, from zero: what every kernel
    /// output element must equal bit for bit, whatever the vector width.
    fn chain(terms: impl Iterator<Item = (f32, f32)>) -> f32 {
        terms.fold(0.0, |acc, (a, b)| a.mul_add(b, acc))
    }

    /// Every shape class (rows below, at and above one vector; widths with and without a
    /// tail, outputs with and without a whole micro-tile): the kernels equal the scalar
    /// fused chains exactly.
    #[test]
    fn kernels_equal_the_scalar_fma_chains_bit_for_bit() {
        for &(n, d_in, d_out) in &[
            (0, 3, 2),
            (1, 1, 1),
            (3, 5, 7),
            (4, 32, 64),
            (8, 16, 8),
            (9, 17, 9),
            (13, 33, 19),
            (17, 8, 24),
        ] {
            let x = vals(n * d_in, 0.37);
            let w = vals(d_out * d_in, 0.11);
            let bias = vals(d_out, 0.9);
            let mut out = vec![f32::NAN; n * d_out];
            affine_rows(&x, &w, &bias, d_in, &mut out);
            for r in 0..n {
                for o in 0..d_out {
                    let want =
                        bias[o] + chain((0..d_in).map(|i| (w[o * d_in + i], x[r * d_in + i])));
                    assert_eq!(
                        out[r * d_out + o].to_bits(),
                        want.to_bits(),
                        "{n} {d_in} {d_out}"
                    );
                }
            }
            let dy = vals(n * d_out, 0.7);
            let dw0 = vals(d_out * d_in, 0.23);
            let mut dw = dw0.clone();
            let mut db = vec![1.0; d_out];
            let mut dx = vec![f32::NAN; n * d_in];
            affine_rows_backward(&x, &w, &dy, d_in, d_out, &mut dw, &mut db, Some(&mut dx));
            for o in 0..d_out {
                for i in 0..d_in {
                    let want = dw0[o * d_in + i]
                        + chain((0..n).map(|r| (dy[r * d_out + o], x[r * d_in + i])));
                    assert_eq!(dw[o * d_in + i].to_bits(), want.to_bits());
                }
                let sum: f32 = (0..n).map(|r| dy[r * d_out + o]).sum();
                assert!((db[o] - 1.0 - sum).abs() < 1e-5);
            }
            for r in 0..n {
                for i in 0..d_in {
                    let want = chain((0..d_out).map(|o| (dy[r * d_out + o], w[o * d_in + i])));
                    assert_eq!(dx[r * d_in + i].to_bits(), want.to_bits());
                }
            }
        }
    }

    /// The same kernels in f64 against the plain sums.
    #[test]
    fn kernels_match_naive_sums_in_f64() {
        let (n, d_in, d_out) = (11, 13, 10);
        let x: Vec<f64> = (0..n * d_in).map(|i| (i as f64 * 0.3).cos()).collect();
        let w: Vec<f64> = (0..d_out * d_in).map(|i| (i as f64 * 0.7).sin()).collect();
        let bias: Vec<f64> = (0..d_out).map(|i| i as f64).collect();
        let mut out = vec![0.0; n * d_out];
        affine_rows(&x, &w, &bias, d_in, &mut out);
        for r in 0..n {
            for o in 0..d_out {
                let want: f64 = bias[o]
                    + (0..d_in)
                        .map(|i| w[o * d_in + i] * x[r * d_in + i])
                        .sum::<f64>();
                assert!((out[r * d_out + o] - want).abs() < 1e-12);
            }
        }
    }
}
