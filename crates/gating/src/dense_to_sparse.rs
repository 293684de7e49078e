//! [`DenseToSparse`]: the tempered softmax gate of Nguyen et al. (arXiv 2401.13875, ICML 2024;
//! THEORY §7.4), with a learnable or scheduled temperature, an optional activation before the
//! softmax and an optional switch to the renormalised top-k once the temperature is small.

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use smoe_nn::{Float, ParamMut, ParamRef, Progress};

use crate::routing::{check_dweight, check_inputs, check_k};
use crate::topk_softmax::{softmax_selected, softmax_selected_backward};
use crate::{Gate, GateActivation, GateGrad, GatingError, Result, Routing, select_topk};

/// How a scheduled temperature moves from `τ₀` to `τ₁` with the training fraction
/// `f = step / total_steps ∈ [0, 1]` (the trainer's [`Progress::fraction`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TauSchedule {
    /// `τ(f) = τ₀ (τ₁ / τ₀)^f`: the same factor per step (default; suits 1 → 0.01).
    #[default]
    Geometric,
    /// `τ(f) = τ₀ + (τ₁ − τ₀) f`.
    Linear,
}

impl TauSchedule {
    /// `τ(f)` for `f` clamped to `[0, 1]`.
    pub fn at(self, start: f64, end: f64, fraction: f64) -> f64 {
        let f = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        match self {
            TauSchedule::Geometric => start * (end / start).powf(f),
            TauSchedule::Linear => start + (end - start) * f,
        }
    }
}

/// Where the temperature τ of a [`DenseToSparse`] gate comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Temperature {
    /// A constant τ.
    Fixed(f64),
    /// `τ₀ = start → τ₁ = end` over training, set by [`Gate::on_progress`] before each step;
    /// a freshly built gate is at `start` until the hook is called. The trainer sets progress
    /// 1 (τ₁) before the final evaluation, and a loaded checkpoint is set there too.
    Schedule {
        /// τ₀.
        start: f64,
        /// τ₁.
        end: f64,
        /// The path between them.
        shape: TauSchedule,
    },
    /// A learned τ = exp(θ), θ the gate parameter `gate.log_tau [1]` (so τ > 0 whatever the
    /// optimiser does), starting at θ = ln(`init`).
    Learnable {
        /// τ at initialisation.
        init: f64,
    },
}

/// The dense-to-sparse gate: `a = act(z)`, `u = a / τ`, `p = softmax(u)` over all T.
///
/// - Selection: `S(x)` = top-k of `z` (ties: lower index first), k the model's k, so the routing
///   width is fixed: **k = T is the dense gate** `softmax(act(z)/τ)`, k < T keeps the k experts
///   of largest weight.
/// - Weights, dense phase (no `topk_below`, or τ > `topk_below`): `w_j = p_j` on S, the full
///   softmax's mass, not renormalised (with k < T the mass off S is lost, as in
///   [`crate::SoftmaxTopK`]; every logit gets gradient, also at k = 1).
/// - Weights, sparse phase (τ ≤ `topk_below`): `w_j = exp(u_j) / Σ_{i∈S} exp(u_i)` on S, the
///   renormalised top-k softmax (at k = 1 the weight is 1 and nothing upstream learns). As τ
///   falls, `p` concentrates on the largest logits, so the switch changes the weights by at
///   most the mass off S, which vanishes as τ → 0.
/// - A researcher gets the dense tempered softmax with k = T, and the dense → sparse schedule
///   ending at top-k with k < T, a schedule `τ₀ → τ₁` and `topk_below` above τ₁.
///
/// Backward, with `g = dL/dw`: dense phase `du_i = p_i (g̃_i − Σ_{j∈S} p_j g_j)` (g̃ = g on S,
/// 0 off S); sparse phase `du_i = w_i (g_i − Σ_{j∈S} w_j g_j)` on S, 0 off S. Then
/// `dz_i = du_i act'(z_i) / τ` and, for a learnable τ = e^θ, `dθ = Σ_i du_i ∂u_i/∂θ = −Σ_i du_i u_i`.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseToSparse<F> {
    k: usize,
    experts: usize,
    activation: GateActivation,
    topk_below: Option<f64>,
    temperature: Temperature,
    /// The current τ of a fixed or scheduled temperature.
    tau_now: f64,
    /// θ = ln τ, `[1]` for a learnable τ, empty otherwise.
    pub log_tau: Array1<F>,
    /// Its gradient.
    pub log_tau_grad: Array1<F>,
}

fn positive(what: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(GatingError::InvalidConfig {
            gate: "dense_to_sparse".into(),
            reason: format!("{what} = {v} must be finite and > 0"),
        })
    }
}

