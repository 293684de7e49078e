use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use smoe_nn::kernels::axpy;
use smoe_nn::{Activation, Float, Linear, ParamMut, ParamRef, SmoeRng};

use crate::{Expert, ExpertConfig, ExpertError, Result, Tape};

/// `depth` hidden layers `h_{l+1} = act(h_l W_lᵀ + b_l)` (`h_0 = x`), then
/// `y = out_act(h_depth wᵀ + b)` (one scalar); `out_act` is the identity unless the config sets
/// [`ExpertConfig::output_activation`]. Depth 0 with `output_activation = "sigmoid"` is Nguyen
/// et al.'s FFN expert `h(x) = σ(aᵀx + b)` (THEORY.md §7.2); depth 0 without it is linear.
///
/// Backward: with `z = h_depth wᵀ + b`, `dL/dz = out_act'(z) dL/dy`, then the usual chain through
/// the layers.
///
/// Parameters: `layers.{l}.weight [out, in]`, `layers.{l}.bias [out]` for `l = 0..=depth` (the
/// last is the output layer), and for PReLU `acts.{l}.weight [1]` for `l < depth` (the output
/// activation has no parameters: PReLU is refused there by [`ExpertConfig::validate`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MlpExpert<F> {
    /// Hidden layers then the output layer.
    pub layers: Vec<Linear<F>>,
    /// One activation per hidden layer.
    pub acts: Vec<Activation<F>>,
    /// The activation on the output scalar (identity by default; never PReLU).
    pub out_act: Activation<F>,
}

impl<F: Float> MlpExpert<F> {
    /// A new expert for inputs of width `d`, drawn from `rng`.
    ///
    /// # Errors
    /// [`ExpertError::ZeroDim`] if `d = 0` or `width = 0` with `depth ≥ 1`.
    pub fn new(d: usize, cfg: &ExpertConfig, rng: &mut SmoeRng) -> Result<Self> {
        cfg.validate()?;
        if d == 0 {
            return Err(ExpertError::ZeroDim(smoe_nn::ZeroDim {
                what: "expert input width",
            }));
        }
        let mut layers = Vec::with_capacity(cfg.depth + 1);
        let mut width_in = d;
        for _ in 0..cfg.depth {
            layers.push(Linear::new(width_in, cfg.width, cfg.init, rng)?);
            width_in = cfg.width;
        }
        layers.push(Linear::new(width_in, 1, cfg.init, rng)?);
        let acts = (0..cfg.depth)
            .map(|_| Activation::new(cfg.activation))
            .collect();
        Ok(Self {
            layers,
            acts,
            out_act: Activation::new(cfg.output_activation),
        })
    }

    /// Whether the output activation is not the identity (its pre-activation is then taped).
    fn has_out_act(&self) -> bool {
        !matches!(self.out_act, Activation::Identity)
    }

    /// Applies the output activation in place; returns the pre-activations `z [n, 1]` when
    /// there is one.
    fn apply_out_act(&self, out: &mut [F]) -> Option<Array2<F>> {
        if !self.has_out_act() {
            return None;
        }
        let z = Array2::from_shape_vec((out.len(), 1), out.to_vec()).ok()?;
        self.out_act.forward(z.as_slice().unwrap_or(&[]), out);
        Some(z)
    }

    /// Hidden layers.
    pub fn depth(&self) -> usize {
        self.acts.len()
    }

    fn check_rows(&self, op: &'static str, x: ArrayView2<'_, F>, n: usize) -> Result<()> {
        if x.ncols() != self.input_dim() || x.nrows() != n {
            return Err(ExpertError::from(smoe_nn::ShapeError {
                op,
                expected: vec![n, self.input_dim()],
                got: x.shape().to_vec(),
            }));
        }
        Ok(())
    }

    /// Runs the hidden stack, pushing `h_l` (l ≥ 1) and `a_l` for each layer when `save` is set
    /// (the caller pushes the last `h`, so the tape reads `a_0, h_1, a_1, …, h_depth`);
    /// returns the last hidden activation (or `None` for depth 0: the input itself).
    fn hidden(
        &self,
        x: ArrayView2<'_, F>,
        mut save: Option<&mut Vec<Array2<F>>>,
    ) -> Result<Option<Array2<F>>> {
        let mut h: Option<Array2<F>> = None;
        for (layer, act) in self.layers.iter().zip(&self.acts) {
            let input = h.as_ref().map_or(x, |a| a.view());
            let a = layer.forward(input)?;
            let mut next = Array2::zeros(a.dim());
            act.forward(
                a.as_slice().unwrap_or(&[]),
                next.as_slice_mut().unwrap_or(&mut []),
            );
            if let Some(s) = save.as_deref_mut() {
                if let Some(prev) = h.take() {
                    s.push(prev);
                }
                s.push(a);
            }
            h = Some(next);
        }
        Ok(h)
    }

    fn output(&self, h: ArrayView2<'_, F>, out: &mut [F]) -> Result<()> {
        let last = &self.layers[self.layers.len() - 1];
        let w = last.weight.as_slice().unwrap_or(&[]);
        let b = last.bias[0];
        for (o, row) in out.iter_mut().zip(h.rows()) {
            *o = b + match row.as_slice() {
                Some(r) => smoe_nn::kernels::dot(w, r),
                None => row.iter().zip(w).map(|(a, b)| *a * *b).sum(),
            };
        }
        Ok(())
    }
}

