//! The task configuration: which generator, with which hyper-parameters.

use serde::{Deserialize, Serialize};

use crate::{ExpertForm, Result, Targets, TaskError};

/// Largest number of `f64` values a task's hidden structure may hold (2²⁸, 2 GiB); larger
/// configurations are rejected by [`TaskConfig::validate`] instead of failing to allocate.
pub const MAX_STRUCTURE_ELEMENTS: usize = smoe_nn::MAX_ELEMENTS;

/// Which synthetic task to generate (binary classification, or regression for
/// `norm-regression`, `softmax-gated-regression` and `l2-norm-regression`), and its
/// hyper-parameters.
///
/// The input dimension `d` and the seed are not part of this config: they are given to
/// [`crate::Task::new`]. In TOML the variant is selected by `kind`:
///
/// ```toml
/// kind = "teacher-moe"
/// experts = 8
/// k = 2
/// ```
///
/// Omitted fields take their documented defaults; unknown fields are rejected.
/// Every classification task's labels are exactly −1 or +1; `sign(s)` below means +1 for
/// `s >= 0`, −1 otherwise. The regression tasks have real targets ([`TaskConfig::targets`]).
/// Details of each structure are in [`crate::Structure`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TaskConfig {
    /// `kind = "mixture-of-linear"`: `x ~ N(0, I_d)`; cluster `c(x) = argmax_c u_c·x` over
    /// `clusters` random unit vectors `u_c` (ties: lower index); clean label
    /// `sign(v_c·x − t_c)` with a random unit normal `v_c` per cluster; each label then flipped
    /// independently with probability `noise`. Groups: the cluster `c(x)`.
    ///
    /// When `d > clusters`, `v_c` is uniform on the unit sphere of the orthogonal complement
    /// of `span{u_1..u_T}` and `t_c = 0`: reflecting `x` through `v_c^⊥` preserves both
    /// `N(0, I)` and the cluster, so the classes are exactly balanced inside every cluster.
    /// When `d <= clusters`, `v_c` is uniform on the sphere and `t_c` is the median of
    /// `v_c·x` over the reference points of cluster `c` (see [`crate::REFERENCE_SAMPLES`]).
    ///
    /// Bayes error: exactly `noise` (the clean label is a deterministic function of `x`).
    MixtureOfLinear {
        /// Number of clusters `T*` (≥ 1). Default 4.
        #[serde(default = "defaults::clusters")]
        clusters: usize,
        /// Label-flip probability, in `[0, 0.5]`. Default 0.05.
        #[serde(default = "defaults::mixture_noise")]
        noise: f64,
    },
    /// `kind = "teacher-moe"`: a planted top-`k` sparse MoE (the canonical model of the
    /// design). `x ~ N(0, I_d)`; router `z = R x + b` with `R_ij ~ N(0, 1/d)`, `b = 0`;
    /// `S(x)` = the `k` largest logits (ties: lower index first); weights
    /// `w_j = softmax(z_S)_j`; expert `h_j(x) = a_jᵀ relu(W_j x) + c_j` with `W_j [width, d]`
    /// and `a_j [1, width]` Kaiming-normal (`smoe_nn::Init::KaimingNormal`); clean score
    /// `f*(x) = Σ_{j∈S(x)} w_j h_j(x)`, label `sign(f*(x))`, then each label flipped with
    /// probability `noise`. Groups: the top-1 expert `argmax_j z_j`.
    ///
    /// Centering: the output biases `c_j` are set so that each expert's output has median 0
    /// over the reference points routed to it, and then shifted together so that `f*` has
    /// median 0 over all reference points (a common shift moves `f*` by the same amount since
    /// the weights sum to 1); so classes are balanced up to the reference sample's error.
    ///
    /// Bayes error: exactly `noise`.
    TeacherMoe {
        /// Number of experts `T*` (≥ 1). Default 4.
        #[serde(default = "defaults::experts")]
        experts: usize,
        /// Experts per input `k*`, in `1..=experts`. Default 1.
        #[serde(default = "defaults::k")]
        k: usize,
        /// Hidden units of each expert (≥ 1). Default 16.
        #[serde(default = "defaults::width")]
        width: usize,
        /// Label-flip probability, in `[0, 0.5]`. Default 0.
        #[serde(default)]
        noise: f64,
    },
    /// `kind = "l2-norm"`: `x ~ N(0, I_d)`, `y = sign(‖x‖₂ − r)` with `r` the median norm,
    /// `r² = ` the median of `χ²(d)`, computed to ~1e-12 relative accuracy by bisection on
    /// the regularised incomplete gamma function (no Monte Carlo), so the classes are
    /// balanced exactly in expectation. No groups. Bayes error: 0.
    L2Norm {},
    /// `kind = "norm-regression"`: a regression task. `x ~ N(0, I_d)`, drawn exactly like
    /// `l2-norm`'s inputs (same stream use, so the same seed gives the same `x`); real target
    /// `y = ‖x‖₂ = sqrt(Σ_i x_i²)`, computed in `f64` from `x` rounded to the sample's scalar
    /// type. Noise-free, no hidden structure, no groups. Bayes error: `None` (not a
    /// classification task; the Bayes risk of the squared loss is 0).
    NormRegression {},
    /// `kind = "softmax-gated-regression"`: the softmax-gated regression teacher of THEORY.md
    /// §7.1/§7.5 ([`crate::SoftmaxGatedTeacher`]). `x ~ U[0, 1]^d`;
    /// `y = Σ_{i=1}^{k*} softmax_i(β₁ᵀx + β₀) h(x, ηᵢ) + ε`, `ε ~ N(0, ν)` with **ν the
    /// variance** (THEORY writes `N(0, ν)`; the noise's standard deviation is `sqrt(ν)`).
    ///
    /// With `d = 1` and `components = 2` the teacher is THEORY.md §7.5's:
    /// `(β₀, β₁) = (−8, 25)` and `(0, 0)` (the reference), `(b, a) = (15, −20)` and `(−5, 20)`
    /// ([`crate::SoftmaxGatedTeacher::theory`]). Any other `d` or `components` draws a seeded
    /// random teacher from the structure stream (distribution in
    /// [`crate::SoftmaxGatedTeacher`]'s `random` constructor: slopes `N(0, 100/d)` per entry,
    /// intercepts centring each logit and affine value at the cube's centre plus `N(0, 1)`,
    /// the last component the reference `(0, 0)`).
    ///
    /// Draw order of a sample: all of `x` row by row, then one standard normal per sample for
    /// its noise (drawn even when ν = 0). Groups: the component with the largest gate weight.
    SoftmaxGatedRegression {
        /// The experts' form: `"sigmoid"` (`h = σ(aᵀx + b)`, the default) or `"linear"`
        /// (`h = aᵀx + b`).
        #[serde(default)]
        experts: ExpertForm,
        /// True components `k*` (≥ 1). Default 2.
        #[serde(default = "defaults::gated_components")]
        components: usize,
        /// Noise variance ν (finite, ≥ 0). Default 0.01.
        #[serde(default = "defaults::noise_variance")]
        noise_variance: f64,
    },
    /// `kind = "l2-norm-regression"`: Chung et al.'s target (THEORY.md §8.3).
    /// `x ~ N(0, v I_d)`, i.e. covariance `v I` with `v = variance` (default 5, so each
    /// coordinate has standard deviation `sqrt(5)`); `y = ‖x‖₂`, computed in `f64` from `x`
    /// rounded to the sample's scalar type. The paper's `d = 10` is the data's `d` (set
    /// `data.d = 10`). Noise-free, no groups.
    L2NormRegression {
        /// The per-coordinate variance `v` (finite, > 0). Default 5.
        #[serde(default = "defaults::l2_variance")]
        variance: f64,
    },
    /// `kind = "sparse-parity"`: `x` uniform on `{−1, +1}^d`, `y = Π_{i∈S} x_i` for a fixed
    /// support `S` of `support` distinct coordinates drawn uniformly (partial Fisher–Yates)
    /// from the structure stream. Noise-free, no groups. Bayes error: 0.
    SparseParity {
        /// Support size `s`, in `1..=d`. Default 3.
        #[serde(default = "defaults::support")]
        support: usize,
    },
    /// `kind = "gaussian-mixture"`: `y` uniform on `{−1, +1}`; given `y`, a component `j`
    /// uniform in `0..components`; `x ~ N(μ_g, I_d)` with `g = j` for `y = −1` and
    /// `g = components + j` for `y = +1`. Means `μ_g = separation · ζ_g / sqrt(d)`,
    /// `ζ_g ~ N(0, I_d)`, so `‖μ_g‖ ≈ separation`. Groups: `g` in `0..2·components`.
    ///
    /// Bayes error: no closed form; [`crate::Task::estimate_bayes_error`] estimates it by
    /// Monte Carlo with the exact posterior.
    GaussianMixture {
        /// Components per class `q` (≥ 1). Default 2.
        #[serde(default = "defaults::components")]
        components: usize,
        /// Scale of the means' norms, finite and ≥ 0. Default 2.0.
        #[serde(default = "defaults::separation")]
        separation: f64,
    },
}

