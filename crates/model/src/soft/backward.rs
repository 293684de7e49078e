//! The exact backward pass of Soft MoE, from `dL/df` to Φ (and its scale), the experts, the
//! head and the input.
//!
//! With `G = dL/dY`:
//! - head: sum `G_{it} = df`; linear `G = df · w`, `dw += df · vec(Y)`, `db += df`;
//! - `dC = G Ỹᵀ`, `dỸ = Cᵀ G`; each expert's backward gives `dX̃` from `dỸ`;
//! - `dD = X dX̃ᵀ`, `dX += D dX̃` (from `X̃ = Dᵀ X`);
//! - softmaxes: `dL_C = C ⊙ (dC − Σ_c C ⊙ dC)` per row, `dL_D = D ⊙ (dD − Σ_i D ⊙ dD)` per
//!   column of each input, `dL = dL_C + dL_D`;
//! - `L = X Φ`: `dΦ += Xᵀ dL`, `dX += dL Φᵀ`;
//! - normalisation: `x̂ = x / ‖x‖` gives `dx = (dx̂ − x̂ (x̂ · dx̂)) / ‖x‖`; `Φ̂_c = s u_c`
//!   with `u_c = φ_c / ‖φ_c‖` gives `ds += Σ_c u_c · dΦ̂_c` and
//!   `dφ_c = s (dΦ̂_c − u_c (u_c · dΦ̂_c)) / ‖φ_c‖`.

// index loops over several arrays at once read as the formulas above
#![allow(clippy::needless_range_loop)]

use ndarray::{Array2, ArrayView1, Axis};
use rayon::prelude::*;
use smoe_nn::Float;

use super::{SoftCache, SoftMoe};
use crate::{ModelError, Result};

impl<F: Float> SoftMoe<F> {
    /// Backward from `dL/df [b]`: accumulates every parameter gradient and returns `dL/dx`.
    ///
    /// # Errors
    /// [`ModelError::NoForward`] without a training forward pass before it;
    /// [`ModelError::Shape`] if `df` has not b entries.
    pub fn backward(&mut self, df: ArrayView1<'_, F>) -> Result<Array2<F>> {
        let cache = self.cache.take().ok_or(ModelError::NoForward)?;
        let (n, p, m) = (self.cfg.experts, self.cfg.slots, self.cfg.tokens);
        let np = n * p;
        let dt = self.token_dim();
        let b = cache.y.nrows();
        if df.len() != b {
            return Err(ModelError::from(smoe_nn::ShapeError {
                op: "SoftMoe::backward (df)",
                expected: vec![b],
                got: vec![df.len()],
            }));
        }
        let SoftCache {
            xhat,
            norms,
            unit_phi,
            phi_used,
            dispatch,
            combine,
            slot_out,
            y,
            tapes,
        } = cache;
        // G = dL/dY [b, m·d_tok]
        let g = match &mut self.head {
            None => Array2::from_shape_fn((b, m * dt), |(r, _)| df[r]),
            Some(h) => {
                let dfc = df.to_owned().insert_axis(Axis(1));
                h.backward(y.view(), dfc.view())?
            }
        };
        // dC [b·m, np] and dỸ [b·np, d_tok]
        let mut dcomb = Array2::<F>::zeros((b * m, np));
        let mut dslot_out = Array2::<F>::zeros((b * np, dt));
        for r in 0..b {
            for i in 0..m {
                let gi = g.slice(ndarray::s![r, i * dt..(i + 1) * dt]);
                for c in 0..np {
                    let yc = slot_out.row(r * np + c);
                    dcomb[[r * m + i, c]] = gi.dot(&yc);
                    let w = combine[[r * m + i, c]];
                    dslot_out
                        .row_mut(r * np + c)
                        .zip_mut_with(&gi, |o, &v| *o += w * v);
                }
            }
        }
        // experts: dX̃ [b·np, d_tok]
        let dslot_in = self.experts_backward(&tapes, &dslot_out, b)?;
        // dD [b·m, np]; dX̂ [b·m, d_tok] from X̃ = Dᵀ X̂
        let mut ddisp = Array2::<F>::zeros((b * m, np));
        let mut dxhat = Array2::<F>::zeros((b * m, dt));
        for r in 0..b {
            for i in 0..m {
                let xi = xhat.row(r * m + i);
                for c in 0..np {
                    let gc = dslot_in.row(r * np + c);
                    ddisp[[r * m + i, c]] = xi.dot(&gc);
                    let w = dispatch[[r * m + i, c]];
                    dxhat
                        .row_mut(r * m + i)
                        .zip_mut_with(&gc, |o, &v| *o += w * v);
                }
            }
        }
        // through both softmaxes to the logits
        let mut dlogits = Array2::<F>::zeros((b * m, np));
        for row in 0..b * m {
            let s: F = (0..np).map(|c| combine[[row, c]] * dcomb[[row, c]]).sum();
            for c in 0..np {
                dlogits[[row, c]] = combine[[row, c]] * (dcomb[[row, c]] - s);
            }
        }
        for r in 0..b {
            for c in 0..np {
                let s: F = (0..m)
                    .map(|i| dispatch[[r * m + i, c]] * ddisp[[r * m + i, c]])
                    .sum();
                for i in 0..m {
                    let k = r * m + i;
                    dlogits[[k, c]] += dispatch[[k, c]] * (ddisp[[k, c]] - s);
                }
            }
        }
        // L = X̂ Φ̂
        let dphi_used = xhat.t().dot(&dlogits);
        dxhat += &dlogits.dot(&phi_used.t());
        match unit_phi {
            None => self.phi_grad += &dphi_used,
            Some((unit, col_norms)) => {
                let s = self.scale[0];
                for c in 0..np {
                    let u = unit.column(c);
                    let gc = dphi_used.column(c);
                    let ug = u.dot(&gc);
                    self.scale_grad[0] += ug;
                    let scale = s / col_norms[c];
                    for t in 0..dt {
                        self.phi_grad[[t, c]] += scale * (gc[t] - u[t] * ug);
                    }
                }
            }
        }
        if let Some(norms) = norms {
            for (row, (mut dxr, &nr)) in dxhat.rows_mut().into_iter().zip(&norms).enumerate() {
                let xr = xhat.row(row);
                let proj = xr.dot(&dxr);
                dxr.zip_mut_with(&xr, |d, &xv| *d = (*d - xv * proj) / nr);
            }
        }
        dxhat.into_shape_with_order((b, m * dt)).map_err(|_| {
            ModelError::from(smoe_nn::ShapeError {
                op: "SoftMoe::backward (dx)",
                expected: vec![b, m * dt],
                got: vec![b * m, dt],
            })
        })
    }

