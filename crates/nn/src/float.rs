use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// The scalar type of every tensor in smoe: `f32` for training, `f64` for gradient checks.
pub trait Float:
    num_traits::Float
    + crate::simd::Lane
    + num_traits::FromPrimitive
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + Sum
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + 'static
{
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Size of one value in bytes.
    const BYTES: usize;
    /// Converts from `f64` (rounding to nearest for `f32`).
    fn from_f64c(x: f64) -> Self;
    /// Converts to `f64` exactly.
    fn to_f64c(self) -> f64;
    /// Appends the little-endian bytes of `self` to `out`.
    fn write_le(self, out: &mut Vec<u8>);
    /// Reads one value from exactly [`Float::BYTES`] little-endian bytes.
    fn read_le(bytes: &[u8]) -> Self;
    /// `x ↦ eˣ` over a slice, vectorised (within 2 ulp of the C library's `exp`; see
    /// [`softmax_in_place`](crate::softmax_in_place) for the range).
    fn exp_in_place(x: &mut [Self]);
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    const BYTES: usize = 4;
    fn from_f64c(x: f64) -> Self {
        x as f32
    }
    fn to_f64c(self) -> f64 {
        self as f64
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn read_le(bytes: &[u8]) -> Self {
        let mut b = [0u8; 4];
        b.copy_from_slice(&bytes[..4]);
        f32::from_le_bytes(b)
    }
    fn exp_in_place(x: &mut [Self]) {
        crate::vexp::exp_f32(x);
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    const BYTES: usize = 8;
    fn from_f64c(x: f64) -> Self {
        x
    }
    fn to_f64c(self) -> f64 {
        self
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn read_le(bytes: &[u8]) -> Self {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[..8]);
        f64::from_le_bytes(b)
    }
    fn exp_in_place(x: &mut [Self]) {
        crate::vexp::exp_f64(x);
    }
}
