//! The Soft MoE expert: a vector-output MLP `d_tok → width → … → d_tok`.

use ndarray::{Array2, ArrayView2};
use smoe_experts::ExpertConfig;
use smoe_nn::{Activation, Float, Linear, ParamMut, ParamRef, SmoeRng};

use crate::Result;

/// `depth` hidden layers `h_{l+1} = act(h_l W_lᵀ + b_l)`, then `y = h_depth W_outᵀ + b_out`
/// with `W_out [d_tok, width]`: one token in, one token out (depth 0: `y = x Wᵀ + b`,
/// `W [d_tok, d_tok]`).
///
/// Parameters `layers.{l}.weight [out, in]`, `layers.{l}.bias [out]` for `l = 0..=depth`
/// (the last is the output layer) and, for PReLU, `acts.{l}.weight [1]` for `l < depth`:
/// the names of `smoe_experts::MlpExpert`, with a `d_tok`-wide output layer.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenMlp<F> {
    /// Hidden layers then the output layer.
    pub layers: Vec<Linear<F>>,
    /// One activation per hidden layer.
    pub acts: Vec<Activation<F>>,
}

/// What [`TokenMlp::forward`] keeps for the backward pass: the input of every layer and the
/// pre-activation of every hidden layer.
#[derive(Debug, Clone, Default)]
pub struct TokenTape<F> {
    /// `inputs[l]`: the input of layer l (`inputs[0]` is the expert's input).
    pub inputs: Vec<Array2<F>>,
    /// `pre[l]`: the pre-activation of hidden layer l.
    pub pre: Vec<Array2<F>>,
}

impl<F: Float> TokenMlp<F> {
    /// A new expert for tokens of width `d_tok`, each layer initialised by `cfg.init` from
    /// `rng` in order.
    ///
    /// # Errors
    /// [`crate::ModelError::Nn`] if `d_tok = 0` or `width = 0` with `depth ≥ 1`.
    pub fn new(d_tok: usize, cfg: &ExpertConfig, rng: &mut SmoeRng) -> Result<Self> {
        cfg.validate()?;
        let mut layers = Vec::with_capacity(cfg.depth + 1);
        let mut width_in = d_tok;
        for _ in 0..cfg.depth {
            layers.push(Linear::new(width_in, cfg.width, cfg.init, rng)?);
            width_in = cfg.width;
        }
        layers.push(Linear::new(width_in, d_tok, cfg.init, rng)?);
        let acts = (0..cfg.depth)
            .map(|_| Activation::new(cfg.activation))
            .collect();
        Ok(Self { layers, acts })
    }

    /// Forward pass over rows; keeps the tape when `keep` is set.
    ///
    /// # Shapes
    /// `x [r, d_tok] -> y [r, d_tok]`.
    ///
    /// # Errors
    /// Shape errors of the layers.
    pub fn forward(&self, x: ArrayView2<'_, F>, keep: bool) -> Result<(Array2<F>, TokenTape<F>)> {
        let mut tape = TokenTape::default();
        let mut h = x.to_owned();
        for (layer, act) in self.layers.iter().zip(&self.acts) {
            let a = layer.forward(h.view())?;
            let mut next = Array2::zeros(a.dim());
            act.forward(
                a.as_slice().unwrap_or(&[]),
                next.as_slice_mut().unwrap_or(&mut []),
            );
            if keep {
                tape.inputs.push(h);
                tape.pre.push(a);
            }
            h = next;
        }
        let last = &self.layers[self.layers.len() - 1];
        let y = last.forward(h.view())?;
        if keep {
            tape.inputs.push(h);
        }
        Ok((y, tape))
    }

    /// Backward from `dy [r, d_tok]`: accumulates every parameter gradient and returns
    /// `dx [r, d_tok]`.
    ///
    /// # Errors
    /// Shape errors (a tape of another pass).
    pub fn backward(&mut self, tape: &TokenTape<F>, dy: ArrayView2<'_, F>) -> Result<Array2<F>> {
        let depth = self.acts.len();
        let mut g = self.layers[depth].backward(tape.inputs[depth].view(), dy)?;
        for l in (0..depth).rev() {
            let a = &tape.pre[l];
            let mut da = Array2::zeros(a.dim());
            self.acts[l].backward(
                a.as_slice().unwrap_or(&[]),
                g.as_standard_layout().as_slice().unwrap_or(&[]),
                da.as_slice_mut().unwrap_or(&mut []),
            );
            g = self.layers[l].backward(tape.inputs[l].view(), da.view())?;
        }
        Ok(g)
    }

    /// The parameters under `prefix`: `{prefix}.layers.{l}.*`, then `{prefix}.acts.{l}.weight`.
    pub fn params<'a>(&'a self, prefix: &str, out: &mut Vec<ParamRef<'a, F>>) {
        for (l, layer) in self.layers.iter().enumerate() {
            layer.params(&format!("{prefix}.layers.{l}"), out);
        }
        for (l, act) in self.acts.iter().enumerate() {
            act.params(&format!("{prefix}.acts.{l}"), out);
        }
    }

    /// Mutable form of [`TokenMlp::params`], same order.
    pub fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<ParamMut<'a, F>>) {
        for (l, layer) in self.layers.iter_mut().enumerate() {
            layer.params_mut(&format!("{prefix}.layers.{l}"), out);
        }
        for (l, act) in self.acts.iter_mut().enumerate() {
            act.params_mut(&format!("{prefix}.acts.{l}"), out);
        }
    }
}
