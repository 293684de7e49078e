use ndarray::{Array2, ArrayView2};
use smoe_nn::Float;

use crate::{GatingError, Result};

/// What a gate decided for a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing<F> {
    /// Selected experts `[b, k]`, each row in descending score order (ties: lower index first).
    pub idx: Array2<usize>,
    /// Their weights `[b, k]`.
    pub weight: Array2<F>,
    /// The standard-normal noise used, `[b, T]` (noisy gates while training only).
    pub noise: Option<Array2<F>>,
}

impl<F: Float> Routing<F> {
    /// Batch size b.
    pub fn batch(&self) -> usize {
        self.idx.nrows()
    }
    /// Experts per input, k.
    pub fn k(&self) -> usize {
        self.idx.ncols()
    }
}

/// Gradients a gate returns.
#[derive(Debug, Clone, PartialEq)]
pub struct GateGrad<F> {
    /// `dL/dz [b, T]`.
    pub dlogits: Array2<F>,
    /// `dL/dx [b, d]` for gates that read `x` (noisy top-k), else `None`.
    pub dx: Option<Array2<F>>,
}

/// Checks `z [b, T]` and `x [b, ·]`, and that every logit is finite: what every gate's
/// `route` checks first (a gate of your own should too: the trainer reads
/// [`GatingError::NonFinite`] as a diverged run).
///
/// # Errors
/// [`GatingError::Shape`] naming `op`; [`GatingError::NonFinite`] at the first bad logit.
pub fn check_inputs<F: Float>(
    op: &'static str,
    x: ArrayView2<'_, F>,
    z: ArrayView2<'_, F>,
    experts: usize,
) -> Result<()> {
    if z.ncols() != experts || x.nrows() != z.nrows() {
        return Err(GatingError::from(smoe_nn::ShapeError {
            op,
            expected: vec![x.nrows(), experts],
            got: z.shape().to_vec(),
        }));
    }
    let all_finite = match z.as_slice() {
        Some(v) => v.iter().all(|v| v.is_finite()),
        None => z.iter().all(|v| v.is_finite()),
    };
    if !all_finite && let Some(((row, expert), _)) = z.indexed_iter().find(|(_, v)| !v.is_finite())
    {
        return Err(GatingError::NonFinite { row, expert });
    }
    Ok(())
}

/// Checks `dweight` against the routing: what every gate's `backward` checks first.
///
/// # Errors
/// [`GatingError::Shape`] naming `op`.
pub fn check_dweight<F: Float>(
    op: &'static str,
    routing: &Routing<F>,
    z: ArrayView2<'_, F>,
    dweight: ArrayView2<'_, F>,
) -> Result<()> {
    if dweight.dim() != routing.weight.dim() || z.nrows() != routing.batch() {
        return Err(GatingError::from(smoe_nn::ShapeError {
            op,
            expected: routing.weight.shape().to_vec(),
            got: dweight.shape().to_vec(),
        }));
    }
    Ok(())
}

/// Checks 1 ≤ k ≤ T: what every gate's constructor checks.
///
/// # Errors
/// [`GatingError::ZeroDim`] for T = 0, [`GatingError::InvalidTopK`] otherwise.
pub fn check_k(k: usize, experts: usize) -> Result<()> {
    if experts == 0 {
        return Err(GatingError::ZeroDim(smoe_nn::ZeroDim {
            what: "gate number of experts",
        }));
    }
    if k == 0 || k > experts {
        return Err(GatingError::InvalidTopK { k, experts });
    }
    Ok(())
}