/// The serde defaults, one function per field.
mod defaults {
    pub fn clusters() -> usize {
        4
    }
    pub fn mixture_noise() -> f64 {
        0.05
    }
    pub fn experts() -> usize {
        4
    }
    pub fn k() -> usize {
        1
    }
    pub fn width() -> usize {
        16
    }
    pub fn support() -> usize {
        3
    }
    pub fn components() -> usize {
        2
    }
    pub fn separation() -> f64 {
        2.0
    }
    pub fn gated_components() -> usize {
        2
    }
    pub fn noise_variance() -> f64 {
        0.01
    }
    pub fn l2_variance() -> f64 {
        5.0
    }
}

impl Default for TaskConfig {
    /// [`TaskConfig::mixture_of_linear`].
    fn default() -> Self {
        Self::mixture_of_linear()
    }
}

impl TaskConfig {
    /// One config of every task with its defaults: the catalogue the shared tests iterate,
    /// so a new task is tested by adding it here.
    pub fn examples() -> Vec<TaskConfig> {
        vec![
            Self::mixture_of_linear(),
            Self::teacher_moe(),
            Self::l2_norm(),
            Self::norm_regression(),
            Self::sparse_parity(),
            Self::gaussian_mixture(),
            Self::softmax_gated_regression(),
            Self::l2_norm_regression(),
        ]
    }

