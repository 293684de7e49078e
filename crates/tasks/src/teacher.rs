//! The hidden structure of the `teacher-moe` task: a planted top-k sparse MoE.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use smoe_nn::{Float, Init, Linear, SmoeRng};

use crate::util::{median, normal_matrix, to_f64, top_k};
use crate::{REFERENCE_SAMPLES, Result, TaskError};

/// One planted expert: `h(x) = a relu(W x) + c`, a 1-hidden-layer ReLU MLP with a scalar
/// output (the `hidden` layer has bias 0; the output bias `c` is the centering offset).
#[derive(Debug, Clone, PartialEq)]
pub struct TeacherExpert {
    hidden: Linear<f64>,
    output: Linear<f64>,
}

impl TeacherExpert {
    /// The hidden layer `W`, `d -> width` (Kaiming normal, bias 0).
    pub fn hidden(&self) -> &Linear<f64> {
        &self.hidden
    }

    /// The output layer `a`, `width -> 1` (Kaiming normal; bias = centering offset).
    pub fn output(&self) -> &Linear<f64> {
        &self.output
    }

    /// `h(x)` for each row of `x`.
    ///
    /// # Shapes
    /// `x [n, d] -> [n]`.
    ///
    /// # Errors
    /// [`TaskError::Nn`] (a shape mismatch) if `x` has not `d` columns.
    pub fn forward(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        let mut h = self.hidden.forward(x)?;
        h.mapv_inplace(|v| if v > 0.0 { v } else { 0.0 });
        let out = self.output.forward(h.view())?;
        Ok(out.column(0).to_owned())
    }
}

/// A planted top-`k` sparse MoE `f*(x) = Σ_{j∈S(x)} w_j(x) h_j(x)` with a linear router
/// and the `topk_softmax` gate (see [`crate::TaskConfig::TeacherMoe`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Teacher {
    router_weight: Array2<f64>,
    router_bias: Array1<f64>,
    k: usize,
    experts: Vec<TeacherExpert>,
}

impl Teacher {
    /// Draws the teacher from `rng`: router weights, then each expert's hidden and output
    /// layers in turn, then the reference sample used for centering. Needs a validated
    /// config (`1 <= k <= experts`, `d, width >= 1`).
    pub(crate) fn draw(
        d: usize,
        experts: usize,
        k: usize,
        width: usize,
        rng: &mut SmoeRng,
    ) -> Result<Self> {
        let router_weight = normal_matrix(rng, experts, d, (1.0 / d as f64).sqrt());
        let mut list = Vec::with_capacity(experts);
        for _ in 0..experts {
            list.push(TeacherExpert {
                hidden: Linear::new(d, width, Init::KaimingNormal, rng)?,
                output: Linear::new(width, 1, Init::KaimingNormal, rng)?,
            });
        }
        let mut teacher = Self {
            router_weight,
            router_bias: Array1::zeros(experts),
            k,
            experts: list,
        };
        teacher.center(normal_matrix(rng, REFERENCE_SAMPLES, d, 1.0).view())?;
        Ok(teacher)
    }

    /// Sets the output biases: each expert's median over the reference rows routed to it
    /// becomes 0, then all are shifted by the median of `f*` over all reference rows.
    fn center(&mut self, reference: ArrayView2<'_, f64>) -> Result<()> {
        let (sel, w) = self.route_f64(reference);
        let mut h = self.expert_values(reference, &sel)?;
        let mut offsets = vec![0.0; self.experts.len()];
        let mut per_expert = vec![Vec::new(); self.experts.len()];
        for (&j, &v) in sel.iter().zip(h.iter()) {
            per_expert[j].push(v);
        }
        for (c, mut vals) in offsets.iter_mut().zip(per_expert) {
            *c = -median(&mut vals).unwrap_or(0.0);
        }
        for (v, &j) in h.iter_mut().zip(sel.iter()) {
            *v += offsets[j];
        }
        let mut f: Vec<f64> = (&h * &w).sum_axis(Axis(1)).to_vec();
        let shift = median(&mut f).unwrap_or(0.0);
        for (e, c) in self.experts.iter_mut().zip(offsets) {
            e.output.bias[0] = c - shift;
        }
        Ok(())
    }

    /// The number of experts `T*`.
    pub fn num_experts(&self) -> usize {
        self.experts.len()
    }

    /// Experts per input `k*`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The input dimension `d`.
    pub fn dim(&self) -> usize {
        self.router_weight.ncols()
    }