impl<F: Float> Expert<F> for MlpExpert<F> {
    fn input_dim(&self) -> usize {
        self.layers[0].d_in()
    }

    fn forward(&self, x: ArrayView2<'_, F>, out: &mut [F]) -> Result<Tape<F>> {
        self.check_rows("MlpExpert::forward", x, out.len())?;
        let mut saved = Vec::with_capacity(2 * self.depth() + 1);
        let h = self.hidden(x, Some(&mut saved))?;
        self.output(h.as_ref().map_or(x, |a| a.view()), out)?;
        saved.extend(h);
        saved.extend(self.apply_out_act(out));
        Ok(Tape { saved })
    }

    fn infer(&self, x: ArrayView2<'_, F>, out: &mut [F]) -> Result<()> {
        self.check_rows("MlpExpert::infer", x, out.len())?;
        let h = self.hidden(x, None)?;
        self.output(h.as_ref().map_or(x, |a| a.view()), out)?;
        self.apply_out_act(out);
        Ok(())
    }

    fn backward(
        &mut self,
        x: ArrayView2<'_, F>,
        tape: &Tape<F>,
        dout: &[F],
        dx: Option<ArrayViewMut2<'_, F>>,
    ) -> Result<()> {
        self.check_rows("MlpExpert::backward", x, dout.len())?;
        let depth = self.depth();
        let taped = 2 * depth + usize::from(self.has_out_act());
        if tape.saved.len() != taped {
            return Err(ExpertError::from(smoe_nn::ShapeError {
                op: "MlpExpert::backward (tape)",
                expected: vec![taped],
                got: vec![tape.saved.len()],
            }));
        }
        // output activation: dL/dz = out_act'(z) dL/dy
        let dz;
        let dout = match tape.saved.get(2 * depth) {
            Some(z) if z.len() == dout.len() => {
                let mut d = vec![F::zero(); dout.len()];
                self.out_act
                    .backward(z.as_slice().unwrap_or(&[]), dout, &mut d);
                dz = d;
                &dz[..]
            }
            Some(z) => {
                return Err(ExpertError::from(smoe_nn::ShapeError {
                    op: "MlpExpert::backward (tape)",
                    expected: vec![dout.len(), 1],
                    got: z.shape().to_vec(),
                }));
            }
            None => dout,
        };
        // output layer: y = h w + b, one scalar per row
        let h_last = if depth == 0 {
            x
        } else {
            tape.saved[2 * depth - 1].view()
        };
        let n = dout.len();
        let width = h_last.ncols();
        let out_layer = &mut self.layers[depth];
        let mut dh = Array2::zeros((n, width));
        {
            let dw = out_layer.weight_grad.as_slice_mut().unwrap_or(&mut []);
            let w = out_layer.weight.as_slice().unwrap_or(&[]);
            let mut db = F::zero();
            for ((g, row), mut dhr) in dout.iter().zip(h_last.rows()).zip(dh.rows_mut()) {
                db += *g;
                if let (Some(r), Some(d)) = (row.as_slice(), dhr.as_slice_mut()) {
                    axpy(*g, r, dw);
                    for (di, wi) in d.iter_mut().zip(w) {
                        *di = *g * *wi;
                    }
                } else {
                    for ((dwi, hi), (dhi, wi)) in
                        dw.iter_mut().zip(row.iter()).zip(dhr.iter_mut().zip(w))
                    {
                        *dwi += *g * *hi;
                        *dhi = *g * *wi;
                    }
                }
            }
            out_layer.bias_grad[0] += db;
        }
        if depth == 0 {
            if let Some(mut dx) = dx {
                dx.assign(&dh);
            }
            return Ok(());
        }
        let mut dx = dx;
        for l in (0..depth).rev() {
            let a = &tape.saved[2 * l];
            let mut da = Array2::zeros(a.dim());
            self.acts[l].backward(
                a.as_slice().unwrap_or(&[]),
                dh.as_slice().unwrap_or(&[]),
                da.as_slice_mut().unwrap_or(&mut []),
            );
            let input = if l == 0 {
                x
            } else {
                tape.saved[2 * l - 1].view()
            };
            if l == 0 {
                self.layers[0].backward_into(input, da.view(), dx.take())?;
            } else {
                let mut next = Array2::zeros(input.dim());
                self.layers[l].backward_into(input, da.view(), Some(next.view_mut()))?;
                dh = next;
            }
        }
        Ok(())
    }

    fn params<'a>(&'a self, prefix: &str, out: &mut Vec<ParamRef<'a, F>>) {
        for (l, layer) in self.layers.iter().enumerate() {
            layer.params(&format!("{prefix}.layers.{l}"), out);
        }
        for (l, act) in self.acts.iter().enumerate() {
            act.params(&format!("{prefix}.acts.{l}"), out);
        }
    }

    fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<ParamMut<'a, F>>) {
        for (l, layer) in self.layers.iter_mut().enumerate() {
            layer.params_mut(&format!("{prefix}.layers.{l}"), out);
        }
        for (l, act) in self.acts.iter_mut().enumerate() {
            act.params_mut(&format!("{prefix}.acts.{l}"), out);
        }
    }

    fn tensors_mut<'a>(&'a mut self, out: &mut Vec<ParamMut<'a, F>>) {
        for layer in &mut self.layers {
            layer.tensors_mut(out);
        }
        for act in &mut self.acts {
            act.params_mut("", out);
        }
    }

    fn boxed_clone(&self) -> Box<dyn Expert<F>> {
        Box::new(self.clone())
    }
}
