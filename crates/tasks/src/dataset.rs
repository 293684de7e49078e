//! A dataset: inputs with binary labels or real targets.

use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};
use smoe_nn::Float;

use crate::{Result, TaskError};

/// What a dataset's `y` holds.
///
/// In configs and records: `"labels"` or `"real"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Targets {
    /// Binary labels, each exactly −1 or +1 (the default).
    #[default]
    Labels,
    /// Real-valued regression targets, each finite.
    Real,
}

impl Targets {
    /// `"labels"` or `"real"`, as in configs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Labels => "labels",
            Self::Real => "real",
        }
    }
}

/// `m` samples of dimension `d` with labels in `{−1, +1}` or real targets.
///
/// The constructors ([`Dataset::new`] for labels, [`Dataset::regression`] for real targets)
/// check the invariants: at least one row, `y` and `groups` of one entry per row, every
/// input finite, every label ±1 or every target finite.
///
/// # Shapes
/// `x [m, d]`, `y [m]`, `groups` (when present) of length `m`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset<F> {
    /// Inputs, one row per sample, `[m, d]`.
    pub x: Array2<F>,
    /// Labels (exactly −1 or +1) or real targets, `[m]`; which one is [`Dataset::targets`].
    pub y: Array1<F>,
    /// The ground-truth group of each sample (cluster, top-1 teacher expert, mixture
    /// component) for the tasks that have one; `None` otherwise.
    pub groups: Option<Vec<usize>>,
    /// Whether `y` holds labels or real targets.
    pub targets: Targets,
}

impl<F: Float> Dataset<F> {
    /// A labelled dataset from its parts, checked.
    ///
    /// # Errors
    /// - [`TaskError::EmptyDataset`] if `x` has no row;
    /// - [`TaskError::Shape`] if `y` or `groups` has not one entry per row;
    /// - [`TaskError::NonFiniteInput`] if an input is NaN or infinite (the first, by row);
    /// - [`TaskError::InvalidLabel`] if a label is not exactly −1 or +1.
    pub fn new(x: Array2<F>, y: Array1<F>, groups: Option<Vec<usize>>) -> Result<Self> {
        check_parts(
            &x,
            &y,
            groups.as_deref(),
            ["Dataset::new (labels)", "Dataset::new (groups)"],
        )?;
        if let Some((index, v)) = y
            .iter()
            .enumerate()
            .find(|(_, v)| **v != F::one() && **v != -F::one())
        {
            return Err(TaskError::InvalidLabel {
                index,
                value: v.to_f64c(),
            });
        }
        Ok(Self {
            x,
            y,
            groups,
            targets: Targets::Labels,
        })
    }

    /// A dataset with real targets from its parts, checked.
    ///
    /// # Errors
    /// - [`TaskError::EmptyDataset`] if `x` has no row;
    /// - [`TaskError::Shape`] if `y` or `groups` has not one entry per row;
    /// - [`TaskError::NonFiniteInput`] if an input is NaN or infinite (the first, by row);
    /// - [`TaskError::NonFiniteTarget`] if a target is NaN or infinite (the first).
    pub fn regression(x: Array2<F>, y: Array1<F>, groups: Option<Vec<usize>>) -> Result<Self> {
        check_parts(
            &x,
            &y,
            groups.as_deref(),
            [
                "Dataset::regression (targets)",
                "Dataset::regression (groups)",
            ],
        )?;
        if let Some((index, v)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(TaskError::NonFiniteTarget {
                index,
                value: v.to_f64c(),
                ty: F::NAME,
            });
        }
        Ok(Self {
            x,
            y,
            groups,
            targets: Targets::Real,
        })
    }

    /// The number of samples `m`.
    pub fn len(&self) -> usize {
        self.x.nrows()
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.x.nrows() == 0
    }

    /// The input dimension `d`.
    pub fn dim(&self) -> usize {
        self.x.ncols()
    }

