//! A task's hidden structure: what is drawn once from the structure stream and shared by
//! every sample (train and test alike).

use ndarray::{Array1, ArrayView2, Axis};
use rand::RngExt;
use smoe_nn::SmoeRng;

use crate::chi2::chi2_median;
use crate::{GaussianMixture, LinearClusters, Result, SoftmaxGatedTeacher, TaskConfig, Teacher};

/// The hidden structure of a [`crate::Task`], one variant per [`TaskConfig`] kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Structure {
    /// The clusters' routing directions and linear classifiers.
    MixtureOfLinear(LinearClusters),
    /// The planted sparse MoE.
    TeacherMoe(Teacher),
    /// The decision radius `r = sqrt(median χ²(d))`.
    L2Norm {
        /// `r`.
        radius: f64,
    },
    /// `norm-regression` has no hidden structure: its target is `‖x‖₂`.
    NormRegression,
    /// The parity's support.
    SparseParity {
        /// The `s` coordinates whose product is the label, distinct and increasing.
        support: Vec<usize>,
    },
    /// The component means.
    GaussianMixture(GaussianMixture),
    /// The softmax-gated regression teacher.
    SoftmaxGated(SoftmaxGatedTeacher),
    /// `l2-norm-regression` has no hidden structure: its target is `‖x‖₂`, its inputs
    /// `N(0, v I)`.
    L2NormRegression {
        /// Standard deviation `sqrt(v)` of each input coordinate.
        std: f64,
    },
}

impl Structure {
    /// Draws the structure of a validated `cfg` in dimension `d` from `rng`.
    pub(crate) fn draw(cfg: &TaskConfig, d: usize, rng: &mut SmoeRng) -> Result<Self> {
        Ok(match *cfg {
            TaskConfig::MixtureOfLinear { clusters, .. } => {
                Self::MixtureOfLinear(LinearClusters::draw(clusters, d, rng))
            }
            TaskConfig::TeacherMoe {
                experts, k, width, ..
            } => Self::TeacherMoe(Teacher::draw(d, experts, k, width, rng)?),
            TaskConfig::L2Norm {} => Self::L2Norm {
                radius: chi2_median(d).sqrt(),
            },
            TaskConfig::NormRegression {} => Self::NormRegression,
            TaskConfig::SparseParity { support } => {
                // partial Fisher–Yates: the first `support` entries of a random permutation
                let mut idx: Vec<usize> = (0..d).collect();
                for i in 0..support.min(d) {
                    let j = rng.random_range(i..d);
                    idx.swap(i, j);
                }
                idx.truncate(support);
                idx.sort_unstable();
                Self::SparseParity { support: idx }
            }
            TaskConfig::GaussianMixture {
                components,
                separation,
            } => Self::GaussianMixture(GaussianMixture::draw(components, separation, d, rng)),
            TaskConfig::SoftmaxGatedRegression {
                experts,
                components,
                ..
            } => Self::SoftmaxGated(if d == 1 && components == 2 {
                SoftmaxGatedTeacher::theory(experts)
            } else {
                SoftmaxGatedTeacher::random(d, components, experts, rng)
            }),
            TaskConfig::L2NormRegression { variance } => Self::L2NormRegression {
                std: variance.sqrt(),
            },
        })
    }

    /// How many ground-truth groups the task's samples carry (`None` if it has none).
    pub fn num_groups(&self) -> Option<usize> {
        match self {
            Self::MixtureOfLinear(c) => Some(c.clusters()),
            Self::TeacherMoe(t) => Some(t.num_experts()),
            Self::GaussianMixture(g) => Some(2 * g.components_per_class()),
            Self::SoftmaxGated(t) => Some(t.components()),
            Self::L2Norm { .. }
            | Self::NormRegression
            | Self::SparseParity { .. }
            | Self::L2NormRegression { .. } => None,
        }
    }

    /// Clean scores (the clean label is their sign; for `norm-regression` the target itself)
    /// and groups of the rows of `x`, whose width the caller has checked.
    pub(crate) fn score(
        &self,
        x: ArrayView2<'_, f64>,
    ) -> Result<(Array1<f64>, Option<Vec<usize>>)> {
        Ok(match self {
            Self::MixtureOfLinear(c) => {
                let (s, g) = c.score(x);
                (s, Some(g))
            }
            Self::TeacherMoe(t) => {
                let (s, g) = t.output_f64(x)?;
                (s, Some(g))
            }
            Self::L2Norm { radius } => (x.map_axis(Axis(1), |r| r.dot(&r).sqrt() - radius), None),
            Self::NormRegression | Self::L2NormRegression { .. } => {
                (x.map_axis(Axis(1), |r| r.dot(&r).sqrt()), None)
            }
            Self::SoftmaxGated(t) => {
                let (f, g) = t.output(x);
                (f, Some(g))
            }
            Self::SparseParity { support } => (
                x.map_axis(Axis(1), |r| support.iter().map(|&i| r[i]).product()),
                None,
            ),
            Self::GaussianMixture(g) => {
                let (s, groups) = g.score(x);
                (s, Some(groups))
            }
        })
    }
}
