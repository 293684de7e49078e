//! The exponential over slices, vectorised: the softmaxes of routing and of the balance loss
//! take one `exp` per (input, expert), which the C library computes one at a time.
//!
//! Both kernels reduce `x = n ln 2 + r` with `|r| ≤ ln 2 / 2` (ln 2 split in two parts, so `r`
//! is exact to about an ulp), evaluate a polynomial in `r` by fused multiply-adds and scale by
//! `2ⁿ` through the exponent bits. They are written as branch-free scalar code that the
//! compiler vectorises under [`pulp::Arch::dispatch`] (AVX-512 or AVX2 + FMA where the CPU
//! has them); the fused multiply-add is exact IEEE arithmetic on every instruction set, so
//! every lane gives the same bits as the scalar fallback.
//!
//! Accuracy against the C library: within 2 ulp for `f32` on `[-87.3, 88.3]` and a relative
//! 5e-16 for `f64` on `[-708, 709]`. Below that range the result is 0 (the true value is
//! below the smallest normal number), above it `+inf`; NaN stays NaN.

use pulp::{Arch, Simd, WithSimd};

use crate::Float;

/// `row ↦ softmax(row)` in place: `e^(v − max) / Σ e^(v − max)`, the exponentials by
/// [`Float::exp_in_place`], the sum by [`crate::kernels::sum`]. Exact to a few ulp; entries more than about 87 (f32) or 708 (f64)
/// below the maximum become 0. An empty row stays empty.
pub fn softmax_in_place<F: Float>(row: &mut [F]) {
    let max = crate::kernels::max(row);
    for v in row.iter_mut() {
        *v -= max;
    }
    F::exp_in_place(row);
    let s = crate::kernels::sum(row);
    for v in row.iter_mut() {
        *v /= s;
    }
}

/// `x ↦ eˣ` in place, for `f32`.
pub(crate) fn exp_f32(x: &mut [f32]) {
    Arch::new().dispatch(ExpOp(x));
}

/// `x ↦ eˣ` in place, for `f64`.
pub(crate) fn exp_f64(x: &mut [f64]) {
    Arch::new().dispatch(ExpOp(x));
}

/// The scalar exponential of [`exp_f32_one`] or [`exp_f64_one`].
trait ExpOne: Copy {
    fn exp_one(self) -> Self;
}

impl ExpOne for f32 {
    #[inline(always)]
    fn exp_one(self) -> Self {
        exp_f32_one(self)
    }
}

impl ExpOne for f64 {
    #[inline(always)]
    fn exp_one(self) -> Self {
        exp_f64_one(self)
    }
}

/// `x[i] = e^x[i]` as a pulp operation (a named type, which pulp inlines into its
/// target-feature wrapper so the loop is vectorised; its closure form was not, in pulp 0.22).
struct ExpOp<'a, T>(&'a mut [T]);

impl<T: ExpOne> WithSimd for ExpOp<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        for v in self.0.iter_mut() {
            *v = v.exp_one();
        }
    }
}

/// Cephes' `expf` polynomial (degree 5 beyond `1 + r`).
#[inline(always)]
fn exp_f32_one(x: f32) -> f32 {
    const LO: f32 = -87.336_54;
    const HI: f32 = 88.376_26;
    // 1.5 · 2²³: adding it rounds to an integer held in the low mantissa bits
    const MAGIC: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let xc = x.clamp(LO, HI);
    let t = xc.mul_add(std::f32::consts::LOG2_E, MAGIC);
    let n = t - MAGIC;
    let r = n.mul_add(-LN2_HI, xc);
    let r = n.mul_add(-LN2_LO, r);
    let p = 1.987_569_2e-4_f32
        .mul_add(r, 1.398_2e-3)
        .mul_add(r, 8.333_452e-3)
        .mul_add(r, 4.166_579_6e-2)
        .mul_add(r, 1.666_666_5e-1)
        .mul_add(r, 0.5);
    let e = (p * r).mul_add(r, r) + 1.0;
    let ni = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    let scale = f32::from_bits((ni.wrapping_add(127) as u32) << 23);
    let y = e * scale;
    let y = if x < LO { 0.0 } else { y };
    let y = if x > HI { f32::INFINITY } else { y };
    if x.is_nan() { x } else { y }
}

