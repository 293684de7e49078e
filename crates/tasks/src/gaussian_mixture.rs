//! The hidden structure of the `gaussian-mixture` task.

use ndarray::{Array1, Array2, ArrayView2};
use rand::RngExt;
use smoe_nn::SmoeRng;

use crate::util::{normal, normal_matrix};

/// Two classes, each an equal-weight mixture of `q` unit-covariance Gaussians: components
/// `0..q` belong to class −1, `q..2q` to class +1 (see
/// [`crate::TaskConfig::GaussianMixture`]).
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMixture {
    means: Array2<f64>,
}

impl GaussianMixture {
    /// Draws the `2q` means `separation · N(0, I_d) / sqrt(d)` from `rng` (row by row).
    pub(crate) fn draw(q: usize, separation: f64, d: usize, rng: &mut SmoeRng) -> Self {
        Self {
            means: normal_matrix(rng, 2 * q, d, separation / (d as f64).sqrt()),
        }
    }

    /// Components per class `q`.
    pub fn components_per_class(&self) -> usize {
        self.means.nrows() / 2
    }

    /// The component means `μ_g`: rows `0..q` for class −1, `q..2q` for class +1.
    ///
    /// # Shapes
    /// `[2q, d]`.
    pub fn means(&self) -> ArrayView2<'_, f64> {
        self.means.view()
    }

    /// Draws `m` samples: for each row in turn, the class (a fair coin), the component
    /// (uniform among its class's `q`), then the `d` noise coordinates.
    pub(crate) fn sample(
        &self,
        m: usize,
        rng: &mut SmoeRng,
    ) -> (Array2<f64>, Vec<f64>, Vec<usize>) {
        let q = self.components_per_class();
        let d = self.means.ncols();
        let mut x = Array2::zeros((m, d));
        let mut y = Vec::with_capacity(m);
        let mut groups = Vec::with_capacity(m);
        for mut row in x.rows_mut() {
            let positive: bool = rng.random();
            let g = if positive { q } else { 0 } + rng.random_range(0..q);
            for (v, mu) in row.iter_mut().zip(self.means.row(g)) {
                *v = mu + normal(rng);
            }
            y.push(if positive { 1.0 } else { -1.0 });
            groups.push(g);
        }
        (x, y, groups)
    }

    /// The log posterior odds `ln p(+1 | x) − ln p(−1 | x)` of each row: the Bayes classifier
    /// is its sign. Also returns the most likely component of each row.
    pub(crate) fn score(&self, x: ArrayView2<'_, f64>) -> (Array1<f64>, Vec<usize>) {
        let q = self.components_per_class();
        let mut groups = Vec::with_capacity(x.nrows());
        let scores = x
            .rows()
            .into_iter()
            .map(|row| {
                // log-density up to a common constant: −‖x − μ_g‖² / 2
                let logp: Vec<f64> = self
                    .means
                    .rows()
                    .into_iter()
                    .map(|mu| {
                        -0.5 * row
                            .iter()
                            .zip(mu)
                            .map(|(a, b)| (a - b) * (a - b))
                            .sum::<f64>()
                    })
                    .collect();
                groups.push(crate::util::argmax(&logp));
                log_sum_exp(&logp[q..]) - log_sum_exp(&logp[..q])
            })
            .collect();
        (scores, groups)
    }
}

fn log_sum_exp(v: &[f64]) -> f64 {
    let top = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    top + v.iter().map(|a| (a - top).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use smoe_nn::stream_rng;

    #[test]
    fn posterior_odds_match_a_hand_computation() {
        let gm = GaussianMixture {
            means: array![[-1.0, 0.0], [1.0, 0.0]],
        };
        let x = array![[0.5, 3.0]];
        let (s, g) = gm.score(x.view());
        // ln N(x; μ+) − ln N(x; μ−) = (‖x − μ−‖² − ‖x − μ+‖²) / 2 = (2.25 − 0.25) / 2
        assert!((s[0] - 1.0).abs() < 1e-12);
        assert_eq!(g, [1]);
    }

    #[test]
    fn means_have_the_requested_scale() {
        let gm = GaussianMixture::draw(50, 3.0, 400, &mut stream_rng(0, "t", 0));
        let mean_norm = gm
            .means
            .rows()
            .into_iter()
            .map(|r| r.dot(&r).sqrt())
            .sum::<f64>()
            / 100.0;
        assert!((mean_norm - 3.0).abs() < 0.05, "{mean_norm}");
    }
}
