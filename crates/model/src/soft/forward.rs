//! The Soft MoE forward pass, batched: one GEMM for the logits of every token, per-input
//! softmaxes, and each expert run once on all the slot rows it serves.

// index loops over several arrays at once read as the formulas above
#![allow(clippy::needless_range_loop)]

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;
use smoe_nn::Float;

use super::{SoftCache, SoftMoe, SoftRouting, TokenTape};
use crate::{ModelError, Result};

/// The smallest norm a token or a column of Φ is divided by when normalising (as PyTorch's
/// `F.normalize`).
pub(super) const NORM_EPS: f64 = 1e-12;

/// Below this many multiply-adds in the expert layers of a batch, experts run one after the
/// other.
const PARALLEL_MIN_WORK: usize = 1 << 20;

/// `max(‖v‖₂, ε)`.
pub(super) fn norm<F: Float>(v: impl Iterator<Item = F>) -> F {
    let s: F = v.map(|a| a * a).sum();
    s.sqrt().max(F::from_f64c(NORM_EPS))
}

impl<F: Float> SoftMoe<F> {
    fn check_input(&self, x: ArrayView2<'_, F>) -> Result<()> {
        if x.ncols() != self.d {
            return Err(ModelError::from(smoe_nn::ShapeError {
                op: "SoftMoe::forward",
                expected: vec![x.nrows(), self.d],
                got: x.shape().to_vec(),
            }));
        }
        if let Some(((row, col), _)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(ModelError::NonFiniteInput { row, col });
        }
        Ok(())
    }

    /// The forward pass. `mask [b, n]` (for subset inference) runs expert j only on the
    /// inputs r with `mask[r, j]`, the other slot outputs staying zero.
    #[allow(clippy::type_complexity)]
    pub(super) fn run(
        &self,
        x: ArrayView2<'_, F>,
        keep: bool,
        mask: Option<&Array2<bool>>,
    ) -> Result<(Array1<F>, SoftRouting<F>, Option<SoftCache<F>>)> {
        self.check_input(x)?;
        let b = x.nrows();
        let (n, p, m) = (self.cfg.experts, self.cfg.slots, self.cfg.tokens);
        let np = n * p;
        let dt = self.token_dim();
        // tokens [b·m, d_tok]: row r·m + i is x[r, i·d_tok ..]
        let mut xhat = x
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((b * m, dt))
            .map_err(|_| {
                shape(
                    "SoftMoe::forward (tokens)",
                    vec![b * m, dt],
                    vec![b, self.d],
                )
            })?;
        let norms = self.cfg.normalize.then(|| {
            let mut norms = Vec::with_capacity(b * m);
            for mut row in xhat.rows_mut() {
                let nr = norm(row.iter().copied());
                row.mapv_inplace(|v| v / nr);
                norms.push(nr);
            }
            norms
        });
        let (phi_used, unit_phi) = if self.cfg.normalize {
            let mut unit = self.phi.clone();
            let mut col_norms = Vec::with_capacity(np);
            for mut col in unit.columns_mut() {
                let nc = norm(col.iter().copied());
                col.mapv_inplace(|v| v / nc);
                col_norms.push(nc);
            }
            (unit.mapv(|v| v * self.scale[0]), Some((unit, col_norms)))
        } else {
            (self.phi.clone(), None)
        };
        let logits = xhat.dot(&phi_used);
        let (dispatch, combine) = softmaxes(&logits, b, m);
        // slot inputs X̃ [b·np, d_tok]: X̃_r = D_rᵀ X_r
        let mut slot_in = Array2::<F>::zeros((b * np, dt));
        for r in 0..b {
            for i in 0..m {
                let xi = xhat.row(r * m + i);
                let di = dispatch.row(r * m + i);
                for c in 0..np {
                    let w = di[c];
                    let mut out = slot_in.row_mut(r * np + c);
                    out.zip_mut_with(&xi, |o, &v| *o += w * v);
                }
            }
        }
        let (slot_out, tapes) = self.run_experts(&slot_in, b, mask, keep)?;
        // output tokens Y_r = C_r Ỹ_r, [b, m·d_tok]
        let mut y = Array2::<F>::zeros((b, m * dt));
        for r in 0..b {
            for i in 0..m {
                let ci = combine.row(r * m + i);
                for c in 0..np {
                    let w = ci[c];
                    let yc = slot_out.row(r * np + c);
                    for t in 0..dt {
                        y[[r, i * dt + t]] += w * yc[t];
                    }
                }
            }
        }
        let f = match &self.head {
            None => y.sum_axis(Axis(1)),
            Some(h) => h.forward(y.view())?.column(0).to_owned(),
        };
        let to3 = |a: &Array2<F>, d1: usize, d2: usize| {
            a.clone().into_shape_with_order((b, d1, d2)).map_err(|_| {
                shape(
                    "SoftMoe::forward (routing)",
                    vec![b, d1, d2],
                    a.shape().to_vec(),
                )
            })
        };
        let routing = SoftRouting {
            experts: n,
            slots: p,
            logits: to3(&logits, m, np)?,
            dispatch: to3(&dispatch, m, np)?,
            combine: to3(&combine, m, np)?,
            slot_inputs: to3(&slot_in, np, dt)?,
        };
        let cache = keep.then(|| SoftCache {
            xhat,
            norms,
            unit_phi,
            phi_used,
            dispatch,
            combine,
            slot_out,
            y,
            tapes,
        });
        Ok((f, routing, cache))
    }

