//! Soft MoE (THEORY §8.1): tokens → dispatch softmax over tokens → slots → experts →
//! combine softmax over slots → head; and expert-subset selection at inference (§8.4).
//!
//! - [`SoftConfig`] / [`SoftHead`]: the config (`[model] kind = "soft"`);
//! - [`SoftMoe`]: forward, exact backward to Φ, the experts, the head and the input;
//! - [`TokenMlp`]: the vector-output expert;
//! - [`SoftRouting`]: dispatch and combine weights of a pass;
//! - [`SubsetRule`], [`select_experts`], [`SoftMoe::infer_subset`],
//!   [`SoftMoe::best_subsets`]: Chung et al.'s Algorithm 1 and its controls.
//!
//! # Example
//! ```
//! use ndarray::{Array1, Array2};
//! use smoe_model::{SoftConfig, SoftMoe, SubsetRule};
//!
//! let cfg = SoftConfig { experts: 4, tokens: 2, ..Default::default() };
//! let mut model = SoftMoe::<f64>::new(&cfg, 6, 0).unwrap(); // d = 6: 2 tokens of width 3
//! let x = Array2::from_shape_fn((5, 6), |(i, j)| ((i * 6 + j) as f64).sin());
//! let (f, routing) = model.forward(x.view()).unwrap();
//! assert_eq!((f.len(), routing.combine.dim()), (5, (5, 2, 4)));
//! let dx = model.backward(Array1::ones(5).view()).unwrap();
//! assert_eq!(dx.dim(), (5, 6));
//! // Algorithm 1: keep the 2 experts with the largest column sums of C
//! let top2 = model.infer_with_rule(x.view(), SubsetRule::Largest, 2, 0).unwrap();
//! assert_eq!(top2.selected.dim(), (5, 2));
//! ```

mod backward;
mod config;
mod forward;
mod mlp;
mod routing;
mod subset;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand_distr::{Distribution, Normal};
use smoe_nn::{Float, Init, Linear, ParamMut, ParamRef, stream_rng, zero_grads};

pub use config::{SoftConfig, SoftHead};
pub use mlp::{TokenMlp, TokenTape};
pub use routing::SoftRouting;
pub use subset::{MAX_EXHAUSTIVE_EXPERTS, SubsetOutput, SubsetRule, select_experts};

use crate::{AuxGrad, Model, ModelConfig, ModelError, ModelOutput, Result, RoutingDiagnostics};

/// What a training forward pass keeps for backward.
#[derive(Debug, Clone)]
struct SoftCache<F> {
    /// The tokens after normalisation, `[b·m, d_tok]`.
    xhat: Array2<F>,
    /// The tokens' norms `max(‖X_i‖, ε)` when normalising, `[b·m]`.
    norms: Option<Vec<F>>,
    /// The unit columns `Φ_c / ‖Φ_c‖` and their norms when normalising.
    unit_phi: Option<(Array2<F>, Vec<F>)>,
    /// The Φ the logits were computed with (`scale · unit` or Φ), `[d_tok, n·p]`.
    phi_used: Array2<F>,
    /// Dispatch and combine, `[b·m, n·p]` each.
    dispatch: Array2<F>,
    combine: Array2<F>,
    /// Slot outputs Ỹ, `[b·n·p, d_tok]`.
    slot_out: Array2<F>,
    /// Output tokens Y, `[b, m·d_tok]`.
    y: Array2<F>,
    /// Per expert: its input rows (`[b·p, d_tok]`) are kept in its tape.
    tapes: Vec<TokenTape<F>>,
}

/// A Soft MoE for scalar outputs; see [`SoftConfig`] for the formulas.
#[derive(Debug, Clone)]
pub struct SoftMoe<F: Float> {
    cfg: SoftConfig,
    d: usize,
    seed: u64,
    /// The router parameters Φ, `[d_tok, n·p]` (column `j·p + s`: slot s of expert j).
    pub phi: Array2<F>,
    /// Gradient of Φ.
    pub phi_grad: Array2<F>,
    /// The learnable scale of the normalised Φ (used only with `normalize`), `[1]`.
    pub scale: [F; 1],
    /// Its gradient.
    pub scale_grad: [F; 1],
    /// The n experts.
    pub experts: Vec<TokenMlp<F>>,
    /// The linear head `[1, d]` (only with `head = "linear"`).
    pub head: Option<Linear<F>>,
    cache: Option<SoftCache<F>>,
}

impl<F: Float> SoftMoe<F> {
    /// Builds the model of `cfg` for inputs of width `d`: Φ from stream `("phi", 0)` of
    /// `seed` (`N(0, 1/d_tok)`), expert j from `("expert", j)`, the linear head from
    /// `("head", 0)`.
    ///
    /// # Errors
    /// As [`SoftConfig::validate`].
    pub fn new(cfg: &SoftConfig, d: usize, seed: u64) -> Result<Self> {
        cfg.validate(d)?;
        let dt = cfg.token_dim(d);
        let np = cfg.experts * cfg.slots;
        let mut rng = stream_rng(seed, "phi", 0);
        let std = 1.0 / (dt as f64).sqrt();
        let normal = Normal::new(0.0, std).map_err(|_| ModelError::InvalidConfig {
            field: "tokens",
            value: cfg.tokens.to_string(),
            reason: "the token width gives no valid initialisation scale",
        })?;
        let phi = Array2::from_shape_simple_fn((dt, np), || F::from_f64c(normal.sample(&mut rng)));
        let experts = (0..cfg.experts)
            .map(|j| {
                let mut rng = stream_rng(seed, "expert", j as u64);
                TokenMlp::new(dt, &cfg.expert, &mut rng)
            })
            .collect::<Result<Vec<_>>>()?;
        let head = match cfg.head {
            SoftHead::Sum => None,
            SoftHead::Linear => Some(Linear::new(
                d,
                1,
                Init::PytorchUniform,
                &mut stream_rng(seed, "head", 0),
            )?),
        };
        Ok(Self {
            cfg: cfg.clone(),
            d,
            seed,
            phi_grad: Array2::zeros(phi.dim()),
            phi,
            scale: [F::one()],
            scale_grad: [F::zero()],
            experts,
            head,
            cache: None,
        })
    }