impl<F: Float> DenseToSparse<F> {
    /// A gate selecting `k` of `experts` with the given temperature, activation and optional
    /// switch to the renormalised top-k at τ ≤ `topk_below`.
    ///
    /// # Errors
    /// [`GatingError::InvalidTopK`] unless `1 ≤ k ≤ experts`; [`GatingError::InvalidConfig`]
    /// for a τ or `topk_below` that is not finite and positive.
    pub fn new(
        k: usize,
        experts: usize,
        temperature: Temperature,
        activation: GateActivation,
        topk_below: Option<f64>,
    ) -> Result<Self> {
        check_k(k, experts)?;
        if let Some(b) = topk_below {
            positive("topk_below", b)?;
        }
        let (tau_now, log_tau) = match temperature {
            Temperature::Fixed(t) => {
                positive("tau", t)?;
                (t, Array1::zeros(0))
            }
            Temperature::Schedule { start, end, .. } => {
                positive("tau", start)?;
                positive("tau_end", end)?;
                (start, Array1::zeros(0))
            }
            Temperature::Learnable { init } => {
                positive("tau", init)?;
                (init, Array1::from_elem(1, F::from_f64c(init.ln())))
            }
        };
        Ok(Self {
            k,
            experts,
            activation,
            topk_below,
            temperature,
            tau_now,
            log_tau_grad: Array1::zeros(log_tau.len()),
            log_tau,
        })
    }

    /// The current temperature τ.
    pub fn tau(&self) -> F {
        match self.temperature {
            Temperature::Learnable { .. } => self.log_tau.first().map_or(F::one(), |t| t.exp()),
            _ => F::from_f64c(self.tau_now),
        }
    }

    /// Whether the gate is in its sparse phase (τ ≤ `topk_below`): weights renormalised over S.
    pub fn is_sparse(&self) -> bool {
        let tau = self.tau().to_f64c();
        self.topk_below.is_some_and(|b| tau <= b)
    }

    /// `u = act(z) / τ` of one row.
    fn scaled(&self, z: &[F], tau: F, u: &mut [F]) {
        for (u, &z) in u.iter_mut().zip(z) {
            *u = self.activation.apply(z) / tau;
        }
    }
}

/// Full softmax of `u` into `p` (max-shifted).
fn softmax_full<F: Float>(u: &[F], p: &mut [F]) {
    let max = u.iter().copied().fold(F::neg_infinity(), F::max);
    let mut sum = F::zero();
    for (p, &u) in p.iter_mut().zip(u) {
        *p = (u - max).exp();
        sum += *p;
    }
    for p in p.iter_mut() {
        *p /= sum;
    }
}

