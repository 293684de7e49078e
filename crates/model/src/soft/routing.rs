//! The routing diagnostics of a Soft MoE forward pass.

// index loops over several arrays at once read as the formulas above
#![allow(clippy::needless_range_loop)]

use ndarray::{Array2, Array3};
use smoe_nn::Float;

/// How a Soft MoE routed a batch of b inputs, each of m tokens, to its `n·p` slots
/// (slot `c = j·p + s` is slot s of expert j).
#[derive(Debug, Clone, PartialEq)]
pub struct SoftRouting<F> {
    /// Experts n.
    pub experts: usize,
    /// Slots per expert p.
    pub slots: usize,
    /// The logits `L = X Φ` (after normalisation when it is on), `[b, m, n·p]`.
    pub logits: Array3<F>,
    /// Dispatch weights `D`, softmax over tokens: `dispatch[r, :, c]` sums to 1, `[b, m, n·p]`.
    pub dispatch: Array3<F>,
    /// Combine weights `C`, softmax over slots: `combine[r, i, :]` sums to 1, `[b, m, n·p]`.
    pub combine: Array3<F>,
    /// The slot inputs `X̃ = Dᵀ X` the experts saw, `[b, n·p, d_tok]`.
    pub slot_inputs: Array3<F>,
}

impl<F: Float> SoftRouting<F> {
    /// Column sums of C per expert, `C_sum[r, j] = Σ_i Σ_{s<p} C[r, i, j·p + s]` (Chung et
    /// al.'s Algorithm 1, step 2, with p slots per expert summed), `[b, n]`; each row sums
    /// to m.
    pub fn column_sums(&self) -> Array2<F> {
        let (b, m, _) = self.combine.dim();
        let p = self.slots;
        Array2::from_shape_fn((b, self.experts), |(r, j)| {
            let mut s = F::zero();
            for i in 0..m {
                for q in 0..p {
                    s += self.combine[[r, i, j * p + q]];
                }
            }
            s
        })
    }

    /// Tokens m.
    pub fn tokens(&self) -> usize {
        self.combine.dim().1
    }
}