    /// `softmax-gated-regression` with its defaults (sigmoid experts, k* = 2, ν = 0.01).
    pub fn softmax_gated_regression() -> Self {
        Self::SoftmaxGatedRegression {
            experts: ExpertForm::Sigmoid,
            components: defaults::gated_components(),
            noise_variance: defaults::noise_variance(),
        }
    }

    /// `l2-norm-regression` with its default variance 5.
    pub fn l2_norm_regression() -> Self {
        Self::L2NormRegression {
            variance: defaults::l2_variance(),
        }
    }

    /// `mixture-of-linear` with its defaults (4 clusters, noise 0.05).
    pub fn mixture_of_linear() -> Self {
        Self::MixtureOfLinear {
            clusters: defaults::clusters(),
            noise: defaults::mixture_noise(),
        }
    }

    /// `teacher-moe` with its defaults (4 experts, k = 1, width 16, noise 0).
    pub fn teacher_moe() -> Self {
        Self::TeacherMoe {
            experts: defaults::experts(),
            k: defaults::k(),
            width: defaults::width(),
            noise: 0.0,
        }
    }

    /// `l2-norm` (it has no hyper-parameter).
    pub fn l2_norm() -> Self {
        Self::L2Norm {}
    }

    /// `norm-regression` (it has no hyper-parameter).
    pub fn norm_regression() -> Self {
        Self::NormRegression {}
    }

    /// `sparse-parity` with its default support size 3.
    pub fn sparse_parity() -> Self {
        Self::SparseParity {
            support: defaults::support(),
        }
    }

    /// `gaussian-mixture` with its defaults (2 components per class, separation 2).
    pub fn gaussian_mixture() -> Self {
        Self::GaussianMixture {
            components: defaults::components(),
            separation: defaults::separation(),
        }
    }

