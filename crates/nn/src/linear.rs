//! The batched affine layer.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use crate::kernels::{affine_rows, affine_rows_backward};
use crate::{Float, Init, NnError, ParamMut, ParamRef, Result, SmoeRng};

/// Below this many rows (or outputs, or inputs) the hand-written kernels beat the general
/// matrix product, whose fixed cost is about a microsecond per call.
const GEMM_MIN: usize = 16;

/// `y = x Wᵀ + b`, batched over rows: PyTorch's `nn.Linear`, weight `[out, in]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear<F> {
    /// Weight `[out, in]`.
    pub weight: Array2<F>,
    /// Bias `[out]`.
    pub bias: Array1<F>,
    /// Gradient of the weight, `[out, in]`.
    pub weight_grad: Array2<F>,
    /// Gradient of the bias, `[out]`.
    pub bias_grad: Array1<F>,
}

impl<F: Float> Linear<F> {
    /// A layer `d_in -> d_out` initialised by `init` from `rng`.
    ///
    /// # Errors
    /// [`NnError::ZeroDim`] if `d_in` or `d_out` is 0.
    pub fn new(d_in: usize, d_out: usize, init: Init, rng: &mut SmoeRng) -> Result<Self> {
        let mut layer = Self::zeros(d_in, d_out)?;
        init.fill_linear(&mut layer.weight, &mut layer.bias, rng);
        Ok(layer)
    }

    /// A layer with all parameters zero (to be filled, e.g. from a checkpoint).
    ///
    /// # Errors
    /// [`NnError::ZeroDim`] if `d_in` or `d_out` is 0.
    pub fn zeros(d_in: usize, d_out: usize) -> Result<Self> {
        if d_in == 0 {
            return Err(NnError::ZeroDim(crate::ZeroDim {
                what: "input width",
            }));
        }
        if d_out == 0 {
            return Err(NnError::ZeroDim(crate::ZeroDim {
                what: "output width",
            }));
        }
        Ok(Self {
            weight: Array2::zeros((d_out, d_in)),
            bias: Array1::zeros(d_out),
            weight_grad: Array2::zeros((d_out, d_in)),
            bias_grad: Array1::zeros(d_out),
        })
    }

    /// Input width.
    pub fn d_in(&self) -> usize {
        self.weight.ncols()
    }

    /// Output width.
    pub fn d_out(&self) -> usize {
        self.weight.nrows()
    }

    /// Forward pass.
    ///
    /// # Shapes
    /// `x [n, in] -> [n, out]`.
    ///
    /// # Errors
    /// [`NnError::Shape`] if `x` has not `in` columns.
    pub fn forward(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        let mut out = Array2::zeros((x.nrows(), self.d_out()));
        self.forward_into(x, out.view_mut())?;
        Ok(out)
    }

    /// Forward pass into a preallocated `out [n, out]` (overwritten).
    ///
    /// # Errors
    /// [`NnError::Shape`] if `x` or `out` has the wrong shape.
    pub fn forward_into(&self, x: ArrayView2<'_, F>, mut out: ArrayViewMut2<'_, F>) -> Result<()> {
        self.check("Linear::forward", x, out.dim())?;
        let n = x.nrows();
        if n == 0 {
            return Ok(());
        }
        if self.use_gemm(n) {
            general_mat_mul(F::one(), &x, &self.weight.t(), F::zero(), &mut out);
            out += &self.bias;
            return Ok(());
        }
        match (x.as_slice(), self.weight.as_slice(), out.as_slice_mut()) {
            (Some(xs), Some(ws), Some(os)) => {
                affine_rows(xs, ws, self.bias.as_slice().unwrap_or(&[]), self.d_in(), os);
            }
            _ => {
                let x = x.as_standard_layout();
                let mut tmp = Array2::zeros(out.dim());
                affine_rows(
                    x.as_slice().unwrap_or(&[]),
                    self.weight.as_slice().unwrap_or(&[]),
                    self.bias.as_slice().unwrap_or(&[]),
                    self.d_in(),
                    tmp.as_slice_mut().unwrap_or(&mut []),
                );
                out.assign(&tmp);
            }
        }
        Ok(())
    }