    /// The router's weight `R` (entries `N(0, 1/d)`).
    ///
    /// # Shapes
    /// `[T*, d]`.
    pub fn router_weight(&self) -> ArrayView2<'_, f64> {
        self.router_weight.view()
    }

    /// The router's bias (zero).
    ///
    /// # Shapes
    /// `[T*]`.
    pub fn router_bias(&self) -> ArrayView1<'_, f64> {
        self.router_bias.view()
    }

    /// The planted experts.
    pub fn experts(&self) -> &[TeacherExpert] {
        &self.experts
    }

    /// The routing of each row: the `k*` selected experts in decreasing logit order (ties:
    /// lower index first) and their softmax weights over the selected logits.
    ///
    /// # Shapes
    /// `x [n, d] -> (experts [n, k*], weights [n, k*])`.
    ///
    /// # Errors
    /// [`TaskError::Shape`] if `x` has not `d` columns.
    pub fn route<F: Float>(&self, x: ArrayView2<'_, F>) -> Result<(Array2<usize>, Array2<f64>)> {
        self.check(x.ncols())?;
        Ok(self.route_f64(to_f64(x).view()))
    }

    /// The clean planted output `f*(x)` (before the sign and the label noise): the task's
    /// clean label is `sign(f*(x))`, +1 at 0.
    ///
    /// # Shapes
    /// `x [n, d] -> [n]`.
    ///
    /// # Errors
    /// [`TaskError::Shape`] if `x` has not `d` columns.
    pub fn output<F: Float>(&self, x: ArrayView2<'_, F>) -> Result<Array1<f64>> {
        self.check(x.ncols())?;
        Ok(self.output_f64(to_f64(x).view())?.0)
    }

    /// `f*(x)` and the top-1 expert of each row (the caller checks the width).
    pub(crate) fn output_f64(&self, x: ArrayView2<'_, f64>) -> Result<(Array1<f64>, Vec<usize>)> {
        let (sel, w) = self.route_f64(x);
        let h = self.expert_values(x, &sel)?;
        let f = (&h * &w).sum_axis(Axis(1));
        Ok((f, sel.column(0).to_vec()))
    }

    fn check(&self, cols: usize) -> Result<()> {
        if cols != self.dim() {
            return Err(TaskError::from(smoe_nn::ShapeError {
                op: "Teacher (input width)",
                expected: vec![self.dim()],
                got: vec![cols],
            }));
        }
        Ok(())
    }

    fn route_f64(&self, x: ArrayView2<'_, f64>) -> (Array2<usize>, Array2<f64>) {
        let n = x.nrows();
        let k = self.k;
        let z = x.dot(&self.router_weight.t()) + &self.router_bias;
        let mut sel = Vec::with_capacity(n * k);
        let mut weights = Vec::with_capacity(n * k);
        let mut taken = vec![false; self.experts.len()];
        for row in z.rows() {
            let row = row.to_vec();
            let start = sel.len();
            top_k(&row, k, &mut taken, &mut sel);
            let top = row[sel[start]];
            let e: Vec<f64> = sel[start..].iter().map(|&j| (row[j] - top).exp()).collect();
            let total: f64 = e.iter().sum();
            weights.extend(e.iter().map(|v| v / total));
        }
        // top_k pushes exactly k entries per row since k <= T
        let sel = Array2::from_shape_vec((n, k), sel).unwrap_or_else(|_| unreachable!());
        let weights = Array2::from_shape_vec((n, k), weights).unwrap_or_else(|_| unreachable!());
        (sel, weights)
    }

    /// `h_{sel[i, s]}(x_i)` for every row and slot, each expert run once on the rows routed
    /// to it.
    fn expert_values(&self, x: ArrayView2<'_, f64>, sel: &Array2<usize>) -> Result<Array2<f64>> {
        let mut buckets: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.experts.len()];
        for ((i, s), &j) in sel.indexed_iter() {
            buckets[j].push((i, s));
        }
        let mut out = Array2::zeros(sel.dim());
        for (expert, bucket) in self.experts.iter().zip(&buckets) {
            if bucket.is_empty() {
                continue;
            }
            let rows: Vec<usize> = bucket.iter().map(|&(i, _)| i).collect();
            let values = expert.forward(x.select(Axis(0), &rows).view())?;
            for (&(i, s), v) in bucket.iter().zip(values) {
                out[[i, s]] = v;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoe_nn::stream_rng;

    #[test]
    fn routing_weights_sum_to_one_and_experts_are_distinct() {
        let t = Teacher::draw(5, 6, 3, 4, &mut stream_rng(1, "t", 0)).unwrap();
        let x = normal_matrix(&mut stream_rng(2, "t", 0), 50, 5, 1.0);
        let (sel, w) = t.route(x.view()).unwrap();
        for (s, wr) in sel.rows().into_iter().zip(w.rows()) {
            assert!((wr.sum() - 1.0).abs() < 1e-12);
            assert!(s[0] != s[1] && s[1] != s[2] && s[0] != s[2]);
            // weights follow the logit order
            assert!(wr[0] >= wr[1] && wr[1] >= wr[2]);
        }
    }

    #[test]
    fn output_matches_a_hand_computed_sum() {
        let t = Teacher::draw(3, 4, 2, 5, &mut stream_rng(9, "t", 0)).unwrap();
        let x = normal_matrix(&mut stream_rng(8, "t", 0), 7, 3, 1.0);
        let f = t.output(x.view()).unwrap();
        for (i, row) in x.rows().into_iter().enumerate() {
            let z: Vec<f64> = (0..4).map(|j| t.router_weight.row(j).dot(&row)).collect();
            let mut order: Vec<usize> = (0..4).collect();
            order.sort_by(|a, b| z[*b].total_cmp(&z[*a]).then(a.cmp(b)));
            let (a, b) = (order[0], order[1]);
            let wa = 1.0 / (1.0 + (z[b] - z[a]).exp());
            let one = row.to_owned().insert_axis(Axis(0));
            let ha = t.experts[a].forward(one.view()).unwrap()[0];
            let hb = t.experts[b].forward(one.view()).unwrap()[0];
            let want = wa * ha + (1.0 - wa) * hb;
            assert!((f[i] - want).abs() < 1e-12, "{} vs {want}", f[i]);
        }
    }

    #[test]
    fn wrong_width_is_a_shape_error() {
        let t = Teacher::draw(3, 2, 1, 2, &mut stream_rng(0, "t", 0)).unwrap();
        let x = Array2::<f32>::zeros((2, 4));
        assert!(matches!(t.output(x.view()), Err(TaskError::Shape(_))));
    }
}