    /// The `kind` tag: `"mixture-of-linear"`, `"teacher-moe"`, `"l2-norm"`,
    /// `"norm-regression"`, `"sparse-parity"`, `"gaussian-mixture"`,
    /// `"softmax-gated-regression"` or `"l2-norm-regression"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MixtureOfLinear { .. } => "mixture-of-linear",
            Self::TeacherMoe { .. } => "teacher-moe",
            Self::L2Norm {} => "l2-norm",
            Self::NormRegression {} => "norm-regression",
            Self::SparseParity { .. } => "sparse-parity",
            Self::GaussianMixture { .. } => "gaussian-mixture",
            Self::SoftmaxGatedRegression { .. } => "softmax-gated-regression",
            Self::L2NormRegression { .. } => "l2-norm-regression",
        }
    }

    /// What the task's `y` holds: [`Targets::Real`] for `norm-regression`,
    /// `softmax-gated-regression` and `l2-norm-regression`, [`Targets::Labels`] for every
    /// other kind.
    pub fn targets(&self) -> Targets {
        match self {
            Self::NormRegression {}
            | Self::SoftmaxGatedRegression { .. }
            | Self::L2NormRegression { .. } => Targets::Real,
            _ => Targets::Labels,
        }
    }

    /// The label-flip probability (0 for the noise-free tasks).
    pub fn noise(&self) -> f64 {
        match self {
            Self::MixtureOfLinear { noise, .. } | Self::TeacherMoe { noise, .. } => *noise,
            _ => 0.0,
        }
    }

    /// Checks the config for input dimension `d`.
    ///
    /// # Errors
    /// - [`TaskError::ZeroDim`] if `d` or the teacher's `width` is 0;
    /// - [`TaskError::InvalidParameter`] if `noise` is NaN or outside `[0, 0.5]`, `clusters`,
    ///   `experts` or `components` is 0, `support` is 0 or larger than `d`, `separation` is
    ///   negative or not finite, `components` of `softmax-gated-regression` is 0,
    ///   `noise_variance` is negative or not finite, `variance` is not finite and > 0, or the
    ///   structure would hold more than
    ///   [`MAX_STRUCTURE_ELEMENTS`] values;
    /// - [`TaskError::InvalidTopK`] if the teacher's `k` is 0 or larger than `experts`.
    pub fn validate(&self, d: usize) -> Result<()> {
        if d == 0 {
            return Err(TaskError::ZeroDim(smoe_nn::ZeroDim {
                what: "input dimension d",
            }));
        }
        match *self {
            Self::MixtureOfLinear { clusters, noise } => {
                at_least_one("clusters", clusters)?;
                check_noise(noise)?;
                check_size("clusters", clusters, &[clusters, d, 2])
            }
            Self::TeacherMoe {
                experts,
                k,
                width,
                noise,
            } => {
                at_least_one("experts", experts)?;
                if k == 0 || k > experts {
                    return Err(TaskError::InvalidTopK { k, experts });
                }
                if width == 0 {
                    return Err(TaskError::ZeroDim(smoe_nn::ZeroDim {
                        what: "teacher width",
                    }));
                }
                check_noise(noise)?;
                // router [T, d] + experts T × (width × (d + 2) + 1), bounded by T (d+3) width
                check_size("experts", experts, &[experts, d + 3, width])
            }
            Self::L2Norm {} | Self::NormRegression {} => Ok(()),
            Self::SoftmaxGatedRegression {
                components,
                noise_variance,
                ..
            } => {
                at_least_one("components", components)?;
                if !(noise_variance.is_finite() && noise_variance >= 0.0) {
                    return Err(TaskError::InvalidParameter {
                        name: "noise_variance",
                        value: noise_variance,
                        reason: "must be finite and >= 0 (it is the variance ν of N(0, ν))".into(),
                    });
                }
                // β₀, b [k*] and β₁, a [k*, d]: bounded by k* (2 d + 2)
                check_size("components", components, &[components, 2, d + 1])
            }
            Self::L2NormRegression { variance } => {
                if !(variance.is_finite() && variance > 0.0) {
                    return Err(TaskError::InvalidParameter {
                        name: "variance",
                        value: variance,
                        reason: "must be finite and > 0".into(),
                    });
                }
                Ok(())
            }
            Self::SparseParity { support } => {
                if support == 0 || support > d {
                    return Err(TaskError::InvalidParameter {
                        name: "support",
                        value: support as f64,
                        reason: format!("must be in 1..=d = 1..={d}"),
                    });
                }
                Ok(())
            }
            Self::GaussianMixture {
                components,
                separation,
            } => {
                at_least_one("components", components)?;
                if !separation.is_finite() || separation < 0.0 {
                    return Err(TaskError::InvalidParameter {
                        name: "separation",
                        value: separation,
                        reason: "must be finite and >= 0".into(),
                    });
                }
                check_size("components", components, &[components, 2, d])
            }
        }
    }
}

fn at_least_one(name: &'static str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(TaskError::InvalidParameter {
            name,
            value: 0.0,
            reason: "must be at least 1".into(),
        });
    }
    Ok(())
}

fn check_noise(noise: f64) -> Result<()> {
    if !(0.0..=0.5).contains(&noise) {
        return Err(TaskError::InvalidParameter {
            name: "noise",
            value: noise,
            reason: "must be a probability in [0, 0.5]".into(),
        });
    }
    Ok(())
}

/// Rejects structures whose element count (the product of `factors`) overflows or exceeds
/// [`MAX_STRUCTURE_ELEMENTS`], blaming parameter `name`.
fn check_size(name: &'static str, value: usize, factors: &[usize]) -> Result<()> {
    let total = factors
        .iter()
        .try_fold(1usize, |acc, &f| acc.checked_mul(f));
    match total {
        Some(t) if t <= MAX_STRUCTURE_ELEMENTS => Ok(()),
        _ => Err(TaskError::InvalidParameter {
            name,
            value: value as f64,
            reason: format!(
                "the task structure would exceed {MAX_STRUCTURE_ELEMENTS} values for this d"
            ),
        }),
    }
}