    /// The fraction of `y` values above 0: of labels equal to +1 for labels (0 for an empty
    /// dataset).
    pub fn positive_fraction(&self) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        self.y.iter().filter(|v| **v > F::zero()).count() as f64 / self.len() as f64
    }

    /// The samples at `indices`, in that order (repetitions allowed), checked.
    ///
    /// # Shapes
    /// `[m, d] -> [indices.len(), d]`.
    ///
    /// # Errors
    /// [`TaskError::EmptyDataset`] if `indices` is empty; [`TaskError::IndexOutOfRange`] if
    /// an index is not below `len()`.
    pub fn subset(&self, indices: &[usize]) -> Result<Self> {
        if indices.is_empty() {
            return Err(TaskError::EmptyDataset {
                what: "a subset's index list",
            });
        }
        if let Some(&index) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(TaskError::IndexOutOfRange {
                index,
                len: self.len(),
            });
        }
        Ok(self.select(indices))
    }

    /// The samples at `rows`, in that order (repetitions allowed): inputs, targets and groups;
    /// the targets kind is kept. For indices computed by the caller (splits, batches); use
    /// [`Dataset::subset`] for indices that may be out of range.
    ///
    /// # Shapes
    /// `[m, d] -> [rows.len(), d]` (an empty `rows` gives an empty dataset).
    ///
    /// # Panics
    /// If an index is not below `len()` (as `ndarray`'s `select` does).
    pub fn select(&self, rows: &[usize]) -> Self {
        Self {
            x: self.x.select(Axis(0), rows),
            y: self.y.select(Axis(0), rows),
            groups: self
                .groups
                .as_ref()
                .map(|g| rows.iter().map(|&i| g[i]).collect()),
            targets: self.targets,
        }
    }

    /// The same dataset in scalar type `G` (`f32` ↔ `f64`); `f32 → f64` is exact, `f64 → f32`
    /// rounds to nearest. Labels stay exactly ±1.
    ///
    /// # Errors
    /// [`TaskError::NonFiniteInput`] or [`TaskError::NonFiniteTarget`] (with the value before
    /// the cast and `ty = G::NAME`) if a value does not fit `G` (beyond `f32::MAX` in
    /// magnitude) or was not finite.
    pub fn cast<G: Float>(&self) -> Result<Dataset<G>> {
        let x = self.x.mapv(|v| G::from_f64c(v.to_f64c()));
        if let Some(((row, col), _)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(TaskError::NonFiniteInput {
                row,
                col,
                value: self.x[[row, col]].to_f64c(),
                ty: G::NAME,
            });
        }
        let y = self.y.mapv(|v| G::from_f64c(v.to_f64c()));
        if let Some((index, _)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(TaskError::NonFiniteTarget {
                index,
                value: self.y[index].to_f64c(),
                ty: G::NAME,
            });
        }
        Ok(Dataset {
            x,
            y,
            groups: self.groups.clone(),
            targets: self.targets,
        })
    }
}