/// Taylor series to degree 13 (truncation below 5e-18 on `|r| ≤ ln 2 / 2`).
#[inline(always)]
fn exp_f64_one(x: f64) -> f64 {
    const LO: f64 = -708.0;
    const HI: f64 = 709.0;
    // 1.5 · 2⁵²
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let xc = x.clamp(LO, HI);
    let t = xc.mul_add(std::f64::consts::LOG2_E, MAGIC);
    let n = t - MAGIC;
    let r = n.mul_add(-LN2_HI, xc);
    let r = n.mul_add(-LN2_LO, r);
    // 1/13!, 1/12!, …, 1/2!
    let p = (1.0 / 6_227_020_800.0_f64)
        .mul_add(r, 1.0 / 479_001_600.0)
        .mul_add(r, 1.0 / 39_916_800.0)
        .mul_add(r, 1.0 / 3_628_800.0)
        .mul_add(r, 1.0 / 362_880.0)
        .mul_add(r, 1.0 / 40_320.0)
        .mul_add(r, 1.0 / 5_040.0)
        .mul_add(r, 1.0 / 720.0)
        .mul_add(r, 1.0 / 120.0)
        .mul_add(r, 1.0 / 24.0)
        .mul_add(r, 1.0 / 6.0)
        .mul_add(r, 0.5);
    let e = (p * r).mul_add(r, r) + 1.0;
    let ni = (t.to_bits() as i64).wrapping_sub(MAGIC.to_bits() as i64);
    let scale = f64::from_bits((ni.wrapping_add(1023) as u64) << 52);
    let y = e * scale;
    let y = if x < LO { 0.0 } else { y };
    let y = if x > HI { f64::INFINITY } else { y };
    if x.is_nan() { x } else { y }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_matches_the_definition() {
        let z = [0.3f64, -1.2, 2.5, 0.0, 2.5];
        let mut p = z;
        softmax_in_place(&mut p);
        let s: f64 = z.iter().map(|v| (v - 2.5).exp()).sum();
        for (pi, zi) in p.iter().zip(&z) {
            assert!((pi - (zi - 2.5).exp() / s).abs() < 1e-15);
        }
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
    }

    fn ulp_diff(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn f32_within_two_ulp_of_the_c_library() {
        let xs: Vec<f32> = (0..200_001)
            .map(|i| -87.3 + (88.3 + 87.3) * i as f32 / 200_000.0)
            .collect();
        let mut got = xs.clone();
        exp_f32(&mut got);
        let worst = xs
            .iter()
            .zip(&got)
            .map(|(x, g)| ulp_diff(*g, x.exp()))
            .max()
            .unwrap_or(0);
        assert!(worst <= 2, "{worst} ulp");
    }

    #[test]
    fn f64_within_5e16_of_the_c_library() {
        let xs: Vec<f64> = (0..200_001)
            .map(|i| -708.0 + 1417.0 * i as f64 / 200_000.0)
            .chain((0..20_001).map(|i| -1.0 + i as f64 / 10_000.0))
            .collect();
        let mut got = xs.clone();
        exp_f64(&mut got);
        let worst = xs
            .iter()
            .zip(&got)
            .map(|(x, g)| (g - x.exp()).abs() / x.exp())
            .fold(0.0, f64::max);
        assert!(worst <= 5e-16, "{worst:e}");
    }

    #[test]
    fn edges_zero_infinity_and_nan() {
        let mut v = [
            0.0f32,
            -100.0,
            100.0,
            f32::NAN,
            f32::NEG_INFINITY,
            f32::INFINITY,
        ];
        exp_f32(&mut v);
        assert_eq!(v[0], 1.0);
        assert_eq!(v[1], 0.0);
        assert_eq!(v[2], f32::INFINITY);
        assert!(v[3].is_nan());
        assert_eq!(v[4], 0.0);
        assert_eq!(v[5], f32::INFINITY);
        let mut w = [0.0f64, -800.0, 800.0, f64::NAN, 1.0];
        exp_f64(&mut w);
        assert_eq!(w[0], 1.0);
        assert_eq!(w[1], 0.0);
        assert_eq!(w[2], f64::INFINITY);
        assert!(w[3].is_nan());
        assert!((w[4] - std::f64::consts::E).abs() <= 4.5e-16);
    }

    #[test]
    fn every_lane_gives_the_scalar_bits() {
        // slices of every length mix whole vectors and the scalar tail
        let base: Vec<f32> = (0..37).map(|i| (i as f32 - 18.0) * 0.731).collect();
        let mut all = base.clone();
        exp_f32(&mut all);
        for (i, &x) in base.iter().enumerate() {
            let mut one = [x];
            exp_f32(&mut one);
            assert_eq!(one[0].to_bits(), all[i].to_bits(), "x = {x}");
        }
    }
}
