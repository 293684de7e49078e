//! [`Task`]: a configured generator with its hidden structure drawn.

use ndarray::{Array1, Array2, ArrayView2};
use rand::RngExt;
use smoe_nn::{Float, SmoeRng, stream_rng};

use crate::util::{normal, normal_matrix, sign, to_f64};
use crate::{Dataset, Result, SoftmaxGatedTeacher, Structure, Targets, TaskConfig, TaskError};

/// Number of reference points (drawn from the structure stream, `N(0, I_d)`) used to centre
/// the teacher's experts and the low-dimensional mixture-of-linear offsets. Their medians are
/// within about `0.5/sqrt(16384) ≈ 0.4%` (one standard deviation) of the true median in
/// probability.
pub const REFERENCE_SAMPLES: usize = 16_384;

/// A synthetic task (binary classification, or regression for `norm-regression`): a
/// validated [`TaskConfig`], an input dimension and the hidden structure drawn from
/// `stream_rng(seed, "task-structure", 0)`.
///
/// Samples are drawn separately ([`Task::sample`]), so any number of datasets (train, test,
/// fresh evaluation sets) share the same structure.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    cfg: TaskConfig,
    d: usize,
    seed: u64,
    structure: Structure,
}

impl Task {
    /// Validates `cfg` for dimension `d` and draws its structure from
    /// `stream_rng(seed, "task-structure", 0)`.
    ///
    /// # Errors
    /// Those of [`TaskConfig::validate`].
    pub fn new(cfg: &TaskConfig, d: usize, seed: u64) -> Result<Self> {
        cfg.validate(d)?;
        let mut rng = stream_rng(seed, "task-structure", 0);
        let structure = Structure::draw(cfg, d, &mut rng)?;
        Ok(Self {
            cfg: cfg.clone(),
            d,
            seed,
            structure,
        })
    }

    /// The config it was built from.
    pub fn config(&self) -> &TaskConfig {
        &self.cfg
    }

    /// The input dimension `d`.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// The structure seed given to [`Task::new`].
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The hidden structure (unit vectors, teacher, radius, parity support, means).
    pub fn structure(&self) -> &Structure {
        &self.structure
    }

    /// The softmax-gated regression teacher of a `softmax-gated-regression` task (its true
    /// parameters, e.g. for the Voronoi loss); `None` for every other kind.
    pub fn softmax_gated_teacher(&self) -> Option<&SoftmaxGatedTeacher> {
        match &self.structure {
            Structure::SoftmaxGated(t) => Some(t),
            _ => None,
        }
    }

    /// What the samples' `y` holds (see [`TaskConfig::targets`]).
    pub fn targets(&self) -> Targets {
        self.cfg.targets()
    }

    /// The number of ground-truth groups (`None` for `l2-norm`, `norm-regression` and
    /// `sparse-parity`).
    pub fn num_groups(&self) -> Option<usize> {
        self.structure.num_groups()
    }

    /// Draws `m` samples from `rng`.
    ///
    /// Draw order: all of `x` row by row (for `gaussian-mixture`, each row's class and
    /// component before its coordinates), then, for the tasks with a `noise` field, one
    /// uniform per sample deciding its flip (drawn even when `noise = 0`; so tasks that differ
    /// only in `noise` share `x`, and their flipped sets are nested); for
    /// `softmax-gated-regression`, one standard normal per sample for its additive noise
    /// `sqrt(ν) N(0, 1)` (drawn even when ν = 0). `x` is rounded to `F`
    /// first and the clean labels are computed from the rounded values, so
    /// `sign(task.score(&data.x))` reproduces them exactly.
    ///
    /// # Shapes
    /// `x [m, d]`, `y [m]`, `groups` of length `m` where the task has groups.
    ///
    /// # Errors
    /// [`TaskError::EmptyDataset`] if `m = 0`; [`TaskError::InvalidParameter`] (`m`) if
    /// `m · d` values cannot be addressed.
    pub fn sample<F: Float>(&self, m: usize, rng: &mut SmoeRng) -> Result<Dataset<F>> {
        if m == 0 {
            return Err(TaskError::EmptyDataset {
                what: "a sampled dataset (m)",
            });
        }
        if m.checked_mul(self.d)
            .is_none_or(|n| n > isize::MAX as usize / 8)
        {
            return Err(TaskError::InvalidParameter {
                name: "m",
                value: m as f64,
                reason: "m * d values cannot be allocated".into(),
            });
        }
        let (x64, drawn) = match &self.structure {
            Structure::GaussianMixture(g) => {
                let (x, y, groups) = g.sample(m, rng);
                (x, Some((y, groups)))
            }
            Structure::SparseParity { .. } => (
                Array2::from_shape_simple_fn((m, self.d), || {
                    if rng.random::<bool>() { 1.0 } else { -1.0 }
                }),
                None,
            ),
            Structure::SoftmaxGated(_) => (
                Array2::from_shape_simple_fn((m, self.d), || rng.random::<f64>()),
                None,
            ),
            Structure::L2NormRegression { std } => (normal_matrix(rng, m, self.d, *std), None),
            _ => (normal_matrix(rng, m, self.d, 1.0), None),
        };
        let x: Array2<F> = x64.mapv(F::from_f64c);
        let (mut y, groups): (Vec<f64>, Option<Vec<usize>>) = match drawn {
            Some((y, groups)) => (y, Some(groups)),
            None => {
                let (s, groups) = self.structure.score(to_f64(x.view()).view())?;
                match self.targets() {
                    Targets::Labels => (s.iter().map(|v| sign(*v)).collect(), groups),
                    Targets::Real => (s.to_vec(), groups),
                }
            }
        };
        if matches!(
            self.cfg,
            TaskConfig::MixtureOfLinear { .. } | TaskConfig::TeacherMoe { .. }
        ) {
            let noise = self.cfg.noise();
            for v in &mut y {
                if rng.random::<f64>() < noise {
                    *v = -*v;
                }
            }
        }
        if let TaskConfig::SoftmaxGatedRegression { noise_variance, .. } = self.cfg {
            let std = noise_variance.sqrt();
            for v in &mut y {
                *v += std * normal(rng);
            }
        }
        Ok(Dataset {
            x,
            y: y.into_iter().map(F::from_f64c).collect(),
            groups,
            targets: self.targets(),
        })
    }

