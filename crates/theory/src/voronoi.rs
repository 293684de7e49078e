//! Parameter recovery: the Voronoi loss D₁(G, G*) of THEORY.md §7.3 between a fitted
//! softmax-gated mixture and the teacher, with the translation of `(β₀, β₁)` fixed.
//!
//! A mixing measure `G = Σᵢ exp(β₀ᵢ) δ_{(β₁ᵢ, ηᵢ)}` is a list of components
//! `(β₀ᵢ, β₁ᵢ ∈ R^d, ηᵢ ∈ R^q)` ([`MixingMeasure`]); for the experts `h(x, η) = σ(aᵀx + b)` or
//! `aᵀx + b`, `η = (a₁, …, a_d, b)`.

use ndarray::{Array1, Array2, ArrayView1};
use serde::{Deserialize, Serialize};
use smoe_gating::GateConfig;
use smoe_model::Model;
use smoe_nn::{ActivationKind, Float, ShapeError};
use smoe_router::RouterConfig;
use smoe_tasks::{ExpertForm, SoftmaxGatedTeacher};

use crate::{Result, TheoryError};

/// A mixing measure: `k` components with gate intercepts `β₀ [k]`, gate slopes `β₁ [k, d]` and
/// expert parameters `η [k, q]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixingMeasure {
    /// `β₀ᵢ`.
    pub beta0: Array1<f64>,
    /// `β₁ᵢ`, one row per component.
    pub beta1: Array2<f64>,
    /// `ηᵢ`, one row per component.
    pub eta: Array2<f64>,
}

impl MixingMeasure {
    /// Components k.
    pub fn len(&self) -> usize {
        self.beta0.len()
    }

    /// Whether it has no component.
    pub fn is_empty(&self) -> bool {
        self.beta0.is_empty()
    }

    /// The softmax-gated model [`MixingMeasure::from_model`] reads, with `t` components: a
    /// linear router, the dense softmax over T = k = `t` experts and depth-0 experts
    /// `σ(aᵀx + b)` ([`ExpertForm::Sigmoid`]) or `aᵀx + b` ([`ExpertForm::Linear`]).
    pub fn model_config(t: usize, form: ExpertForm) -> smoe_model::ModelConfig {
        smoe_model::ModelConfig::Sparse(smoe_model::SparseConfig {
            experts: t,
            k: t,
            router: RouterConfig::Linear,
            gate: GateConfig::DenseSoftmax,
            expert: smoe_experts::ExpertConfig {
                depth: 0,
                output_activation: match form {
                    ExpertForm::Sigmoid => ActivationKind::Sigmoid,
                    ExpertForm::Linear => ActivationKind::None,
                },
                ..Default::default()
            },
            capacity_factor: None,
        })
    }

    /// The teacher's measure: `β₀`, `β₁` as they are, `ηᵢ = (aᵢ, bᵢ)`.
    pub fn from_teacher(t: &SoftmaxGatedTeacher) -> Self {
        let (k, d) = t.a.dim();
        let eta = Array2::from_shape_fn(
            (k, d + 1),
            |(i, c)| if c < d { t.a[[i, c]] } else { t.b[i] },
        );
        Self {
            beta0: t.beta0.clone(),
            beta1: t.beta1.clone(),
            eta,
        }
    }

