//! Expert-subset selection at inference: Chung et al.'s Algorithm 1 (THEORY §8.4) and its
//! controls.
//!
//! For each input X, a set `S(X)` of k experts is kept and the slot outputs of every other
//! expert are zeroed: `Ŷ_c = f_j(X̃_c)` for the slots c of `j ∈ S(X)`, 0 otherwise, and the
//! output is the head of `C(X) Ŷ(X)` (the head's bias, if any, stays). Dispatch and combine
//! weights are those of the full model. Only the k kept experts are run.
//!
//! Rules ([`SubsetRule`]):
//! - `largest`: the k experts with the **largest** column sums
//!   `C_sum_j = Σ_i Σ_{s<p} C_{i, j·p+s}` (Algorithm 1; their Algorithm 2's ascending
//!   `argsort(C_sum)[:, :k]` is a bug); ties go to the lower index;
//! - `smallest`: the k smallest column sums, the ascending variant, kept as a named negative
//!   control; ties go to the lower index;
//! - `random`: k experts drawn uniformly without replacement per input from the seeded
//!   stream `("subset", 0)`;
//! - `exhaustive` (n ≤ [`MAX_EXHAUSTIVE_EXPERTS`]): per input, the k-subset whose prediction
//!   has the smallest loss against that input's target, as given by a `score(row, f)`
//!   (lower is better; for labels the logistic loss `log(1 + exp(−y f))`, whose minimiser
//!   also maximises the margin `y f`, so the subset is correct whenever any k-subset is; for
//!   real targets the squared error). Ties go to the first subset in lexicographic order.
//!   An oracle that uses the target: it runs every expert once and sums their (affine)
//!   contributions to f for each of the `C(n, k)` subsets.

// index loops over several arrays at once read as the formulas above
#![allow(clippy::needless_range_loop)]

use ndarray::{Array1, Array2, ArrayView2};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use smoe_nn::{Float, stream_rng};

use super::SoftMoe;
use crate::{ModelError, Result};

/// The most experts the exhaustive rule enumerates subsets of (`C(8, 4) = 70` per input).
pub const MAX_EXHAUSTIVE_EXPERTS: usize = 8;

/// How the k kept experts of an input are chosen (config form: `"largest"`, `"smallest"`,
/// `"random"`, `"exhaustive"`); see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubsetRule {
    /// The k largest column sums of C (Algorithm 1).
    Largest,
    /// The k smallest column sums (the buggy ascending sort; a negative control).
    Smallest,
    /// k experts uniformly at random (seeded).
    Random,
    /// The best k-subset per input by the loss of its prediction (n ≤ 8).
    Exhaustive,
}

impl SubsetRule {
    /// The rule's name as written in configs.
    pub fn name(self) -> &'static str {
        match self {
            SubsetRule::Largest => "largest",
            SubsetRule::Smallest => "smallest",
            SubsetRule::Random => "random",
            SubsetRule::Exhaustive => "exhaustive",
        }
    }
}

/// The result of a subset inference.
#[derive(Debug, Clone, PartialEq)]
pub struct SubsetOutput<F> {
    /// The output with only the kept experts, `[b]`.
    pub f: Array1<F>,
    /// The kept experts per input, `[b, k]` (in the rule's order: descending column sum for
    /// `largest`, ascending for `smallest`, draw order for `random`, ascending index for
    /// `exhaustive`).
    pub selected: Array2<usize>,
    /// The column sums `C_sum [b, n]` of the full model.
    pub column_sums: Array2<F>,
}

/// Checks `1 ≤ k ≤ n`.
fn check_k(k: usize, n: usize) -> Result<()> {
    if k == 0 || k > n {
        return Err(ModelError::InvalidTopK { k, experts: n });
    }
    Ok(())
}

