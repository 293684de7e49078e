use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, s};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use smoe_experts::{Expert, Tape, build_experts};
use smoe_gating::{Gate, Routing, build_gate};
use smoe_nn::{Float, ParamMut, ParamRef, SmoeRng, stream_rng, zero_grads};
use smoe_router::{Router, build_router};

use crate::dispatch::DROPPED;
use crate::{Dispatch, ModelError, Result, SparseConfig};

/// What a forward pass returns.
#[derive(Debug, Clone, PartialEq)]
pub struct MoeOutput<F> {
    /// The model output `f(x)`, `[b]`; the prediction is its sign.
    pub f: Array1<F>,
    /// Router logits `z`, `[b, T]` (for auxiliary losses and routing metrics).
    pub logits: Array2<F>,
    /// Selected experts and weights, `[b, k]` each.
    pub routing: Routing<F>,
    /// Kept assignments per expert, `[T]` (sums to `b·k − dropped`).
    pub counts: Vec<usize>,
    /// Assignments dropped by the capacity limit (0 when dropless).
    pub dropped: usize,
}

/// Extra gradients from auxiliary losses, added to those of the main loss in
/// [`SparseMoe::backward_with_aux`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AuxGrad<'a, F> {
    /// `dL/dweight [b, k]` on the gate weights (e.g. the importance loss); dropped slots ignored.
    pub dweight: Option<ArrayView2<'a, F>>,
    /// `dL/dz [b, T]` on the router logits (e.g. load balancing, z-loss).
    pub dlogits: Option<ArrayView2<'a, F>>,
}

/// Below this many multiply-adds in the expert layers of a batch, experts run one after the
/// other: rayon's fork-join costs a few microseconds.
const PARALLEL_MIN_WORK: usize = 1 << 17;

/// Splits `buf` into the consecutive chunks `offsets[j]·scale .. offsets[j+1]·scale`.
fn split_by_offsets<'a, T>(
    mut buf: &'a mut [T],
    offsets: &[usize],
    scale: usize,
) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(offsets.len().saturating_sub(1));
    for w in offsets.windows(2) {
        let (head, tail) = std::mem::take(&mut buf).split_at_mut((w[1] - w[0]) * scale);
        out.push(head);
        buf = tail;
    }
    out
}

/// `out[p] = x[rows[p]]`: the rows of each expert's group, contiguous, `[rows.len(), d]`.
fn gather_rows<F: Float>(x: ArrayView2<'_, F>, rows: &[usize]) -> Array2<F> {
    let d = x.ncols();
    let mut out = Array2::zeros((rows.len(), d));
    let x = x.as_standard_layout();
    if let (Some(src), Some(dst)) = (x.as_slice(), out.as_slice_mut()) {
        for (o, &r) in dst.chunks_exact_mut(d.max(1)).zip(rows) {
            o.copy_from_slice(&src[r * d..(r + 1) * d]);
        }
    }
    out
}

/// `dx[r] += dxs[pos[r, s]]` for every kept slot, in slot order (the inverse of
/// [`gather_rows`]).
fn scatter_add_rows<F: Float>(dxs: &Array2<F>, pos: &Array2<usize>, dx: &mut Array2<F>) {
    let d = dx.ncols();
    if let (Some(src), Some(dst)) = (dxs.as_slice(), dx.as_slice_mut()) {
        for (row, slots) in dst.chunks_exact_mut(d.max(1)).zip(pos.rows()) {
            for &p in slots.iter().filter(|&&p| p != DROPPED) {
                for (a, b) in row.iter_mut().zip(&src[p * d..(p + 1) * d]) {
                    *a += *b;
                }
            }
        }
    }
}

/// What a training forward pass keeps for backward.
#[derive(Debug, Clone)]
struct Cache<F> {
    x: Array2<F>,
    logits: Array2<F>,
    routing: Routing<F>,
    plan: Dispatch,
    xs: Array2<F>,
    ys: Vec<F>,
    tapes: Vec<Tape<F>>,
}