/// The checks shared by both constructors: non-empty, one `y` and group per row, finite `x`.
fn check_parts<F: Float>(
    x: &Array2<F>,
    y: &Array1<F>,
    groups: Option<&[usize]>,
    [y_op, groups_op]: [&'static str; 2],
) -> Result<()> {
    if x.nrows() == 0 {
        return Err(TaskError::EmptyDataset { what: "a dataset" });
    }
    if y.len() != x.nrows() {
        return Err(TaskError::from(smoe_nn::ShapeError {
            op: y_op,
            expected: vec![x.nrows()],
            got: vec![y.len()],
        }));
    }
    if let Some(g) = groups
        && g.len() != x.nrows()
    {
        return Err(TaskError::from(smoe_nn::ShapeError {
            op: groups_op,
            expected: vec![x.nrows()],
            got: vec![g.len()],
        }));
    }
    if let Some(((row, col), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(TaskError::NonFiniteInput {
            row,
            col,
            value: v.to_f64c(),
            ty: F::NAME,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn tiny() -> Dataset<f64> {
        Dataset::new(
            array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
            array![1.0, -1.0, 1.0],
            Some(vec![0, 1, 2]),
        )
        .unwrap()
    }

    #[test]
    fn subset_selects_rows_labels_and_groups() {
        let s = tiny().subset(&[2, 0, 2]).unwrap();
        assert_eq!(s.x, array![[5.0, 6.0], [1.0, 2.0], [5.0, 6.0]]);
        assert_eq!(s.y, array![1.0, 1.0, 1.0]);
        assert_eq!(s.groups, Some(vec![2, 0, 2]));
        assert_eq!(s.targets, Targets::Labels);
        assert_eq!((s.len(), s.dim(), s.is_empty()), (3, 2, false));
        assert!((tiny().positive_fraction() - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(tiny().select(&[1]).x, array![[3.0, 4.0]]);
        assert!(tiny().select(&[]).is_empty());
    }

    #[test]
    fn bad_parts_are_rejected() {
        assert_eq!(
            tiny().subset(&[3]),
            Err(TaskError::IndexOutOfRange { index: 3, len: 3 })
        );
        assert!(matches!(
            tiny().subset(&[]),
            Err(TaskError::EmptyDataset { .. })
        ));
        let bad = Dataset::new(array![[1.0], [2.0]], array![1.0, 0.5], None);
        assert_eq!(
            bad,
            Err(TaskError::InvalidLabel {
                index: 1,
                value: 0.5
            })
        );
        let short = Dataset::new(array![[1.0], [2.0]], array![1.0], None);
        assert!(matches!(short, Err(TaskError::Shape(_))));
        let groups = Dataset::new(array![[1.0]], array![1.0], Some(vec![]));
        assert!(matches!(groups, Err(TaskError::Shape(_))));
    }

    #[test]
    fn regression_targets_must_be_finite_and_inputs_finite_everywhere() {
        let ok = Dataset::regression(array![[1.0], [2.0]], array![0.25, -3.5], None).unwrap();
        assert_eq!(ok.targets, Targets::Real);
        assert_eq!(ok.positive_fraction(), 0.5);
        assert_eq!(
            Dataset::regression(array![[1.0], [2.0]], array![0.25, f64::NAN], None)
                .unwrap_err()
                .to_string(),
            "target y[1] is NaN, not a finite f64 value"
        );
        let x = array![[1.0, 2.0], [3.0, f64::INFINITY]];
        let want = TaskError::NonFiniteInput {
            row: 1,
            col: 1,
            value: f64::INFINITY,
            ty: "f64",
        };
        assert_eq!(
            Dataset::new(x.clone(), array![1.0, 1.0], None),
            Err(want.clone())
        );
        assert_eq!(Dataset::regression(x, array![1.0, 1.0], None), Err(want));
        assert!(matches!(
            Dataset::<f32>::regression(Array2::zeros((0, 2)), array![], None),
            Err(TaskError::EmptyDataset { .. })
        ));
        assert_eq!(
            Dataset::new(array![[0.0]], array![0.0], None)
                .unwrap_err()
                .to_string(),
            "label 0 is 0: labels must be -1 or +1"
        );
    }

    #[test]
    fn cast_round_trips_and_rejects_values_beyond_f32() {
        let d = tiny();
        let f: Dataset<f32> = d.cast().unwrap();
        assert_eq!(f.x, array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        assert_eq!(f.groups, d.groups);
        assert_eq!(f.cast::<f64>().unwrap(), d);
        let r = Dataset::regression(array![[1.0], [2.0]], array![0.1, 1e300], None).unwrap();
        assert_eq!(
            r.cast::<f32>(),
            Err(TaskError::NonFiniteTarget {
                index: 1,
                value: 1e300,
                ty: "f32"
            })
        );
        let big = Dataset::regression(array![[1.0], [-1e39]], array![0.0, 0.0], None).unwrap();
        assert_eq!(
            big.cast::<f32>(),
            Err(TaskError::NonFiniteInput {
                row: 1,
                col: 0,
                value: -1e39,
                ty: "f32"
            })
        );
        assert_eq!(r.cast::<f64>().unwrap(), r);
        assert_eq!(Targets::Real.name(), "real");
    }
}
