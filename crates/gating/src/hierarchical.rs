use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use smoe_nn::{Float, ParamMut, ParamRef};

use crate::routing::{check_dweight, check_inputs, check_k};
use crate::topk_softmax::{softmax_selected, softmax_selected_backward};
use crate::{Gate, GateGrad, GatingError, Result, Routing, topk_indices};

/// Hierarchical softmax gating (THEORY §7.4, covered in arXiv 2503.03213):
/// `f(x) = Σ_{g} softmax_g(v) Σ_{j ∈ group g} softmax_{j|g}(z) h_j(x)`.
///
/// - G groups of `m = T/G` experts; group g holds the contiguous experts `g·m .. (g+1)·m`.
/// - Outer logits: the gate's own affine map `v = A x + a₀`, `A [G, d]` (`gate.outer.weight`),
///   `a₀ [G]` (`gate.outer.bias`), both starting at zero (uniform over groups, as the noisy
///   gate's `W_noise`); inner logits: the router's `z` (T logits), within each group.
/// - Selection: the top `kg` groups of `v` (ties: lower index first), then in each selected
///   group the top `k_in = k / kg` experts of `z` within the group. A row of
///   [`Routing::idx`] lists the groups in descending `v`, each group's experts in descending z.
/// - Weights: `w_{g,j} = q_g r_{j|g}` with `q = softmax(v)` over the selected groups and
///   `r_{·|g} = softmax(z)` over the selected experts of g, both renormalised, so a row's
///   weights sum to 1. With `kg = G` and `k = T` this is the dense formula above.
///
/// Backward, `g_w = dL/dw`: `dr_j = q_g g_{w,j}`, `dz_j = r_j (dr_j − Σ_{i∈S_g} r_i dr_i)` on
/// the selected experts; `dq_g = Σ_{j∈S_g} r_j g_{w,j}`, `dv_g = q_g (dq_g − Σ_{h} q_h dq_h)` on
/// the selected groups; `dA += dvᵀ x`, `da₀ += Σ_rows dv`, `dx = dv A`. With `kg = 1` the outer
/// map gets no gradient (q = 1), with `k_in = 1` the router gets none (r = 1).
#[derive(Debug, Clone, PartialEq)]
pub struct HierarchicalSoftmax<F> {
    k: usize,
    experts: usize,
    top_groups: usize,
    /// Outer weight `A [G, d]`.
    pub outer_weight: Array2<F>,
    /// Outer bias `a₀ [G]`.
    pub outer_bias: Array1<F>,
    /// Gradient of `A`.
    pub outer_weight_grad: Array2<F>,
    /// Gradient of `a₀`.
    pub outer_bias_grad: Array1<F>,
}

fn invalid(reason: String) -> GatingError {
    GatingError::InvalidConfig {
        gate: "hierarchical_softmax".into(),
        reason,
    }
}

/// Checks a hierarchical layout: `1 ≤ kg ≤ G`, `G | T`, `kg | k`, `k / kg ≤ T / G`.
///
/// # Errors
/// [`GatingError::InvalidConfig`] with a one-line reason for G or kg;
/// [`GatingError::KNotSupported`] for a k the layout cannot split.
pub(crate) fn check_layout(
    k: usize,
    experts: usize,
    groups: usize,
    top_groups: usize,
) -> Result<()> {
    if groups == 0 || !experts.is_multiple_of(groups) {
        return Err(invalid(format!(
            "T = {experts} is not divisible by groups = {groups}"
        )));
    }
    if top_groups == 0 || top_groups > groups {
        return Err(invalid(format!(
            "top_groups = {top_groups} must satisfy 1 <= top_groups <= groups = {groups}"
        )));
    }
    if !k.is_multiple_of(top_groups) || k / top_groups > experts / groups {
        // a k the layout cannot split: an impossible (k, T) combination, as the dense gate's
        return Err(GatingError::KNotSupported {
            gate: "hierarchical_softmax".into(),
            k,
            experts,
            reason: "k must be a multiple of top_groups, and k / top_groups at most the T / groups experts of a group",
        });
    }
    Ok(())
}

impl<F: Float> HierarchicalSoftmax<F> {
    /// A gate selecting `k` of `experts` in `groups` groups, `top_groups` of them per input,
    /// for inputs of width `d`.
    ///
    /// # Errors
    /// [`GatingError::InvalidTopK`] unless `1 ≤ k ≤ experts`; [`GatingError::ZeroDim`] if
    /// `d = 0`; [`GatingError::InvalidConfig`] if T is not divisible by G or `top_groups` is
    /// not in `1..=G`; [`GatingError::KNotSupported`] if k is not divisible by `top_groups` or
    /// `k / top_groups > T / G`.
    pub fn new(
        k: usize,
        experts: usize,
        groups: usize,
        top_groups: usize,
        d: usize,
    ) -> Result<Self> {
        check_k(k, experts)?;
        check_layout(k, experts, groups, top_groups)?;
        if d == 0 {
            return Err(GatingError::ZeroDim(smoe_nn::ZeroDim {
                what: "gate input width",
            }));
        }
        Ok(Self {
            k,
            experts,
            top_groups,
            outer_weight: Array2::zeros((groups, d)),
            outer_bias: Array1::zeros(groups),
            outer_weight_grad: Array2::zeros((groups, d)),
            outer_bias_grad: Array1::zeros(groups),
        })
    }

