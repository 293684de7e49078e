//! The hidden structure of the `softmax-gated-regression` task: the softmax-gated regression
//! teacher of THEORY.md §7.1 and §7.5.

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use smoe_nn::SmoeRng;

use crate::util::{argmax, normal, normal_matrix};

/// The experts' form `h(x, η)` with `η = (a, b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ExpertForm {
    /// `h(x) = σ(aᵀx + b)` with the logistic σ: Nguyen et al.'s two-layer FFN expert, strongly
    /// identifiable (THEORY.md §7.2).
    #[default]
    Sigmoid,
    /// `h(x) = aᵀx + b`: not strongly identifiable (THEORY.md §7.2).
    Linear,
}

impl ExpertForm {
    /// `h` applied to the affine value `u = aᵀx + b`.
    pub fn apply(self, u: f64) -> f64 {
        match self {
            Self::Sigmoid => smoe_nn::sigmoid(u),
            Self::Linear => u,
        }
    }

    /// `"sigmoid"` or `"linear"`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Sigmoid => "sigmoid",
            Self::Linear => "linear",
        }
    }
}

/// Standard deviation of each entry of the random teacher's `β₁ᵢ` and `aᵢ` is
/// `RANDOM_SLOPE_SCALE / sqrt(d)`, so `β₁ᵢᵀx` varies by about that much over the unit cube.
pub const RANDOM_SLOPE_SCALE: f64 = 10.0;

/// A softmax-gated regression teacher with `k*` components in dimension `d`:
///
/// `f*(x) = Σ_{i=1}^{k*} softmax_i(β₁ᵀx + β₀) h(x, ηᵢ)`, `ηᵢ = (aᵢ, bᵢ)`,
///
/// with `h` given by [`ExpertForm`] (`σ(aᵢᵀx + bᵢ)` or `aᵢᵀx + bᵢ`). The last component is the
/// reference: its gate parameters are `(β₀, β₁) = (0, 0)` (the model is identifiable only up
/// to a common translation of `(β₀, β₁)`, THEORY.md §7.1).
///
/// [`SoftmaxGatedTeacher::theory`] is THEORY.md §7.5's teacher (d = 1, k* = 2);
/// [`SoftmaxGatedTeacher::random`] its seeded generalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftmaxGatedTeacher {
    /// Gate intercepts `β₀ [k*]`.
    pub beta0: Array1<f64>,
    /// Gate slopes `β₁ [k*, d]` (row i is `β₁ᵢ`).
    pub beta1: Array2<f64>,
    /// Expert slopes `a [k*, d]`.
    pub a: Array2<f64>,
    /// Expert intercepts `b [k*]`.
    pub b: Array1<f64>,
    /// The experts' form.
    pub experts: ExpertForm,
}

impl SoftmaxGatedTeacher {
    /// THEORY.md §7.5: d = 1, k* = 2, `(β₀, β₁) = (−8, 25)` for component 1 and `(0, 0)` for
    /// component 2 (the reference), experts `(b, a) = (15, −20)` and `(−5, 20)`.
    pub fn theory(experts: ExpertForm) -> Self {
        Self {
            beta0: Array1::from(vec![-8.0, 0.0]),
            beta1: ndarray::array![[25.0], [0.0]],
            a: ndarray::array![[-20.0], [20.0]],
            b: Array1::from(vec![15.0, -5.0]),
            experts,
        }
    }

