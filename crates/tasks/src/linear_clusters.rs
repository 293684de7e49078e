//! The hidden structure of the `mixture-of-linear` task.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use smoe_nn::SmoeRng;

use crate::REFERENCE_SAMPLES;
use crate::util::{argmax, median, normal, normal_matrix, random_unit};

/// `T*` clusters, each with its own linear classifier: cluster `c(x) = argmax_c u_c·x`
/// (ties: lower index), clean score `v_c·x − t_c` (see
/// [`crate::TaskConfig::MixtureOfLinear`] for how `v_c` and `t_c` are drawn).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearClusters {
    centers: Array2<f64>,
    normals: Array2<f64>,
    offsets: Array1<f64>,
}

impl LinearClusters {
    /// Draws the structure from `rng`: the `u_c` first, then the `v_c`, then (only when
    /// `d <= clusters`) the reference sample for the offsets. Needs `clusters, d >= 1`.
    pub(crate) fn draw(clusters: usize, d: usize, rng: &mut SmoeRng) -> Self {
        let mut centers = Array2::zeros((clusters, d));
        for mut row in centers.rows_mut() {
            row.assign(&random_unit(rng, d));
        }
        let mut normals = Array2::zeros((clusters, d));
        let mut offsets = Array1::zeros(clusters);
        if d > clusters {
            let basis = orthonormal_basis(centers.view());
            for mut row in normals.rows_mut() {
                row.assign(&unit_orthogonal_to(&basis, d, rng));
            }
        } else {
            for mut row in normals.rows_mut() {
                row.assign(&random_unit(rng, d));
            }
            let reference = normal_matrix(rng, REFERENCE_SAMPLES, d, 1.0);
            let proj_u = reference.dot(&centers.t());
            let proj_v = reference.dot(&normals.t());
            let mut per_cluster = vec![Vec::new(); clusters];
            for (pu, pv) in proj_u.rows().into_iter().zip(proj_v.rows()) {
                let c = argmax(pu);
                per_cluster[c].push(pv[c]);
            }
            for (t, mut vals) in offsets.iter_mut().zip(per_cluster) {
                *t = median(&mut vals).unwrap_or(0.0);
            }
        }
        Self {
            centers,
            normals,
            offsets,
        }
    }

    /// The number of clusters `T*`.
    pub fn clusters(&self) -> usize {
        self.centers.nrows()
    }

    /// The routing directions `u_c`, unit rows.
    ///
    /// # Shapes
    /// `[T*, d]`.
    pub fn centers(&self) -> ArrayView2<'_, f64> {
        self.centers.view()
    }

    /// The classifiers' unit normals `v_c`.
    ///
    /// # Shapes
    /// `[T*, d]`.
    pub fn normals(&self) -> ArrayView2<'_, f64> {
        self.normals.view()
    }

    /// The classifiers' offsets `t_c` (all 0 when `d > T*`).
    ///
    /// # Shapes
    /// `[T*]`.
    pub fn offsets(&self) -> ArrayView1<'_, f64> {
        self.offsets.view()
    }

    /// Clean scores `v_{c(x)}·x − t_{c(x)}` and clusters `c(x)` of the rows of `x [n, d]`
    /// (the caller checks the width).
    pub(crate) fn score(&self, x: ArrayView2<'_, f64>) -> (Array1<f64>, Vec<usize>) {
        let proj_u = x.dot(&self.centers.t());
        let proj_v = x.dot(&self.normals.t());
        let mut groups = Vec::with_capacity(x.nrows());
        let scores = proj_u
            .axis_iter(Axis(0))
            .zip(proj_v.axis_iter(Axis(0)))
            .map(|(pu, pv)| {
                let c = argmax(pu);
                groups.push(c);
                pv[c] - self.offsets[c]
            })
            .collect();
        (scores, groups)
    }
}

/// An orthonormal basis of the span of the rows (modified Gram–Schmidt, run twice per
/// vector; numerically dependent rows are dropped).
fn orthonormal_basis(rows: ArrayView2<'_, f64>) -> Vec<Array1<f64>> {
    let mut basis: Vec<Array1<f64>> = Vec::new();
    for row in rows.rows() {
        let mut v = row.to_owned();
        for _ in 0..2 {
            for q in &basis {
                let p = v.dot(q);
                v.scaled_add(-p, q);
            }
        }
        let n = v.dot(&v).sqrt();
        if n > 1e-10 {
            basis.push(v / n);
        }
    }
    basis
}

/// A uniform unit vector of the orthogonal complement of the orthonormal `basis`
/// (a projected Gaussian; needs `basis.len() < d`).
fn unit_orthogonal_to(basis: &[Array1<f64>], d: usize, rng: &mut SmoeRng) -> Array1<f64> {
    loop {
        let mut g = Array1::from_shape_simple_fn(d, || normal(rng));
        for _ in 0..2 {
            for q in basis {
                let p = g.dot(q);
                g.scaled_add(-p, q);
            }
        }
        let n = g.dot(&g).sqrt();
        if n > 1e-8 {
            return g / n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoe_nn::stream_rng;

    #[test]
    fn normals_are_orthogonal_to_every_center_when_d_exceeds_t() {
        let s = LinearClusters::draw(4, 7, &mut stream_rng(3, "t", 0));
        let gram = s.normals.dot(&s.centers.t());
        assert!(gram.iter().all(|g| g.abs() < 1e-12), "{gram}");
        for r in s.normals.rows().into_iter().chain(s.centers.rows()) {
            assert!((r.dot(&r) - 1.0).abs() < 1e-12);
        }
        assert!(s.offsets.iter().all(|t| *t == 0.0));
    }

    #[test]
    fn offsets_are_cluster_medians_when_d_is_small() {
        let s = LinearClusters::draw(4, 2, &mut stream_rng(3, "t", 0));
        // with 2-d inputs and 4 random unit normals the offsets are not all zero
        assert!(s.offsets.iter().any(|t| t.abs() > 1e-3), "{}", s.offsets);
        let x = normal_matrix(&mut stream_rng(4, "t", 0), 20_000, 2, 1.0);
        let (scores, _) = s.score(x.view());
        let pos = scores.iter().filter(|v| **v >= 0.0).count() as f64 / 20_000.0;
        assert!((pos - 0.5).abs() < 0.02, "{pos}");
    }
}