    /// Number of groups G.
    pub fn groups(&self) -> usize {
        self.outer_bias.len()
    }

    /// The outer logits `v = x Aᵀ + a₀ [b, G]`.
    ///
    /// # Errors
    /// [`GatingError::Shape`] if `x` has not d columns.
    pub fn outer_logits(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        if x.ncols() != self.outer_weight.ncols() {
            return Err(GatingError::from(smoe_nn::ShapeError {
                op: "HierarchicalSoftmax (x)",
                expected: vec![x.nrows(), self.outer_weight.ncols()],
                got: x.shape().to_vec(),
            }));
        }
        let mut v = Array2::zeros((x.nrows(), self.groups()));
        general_mat_mul(F::one(), &x, &self.outer_weight.t(), F::zero(), &mut v);
        v += &self.outer_bias;
        Ok(v)
    }

    /// One row's selection: groups `sg [kg]`, experts `idx [k]`, outer `q [kg]`, inner `r [k]`.
    fn select_row(
        &self,
        v: &[F],
        z: &[F],
        idx: &mut [usize],
        q: &mut [F],
        r: &mut [F],
    ) -> Vec<usize> {
        let m = self.experts / self.groups();
        let k_in = self.k / self.top_groups;
        let mut sg = vec![0; self.top_groups];
        topk_indices(v, &mut sg);
        softmax_selected(v, &sg, q);
        let mut local = vec![0; k_in];
        for (slot, &g) in sg.iter().enumerate() {
            let block = &z[g * m..(g + 1) * m];
            topk_indices(block, &mut local);
            let out = &mut idx[slot * k_in..(slot + 1) * k_in];
            for (o, &l) in out.iter_mut().zip(&local) {
                *o = g * m + l;
            }
            softmax_selected(z, out, &mut r[slot * k_in..(slot + 1) * k_in]);
        }
        sg
    }
}

