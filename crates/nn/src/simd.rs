//! The SIMD operations the kernels need, for `f32` and `f64`, over pulp's vector types: the
//! kernels run under [`pulp::Arch::dispatch`], which picks AVX-512 (pulp's x86-v4) or
//! AVX2 + FMA at run time where the CPU has it and scalar code otherwise. Every operation is exact IEEE arithmetic (the fused
//! multiply-add included, in software where the CPU lacks it), so a kernel whose lanes never
//! mix gives the same bits on every instruction set.

use pulp::Simd;

/// A scalar type with a vector type for every pulp instruction set `S`.
pub trait Lane: Copy + Send + Sync + 'static {
    /// The vector of `Self` under instruction set `S`.
    type V<S: Simd>: Copy;
    /// Every lane `x`.
    fn splat<S: Simd>(s: S, x: Self) -> Self::V<S>;
    /// `a · b + c`, fused (one rounding).
    fn fma<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>, c: Self::V<S>) -> Self::V<S>;
    /// `a + b`.
    fn vadd<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// The slice as whole vectors and the scalar tail.
    fn split<S: Simd>(x: &[Self]) -> (&[Self::V<S>], &[Self]);
    /// Mutable form of [`Lane::split`].
    fn split_mut<S: Simd>(x: &mut [Self]) -> (&mut [Self::V<S>], &mut [Self]);
}

/// Lanes of `F`'s vector under `S`.
#[inline(always)]
pub(crate) fn lanes<F: Lane, S: Simd>() -> usize {
    std::mem::size_of::<F::V<S>>() / std::mem::size_of::<F>()
}

macro_rules! lane {
    ($t:ty, $v:ident, $splat:ident, $fma:ident, $add:ident, $split:ident, $split_mut:ident) => {
        impl Lane for $t {
            type V<S: Simd> = S::$v;
            #[inline(always)]
            fn splat<S: Simd>(s: S, x: Self) -> Self::V<S> {
                s.$splat(x)
            }
            #[inline(always)]
            fn fma<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>, c: Self::V<S>) -> Self::V<S> {
                s.$fma(a, b, c)
            }
            #[inline(always)]
            fn vadd<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                s.$add(a, b)
            }
            #[inline(always)]
            fn split<S: Simd>(x: &[Self]) -> (&[Self::V<S>], &[Self]) {
                S::$split(x)
            }
            #[inline(always)]
            fn split_mut<S: Simd>(x: &mut [Self]) -> (&mut [Self::V<S>], &mut [Self]) {
                S::$split_mut(x)
            }
        }
    };
}

lane!(
    f32,
    f32s,
    splat_f32s,
    mul_add_f32s,
    add_f32s,
    as_simd_f32s,
    as_mut_simd_f32s
);
lane!(
    f64,
    f64s,
    splat_f64s,
    mul_add_f64s,
    add_f64s,
    as_simd_f64s,
    as_mut_simd_f64s
);