/// A top-k sparse Mixture-of-Experts: `f(x) = Σ_{j∈S(x)} w_j(x) h_j(x)`.
#[derive(Debug, Clone)]
pub struct SparseMoe<F: Float> {
    cfg: SparseConfig,
    d: usize,
    seed: u64,
    /// The router.
    pub router: Box<dyn Router<F>>,
    /// The gate.
    pub gate: Box<dyn Gate<F>>,
    /// The experts.
    pub experts: Vec<Box<dyn Expert<F>>>,
    noise_rng: SmoeRng,
    cache: Option<Cache<F>>,
}

impl<F: Float> SparseMoe<F> {
    /// Builds the model of `cfg` for inputs of width `d`: the router from stream
    /// `("router", 0)`, expert j from `("expert", j)` and the routing noise from
    /// `("noise", 0)` of `seed`.
    ///
    /// # Errors
    /// As [`SparseConfig::validate`].
    pub fn new(cfg: &SparseConfig, d: usize, seed: u64) -> Result<Self> {
        cfg.validate(d)?;
        let router = build_router(&cfg.router, d, cfg.experts, seed)?;
        let gate = build_gate(&cfg.gate, cfg.k, cfg.experts, d)?;
        let experts = build_experts(&cfg.expert, d, cfg.experts, seed)?;
        Self::from_parts(cfg.clone(), d, seed, router, gate, experts)
    }

    /// Assembles a model from user-built parts: `cfg` records what they are (a user's own
    /// gate is `GateConfig::Custom { name }`), `d` is the input width and `seed` seeds the
    /// routing noise.
    ///
    /// # Errors
    /// [`ModelError::Shape`] if the parts disagree on d, T or k, or with `cfg`.
    pub fn from_parts(
        cfg: SparseConfig,
        d: usize,
        seed: u64,
        router: Box<dyn Router<F>>,
        gate: Box<dyn Gate<F>>,
        experts: Vec<Box<dyn Expert<F>>>,
    ) -> Result<Self> {
        let t = experts.len();
        let dims_ok = router.num_experts() == t
            && gate.num_experts() == t
            && gate.k() == cfg.k
            && t == cfg.experts
            && router.input_dim() == d
            && experts.iter().all(|e| e.input_dim() == d);
        if !dims_ok {
            return Err(ModelError::from(smoe_nn::ShapeError {
                op: "SparseMoe::from_parts (d, T, k)",
                expected: vec![d, cfg.experts, cfg.k],
                got: vec![router.input_dim(), router.num_experts(), gate.k()],
            }));
        }
        Ok(Self {
            noise_rng: stream_rng(seed, "noise", 0),
            cfg,
            d,
            seed,
            router,
            gate,
            experts,
            cache: None,
        })
    }

    /// The config the model was built from.
    pub fn config(&self) -> &SparseConfig {
        &self.cfg
    }

    /// The input width d.
    pub fn input_dim(&self) -> usize {
        self.d
    }

    /// The seed the model was built from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Passes training progress to the router, the gate and every expert.
    pub fn on_progress(&mut self, progress: &smoe_nn::Progress) {
        self.router.on_progress(progress);
        self.gate.on_progress(progress);
        for e in &mut self.experts {
            e.on_progress(progress);
        }
    }

    /// Training forward pass (keeps what [`SparseMoe::backward`] needs). With `noisy` set and a
    /// gate that uses noise, fresh standard-normal noise is drawn from the model's noise stream.
    ///
    /// # Shapes
    /// `x [b, d] -> f [b]`.
    ///
    /// # Errors
    /// [`ModelError::Shape`] for a wrong width, [`ModelError::NonFiniteInput`] for a
    /// NaN or infinite value, and gate errors for non-finite logits.
    pub fn forward(&mut self, x: ArrayView2<'_, F>, noisy: bool) -> Result<MoeOutput<F>> {
        let noise = if noisy && self.gate.uses_noise() {
            let t = self.cfg.experts;
            let rng = &mut self.noise_rng;
            Some(Array2::from_shape_simple_fn((x.nrows(), t), || {
                F::from_f64c(StandardNormal.sample(rng))
            }))
        } else {
            None
        };
        self.forward_with_noise(x, noise.as_ref().map(|n| n.view()))
    }