    /// Backward pass: accumulates `dW += dyᵀ x`, `db += Σ dy` and returns `dx = dy W`.
    ///
    /// # Shapes
    /// `x [n, in]`, `dy [n, out] -> dx [n, in]`.
    ///
    /// # Errors
    /// [`NnError::Shape`] if `x` or `dy` has the wrong shape.
    pub fn backward(&mut self, x: ArrayView2<'_, F>, dy: ArrayView2<'_, F>) -> Result<Array2<F>> {
        let mut dx = Array2::zeros(x.dim());
        self.backward_into(x, dy, Some(dx.view_mut()))?;
        Ok(dx)
    }

    /// Backward pass writing `dx` (overwritten) only when asked for.
    ///
    /// # Errors
    /// [`NnError::Shape`] if `x`, `dy` or `dx` has the wrong shape.
    pub fn backward_into(
        &mut self,
        x: ArrayView2<'_, F>,
        dy: ArrayView2<'_, F>,
        dx: Option<ArrayViewMut2<'_, F>>,
    ) -> Result<()> {
        self.check("Linear::backward", x, dy.dim())?;
        if let Some(dx) = dx.as_ref()
            && dx.dim() != x.dim()
        {
            return Err(NnError::from(crate::ShapeError {
                op: "Linear::backward (dx)",
                expected: vec![x.nrows(), x.ncols()],
                got: dx.shape().to_vec(),
            }));
        }
        let n = x.nrows();
        if n == 0 {
            return Ok(());
        }
        if self.use_gemm(n) {
            general_mat_mul(F::one(), &dy.t(), &x, F::one(), &mut self.weight_grad);
            self.bias_grad += &dy.sum_axis(ndarray::Axis(0));
            if let Some(mut dx) = dx {
                general_mat_mul(F::one(), &dy, &self.weight, F::zero(), &mut dx);
            }
            return Ok(());
        }
        let (d_in, d_out) = (self.d_in(), self.d_out());
        let x = x.as_standard_layout();
        let dy = dy.as_standard_layout();
        let (xs, dys) = (x.as_slice().unwrap_or(&[]), dy.as_slice().unwrap_or(&[]));
        let ws = self.weight.as_slice().unwrap_or(&[]);
        let dws = self.weight_grad.as_slice_mut().unwrap_or(&mut []);
        let dbs = self.bias_grad.as_slice_mut().unwrap_or(&mut []);
        match dx {
            None => affine_rows_backward(xs, ws, dys, d_in, d_out, dws, dbs, None),
            Some(mut dx) => match dx.as_slice_mut() {
                Some(dxs) => affine_rows_backward(xs, ws, dys, d_in, d_out, dws, dbs, Some(dxs)),
                None => {
                    let mut tmp = Array2::zeros(dx.dim());
                    let tmps = tmp.as_slice_mut().unwrap_or(&mut []);
                    affine_rows_backward(xs, ws, dys, d_in, d_out, dws, dbs, Some(tmps));
                    dx.assign(&tmp);
                }
            },
        }
        Ok(())
    }