/// The k experts `rule` keeps per input, from the column sums `C_sum [b, n]`; `seed` seeds
/// the `random` rule.
///
/// # Errors
/// [`ModelError::InvalidTopK`] unless `1 ≤ k ≤ n`; [`ModelError::InvalidConfig`] for
/// `exhaustive`, which needs the targets ([`SoftMoe::best_subsets`]).
pub fn select_experts<F: Float>(
    rule: SubsetRule,
    column_sums: ArrayView2<'_, F>,
    k: usize,
    seed: u64,
) -> Result<Array2<usize>> {
    let (b, n) = column_sums.dim();
    check_k(k, n)?;
    let mut out = Array2::<usize>::zeros((b, k));
    match rule {
        SubsetRule::Largest | SubsetRule::Smallest => {
            let mut order: Vec<usize> = Vec::with_capacity(n);
            for (row, mut o) in column_sums.rows().into_iter().zip(out.rows_mut()) {
                order.clear();
                order.extend(0..n);
                // stable sort: ties keep the lower index first
                if rule == SubsetRule::Largest {
                    order.sort_by(|&a, &c| {
                        row[c]
                            .partial_cmp(&row[a])
                            .unwrap_or(std::cmp::Ordering::Equal)
                    });
                } else {
                    order.sort_by(|&a, &c| {
                        row[a]
                            .partial_cmp(&row[c])
                            .unwrap_or(std::cmp::Ordering::Equal)
                    });
                }
                for (dst, &j) in o.iter_mut().zip(&order[..k]) {
                    *dst = j;
                }
            }
        }
        SubsetRule::Random => {
            let mut rng = stream_rng(seed, "subset", 0);
            let mut pool: Vec<usize> = Vec::with_capacity(n);
            for mut o in out.rows_mut() {
                pool.clear();
                pool.extend(0..n);
                for s in 0..k {
                    let pick = rng.random_range(s..n);
                    pool.swap(s, pick);
                    o[s] = pool[s];
                }
            }
        }
        SubsetRule::Exhaustive => {
            return Err(ModelError::InvalidConfig {
                field: "subset rule",
                value: "exhaustive".into(),
                reason: "needs each input's target: use SoftMoe::best_subsets",
            });
        }
    }
    Ok(out)
}

/// Every k-subset of `0..n` in lexicographic order.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut cur: Vec<usize> = (0..k).collect();
    loop {
        out.push(cur.clone());
        // the rightmost position that can still move
        let Some(i) = (0..k).rev().find(|&i| cur[i] < n - k + i) else {
            return out;
        };
        cur[i] += 1;
        for t in i + 1..k {
            cur[t] = cur[t - 1] + 1;
        }
    }
}

impl<F: Float> SoftMoe<F> {
    /// Inference with only the experts `selected [b, k]` of each input run; every other
    /// expert's slot outputs are zero.
    ///
    /// # Errors
    /// As [`SoftMoe::infer`]; [`ModelError::Shape`] if `selected` has not b rows or names an
    /// expert ≥ n.
    pub fn infer_subset(
        &self,
        x: ArrayView2<'_, F>,
        selected: &Array2<usize>,
    ) -> Result<Array1<F>> {
        let n = self.cfg.experts;
        if selected.nrows() != x.nrows() || selected.iter().any(|&j| j >= n) {
            return Err(ModelError::from(smoe_nn::ShapeError {
                op: "SoftMoe::infer_subset (selected: b rows of experts < n)",
                expected: vec![x.nrows(), n],
                got: selected.shape().to_vec(),
            }));
        }
        let mut mask = Array2::from_elem((x.nrows(), n), false);
        for (r, row) in selected.rows().into_iter().enumerate() {
            for &j in row {
                mask[[r, j]] = true;
            }
        }
        Ok(self.run(x, false, Some(&mask))?.0)
    }

    /// Inference keeping k experts per input by `rule` (not `exhaustive`: see
    /// [`SoftMoe::best_subsets`]); `seed` seeds `random`.
    ///
    /// # Errors
    /// As [`select_experts`] and [`SoftMoe::infer`].
    pub fn infer_with_rule(
        &self,
        x: ArrayView2<'_, F>,
        rule: SubsetRule,
        k: usize,
        seed: u64,
    ) -> Result<SubsetOutput<F>> {
        let (_, routing) = self.infer(x)?;
        let column_sums = routing.column_sums();
        let selected = select_experts(rule, column_sums.view(), k, seed)?;
        let f = self.infer_subset(x, &selected)?;
        Ok(SubsetOutput {
            f,
            selected,
            column_sums,
        })
    }