    /// Training forward pass with given noise `[b, T]` (`None`: no noise), for exact replays.
    ///
    /// # Errors
    /// As [`SparseMoe::forward`].
    pub fn forward_with_noise(
        &mut self,
        x: ArrayView2<'_, F>,
        noise: Option<ArrayView2<'_, F>>,
    ) -> Result<MoeOutput<F>> {
        self.cache = None;
        let (out, cache) = self.run(x, noise, true)?;
        self.cache = cache;
        Ok(out)
    }

    /// Evaluation forward pass: no noise, nothing kept.
    ///
    /// # Errors
    /// As [`SparseMoe::forward`].
    pub fn infer(&self, x: ArrayView2<'_, F>) -> Result<MoeOutput<F>> {
        Ok(self.run(x, None, false)?.0)
    }

    fn check_input(&self, x: ArrayView2<'_, F>) -> Result<()> {
        if x.ncols() != self.d {
            return Err(ModelError::from(smoe_nn::ShapeError {
                op: "SparseMoe::forward",
                expected: vec![x.nrows(), self.d],
                got: x.shape().to_vec(),
            }));
        }
        let all_finite = match x.as_slice() {
            Some(v) => v.iter().all(|v| v.is_finite()),
            None => x.iter().all(|v| v.is_finite()),
        };
        if !all_finite && let Some(((row, col), _)) = x.indexed_iter().find(|(_, v)| !v.is_finite())
        {
            return Err(ModelError::NonFiniteInput { row, col });
        }
        Ok(())
    }

    /// Routing and its dispatch plan, shared by the sparse path and the dense oracle.
    pub(crate) fn route(
        &self,
        x: ArrayView2<'_, F>,
        noise: Option<ArrayView2<'_, F>>,
    ) -> Result<(Array2<F>, Routing<F>, Dispatch)> {
        self.check_input(x)?;
        let logits = self.router.forward(x)?;
        let routing = self.gate.route(x, logits.view(), noise)?;
        let capacity = self
            .cfg
            .capacity_factor
            .map(|cf| Dispatch::capacity(cf, x.nrows(), self.cfg.k, self.cfg.experts));
        let plan = Dispatch::plan(&routing.idx, self.cfg.experts, capacity);
        Ok((logits, routing, plan))
    }

    fn run(
        &self,
        x: ArrayView2<'_, F>,
        noise: Option<ArrayView2<'_, F>>,
        keep: bool,
    ) -> Result<(MoeOutput<F>, Option<Cache<F>>)> {
        let (logits, routing, plan) = self.route(x, noise)?;
        let n = plan.rows.len();
        let xs = gather_rows(x, &plan.rows);
        let mut ys = vec![F::zero(); n];
        let parallel = self.parallel(n);
        let run_one = |j: usize, expert: &dyn Expert<F>, y: &mut [F]| -> Result<Tape<F>> {
            let xj = xs.slice(s![plan.offsets[j]..plan.offsets[j + 1], ..]);
            if y.is_empty() {
                Ok(Tape::default())
            } else if keep {
                Ok(expert.forward(xj, y)?)
            } else {
                expert.infer(xj, y)?;
                Ok(Tape::default())
            }
        };
        let chunks = split_by_offsets(&mut ys, &plan.offsets, 1);
        let tapes: Vec<Tape<F>> = if parallel {
            self.experts
                .par_iter()
                .zip(chunks)
                .enumerate()
                .map(|(j, (e, y))| run_one(j, e.as_ref(), y))
                .collect::<Result<_>>()?
        } else {
            self.experts
                .iter()
                .zip(chunks)
                .enumerate()
                .map(|(j, (e, y))| run_one(j, e.as_ref(), y))
                .collect::<Result<_>>()?
        };
        let mut f = Array1::zeros(x.nrows());
        for ((fr, pos), w) in f.iter_mut().zip(plan.pos.rows()).zip(routing.weight.rows()) {
            for (&p, &wj) in pos.iter().zip(w.iter()) {
                if p != DROPPED {
                    *fr += wj * ys[p];
                }
            }
        }
        let out = MoeOutput {
            f,
            logits: logits.clone(),
            routing: routing.clone(),
            counts: plan.counts(),
            dropped: plan.dropped,
        };
        let cache = keep.then(|| Cache {
            x: x.to_owned(),
            logits,
            routing,
            plan,
            xs,
            ys,
            tapes,
        });
        Ok((out, cache))
    }