impl<F: Float> Gate<F> for DenseToSparse<F> {
    fn k(&self) -> usize {
        self.k
    }
    fn num_experts(&self) -> usize {
        self.experts
    }
    fn route(
        &self,
        x: ArrayView2<'_, F>,
        z: ArrayView2<'_, F>,
        _noise: Option<ArrayView2<'_, F>>,
    ) -> Result<Routing<F>> {
        check_inputs("DenseToSparse::route", x, z, self.experts)?;
        let idx = select_topk(z, self.k);
        let (tau, sparse) = (self.tau(), self.is_sparse());
        let mut weight = Array2::zeros((z.nrows(), self.k));
        // row buffers, allocated once per call
        let (mut u, mut p) = (vec![F::zero(); self.experts], vec![F::zero(); self.experts]);
        let (mut zbuf, mut ids, mut w) = (
            vec![F::zero(); self.experts],
            vec![0; self.k],
            vec![F::zero(); self.k],
        );
        for ((zr, ir), mut wr) in z.rows().into_iter().zip(idx.rows()).zip(weight.rows_mut()) {
            zbuf.iter_mut().zip(zr).for_each(|(b, &v)| *b = v);
            self.scaled(&zbuf, tau, &mut u);
            ids.iter_mut().zip(ir).for_each(|(b, &v)| *b = v);
            if sparse {
                softmax_selected(&u, &ids, &mut w);
                wr.iter_mut().zip(&w).for_each(|(o, &v)| *o = v);
            } else {
                softmax_full(&u, &mut p);
                for (w, &i) in wr.iter_mut().zip(&ids) {
                    *w = p[i];
                }
            }
        }
        Ok(Routing {
            idx,
            weight,
            noise: None,
        })
    }
    fn backward(
        &mut self,
        _x: ArrayView2<'_, F>,
        z: ArrayView2<'_, F>,
        routing: &Routing<F>,
        dweight: ArrayView2<'_, F>,
    ) -> Result<GateGrad<F>> {
        check_dweight("DenseToSparse::backward", routing, z, dweight)?;
        let (tau, sparse) = (self.tau(), self.is_sparse());
        let t = self.experts;
        let mut dz = Array2::zeros(z.dim());
        let (mut u, mut p, mut du) = (vec![F::zero(); t], vec![F::zero(); t], vec![F::zero(); t]);
        let mut dtheta = F::zero();
        for r in 0..z.nrows() {
            let zr = z.row(r).to_vec();
            let ids = routing.idx.row(r).to_vec();
            let g = dweight.row(r).to_vec();
            self.scaled(&zr, tau, &mut u);
            du.fill(F::zero());
            if sparse {
                let w = routing.weight.row(r).to_vec();
                softmax_selected_backward(&w, &g, &ids, &mut du);
            } else {
                softmax_full(&u, &mut p);
                let s: F = ids.iter().zip(&g).map(|(&i, &gj)| p[i] * gj).sum();
                for (d, &pi) in du.iter_mut().zip(&p) {
                    *d = -pi * s;
                }
                for (&i, &gj) in ids.iter().zip(&g) {
                    du[i] += p[i] * gj;
                }
            }
            for i in 0..t {
                dz[[r, i]] = du[i] * self.activation.derivative(zr[i]) / tau;
                dtheta -= du[i] * u[i];
            }
        }
        if let Some(gr) = self.log_tau_grad.first_mut() {
            *gr += dtheta;
        }
        Ok(GateGrad {
            dlogits: dz,
            dx: None,
        })
    }
    fn params<'a>(&'a self, prefix: &str, out: &mut Vec<ParamRef<'a, F>>) {
        if !self.log_tau.is_empty() {
            out.push(ParamRef {
                name: format!("{prefix}.log_tau"),
                shape: vec![1],
                value: self.log_tau.as_slice().unwrap_or(&[]),
                grad: self.log_tau_grad.as_slice().unwrap_or(&[]),
            });
        }
    }
    fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<ParamMut<'a, F>>) {
        if !self.log_tau.is_empty() {
            out.push(ParamMut {
                name: format!("{prefix}.log_tau"),
                shape: vec![1],
                value: self.log_tau.as_slice_mut().unwrap_or(&mut []),
                grad: self.log_tau_grad.as_slice_mut().unwrap_or(&mut []),
            });
        }
    }
    fn on_progress(&mut self, progress: &Progress) {
        if let Temperature::Schedule { start, end, shape } = self.temperature {
            self.tau_now = shape.at(start, end, progress.fraction);
        }
    }
    fn boxed_clone(&self) -> Box<dyn Gate<F>> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn schedules_and_phases() {
        assert!((TauSchedule::Geometric.at(1.0, 0.01, 0.5) - 0.1).abs() < 1e-12);
        assert!((TauSchedule::Linear.at(1.0, 0.0, 0.25) - 0.75).abs() < 1e-12);
        assert_eq!(TauSchedule::Geometric.at(1.0, 0.01, 2.0), 0.01);
        let sched = Temperature::Schedule {
            start: 1.0,
            end: 0.01,
            shape: TauSchedule::Geometric,
        };
        let mut g =
            DenseToSparse::<f64>::new(2, 3, sched, GateActivation::None, Some(0.05)).expect("gate");
        let z = array![[1.0, 3.0, 2.0]];
        let x = array![[0.0]];
        let dense = g.route(x.view(), z.view(), None).expect("route");
        assert!(!g.is_sparse());
        // dense phase: the full softmax's mass on the top 2
        let e: Vec<f64> = [1.0_f64, 3.0, 2.0].iter().map(|v| v.exp()).collect();
        let s: f64 = e.iter().sum();
        assert!((dense.weight[[0, 0]] - e[1] / s).abs() < 1e-15);
        assert!((dense.weight[[0, 1]] - e[2] / s).abs() < 1e-15);
        Gate::<f64>::on_progress(&mut g, &Progress::at(10, 10, 1));
        assert!((g.tau() - 0.01).abs() < 1e-15 && g.is_sparse());
        let sparse = g.route(x.view(), z.view(), None).expect("route");
        assert!((sparse.weight.row(0).sum() - 1.0).abs() < 1e-15);
        // at τ = 0.01 the second weight is e^{-100} relative to the first
        assert!(sparse.weight[[0, 1]] < 1e-40);
    }

    #[test]
    fn bad_temperatures_are_errors() {
        for t in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e =
                DenseToSparse::<f64>::new(1, 2, Temperature::Fixed(t), GateActivation::None, None)
                    .unwrap_err();
            assert!(e.to_string().contains("tau"), "{e}");
        }
    }
}