    /// The exhaustive rule: per input r, the k-subset whose output `f` minimises
    /// `score(r, f)` (see the module docs).
    ///
    /// # Errors
    /// [`ModelError::InvalidTopK`] unless `1 ≤ k ≤ n`; [`ModelError::InvalidConfig`] for
    /// `n > `[`MAX_EXHAUSTIVE_EXPERTS`]; as [`SoftMoe::infer`].
    pub fn best_subsets(
        &self,
        x: ArrayView2<'_, F>,
        k: usize,
        score: &dyn Fn(usize, f64) -> f64,
    ) -> Result<SubsetOutput<F>> {
        let n = self.cfg.experts;
        check_k(k, n)?;
        if n > MAX_EXHAUSTIVE_EXPERTS {
            return Err(ModelError::InvalidConfig {
                field: "experts",
                value: n.to_string(),
                reason: "the exhaustive subset rule enumerates subsets of at most 8 experts",
            });
        }
        let (_, routing, cache) = self.run(x, true, None)?;
        let cache = cache.ok_or(ModelError::NoForward)?;
        let column_sums = routing.column_sums();
        let (p, m, dt) = (self.cfg.slots, self.cfg.tokens, self.token_dim());
        let np = n * p;
        let b = x.nrows();
        // f = bias + Σ_j g_j with g_j = Σ_{c of j} Σ_i C_ic (w_i · Ỹ_c), w = 1 for the sum head
        let (w, bias) = match &self.head {
            None => (None, F::zero()),
            Some(h) => (Some(h.weight.row(0)), h.bias[0]),
        };
        let mut g = Array2::<F>::zeros((b, n));
        for r in 0..b {
            for c in 0..np {
                let yc = cache.slot_out.row(r * np + c);
                let mut acc = F::zero();
                for i in 0..m {
                    let wy = match &w {
                        None => yc.sum(),
                        Some(w) => (0..dt).map(|t| w[i * dt + t] * yc[t]).sum(),
                    };
                    acc += cache.combine[[r * m + i, c]] * wy;
                }
                g[[r, c / p]] += acc;
            }
        }
        let all = subsets(n, k);
        let mut selected = Array2::<usize>::zeros((b, k));
        let mut f = Array1::<F>::zeros(b);
        for r in 0..b {
            let mut best: Option<(f64, usize, F)> = None;
            for (si, s) in all.iter().enumerate() {
                let fs = bias + s.iter().map(|&j| g[[r, j]]).sum::<F>();
                let v = score(r, fs.to_f64c());
                // NaN scores never win; ties keep the first subset
                if best.is_none_or(|(bv, _, _)| v < bv) {
                    best = Some((v, si, fs));
                }
            }
            if let Some((_, si, fs)) = best {
                for (dst, &j) in selected.row_mut(r).iter_mut().zip(&all[si]) {
                    *dst = j;
                }
                f[r] = fs;
            }
        }
        Ok(SubsetOutput {
            f,
            selected,
            column_sums,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn subsets_in_lexicographic_order() {
        assert_eq!(
            subsets(4, 2),
            vec![
                vec![0, 1],
                vec![0, 2],
                vec![0, 3],
                vec![1, 2],
                vec![1, 3],
                vec![2, 3]
            ]
        );
        assert_eq!(subsets(3, 3), vec![vec![0, 1, 2]]);
        assert_eq!(subsets(8, 4).len(), 70);
    }

    #[test]
    fn largest_smallest_and_ties() {
        let cs = array![[0.5f64, 2.0, 0.5, 1.0]];
        let l = select_experts(SubsetRule::Largest, cs.view(), 2, 0).unwrap();
        assert_eq!(l.row(0).to_vec(), vec![1, 3]);
        let s = select_experts(SubsetRule::Smallest, cs.view(), 3, 0).unwrap();
        assert_eq!(s.row(0).to_vec(), vec![0, 2, 3]);
        assert!(select_experts(SubsetRule::Largest, cs.view(), 0, 0).is_err());
        assert!(select_experts(SubsetRule::Largest, cs.view(), 5, 0).is_err());
        assert!(select_experts(SubsetRule::Exhaustive, cs.view(), 1, 0).is_err());
        let r = select_experts(SubsetRule::Random, cs.view(), 4, 3).unwrap();
        let mut v = r.row(0).to_vec();
        v.sort_unstable();
        assert_eq!(v, vec![0, 1, 2, 3]);
    }
}