    /// The measure of a softmax-gated [`smoe_model::SparseMoe`]: a sparse model with a
    /// `linear` router (`β₁ᵢ` = row i of `router.weight`, `β₀ᵢ = router.bias[i]`), a gate that
    /// gives every expert its full softmax weight (`dense_softmax`, or `topk_softmax` /
    /// `softmax_topk` with k = T), no capacity limit, and depth-0 experts
    /// (`ηⱼ = (experts.{j}.layers.0.weight, experts.{j}.layers.0.bias)`). Returns the experts'
    /// form too: sigmoid for `output_activation = "sigmoid"`, linear for `"none"`.
    ///
    /// # Errors
    /// [`TheoryError::Recovery`] for any other model (kind, router, gate, capacity, expert
    /// depth or output activation) or missing parameters; [`TheoryError::Shape`] on wrong
    /// tensor shapes.
    pub fn from_model<F: Float>(model: &dyn Model<F>) -> Result<(Self, ExpertForm)> {
        let config = model.config();
        let unsupported = |what: String| TheoryError::Recovery { what };
        let cfg = config
            .as_sparse()
            .ok_or_else(|| unsupported(format!("model kind `{}`", config.kind())))?;
        if cfg.router != RouterConfig::Linear {
            return Err(unsupported(format!(
                "router `{}` (needs linear)",
                cfg.router.kind()
            )));
        }
        let dense = match cfg.gate {
            GateConfig::DenseSoftmax => true,
            GateConfig::TopkSoftmax | GateConfig::SoftmaxTopk => cfg.k == cfg.experts,
            _ => false,
        };
        if !dense {
            return Err(unsupported(format!(
                "gate `{}` with k = {} of T = {} (needs the full softmax: dense_softmax, or k = T)",
                cfg.gate.kind(),
                cfg.k,
                cfg.experts
            )));
        }
        if cfg.capacity_factor.is_some() {
            return Err(unsupported(
                "a capacity factor (needs dropless routing)".into(),
            ));
        }
        if cfg.expert.depth != 0 {
            return Err(unsupported(format!(
                "experts of depth {} (needs depth 0: h = act(aᵀx + b))",
                cfg.expert.depth
            )));
        }
        let form = match cfg.expert.output_activation {
            ActivationKind::Sigmoid => ExpertForm::Sigmoid,
            ActivationKind::None => ExpertForm::Linear,
            other => {
                return Err(unsupported(format!(
                    "expert output_activation {other:?} (needs sigmoid or none)"
                )));
            }
        };
        let (t, d) = (cfg.experts, model.input_dim());
        let params = model.params();
        let get = |name: &str, shape: &[usize]| -> Result<Vec<f64>> {
            let p = params
                .iter()
                .find(|p| p.name == name)
                .ok_or_else(|| unsupported(format!("a model without `{name}`")))?;
            if p.shape != shape {
                return Err(ShapeError::new(
                    "MixingMeasure::from_model",
                    shape.to_vec(),
                    p.shape.clone(),
                )
                .into());
            }
            Ok(p.value.iter().map(|v| v.to_f64c()).collect())
        };
        let w = get("router.weight", &[t, d])?;
        let beta0 = Array1::from(get("router.bias", &[t])?);
        let beta1 = Array2::from_shape_vec((t, d), w)
            .map_err(|_| ShapeError::new("MixingMeasure::from_model", vec![t, d], vec![]))?;
        let mut eta = Array2::zeros((t, d + 1));
        for j in 0..t {
            let a = get(&format!("experts.{j}.layers.0.weight"), &[1, d])?;
            let b = get(&format!("experts.{j}.layers.0.bias"), &[1])?;
            for (c, v) in a.iter().chain(&b).enumerate() {
                eta[[j, c]] = *v;
            }
        }
        Ok((Self { beta0, beta1, eta }, form))
    }

    /// Writes this measure into a model that [`MixingMeasure::from_model`] accepts (router
    /// weight and bias, each depth-0 expert's weight and bias), rounding to `F`: e.g. to start
    /// a fit at the teacher's parameters, or at them plus noise.
    ///
    /// # Errors
    /// Those of [`MixingMeasure::from_model`]; [`TheoryError::Shape`] if the measure's k, d
    /// or q = d + 1 are not the model's.
    pub fn write_to_model<F: Float>(&self, model: &mut dyn Model<F>) -> Result<()> {
        let (current, _) = Self::from_model(&*model)?;
        self.check("MixingMeasure::write_to_model")?;
        for (want, got) in [
            (current.beta1.dim(), self.beta1.dim()),
            (current.eta.dim(), self.eta.dim()),
        ] {
            if want != got {
                return Err(ShapeError::new(
                    "MixingMeasure::write_to_model",
                    vec![want.0, want.1],
                    vec![got.0, got.1],
                )
                .into());
            }
        }
        let d = self.beta1.ncols();
        for p in model.params_mut() {
            let src: Vec<f64> = match p.name.as_str() {
                "router.weight" => self.beta1.iter().copied().collect(),
                "router.bias" => self.beta0.to_vec(),
                name => match expert_tensor(name) {
                    Some((j, false)) => self.eta.row(j).iter().take(d).copied().collect(),
                    Some((j, true)) => vec![self.eta[[j, d]]],
                    None => continue,
                },
            };
            for (v, s) in p.value.iter_mut().zip(src) {
                *v = F::from_f64c(s);
            }
        }
        Ok(())
    }