impl<F: Float> Gate<F> for HierarchicalSoftmax<F> {
    fn k(&self) -> usize {
        self.k
    }
    fn num_experts(&self) -> usize {
        self.experts
    }
    fn route(
        &self,
        x: ArrayView2<'_, F>,
        z: ArrayView2<'_, F>,
        _noise: Option<ArrayView2<'_, F>>,
    ) -> Result<Routing<F>> {
        check_inputs("HierarchicalSoftmax::route", x, z, self.experts)?;
        let v = self.outer_logits(x)?;
        let (b, k, kg) = (z.nrows(), self.k, self.top_groups);
        let k_in = k / kg;
        let mut idx = Array2::zeros((b, k));
        let mut weight = Array2::zeros((b, k));
        let (mut q, mut r) = (vec![F::zero(); kg], vec![F::zero(); k]);
        let mut ids = vec![0; k];
        for row in 0..b {
            let (vr, zr) = (v.row(row).to_vec(), z.row(row).to_vec());
            self.select_row(&vr, &zr, &mut ids, &mut q, &mut r);
            for s in 0..k {
                idx[[row, s]] = ids[s];
                weight[[row, s]] = q[s / k_in] * r[s];
            }
        }
        Ok(Routing {
            idx,
            weight,
            noise: None,
        })
    }
    fn backward(
        &mut self,
        x: ArrayView2<'_, F>,
        z: ArrayView2<'_, F>,
        routing: &Routing<F>,
        dweight: ArrayView2<'_, F>,
    ) -> Result<GateGrad<F>> {
        check_dweight("HierarchicalSoftmax::backward", routing, z, dweight)?;
        let v = self.outer_logits(x)?;
        let (b, k, kg, g_n) = (z.nrows(), self.k, self.top_groups, self.groups());
        let k_in = k / kg;
        let mut dz = Array2::zeros(z.dim());
        let mut dv = Array2::<F>::zeros((b, g_n));
        let (mut q, mut r) = (vec![F::zero(); kg], vec![F::zero(); k]);
        let mut ids = vec![0; k];
        let (mut dr, mut dq) = (vec![F::zero(); k], vec![F::zero(); kg]);
        for row in 0..b {
            let (vr, zr) = (v.row(row).to_vec(), z.row(row).to_vec());
            let sg = self.select_row(&vr, &zr, &mut ids, &mut q, &mut r);
            let gw = dweight.row(row).to_vec();
            for s in 0..k {
                dr[s] = q[s / k_in] * gw[s];
            }
            for (slot, dqs) in dq.iter_mut().enumerate() {
                let span = slot * k_in..(slot + 1) * k_in;
                *dqs = r[span.clone()]
                    .iter()
                    .zip(&gw[span.clone()])
                    .map(|(a, b)| *a * *b)
                    .sum();
                let mut dzr = dz.row_mut(row);
                let dzs = dzr.as_slice_mut().unwrap_or(&mut []);
                softmax_selected_backward(&r[span.clone()], &dr[span.clone()], &ids[span], dzs);
            }
            let mut dvr = dv.row_mut(row);
            softmax_selected_backward(&q, &dq, &sg, dvr.as_slice_mut().unwrap_or(&mut []));
        }
        general_mat_mul(F::one(), &dv.t(), &x, F::one(), &mut self.outer_weight_grad);
        self.outer_bias_grad += &dv.sum_axis(Axis(0));
        let mut dx = Array2::zeros(x.dim());
        general_mat_mul(F::one(), &dv, &self.outer_weight, F::zero(), &mut dx);
        Ok(GateGrad {
            dlogits: dz,
            dx: Some(dx),
        })
    }
    fn params<'a>(&'a self, prefix: &str, out: &mut Vec<ParamRef<'a, F>>) {
        out.push(ParamRef {
            name: format!("{prefix}.outer.weight"),
            shape: self.outer_weight.shape().to_vec(),
            value: self.outer_weight.as_slice().unwrap_or(&[]),
            grad: self.outer_weight_grad.as_slice().unwrap_or(&[]),
        });
        out.push(ParamRef {
            name: format!("{prefix}.outer.bias"),
            shape: vec![self.outer_bias.len()],
            value: self.outer_bias.as_slice().unwrap_or(&[]),
            grad: self.outer_bias_grad.as_slice().unwrap_or(&[]),
        });
    }
    fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<ParamMut<'a, F>>) {
        let n = self.outer_bias.len();
        out.push(ParamMut {
            name: format!("{prefix}.outer.weight"),
            shape: self.outer_weight.shape().to_vec(),
            value: self.outer_weight.as_slice_mut().unwrap_or(&mut []),
            grad: self.outer_weight_grad.as_slice_mut().unwrap_or(&mut []),
        });
        out.push(ParamMut {
            name: format!("{prefix}.outer.bias"),
            shape: vec![n],
            value: self.outer_bias.as_slice_mut().unwrap_or(&mut []),
            grad: self.outer_bias_grad.as_slice_mut().unwrap_or(&mut []),
        });
    }
    fn boxed_clone(&self) -> Box<dyn Gate<F>> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn two_level_weights_by_hand() {
        // T = 4 in 2 groups {0,1}, {2,3}; both groups, one expert each (k = 2)
        let mut g = HierarchicalSoftmax::<f64>::new(2, 4, 2, 2, 1).expect("gate");
        g.outer_bias = array![0.5, -0.5];
        let z = array![[0.1, 0.9, 2.0, -1.0]];
        let x = array![[0.0]];
        let r = g.route(x.view(), z.view(), None).expect("route");
        assert_eq!(r.idx.row(0).to_vec(), vec![1, 2]);
        let q0 = 1.0 / (1.0 + (-1.0_f64).exp());
        assert!((r.weight[[0, 0]] - q0).abs() < 1e-15);
        assert!((r.weight[[0, 1]] - (1.0 - q0)).abs() < 1e-15);
        // one group, its two experts (k = 2, kg = 1): group 0 wins on the bias
        let mut g = HierarchicalSoftmax::<f64>::new(2, 4, 2, 1, 1).expect("gate");
        g.outer_bias = array![0.5, -0.5];
        let r = g.route(x.view(), z.view(), None).expect("route");
        assert_eq!(r.idx.row(0).to_vec(), vec![1, 0]);
        let r1 = 1.0 / (1.0 + (-0.8_f64).exp());
        assert!((r.weight[[0, 0]] - r1).abs() < 1e-15);
    }

    #[test]
    fn layout_errors_are_one_line() {
        let e = check_layout(2, 6, 4, 1).unwrap_err().to_string();
        assert!(e.contains("T = 6 is not divisible by groups = 4"), "{e}");
        let e = check_layout(3, 8, 4, 2).unwrap_err().to_string();
        assert!(
            e.contains("k = 3 with 8 experts") && e.contains("multiple of top_groups"),
            "{e}"
        );
        let e = check_layout(4, 8, 4, 1).unwrap_err();
        assert!(
            matches!(
                e,
                GatingError::KNotSupported {
                    k: 4,
                    experts: 8,
                    ..
                }
            ),
            "{e}"
        );
        assert!(check_layout(2, 8, 4, 5).is_err());
        assert!(check_layout(4, 8, 4, 2).is_ok());
    }
}
