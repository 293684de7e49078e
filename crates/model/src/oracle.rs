//! The dense reference path: every expert on every row, masked by the routing weights.
//!
//! It costs T experts per row instead of k and exists only as a test oracle for the sparse
//! dispatch of [`SparseMoe`]: same routing, same drops, same gradients up to rounding.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use smoe_nn::Float;

use crate::dispatch::DROPPED;
use crate::{Result, SparseMoe};

/// Forward and backward on the dense path: returns `(f [b], dL/dx [b, d])` and accumulates
/// every parameter gradient of `model` for `dL/df = df`.
///
/// # Errors
/// As [`SparseMoe::forward_with_noise`].
pub fn dense_forward_backward<F: Float>(
    model: &mut SparseMoe<F>,
    x: ArrayView2<'_, F>,
    noise: Option<ArrayView2<'_, F>>,
    df: ArrayView1<'_, F>,
) -> Result<(Array1<F>, Array2<F>)> {
    let (logits, routing, plan) = model.route(x, noise)?;
    let (b, t) = (x.nrows(), model.experts.len());
    // full weight matrix, zero off the kept selection
    let mut wfull = Array2::<F>::zeros((b, t));
    for r in 0..b {
        for s in 0..routing.k() {
            if plan.pos[[r, s]] != DROPPED {
                wfull[[r, routing.idx[[r, s]]]] = routing.weight[[r, s]];
            }
        }
    }
    let mut h = Array2::<F>::zeros((b, t));
    let mut tapes = Vec::with_capacity(t);
    for (j, e) in model.experts.iter().enumerate() {
        let mut col = vec![F::zero(); b];
        tapes.push(e.forward(x, &mut col)?);
        h.column_mut(j).assign(&Array1::from(col));
    }
    let f = (&wfull * &h).sum_axis(ndarray::Axis(1));
    let mut dx = Array2::<F>::zeros(x.dim());
    for (j, (e, tape)) in model.experts.iter_mut().zip(&tapes).enumerate() {
        let dy: Vec<F> = (0..b).map(|r| df[r] * wfull[[r, j]]).collect();
        let mut dxj = Array2::zeros(x.dim());
        e.backward(x, tape, &dy, Some(dxj.view_mut()))?;
        dx += &dxj;
    }
    let dw = Array2::from_shape_fn(routing.weight.dim(), |(r, s)| {
        if plan.pos[[r, s]] == DROPPED {
            F::zero()
        } else {
            df[r] * h[[r, routing.idx[[r, s]]]]
        }
    });
    let gg = model.gate.backward(x, logits.view(), &routing, dw.view())?;
    dx += &model.router.backward(x, gg.dlogits.view())?;
    if let Some(gdx) = gg.dx {
        dx += &gdx;
    }
    Ok((f, dx))
}