    /// Whether a batch with `n` assignments runs its experts in parallel.
    fn parallel(&self, n: usize) -> bool {
        let width = if self.cfg.expert.depth == 0 {
            1
        } else {
            self.cfg.expert.width
        };
        rayon::current_num_threads() > 1 && n * self.d * width >= PARALLEL_MIN_WORK
    }

    /// Backward from `dL/df [b]`: accumulates every parameter gradient and returns `dL/dx`.
    ///
    /// # Errors
    /// [`ModelError::NoForward`] without a training forward pass before it;
    /// [`ModelError::Shape`] if `df` has not b entries.
    pub fn backward(&mut self, df: ArrayView1<'_, F>) -> Result<Array2<F>> {
        self.backward_with_aux(df, AuxGrad::default())
    }

    /// As [`SparseMoe::backward`], plus extra gradients on the gate weights and the router
    /// logits from auxiliary losses.
    ///
    /// # Errors
    /// As [`SparseMoe::backward`]; [`ModelError::Shape`] for a wrong extra shape.
    pub fn backward_with_aux(
        &mut self,
        df: ArrayView1<'_, F>,
        aux: AuxGrad<'_, F>,
    ) -> Result<Array2<F>> {
        let dx = self.backward_inner(df, aux, true)?;
        Ok(dx.unwrap_or_else(|| Array2::zeros((df.len(), self.d))))
    }

    /// As [`SparseMoe::backward_with_aux`] without `dL/dx`: the parameter gradients only (the
    /// same bits), skipping the experts' input gradients and their scatter.
    ///
    /// # Errors
    /// As [`SparseMoe::backward_with_aux`].
    pub fn backward_params(&mut self, df: ArrayView1<'_, F>, aux: AuxGrad<'_, F>) -> Result<()> {
        self.backward_inner(df, aux, false).map(|_| ())
    }