    fn check(&self, op: &'static str) -> Result<()> {
        let k = self.len();
        if self.beta1.nrows() != k || self.eta.nrows() != k {
            return Err(
                ShapeError::new(op, vec![k], vec![self.beta1.nrows(), self.eta.nrows()]).into(),
            );
        }
        if k == 0 {
            return Err(TheoryError::Recovery {
                what: "a mixing measure without components".into(),
            });
        }
        let all = self.beta0.iter().chain(&self.beta1).chain(&self.eta);
        if let Some(v) = all.copied().find(|v| !v.is_finite()) {
            return Err(TheoryError::NonFinite {
                name: "mixing measure parameter",
                value: v,
            });
        }
        Ok(())
    }
}

/// `experts.{j}.layers.0.weight` → `(j, false)`, `experts.{j}.layers.0.bias` → `(j, true)`.
fn expert_tensor(name: &str) -> Option<(usize, bool)> {
    let rest = name.strip_prefix("experts.")?;
    let (j, tail) = rest.split_once('.')?;
    let j = j.parse().ok()?;
    match tail {
        "layers.0.weight" => Some((j, false)),
        "layers.0.bias" => Some((j, true)),
        _ => None,
    }
}

/// D₁ with its parts and cells, as [`voronoi_d1`] computes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoronoiTerms {
    /// `D₁ = mass + exact + over`.
    pub total: f64,
    /// The mass term.
    pub mass: f64,
    /// The exactly-fitted cells' term.
    pub exact: f64,
    /// The over-fitted cells' term.
    pub over: f64,
    /// The cell `Aⱼ` of each true component (fitted indices, increasing).
    pub cells: Vec<Vec<usize>>,
}

/// D₁ with its parts and the alignment that fixed the translation ([`voronoi_loss`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoronoiLoss {
    /// `D₁ = mass + exact + over`.
    pub total: f64,
    /// `Σⱼ |Σ_{i∈Aⱼ} exp(β₀ᵢ) − exp(β₀ⱼ*)|`.
    pub mass: f64,
    /// `Σ_{j:|Aⱼ|=1} Σ_{i∈Aⱼ} exp(β₀ᵢ) (‖Δβ₁ᵢⱼ‖ + ‖Δηᵢⱼ‖)` (exactly-fitted cells).
    pub exact: f64,
    /// `Σ_{j:|Aⱼ|>1} Σ_{i∈Aⱼ} exp(β₀ᵢ) (‖Δβ₁ᵢⱼ‖² + ‖Δηᵢⱼ‖²)` (over-fitted cells).
    pub over: f64,
    /// The Voronoi cell `Aⱼ` of each true component: fitted indices, increasing.
    pub cells: Vec<Vec<usize>>,
    /// The reference group R (fitted components nearest in η to the true reference).
    pub reference_group: Vec<usize>,
    /// The shift `c₀` added to every fitted `β₀ᵢ`.
    pub shift_beta0: f64,
    /// The shift `c₁` added to every fitted `β₁ᵢ`.
    pub shift_beta1: Vec<f64>,
}

impl VoronoiLoss {
    /// The named numbers: `total`, `mass`, `exact`, `over`, `shift_beta0`.
    pub fn scalars(&self) -> Vec<(String, f64)> {
        vec![
            ("total".into(), self.total),
            ("mass".into(), self.mass),
            ("exact".into(), self.exact),
            ("over".into(), self.over),
            ("shift_beta0".into(), self.shift_beta0),
        ]
    }
}

