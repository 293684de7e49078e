//! A labelled binary classification dataset.

use ndarray::{Array1, Array2, Axis};
use smoe_nn::Float;

use crate::{Result, TaskError};

/// `m` samples of dimension `d` with labels in `{−1, +1}`.
///
/// # Shapes
/// `x [m, d]`, `y [m]`, `groups` (when present) of length `m`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset<F> {
    /// Inputs, one row per sample, `[m, d]`.
    pub x: Array2<F>,
    /// Labels, exactly −1 or +1, `[m]`.
    pub y: Array1<F>,
    /// The ground-truth group of each sample (cluster, top-1 teacher expert, mixture
    /// component) for the tasks that have one; `None` otherwise.
    pub groups: Option<Vec<usize>>,
}

impl<F: Float> Dataset<F> {
    /// A dataset from its parts, checked.
    ///
    /// # Errors
    /// - [`TaskError::EmptyDataset`] if `x` has no row;
    /// - [`TaskError::ShapeMismatch`] if `y` or `groups` has not one entry per row;
    /// - [`TaskError::InvalidLabel`] if a label is not exactly −1 or +1.
    pub fn new(x: Array2<F>, y: Array1<F>, groups: Option<Vec<usize>>) -> Result<Self> {
        if x.nrows() == 0 {
            return Err(TaskError::EmptyDataset { what: "a dataset" });
        }
        if y.len() != x.nrows() {
            return Err(TaskError::ShapeMismatch {
                op: "Dataset::new (labels)",
                expected: vec![x.nrows()],
                got: vec![y.len()],
            });
        }
        if let Some(g) = &groups
            && g.len() != x.nrows()
        {
            return Err(TaskError::ShapeMismatch {
                op: "Dataset::new (groups)",
                expected: vec![x.nrows()],
                got: vec![g.len()],
            });
        }
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
        Ok(Self { x, y, groups })
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

    /// The fraction of labels equal to +1 (0 for an empty dataset).
    pub fn positive_fraction(&self) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        self.y.iter().filter(|v| **v > F::zero()).count() as f64 / self.len() as f64
    }

    /// The samples at `indices`, in that order (repetitions allowed).
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
        Ok(Self {
            x: self.x.select(Axis(0), indices),
            y: self.y.select(Axis(0), indices),
            groups: self
                .groups
                .as_ref()
                .map(|g| indices.iter().map(|&i| g[i]).collect()),
        })
    }
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
        assert_eq!((s.len(), s.dim(), s.is_empty()), (3, 2, false));
        assert!((tiny().positive_fraction() - 2.0 / 3.0).abs() < 1e-15);
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
        assert!(matches!(short, Err(TaskError::ShapeMismatch { .. })));
        let groups = Dataset::new(array![[1.0]], array![1.0], Some(vec![]));
        assert!(matches!(groups, Err(TaskError::ShapeMismatch { .. })));
    }
}