    /// The backward pass; `dL/dx` only when `want_dx`.
    fn backward_inner(
        &mut self,
        df: ArrayView1<'_, F>,
        aux: AuxGrad<'_, F>,
        want_dx: bool,
    ) -> Result<Option<Array2<F>>> {
        let dlogits = aux.dlogits;
        let cache = self.cache.take().ok_or(ModelError::NoForward)?;
        let b = cache.x.nrows();
        if df.len() != b {
            return Err(ModelError::from(smoe_nn::ShapeError {
                op: "SparseMoe::backward (df)",
                expected: vec![b],
                got: vec![df.len()],
            }));
        }
        if let Some(dwx) = aux.dweight
            && dwx.dim() != cache.routing.weight.dim()
        {
            return Err(ModelError::from(smoe_nn::ShapeError {
                op: "SparseMoe::backward (dweight)",
                expected: cache.routing.weight.shape().to_vec(),
                got: dwx.shape().to_vec(),
            }));
        }
        if let Some(dz) = dlogits
            && dz.dim() != cache.logits.dim()
        {
            return Err(ModelError::from(smoe_nn::ShapeError {
                op: "SparseMoe::backward (dlogits)",
                expected: cache.logits.shape().to_vec(),
                got: dz.shape().to_vec(),
            }));
        }
        let Cache {
            x,
            logits,
            routing,
            plan,
            xs,
            ys,
            tapes,
        } = cache;
        let n = ys.len();
        let mut dys = vec![F::zero(); n];
        let mut dw = Array2::zeros(routing.weight.dim());
        for r in 0..b {
            for s in 0..routing.k() {
                let p = plan.pos[[r, s]];
                if p != DROPPED {
                    dys[p] = df[r] * routing.weight[[r, s]];
                    dw[[r, s]] = df[r] * ys[p] + aux.dweight.map_or(F::zero(), |g| g[[r, s]]);
                }
            }
        }
        let d = self.d;
        let mut dxs = Array2::zeros(if want_dx { (n, d) } else { (0, d) });
        let parallel = self.parallel(n);
        let xs_ref = &xs;
        let offsets = &plan.offsets;
        let back_one = |j: usize,
                        expert: &mut Box<dyn Expert<F>>,
                        tape: &Tape<F>,
                        dy: &[F],
                        dxj: &mut [F]|
         -> Result<()> {
            if dy.is_empty() {
                return Ok(());
            }
            let xj = xs_ref.slice(s![offsets[j]..offsets[j + 1], ..]);
            if !want_dx {
                return Ok(expert.backward(xj, tape, dy, None)?);
            }
            let len = dxj.len();
            let dxj = ArrayViewMut2::from_shape((dy.len(), d), dxj).map_err(|_| {
                ModelError::from(smoe_nn::ShapeError {
                    op: "SparseMoe::backward (expert dx)",
                    expected: vec![dy.len(), d],
                    got: vec![len],
                })
            })?;
            Ok(expert.backward(xj, tape, dy, Some(dxj))?)
        };
        let dy_chunks = split_by_offsets(&mut dys, offsets, 1);
        let dx_chunks = split_by_offsets(
            dxs.as_slice_mut().unwrap_or(&mut []),
            offsets,
            if want_dx { d } else { 0 },
        );
        if parallel {
            self.experts
                .par_iter_mut()
                .zip(tapes.par_iter())
                .zip(dy_chunks)
                .zip(dx_chunks)
                .enumerate()
                .try_for_each(|(j, (((e, t), dy), dxj))| back_one(j, e, t, dy, dxj))?;
        } else {
            self.experts
                .iter_mut()
                .zip(&tapes)
                .zip(dy_chunks)
                .zip(dx_chunks)
                .enumerate()
                .try_for_each(|(j, (((e, t), dy), dxj))| back_one(j, e, t, dy, dxj))?;
        }
        let gg = self
            .gate
            .backward(x.view(), logits.view(), &routing, dw.view())?;
        let mut dz = gg.dlogits;
        if let Some(extra) = dlogits {
            dz += &extra;
        }
        let router_dx = self.router.backward(x.view(), dz.view())?;
        if !want_dx {
            return Ok(None);
        }
        let mut dx = Array2::zeros(x.dim());
        scatter_add_rows(&dxs, &plan.pos, &mut dx);
        dx += &router_dx;
        if let Some(gdx) = gg.dx {
            dx += &gdx;
        }
        Ok(Some(dx))
    }

    /// Every parameter with its gradient: `router.*`, `gate.*`, `experts.{j}.*`.
    pub fn params(&self) -> Vec<ParamRef<'_, F>> {
        let mut out = Vec::new();
        self.router.params("router", &mut out);
        self.gate.params("gate", &mut out);
        for (j, e) in self.experts.iter().enumerate() {
            e.params(&format!("experts.{j}"), &mut out);
        }
        out
    }

    /// Mutable form of [`SparseMoe::params`], same order.
    pub fn params_mut(&mut self) -> Vec<ParamMut<'_, F>> {
        let mut out = Vec::with_capacity(4 * self.experts.len() + 4);
        self.router.params_mut("router", &mut out);
        self.gate.params_mut("gate", &mut out);
        for (j, e) in self.experts.iter_mut().enumerate() {
            e.params_mut(&format!("experts.{j}"), &mut out);
        }
        out
    }

    /// [`SparseMoe::params_mut`] without the experts' names (see [`Model::tensors_mut`]).
    ///
    /// [`Model::tensors_mut`]: crate::Model::tensors_mut
    pub fn tensors_mut(&mut self) -> Vec<ParamMut<'_, F>> {
        let mut out = Vec::with_capacity(4 * self.experts.len() + 4);
        self.router.params_mut("router", &mut out);
        self.gate.params_mut("gate", &mut out);
        for e in &mut self.experts {
            e.tensors_mut(&mut out);
        }
        out
    }

    /// Sets every gradient to zero.
    pub fn zero_grad(&mut self) {
        zero_grads(&mut self.tensors_mut());
    }

    /// Number of scalar parameters.
    pub fn num_params(&self) -> usize {
        self.params().iter().map(|p| p.value.len()).sum()
    }
}