fn dist(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Index of the smallest value, ties to the lower index.
fn argmin(v: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::INFINITY);
    for (i, x) in v.enumerate() {
        if x < best.1 {
            best = (i, x);
        }
    }
    best.0
}

/// Both measures well formed, with the same widths of `β₁` and `η`.
fn check_pair(op: &'static str, fitted: &MixingMeasure, truth: &MixingMeasure) -> Result<()> {
    fitted.check(op)?;
    truth.check(op)?;
    for (a, b) in [
        (fitted.beta1.ncols(), truth.beta1.ncols()),
        (fitted.eta.ncols(), truth.eta.ncols()),
    ] {
        if a != b {
            return Err(ShapeError::new(op, vec![b], vec![a]).into());
        }
    }
    Ok(())
}

/// The raw Voronoi loss of THEORY.md §7.3, without any alignment:
///
/// `D₁(G, G*) = Σⱼ |Σ_{i∈Aⱼ} e^{β₀ᵢ} − e^{β₀ⱼ*}|
///            + Σ_{j:|Aⱼ|=1} Σ_{i∈Aⱼ} e^{β₀ᵢ} (‖Δβ₁ᵢⱼ‖ + ‖Δηᵢⱼ‖)
///            + Σ_{j:|Aⱼ|>1} Σ_{i∈Aⱼ} e^{β₀ᵢ} (‖Δβ₁ᵢⱼ‖² + ‖Δηᵢⱼ‖²)`,
///
/// `Δβ₁ᵢⱼ = β₁ᵢ − β₁ⱼ*`, `Δηᵢⱼ = ηᵢ − ηⱼ*`, Euclidean norms. The cell
/// `Aⱼ = {i : ‖θᵢ − θⱼ*‖ ≤ ‖θᵢ − θₗ*‖ ∀ℓ}` with `θ = (β₁, η)`; a fitted component equally near
/// two true ones goes to the lower true index, so the cells partition the fitted components.
///
/// # Errors
/// [`TheoryError::Shape`] if the measures' widths differ or a measure's arrays disagree on k;
/// [`TheoryError::Recovery`] for an empty measure; [`TheoryError::NonFinite`] on NaN/inf.
pub fn voronoi_d1(fitted: &MixingMeasure, truth: &MixingMeasure) -> Result<VoronoiTerms> {
    check_pair("voronoi_d1", fitted, truth)?;
    let theta_dist = |i: usize, j: usize| {
        let b = dist(fitted.beta1.row(i), truth.beta1.row(j));
        let e = dist(fitted.eta.row(i), truth.eta.row(j));
        (b, e, (b * b + e * e).sqrt())
    };
    let mut cells = vec![Vec::new(); truth.len()];
    for i in 0..fitted.len() {
        let j = argmin((0..truth.len()).map(|j| theta_dist(i, j).2));
        cells[j].push(i);
    }
    let (mut mass, mut exact, mut over) = (0.0, 0.0, 0.0);
    for (j, cell) in cells.iter().enumerate() {
        let m: f64 = cell.iter().map(|&i| fitted.beta0[i].exp()).sum();
        mass += (m - truth.beta0[j].exp()).abs();
        for &i in cell {
            let (b, e, _) = theta_dist(i, j);
            let w = fitted.beta0[i].exp();
            if cell.len() == 1 {
                exact += w * (b + e);
            } else {
                over += w * (b * b + e * e);
            }
        }
    }
    let total = mass + exact + over;
    if !total.is_finite() {
        return Err(TheoryError::NonFinite {
            name: "Voronoi loss",
            value: total,
        });
    }
    Ok(VoronoiTerms {
        total,
        mass,
        exact,
        over,
        cells,
    })
}