    /// A training and a test set: `m_train` samples from `stream_rng(seed, "task-train", 0)`
    /// and `m_test` from `stream_rng(seed, "task-test", 0)`. `seed` is the data seed; the
    /// structure comes from the seed given to [`Task::new`] (the two may be equal).
    ///
    /// # Errors
    /// Those of [`Task::sample`] (either size 0 gives [`TaskError::EmptyDataset`]).
    pub fn train_test<F: Float>(
        &self,
        m_train: usize,
        m_test: usize,
        seed: u64,
    ) -> Result<(Dataset<F>, Dataset<F>)> {
        let train = self.sample(m_train, &mut stream_rng(seed, "task-train", 0))?;
        let test = self.sample(m_test, &mut stream_rng(seed, "task-test", 0))?;
        Ok((train, test))
    }

    /// The clean (noise-free) decision function `s(x)` of each row; the clean label, and the
    /// Bayes classifier's prediction, is `sign(s(x))` (+1 at 0):
    /// mixture-of-linear `v_c·x − t_c`; teacher `f*(x)`; l2-norm `‖x‖ − r`; sparse-parity
    /// `Π_{i∈S} x_i`; gaussian-mixture the log posterior odds `ln p(+1|x) − ln p(−1|x)`.
    /// For `norm-regression` it is the regression function `‖x‖₂` (the clean target).
    ///
    /// # Shapes
    /// `x [n, d] -> [n]`.
    ///
    /// # Errors
    /// [`TaskError::Shape`] if `x` has not `d` columns.
    pub fn score<F: Float>(&self, x: ArrayView2<'_, F>) -> Result<Array1<f64>> {
        if x.ncols() != self.d {
            return Err(TaskError::from(smoe_nn::ShapeError {
                op: "Task::score (input width)",
                expected: vec![self.d],
                got: vec![x.ncols()],
            }));
        }
        Ok(self.structure.score(to_f64(x).view())?.0)
    }

    /// `sign(score(x))` as labels in `F`.
    ///
    /// # Shapes
    /// `x [n, d] -> [n]`.
    ///
    /// # Errors
    /// [`TaskError::Shape`] if `x` has not `d` columns; [`TaskError::NotClassification`] for
    /// `norm-regression`.
    pub fn clean_labels<F: Float>(&self, x: ArrayView2<'_, F>) -> Result<Array1<F>> {
        self.classification("Task::clean_labels")?;
        Ok(self.score(x)?.mapv(|s| F::from_f64c(sign(s))))
    }

    fn classification(&self, op: &'static str) -> Result<()> {
        match self.targets() {
            Targets::Labels => Ok(()),
            Targets::Real => Err(TaskError::NotClassification {
                op,
                kind: self.cfg.kind(),
            }),
        }
    }

    /// The exact Bayes error where it is known: `noise` for mixture-of-linear and teacher-moe
    /// (the clean label is a deterministic function of `x` and each label is flipped
    /// independently), 0 for l2-norm and sparse-parity; `None` for gaussian-mixture (see
    /// [`Task::estimate_bayes_error`]) and for norm-regression (no classification error).
    pub fn bayes_error(&self) -> Option<f64> {
        match self.cfg {
            TaskConfig::MixtureOfLinear { noise, .. } | TaskConfig::TeacherMoe { noise, .. } => {
                Some(noise)
            }
            TaskConfig::L2Norm {} | TaskConfig::SparseParity { .. } => Some(0.0),
            TaskConfig::GaussianMixture { .. }
            | TaskConfig::NormRegression {}
            | TaskConfig::SoftmaxGatedRegression { .. }
            | TaskConfig::L2NormRegression { .. } => None,
        }
    }

    /// A Monte Carlo estimate of the Bayes error: the error rate of the Bayes classifier
    /// `sign(score(x))` on `n` fresh samples (in `f64`) from `stream_rng(seed, "task-bayes",
    /// 0)`. Its standard error is about `sqrt(e (1 − e) / n)`.
    ///
    /// # Errors
    /// Those of [`Task::sample`] (`n = 0` gives [`TaskError::EmptyDataset`]);
    /// [`TaskError::NotClassification`] for `norm-regression`.
    pub fn estimate_bayes_error(&self, n: usize, seed: u64) -> Result<f64> {
        self.classification("Task::estimate_bayes_error")?;
        let data = self.sample::<f64>(n, &mut stream_rng(seed, "task-bayes", 0))?;
        let s = self.score(data.x.view())?;
        let wrong = s
            .iter()
            .zip(&data.y)
            .filter(|(s, y)| sign(**s) != **y)
            .count();
        Ok(wrong as f64 / n as f64)
    }
}