    /// Each expert's backward on its `b·p` slot rows; returns `dX̃ [b·np, d_tok]`.
    fn experts_backward(
        &mut self,
        tapes: &[super::TokenTape<F>],
        dslot_out: &Array2<F>,
        b: usize,
    ) -> Result<Array2<F>> {
        let (p, np) = (self.cfg.slots, self.cfg.experts * self.cfg.slots);
        let dt = dslot_out.ncols();
        let gather = |j: usize| {
            let mut dy = Array2::<F>::zeros((b * p, dt));
            for r in 0..b {
                for s in 0..p {
                    dy.row_mut(r * p + s)
                        .assign(&dslot_out.row(r * np + j * p + s));
                }
            }
            dy
        };
        let width = if self.cfg.expert.depth == 0 {
            dt
        } else {
            self.cfg.expert.width
        };
        let parallel = rayon::current_num_threads() > 1 && b * np * dt * width >= 1 << 20;
        let dxs: Vec<Array2<F>> = if parallel {
            self.experts
                .par_iter_mut()
                .zip(tapes.par_iter())
                .enumerate()
                .map(|(j, (e, t))| e.backward(t, gather(j).view()))
                .collect::<Result<_>>()?
        } else {
            self.experts
                .iter_mut()
                .zip(tapes)
                .enumerate()
                .map(|(j, (e, t))| e.backward(t, gather(j).view()))
                .collect::<Result<_>>()?
        };
        let mut dslot_in = Array2::<F>::zeros((b * np, dt));
        for (j, dx) in dxs.iter().enumerate() {
            for r in 0..b {
                for s in 0..p {
                    dslot_in
                        .row_mut(r * np + j * p + s)
                        .assign(&dx.row(r * p + s));
                }
            }
        }
        Ok(dslot_in)
    }
}