/// The Voronoi loss with the translation fixed by the reference component (THEORY.md §7.1,
/// §7.3).
///
/// The softmax-gated mixture is unchanged by a common translation `(β₀ᵢ, β₁ᵢ) + (t₀, t₁)`, so
/// D₁ of the raw parameters is not a function of the fitted model. The fitted measure is
/// first moved to the representative that matches the teacher's reference component
/// `j_ref` (index `reference` of `truth`), by a rule that is itself invariant to the
/// translation and to relabelling the fitted components:
///
/// 1. the reference group `R` = the fitted components whose `η` is nearest (by `η` only,
///    which the translation leaves alone; ties to the lower true index) to `η*_{j_ref}`, or,
///    if none is, the one fitted component nearest to it;
/// 2. `c₀ = β₀*_{j_ref} − log Σ_{i∈R} exp(β₀ᵢ)`, so R's mass becomes `exp(β₀*_{j_ref})`;
/// 3. `c₁ = Σ_{i∈R} softmax_R(β₀)ᵢ (β₁*_{j_ref} − β₁ᵢ)`, so R's weighted mean slope becomes
///    `β₁*_{j_ref}`;
/// 4. every fitted `β₀ᵢ += c₀`, `β₁ᵢ += c₁`; then [`voronoi_d1`].
///
/// At the true parameters `R = {j_ref}`, `c₀ = 0`, `c₁ = 0` and D₁ = 0 exactly.
///
/// # Errors
/// Those of [`voronoi_d1`]; [`TheoryError::Recovery`] if `reference` is not a component of
/// `truth`.
pub fn voronoi_loss(
    fitted: &MixingMeasure,
    truth: &MixingMeasure,
    reference: usize,
) -> Result<VoronoiLoss> {
    check_pair("voronoi_loss", fitted, truth)?;
    if reference >= truth.len() {
        return Err(TheoryError::Recovery {
            what: format!(
                "reference component {reference} of a teacher with {} components",
                truth.len()
            ),
        });
    }
    let eta_ref = truth.eta.row(reference);
    let mut group: Vec<usize> = (0..fitted.len())
        .filter(|&i| {
            argmin((0..truth.len()).map(|j| dist(fitted.eta.row(i), truth.eta.row(j)))) == reference
        })
        .collect();
    if group.is_empty() {
        group.push(argmin(
            (0..fitted.len()).map(|i| dist(fitted.eta.row(i), eta_ref)),
        ));
    }
    let max = group
        .iter()
        .map(|&i| fitted.beta0[i])
        .fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = group.iter().map(|&i| (fitted.beta0[i] - max).exp()).sum();
    let shift0 = truth.beta0[reference] - (max + sum.ln());
    let d = truth.beta1.ncols();
    let mut shift1 = Array1::<f64>::zeros(d);
    for &i in &group {
        let w = (fitted.beta0[i] - max).exp() / sum;
        shift1.scaled_add(w, &(&truth.beta1.row(reference) - &fitted.beta1.row(i)));
    }
    let mut aligned = fitted.clone();
    aligned.beta0 += shift0;
    for mut row in aligned.beta1.rows_mut() {
        row += &shift1;
    }
    let VoronoiTerms {
        total,
        mass,
        exact,
        over,
        cells,
    } = voronoi_d1(&aligned, truth)?;
    Ok(VoronoiLoss {
        total,
        mass,
        exact,
        over,
        cells,
        reference_group: group,
        shift_beta0: shift0,
        shift_beta1: shift1.to_vec(),
    })
}

/// [`voronoi_loss`] between a fitted model and a softmax-gated regression teacher, with the
/// teacher's last component (its `(0, 0)` gate) as the reference.
///
/// # Errors
/// Those of [`MixingMeasure::from_model`] and [`voronoi_loss`]; [`TheoryError::Recovery`] if the
/// model's expert form (sigmoid or linear) is not the teacher's.
pub fn model_voronoi_loss<F: Float>(
    model: &dyn Model<F>,
    teacher: &SoftmaxGatedTeacher,
) -> Result<VoronoiLoss> {
    let (fitted, form) = MixingMeasure::from_model(model)?;
    if form != teacher.experts {
        return Err(TheoryError::Recovery {
            what: format!(
                "{} experts against a teacher with {} experts",
                form.label(),
                teacher.experts.label()
            ),
        });
    }
    let truth = MixingMeasure::from_teacher(teacher);
    voronoi_loss(&fitted, &truth, truth.len().saturating_sub(1))
}