    /// The config the model was built from.
    pub fn config(&self) -> &SoftConfig {
        &self.cfg
    }

    /// The input width d.
    pub fn input_dim(&self) -> usize {
        self.d
    }

    /// The token width `d_tok = d / m`.
    pub fn token_dim(&self) -> usize {
        self.cfg.token_dim(self.d)
    }

    /// The seed the model was built from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Training forward pass (keeps what [`SoftMoe::backward`] needs).
    ///
    /// # Shapes
    /// `x [b, d] -> f [b]`, routing `[b, m, n·p]`.
    ///
    /// # Errors
    /// [`ModelError::Shape`] for a wrong width, [`ModelError::NonFiniteInput`] for a NaN or
    /// infinite value.
    pub fn forward(&mut self, x: ArrayView2<'_, F>) -> Result<(Array1<F>, SoftRouting<F>)> {
        self.cache = None;
        let (f, routing, cache) = self.run(x, true, None)?;
        self.cache = cache;
        Ok((f, routing))
    }

    /// Evaluation forward pass: nothing kept.
    ///
    /// # Errors
    /// As [`SoftMoe::forward`].
    pub fn infer(&self, x: ArrayView2<'_, F>) -> Result<(Array1<F>, SoftRouting<F>)> {
        let (f, routing, _) = self.run(x, false, None)?;
        Ok((f, routing))
    }

    /// Every parameter with its gradient: `phi`, `scale` (normalising only),
    /// `experts.{j}.*`, `head.*` (linear head only).
    pub fn params(&self) -> Vec<ParamRef<'_, F>> {
        let mut out = vec![ParamRef {
            name: "phi".into(),
            shape: self.phi.shape().to_vec(),
            value: self.phi.as_slice().unwrap_or(&[]),
            grad: self.phi_grad.as_slice().unwrap_or(&[]),
        }];
        if self.cfg.normalize {
            out.push(ParamRef {
                name: "scale".into(),
                shape: vec![1],
                value: &self.scale,
                grad: &self.scale_grad,
            });
        }
        for (j, e) in self.experts.iter().enumerate() {
            e.params(&format!("experts.{j}"), &mut out);
        }
        if let Some(h) = &self.head {
            h.params("head", &mut out);
        }
        out
    }

    /// Mutable form of [`SoftMoe::params`], same order.
    pub fn params_mut(&mut self) -> Vec<ParamMut<'_, F>> {
        let mut out = vec![ParamMut {
            name: "phi".into(),
            shape: self.phi.shape().to_vec(),
            value: self.phi.as_slice_mut().unwrap_or(&mut []),
            grad: self.phi_grad.as_slice_mut().unwrap_or(&mut []),
        }];
        if self.cfg.normalize {
            out.push(ParamMut {
                name: "scale".into(),
                shape: vec![1],
                value: &mut self.scale,
                grad: &mut self.scale_grad,
            });
        }
        for (j, e) in self.experts.iter_mut().enumerate() {
            e.params_mut(&format!("experts.{j}"), &mut out);
        }
        if let Some(h) = &mut self.head {
            h.params_mut("head", &mut out);
        }
        out
    }

    /// Sets every gradient to zero.
    pub fn zero_grad(&mut self) {
        zero_grads(&mut self.params_mut());
    }
}

impl<F: Float> Model<F> for SoftMoe<F> {
    fn config(&self) -> ModelConfig {
        ModelConfig::Soft(self.cfg.clone())
    }
    fn input_dim(&self) -> usize {
        self.d
    }
    fn seed(&self) -> u64 {
        self.seed
    }
    fn forward(&mut self, x: ArrayView2<'_, F>, _noisy: bool) -> Result<ModelOutput<F>> {
        let (f, routing) = SoftMoe::forward(self, x)?;
        Ok(ModelOutput {
            f,
            routing: RoutingDiagnostics::Soft(routing),
        })
    }
    fn infer(&self, x: ArrayView2<'_, F>) -> Result<ModelOutput<F>> {
        let (f, routing) = SoftMoe::infer(self, x)?;
        Ok(ModelOutput {
            f,
            routing: RoutingDiagnostics::Soft(routing),
        })
    }
    /// Soft MoE has no top-k routing, so auxiliary gradients on it are refused.
    fn backward(&mut self, df: ArrayView1<'_, F>, aux: AuxGrad<'_, F>) -> Result<Array2<F>> {
        if aux.dweight.is_some() || aux.dlogits.is_some() {
            return Err(ModelError::AuxNotSupported { kind: "soft" });
        }
        SoftMoe::backward(self, df)
    }
    fn params(&self) -> Vec<ParamRef<'_, F>> {
        SoftMoe::params(self)
    }
    fn params_mut(&mut self) -> Vec<ParamMut<'_, F>> {
        SoftMoe::params_mut(self)
    }
    fn boxed_clone(&self) -> Box<dyn Model<F>> {
        Box::new(self.clone())
    }
    fn as_soft(&self) -> Option<&SoftMoe<F>> {
        Some(self)
    }
}