    /// Runs expert j once on the `rows_j · p` slot rows of its inputs (all b inputs, or those
    /// `mask` selects) and scatters the outputs into Ỹ `[b·np, d_tok]`.
    fn run_experts(
        &self,
        slot_in: &Array2<F>,
        b: usize,
        mask: Option<&Array2<bool>>,
        keep: bool,
    ) -> Result<(Array2<F>, Vec<TokenTape<F>>)> {
        let (p, np) = (self.cfg.slots, self.cfg.experts * self.cfg.slots);
        let dt = slot_in.ncols();
        let rows_of = |j: usize| -> Vec<usize> {
            match mask {
                None => (0..b).collect(),
                Some(mk) => (0..b).filter(|&r| mk[[r, j]]).collect(),
            }
        };
        let one = |j: usize| -> Result<(Vec<usize>, Array2<F>, TokenTape<F>)> {
            let rows = rows_of(j);
            let mut xs = Array2::<F>::zeros((rows.len() * p, dt));
            for (q, &r) in rows.iter().enumerate() {
                for s in 0..p {
                    xs.row_mut(q * p + s)
                        .assign(&slot_in.row(r * np + j * p + s));
                }
            }
            let (ys, tape) = self.experts[j].forward(xs.view(), keep)?;
            Ok((rows, ys, tape))
        };
        let width = if self.cfg.expert.depth == 0 {
            dt
        } else {
            self.cfg.expert.width
        };
        let parallel = rayon::current_num_threads() > 1 && b * np * dt * width >= PARALLEL_MIN_WORK;
        let outs: Vec<(Vec<usize>, Array2<F>, TokenTape<F>)> = if parallel {
            (0..self.experts.len())
                .into_par_iter()
                .map(one)
                .collect::<Result<_>>()?
        } else {
            (0..self.experts.len()).map(one).collect::<Result<_>>()?
        };
        let mut slot_out = Array2::<F>::zeros((b * np, dt));
        let mut tapes = Vec::with_capacity(outs.len());
        for (j, (rows, ys, tape)) in outs.into_iter().enumerate() {
            for (q, &r) in rows.iter().enumerate() {
                for s in 0..p {
                    slot_out
                        .row_mut(r * np + j * p + s)
                        .assign(&ys.row(q * p + s));
                }
            }
            tapes.push(tape);
        }
        Ok((slot_out, tapes))
    }
}

/// Dispatch (softmax over the m tokens of each input, per slot column) and combine
/// (softmax over the slots, per token row) of `logits [b·m, n·p]`.
fn softmaxes<F: Float>(logits: &Array2<F>, b: usize, m: usize) -> (Array2<F>, Array2<F>) {
    let np = logits.ncols();
    let combine = smoe_gating::softmax_rows(logits.view());
    let mut dispatch = logits.clone();
    for r in 0..b {
        for c in 0..np {
            let rows = r * m..(r + 1) * m;
            let max = rows
                .clone()
                .map(|i| logits[[i, c]])
                .fold(F::neg_infinity(), F::max);
            let mut s = F::zero();
            for i in rows.clone() {
                let e = (logits[[i, c]] - max).exp();
                dispatch[[i, c]] = e;
                s += e;
            }
            for i in rows {
                dispatch[[i, c]] /= s;
            }
        }
    }
    (dispatch, combine)
}

fn shape(op: &'static str, expected: Vec<usize>, got: Vec<usize>) -> ModelError {
    ModelError::from(smoe_nn::ShapeError { op, expected, got })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn softmaxes_by_hand() {
        // one input, two tokens, two slots
        let l = array![[0.0f64, 1.0], [2.0, 1.0]];
        let (d, c) = softmaxes(&l, 1, 2);
        let s = |a: f64, b: f64| a.exp() / (a.exp() + b.exp());
        assert!((d[[0, 0]] - s(0.0, 2.0)).abs() < 1e-15);
        assert!((d[[0, 1]] - 0.5).abs() < 1e-15);
        assert!((c[[0, 0]] - s(0.0, 1.0)).abs() < 1e-15);
        assert!((c[[1, 0]] - s(2.0, 1.0)).abs() < 1e-15);
    }
}