    /// A seeded random teacher with `k ≥ 1` components in dimension `d ≥ 1`, for inputs on the
    /// unit cube with centre `c = (½, …, ½)`. Draw order: for each component `i < k − 1` in
    /// turn, `β₁ᵢ ~ N(0, (s²/d) I_d)` then `β₀ᵢ = −β₁ᵢᵀc + N(0, 1)` (each gate logit is
    /// near 0 at the centre, so no component is negligible); the reference `(β₀, β₁) = (0, 0)`
    /// last; then for each component `aᵢ ~ N(0, (s²/d) I_d)` and `bᵢ = −aᵢᵀc + N(0, 1)`
    /// (each expert's affine value is near 0 at the centre, where σ is not saturated), with
    /// `s =` [`RANDOM_SLOPE_SCALE`]. The task calls it with its validated `d, k ≥ 1` (for
    /// `k = 0` the teacher is empty).
    pub fn random(d: usize, k: usize, experts: ExpertForm, rng: &mut SmoeRng) -> Self {
        let std = RANDOM_SLOPE_SCALE / (d as f64).sqrt();
        let mut beta0 = Array1::zeros(k);
        let mut beta1 = Array2::zeros((k, d));
        for i in 0..k.saturating_sub(1) {
            let row = normal_matrix(rng, 1, d, std);
            beta1.row_mut(i).assign(&row.row(0));
            beta0[i] = -0.5 * row.sum() + normal(rng);
        }
        let mut a = Array2::zeros((k, d));
        let mut b = Array1::zeros(k);
        for i in 0..k {
            let row = normal_matrix(rng, 1, d, std);
            a.row_mut(i).assign(&row.row(0));
            b[i] = -0.5 * row.sum() + normal(rng);
        }
        Self {
            beta0,
            beta1,
            a,
            b,
            experts,
        }
    }

    /// Components `k*`.
    pub fn components(&self) -> usize {
        self.beta0.len()
    }

    /// Input width `d`.
    pub fn dim(&self) -> usize {
        self.beta1.ncols()
    }

    /// The gate weights `softmax(β₁ᵀx + β₀)` of each row (max-shifted), `[n, k*]`.
    ///
    /// # Shapes
    /// `x [n, d] -> [n, k*]`; the caller has checked the width.
    pub fn gates(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut z = x.dot(&self.beta1.t());
        for mut row in z.rows_mut() {
            row += &self.beta0;
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            row.mapv_inplace(|v| (v - max).exp());
            let s = row.sum();
            row /= s;
        }
        z
    }

    /// The experts' outputs `h(x, ηᵢ)` of each row, `[n, k*]`.
    pub fn expert_outputs(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut u = x.dot(&self.a.t());
        for mut row in u.rows_mut() {
            row += &self.b;
            row.mapv_inplace(|v| self.experts.apply(v));
        }
        u
    }

    /// The regression function `f*(x)` of each row and its group (the component with the
    /// largest gate weight, ties to the lower index).
    ///
    /// # Shapes
    /// `x [n, d] -> ([n], n groups)`; the caller has checked the width.
    pub fn output(&self, x: ArrayView2<'_, f64>) -> (Array1<f64>, Vec<usize>) {
        let g = self.gates(x);
        let h = self.expert_outputs(x);
        let f = (&g * &h).sum_axis(ndarray::Axis(1));
        let groups = g.rows().into_iter().map(|r| argmax(r.iter())).collect();
        (f, groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn theory_teacher_by_hand() {
        let t = SoftmaxGatedTeacher::theory(ExpertForm::Sigmoid);
        let x = array![[0.0], [0.5], [1.0]];
        let (f, groups) = t.output(x.view());
        for (i, xi) in [0.0f64, 0.5, 1.0].into_iter().enumerate() {
            let g1 = 1.0 / (1.0 + (-(25.0 * xi - 8.0)).exp());
            let h1 = 1.0 / (1.0 + (-(-20.0 * xi + 15.0)).exp());
            let h2 = 1.0 / (1.0 + (-(20.0 * xi - 5.0)).exp());
            let want = g1 * h1 + (1.0 - g1) * h2;
            assert!((f[i] - want).abs() < 1e-14, "{i}: {} vs {want}", f[i]);
        }
        assert_eq!(groups, vec![1, 0, 0]);
        let lin = SoftmaxGatedTeacher::theory(ExpertForm::Linear);
        let (f, _) = lin.output(array![[0.0]].view());
        let g1 = 1.0 / (1.0 + 8f64.exp());
        assert!((f[0] - (g1 * 15.0 + (1.0 - g1) * -5.0)).abs() < 1e-12);
    }
}