    /// The parameters, named `{prefix}.weight` and `{prefix}.bias`, appended to `out`.
    pub fn params<'a>(&'a self, prefix: &str, out: &mut Vec<ParamRef<'a, F>>) {
        out.push(ParamRef {
            name: format!("{prefix}.weight"),
            shape: self.weight.shape().to_vec(),
            value: self.weight.as_slice().unwrap_or(&[]),
            grad: self.weight_grad.as_slice().unwrap_or(&[]),
        });
        out.push(ParamRef {
            name: format!("{prefix}.bias"),
            shape: self.bias.shape().to_vec(),
            value: self.bias.as_slice().unwrap_or(&[]),
            grad: self.bias_grad.as_slice().unwrap_or(&[]),
        });
    }

    /// Mutable parameters, named as in [`Linear::params`], appended to `out`.
    pub fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<ParamMut<'a, F>>) {
        out.push(ParamMut {
            name: format!("{prefix}.weight"),
            shape: self.weight.shape().to_vec(),
            value: self.weight.as_slice_mut().unwrap_or(&mut []),
            grad: self.weight_grad.as_slice_mut().unwrap_or(&mut []),
        });
        out.push(ParamMut {
            name: format!("{prefix}.bias"),
            shape: self.bias.shape().to_vec(),
            value: self.bias.as_slice_mut().unwrap_or(&mut []),
            grad: self.bias_grad.as_slice_mut().unwrap_or(&mut []),
        });
    }

    /// The weight then the bias, unnamed (as [`ParamMut::unnamed`]), in the order of
    /// [`Linear::params_mut`].
    pub fn tensors_mut<'a>(&'a mut self, out: &mut Vec<ParamMut<'a, F>>) {
        out.push(ParamMut::unnamed(
            self.weight.as_slice_mut().unwrap_or(&mut []),
            self.weight_grad.as_slice_mut().unwrap_or(&mut []),
        ));
        out.push(ParamMut::unnamed(
            self.bias.as_slice_mut().unwrap_or(&mut []),
            self.bias_grad.as_slice_mut().unwrap_or(&mut []),
        ));
    }

    fn use_gemm(&self, n: usize) -> bool {
        n >= GEMM_MIN && self.d_out() >= GEMM_MIN && self.d_in() >= GEMM_MIN
    }

    fn check(&self, op: &'static str, x: ArrayView2<'_, F>, out: (usize, usize)) -> Result<()> {
        if x.ncols() != self.d_in() {
            return Err(NnError::from(crate::ShapeError {
                op,
                expected: vec![x.nrows(), self.d_in()],
                got: x.shape().to_vec(),
            }));
        }
        if out != (x.nrows(), self.d_out()) {
            return Err(NnError::from(crate::ShapeError {
                op,
                expected: vec![x.nrows(), self.d_out()],
                got: vec![out.0, out.1],
            }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream_rng;
    use ndarray::Array;

    fn data(n: usize, d: usize, s: f64) -> Array2<f64> {
        Array::from_shape_fn((n, d), |(i, j)| ((i * 7 + j * 3) as f64 * s).sin())
    }

    /// The kernel path (small n) and the GEMM path (large n) agree row by row.
    #[test]
    fn small_and_gemm_paths_agree() {
        let mut rng = stream_rng(1, "t", 0);
        let layer = Linear::<f64>::new(20, 24, Init::PytorchUniform, &mut rng).unwrap();
        let x = data(40, 20, 0.3);
        let big = layer.forward(x.view()).unwrap();
        for r in 0..40 {
            let one = layer.forward(x.slice(ndarray::s![r..r + 1, ..])).unwrap();
            for o in 0..24 {
                assert!((one[[0, o]] - big[[r, o]]).abs() < 1e-13);
            }
        }
        let dy = data(40, 24, 0.7);
        let mut a = layer.clone();
        let dxa = a.backward(x.view(), dy.view()).unwrap();
        let mut b = layer.clone();
        let mut dxb = Array2::zeros((40, 20));
        for r in 0..40 {
            let d = b
                .backward(
                    x.slice(ndarray::s![r..r + 1, ..]),
                    dy.slice(ndarray::s![r..r + 1, ..]),
                )
                .unwrap();
            dxb.row_mut(r).assign(&d.row(0));
        }
        assert!((&dxa - &dxb).iter().all(|v| v.abs() < 1e-12));
        assert!(
            (&a.weight_grad - &b.weight_grad)
                .iter()
                .all(|v| v.abs() < 1e-12)
        );
        assert!(
            (&a.bias_grad - &b.bias_grad)
                .iter()
                .all(|v| v.abs() < 1e-12)
        );
    }

    #[test]
    fn wrong_width_is_an_error() {
        let layer = Linear::<f32>::zeros(3, 2).unwrap();
        let x = Array2::<f32>::zeros((4, 5));
        assert!(matches!(layer.forward(x.view()), Err(NnError::Shape(_))));
        assert_eq!(
            Linear::<f32>::zeros(0, 2).unwrap_err(),
            NnError::ZeroDim(crate::ZeroDim {
                what: "input width"
            })
        );
    }
}
