//! Expert complexity from trained weights and the expert's routed inputs: Golowich–Rakhlin–
//! Shamir (Frobenius), Bartlett–Foster–Telgarsky (spectral) and Neyshabur–Tomioka–Srebro
//! (THEORY.md §3.4–§3.6).
//!
//! All three take the expert's layers in PyTorch layout `[out, in]` (first layer first, the
//! last one with a single output row) and the routed sub-sample S_j as `[n, d]`. Biases are
//! folded in as THEORY.md §3.4's project note says: a constant-1 coordinate on the input and a
//! constant unit on every hidden layer, so the norms are those of the augmented matrices
//! `[[W, b], [0, 1]]` (hidden) and `[W, b]` (output) and Σ||x_i||² counts the extra 1s.
//!
//! Norms taken from the trained weights make each value an a-posteriori *measure*: the bounds
//! hold for a norm ball fixed before training, and a data-dependent ball costs a union bound
//! over a grid (THEORY.md §1.8 item 2, §3.3 caveat 2). These functions do not add it; the
//! registry's `d1_worst` and `d1_a2` round the scales up to the grid and pay for them
//! (`budget_grid.rs`).

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use smoe_nn::ShapeError;

#[cfg(doc)]
use crate::TheoryError;
use crate::error::{Result, check_m, finite, non_negative, positive};
use crate::norms::{
    LayerWeights, fold_network, frobenius_norm, norm_2_1_rows, spectral_norm, sum_sq_row_norms,
};

/// A Frobenius-norm complexity (Golowich or Neyshabur) with its parts:
/// `value = scale · input_norm / n`, `scale = depth_factor · Π_j ||W_j||_F`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormComplexity {
    /// Number of weight layers.
    pub depth: usize,
    /// Size n of the routed sample.
    pub n: usize,
    /// Frobenius norm of each (bias-folded) layer matrix.
    pub frobenius_norms: Vec<f64>,
    /// Π_j ||W_j||_F.
    pub frobenius_product: f64,
    /// The depth factor of the bound (see the function).
    pub depth_factor: f64,
    /// sqrt(Σ_i ||x_i||²) over the routed sample (with the constant 1 if biases are folded).
    pub input_norm: f64,
    /// `depth_factor · Π ||W_j||_F`: the A_j with `R̂ <= A_j sqrt(Σ||x||²)/n` on any sample,
    /// as [`crate::ExpertStat::scale`] needs for D1's worst case.
    pub scale: f64,
    /// The complexity bound R̂_{S_j}(H).
    pub value: f64,
    /// Whether biases were folded in (some layer had a bias).
    pub biases_folded: bool,
}

/// Golowich's depth factor sqrt(2 ln(2) d) + 1.
fn golowich_factor(depth: usize) -> f64 {
    (2.0 * std::f64::consts::LN_2 * depth as f64).sqrt() + 1.0
}

/// Neyshabur's depth factor 2^{L-1/2} = 2^{L-1} sqrt(2) (see [`neyshabur_complexity`]).
fn neyshabur_factor(depth: usize) -> f64 {
    2f64.powi(depth.min(2_000) as i32 - 1) * std::f64::consts::SQRT_2
}

/// `Π_l max(1, s_l)` over the hidden layers, with s_l the largest |slope| of layer l's PReLU
/// (1 or less for ReLU and the identity): the product of the activations' Lipschitz constants
/// that Golowich's and Neyshabur's Frobenius bounds (proved for 1-Lipschitz activations) are
/// multiplied by, and BFT's Π ρ_i (THEORY.md §3.4–3.6). A ρ-Lipschitz positively homogeneous
/// activation is ρ times a 1-Lipschitz one, and the factor ρ moves into the next layer's
/// matrix, whose norm it multiplies.
///
/// # Errors
/// [`TheoryError::NonFinite`] if a slope or the product is NaN or infinite.
pub fn activation_lipschitz_product(max_abs_slopes: &[f64]) -> Result<f64> {
    let mut p = 1.0;
    for &s in max_abs_slopes {
        p *= finite("activation slope", s)?.abs().max(1.0);
    }
    finite("product of activation Lipschitz constants", p)
}

/// The weight-only part of a Frobenius form: (norms, product, factor, scale, folded?).
fn frobenius_scale(
    op: &'static str,
    layers: &[LayerWeights<'_>],
    d_in: usize,
    depth_factor: fn(usize) -> f64,
) -> Result<(Vec<f64>, f64, f64, f64, bool)> {
    let folded = fold_network(op, layers, d_in, None)?;
    let norms = folded
        .mats
        .iter()
        .map(|m| frobenius_norm(m.view()))
        .collect::<Result<Vec<_>>>()?;
    let product = finite("product of Frobenius norms", norms.iter().product())?;
    let factor = depth_factor(layers.len());
    let scale = finite("complexity scale", factor * product)?;
    Ok((norms, product, factor, scale, folded.augmented))
}

/// Shared body of the two Frobenius forms.
fn frobenius_form(
    op: &'static str,
    layers: &[LayerWeights<'_>],
    x: ArrayView2<'_, f64>,
    depth_factor: fn(usize) -> f64,
) -> Result<NormComplexity> {
    let n = x.nrows();
    let nf = check_m(n)?;
    let (frobenius_norms, frobenius_product, depth_factor, scale, biases_folded) =
        frobenius_scale(op, layers, x.ncols(), depth_factor)?;
    let mut sum_sq = sum_sq_row_norms(x)?;
    if biases_folded {
        sum_sq += nf;
    }
    let input_norm = sum_sq.sqrt();
    let value = finite("complexity", scale * input_norm / nf)?;
    Ok(NormComplexity {
        depth: layers.len(),
        n,
        frobenius_norms,
        frobenius_product,
        depth_factor,
        input_norm,
        scale,
        value,
        biases_folded,
    })
}

/// The weight-only scale A = (sqrt(2 ln(2) d) + 1) Π_j ||W_j||_F of [`golowich_complexity`],
/// for an expert that received no input at the learned pattern (D1's worst case still needs it).
///
/// # Errors
/// [`TheoryError::Shape`] if the layers do not chain or do not end in one output;
/// [`TheoryError::InvalidParameter`] without layers; [`TheoryError::NonFinite`] on NaN/inf.
pub fn golowich_scale(layers: &[LayerWeights<'_>]) -> Result<f64> {
    let d_in = layers.first().map_or(0, |l| l.weight.ncols());
    Ok(frobenius_scale("golowich_scale", layers, d_in, golowich_factor)?.3)
}

/// The weight-only scale A = 2^{L-1/2} Π_j ||W_j||_F of [`neyshabur_complexity`].
///
/// # Errors
/// As [`golowich_scale`].
pub fn neyshabur_scale(layers: &[LayerWeights<'_>]) -> Result<f64> {
    let d_in = layers.first().map_or(0, |l| l.weight.ncols());
    Ok(frobenius_scale("neyshabur_scale", layers, d_in, neyshabur_factor)?.3)
}

/// Golowich–Rakhlin–Shamir, Theorem 1 (Frobenius), THEORY.md §3.4:
///
/// `R̂_S(H_d) <= (sqrt(2 ln(2) d) + 1) Π_{j=1}^d M_F(j) sqrt(Σ_i ||x_i||²) / n`,
///
/// with d the number of layers, M_F(j) = ||W_j||_F of the trained (bias-folded) matrices and n
/// the number of routed inputs. Holds for 1-Lipschitz positive-homogeneous activations (ReLU,
/// PReLU with |slope| <= 1, identity) and a scalar output (for larger PReLU slopes
/// [`crate::bound_report`] multiplies it by [`activation_lipschitz_product`]); not for the sigmoid (not
/// homogeneous, σ(0) = 1/2), whose reports are labelled `outside_assumptions`. Constants as in the public `Bounds`
/// class \[IMPL\] that THEORY.md cites.
///
/// # Shapes
/// `layers[0].weight` is `[h_1, d]`, ..., the last `[1, h_L]`; `x` is `[n, d]`.
///
/// # Errors
/// [`TheoryError::EmptySample`] if n = 0; [`TheoryError::Shape`] if the layers do not chain,
/// do not match d or do not end in one output; [`TheoryError::InvalidParameter`] without
/// layers; [`TheoryError::NonFinite`] on NaN/inf.
pub fn golowich_complexity(
    layers: &[LayerWeights<'_>],
    x: ArrayView2<'_, f64>,
) -> Result<NormComplexity> {
    frobenius_form("golowich_complexity", layers, x, golowich_factor)
}

/// Neyshabur–Tomioka–Srebro 2015 with the Frobenius group norm (p = q = 2), THEORY.md §3.6:
///
/// `R̂ <= 2^{L-1/2} Π_j ||W_j||_F · ||X||_F / n`,
///
/// L the number of layers, ||X||_F = sqrt(Σ_i ||x_i||²) over the n routed inputs. The factor
/// 2^{L-1} is the exponential depth dependence Golowich et al. remove.
///
/// **Constant** (THEORY.md §3.6 flags a factor-2 inconsistency between
/// `2^{L-1} Π ||W_j||_F ||X||_F / (sqrt(2) n)` and `2^{L-1/2} B Π ||W_j||_F / sqrt(n)`): the
/// paper's own Theorem 1 text could not be read here (only its abstract and introduction were
/// found), so the **larger** candidate, 2^{L-1/2} (= 2^{L-1} sqrt(2), twice the former), is
/// used, with ||X||_F / n in place of B / sqrt(n) (||X||_F <= B sqrt(n)). Proved for
/// 1-Lipschitz activations; [`crate::bound_report`] multiplies it by
/// [`activation_lipschitz_product`] for PReLU slopes above 1.
///
/// # Shapes
/// As [`golowich_complexity`].
///
/// # Errors
/// As [`golowich_complexity`].
pub fn neyshabur_complexity(
    layers: &[LayerWeights<'_>],
    x: ArrayView2<'_, f64>,
) -> Result<NormComplexity> {
    frobenius_form("neyshabur_complexity", layers, x, neyshabur_factor)
}

/// Inputs of [`bft_complexity`].
#[derive(Debug, Clone, Copy)]
pub struct BftInputs<'a, 'b> {
    /// The trained layers, `[out, in]`, ending in one output.
    pub layers: &'b [LayerWeights<'a>],
    /// Reference matrices M_i (e.g. the initialization), same shapes; `None` means M_i = 0.
    pub reference: Option<&'b [LayerWeights<'a>]>,
    /// The routed inputs `[n, d]`.
    pub x: ArrayView2<'a, f64>,
    /// Margin γ > 0 of the ramp loss.
    pub margin: f64,
    /// Lipschitz constant ρ of the hidden activations (1 for ReLU; max(1, |a|) for PReLU).
    /// The sigmoid is 1/4-Lipschitz, but BFT also needs act(0) = 0 and σ(0) = 1/2: for sigmoid
    /// experts [`crate::bound_report`] labels the bounds `outside_assumptions`.
    pub activation_lipschitz: f64,
}

/// Bartlett–Foster–Telgarsky complexity with its parts (THEORY.md §3.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BftComplexity {
    /// Size n of the routed sample.
    pub n: usize,
    /// s_i = ||A_i||_σ of each (bias-folded) layer.
    pub spectral_norms: Vec<f64>,
    /// b_i = ||A_iᵀ - M_iᵀ||_{2,1} of each layer.
    pub norms_2_1: Vec<f64>,
    /// R = (Π ρ_i s_i)(Σ (b_i/s_i)^{2/3})^{3/2}.
    pub capacity: f64,
    /// W̄: the largest number of entries of a layer matrix.
    pub max_entries: usize,
    /// ||X||_2 = sqrt(Σ_i ||x_i||²) (with the constant 1 if biases are folded).
    pub input_norm: f64,
    /// The margin γ.
    pub margin: f64,
    /// First term as used: 4/n (the safe, larger reading).
    pub first_term: f64,
    /// The alternative reading 4/n^{3/2}, reported for comparison only.
    pub first_term_alternative: f64,
    /// `36 ln(n) sqrt(ln(2W̄)) ||X||_2 R / (γ n)`.
    pub main_term: f64,
    /// `first_term + main_term`: the bound on R̂_S(F_γ) of the ramp-loss class.
    pub value: f64,
    /// `36 sqrt(ln(2W̄)) R / γ`, so that `main_term = ln(n) · scale_per_log_n · ||X||_2 / n`.
    /// For D1's worst case over patterns use `scale = ln(m) · scale_per_log_n`, `floor = 4`.
    pub scale_per_log_n: f64,
    /// Whether biases were folded in.
    pub biases_folded: bool,
}

/// Bartlett–Foster–Telgarsky 2017, explicit-constant form for fixed budgets (BFT Lemma A.8 as in
/// the public `Bounds` class \[IMPL\]), THEORY.md §3.5, with s_i = ||A_i||_σ, b_i = ||A_i - M_i||_{2,1}
/// of the trained weights:
///
/// `R̂_S(F_γ) <= 4/n + 36 ln(n) sqrt(ln(2W̄)) ||X||_2 R / (γ n)`,
/// `R = (Π_i ρ_i s_i)(Σ_i (b_i/s_i)^{2/3})^{3/2}`.
///
/// **Flagged constant doubt** (THEORY.md §3.5): the published lemma may have 4/n^{3/2} instead
/// of 4/n as its first term. This function uses the larger, safe **4/n** and reports the other
/// reading in [`BftComplexity::first_term_alternative`].
///
/// The value bounds the complexity of the ramp-loss class F_γ: the factor 1/γ is already inside,
/// so when it is used as an expert complexity in D1 the Lipschitz constant there should be 1.
/// R is evaluated as `(Σ_i (ρ_i b_i Π_{l≠i} ρ_l s_l)^{2/3})^{3/2}` (the same number, and its
/// limit when some s_i = 0). ρ multiplies the L - 1 hidden layers (the output layer has no activation).
/// Spectral norms come from [`spectral_norm`]; the reference network is folded like the
/// trained one, so the constant units cancel in A - M.
///
/// # Shapes
/// As [`golowich_complexity`]; `reference` has the trained layers' shapes.
///
/// # Errors
/// [`TheoryError::EmptySample`] if n = 0; [`TheoryError::Shape`] on layer, input or
/// reference shapes; [`TheoryError::InvalidParameter`] without layers, if γ <= 0 or ρ < 0;
/// [`TheoryError::NonFinite`] on NaN/inf.
pub fn bft_complexity(inputs: &BftInputs<'_, '_>) -> Result<BftComplexity> {
    let op = "bft_complexity";
    let x = inputs.x;
    let n = x.nrows();
    let nf = check_m(n)?;
    let margin = positive("margin gamma", inputs.margin)?;
    let rho = non_negative("activation Lipschitz constant", inputs.activation_lipschitz)?;
    let folded = fold_network(op, inputs.layers, x.ncols(), None)?;
    let reference = match inputs.reference {
        Some(r) => {
            if r.len() != inputs.layers.len() {
                return Err(ShapeError::new(op, vec![inputs.layers.len()], vec![r.len()]).into());
            }
            Some(fold_network(op, r, x.ncols(), Some(folded.augmented))?)
        }
        None => None,
    };
    let mut sum_sq = sum_sq_row_norms(x)?;
    if folded.augmented {
        sum_sq += nf;
    }
    let depth = folded.mats.len();
    let mut spectral_norms = Vec::with_capacity(depth);
    let mut norms_2_1 = Vec::with_capacity(depth);
    for (l, a) in folded.mats.iter().enumerate() {
        spectral_norms.push(spectral_norm(a.view())?);
        let m = reference.as_ref().map(|r| r.mats[l].view());
        norms_2_1.push(norm_2_1_rows(a.view(), m)?);
    }
    let rho_s: Vec<f64> = spectral_norms
        .iter()
        .enumerate()
        .map(|(l, &s)| if l + 1 < depth { rho * s } else { s })
        .collect();
    // (Π_l ρ_l s_l)(b_i/s_i) = ρ_i b_i Π_{l≠i} ρ_l s_l: layer i's own ρ_i stays in the term
    // (it was dropped before issue 12, which only mattered for PReLU slopes above 1)
    let inner: f64 = (0..depth)
        .map(|i| {
            let others: f64 = (0..depth).filter(|&l| l != i).map(|l| rho_s[l]).product();
            let own = if i + 1 < depth { rho } else { 1.0 };
            (own * norms_2_1[i] * others).powf(2.0 / 3.0)
        })
        .sum();
    let capacity = finite("BFT capacity R", inner.powf(1.5))?;
    let max_entries = folded.mats.iter().map(|m| m.len()).max().unwrap_or(0);
    let input_norm = sum_sq.sqrt();
    let log_width = (2.0 * max_entries as f64).ln().sqrt();
    let scale_per_log_n = finite("BFT scale", 36.0 * log_width * capacity / margin)?;
    let main_term = finite("BFT main term", nf.ln() * scale_per_log_n * input_norm / nf)?;
    let first_term = 4.0 / nf;
    Ok(BftComplexity {
        n,
        spectral_norms,
        norms_2_1,
        capacity,
        max_entries,
        input_norm,
        margin,
        first_term,
        first_term_alternative: 4.0 / nf.powf(1.5),
        main_term,
        value: first_term + main_term,
        scale_per_log_n,
        biases_folded: folded.augmented,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TheoryError;
    use ndarray::array;

    #[test]
    fn golowich_two_layer_by_hand() {
        // ||W1||_F = 3, ||W2||_F = 5, sqrt(Σ||x||²) = 5, n = 2, d = 2.
        let w1 = array![[1.0, 0.0], [2.0, 2.0]];
        let w2 = array![[3.0, 4.0]];
        let x = array![[3.0, 4.0], [0.0, 0.0]];
        let layers = [
            LayerWeights::without_bias(w1.view()),
            LayerWeights::without_bias(w2.view()),
        ];
        let g = golowich_complexity(&layers, x.view()).unwrap();
        let want = ((4.0 * 2f64.ln()).sqrt() + 1.0) * 3.0 * 5.0 * 5.0 / 2.0;
        assert!((g.value - want).abs() < 1e-12, "{} vs {want}", g.value);
        assert!((g.value - 99.941_595_836_827_33).abs() < 1e-9); // (sqrt(4 ln 2) + 1) * 37.5
        assert!((g.frobenius_product - 15.0).abs() < 1e-14);
        assert!(!g.biases_folded);
    }

    #[test]
    fn golowich_with_biases_folds_them_in() {
        // Augmented: [[1,0,0],[2,2,1],[0,0,1]] (F² = 11), [3,4,2] (F² = 29); Σ||(x,1)||² = 27.
        let w1 = array![[1.0, 0.0], [2.0, 2.0]];
        let b1 = array![0.0, 1.0];
        let w2 = array![[3.0, 4.0]];
        let b2 = array![2.0];
        let x = array![[3.0, 4.0], [0.0, 0.0]];
        let layers = [
            LayerWeights::new(w1.view(), b1.view()),
            LayerWeights::new(w2.view(), b2.view()),
        ];
        let g = golowich_complexity(&layers, x.view()).unwrap();
        let want =
            ((4.0 * 2f64.ln()).sqrt() + 1.0) * 11f64.sqrt() * 29f64.sqrt() * 27f64.sqrt() / 2.0;
        assert!((g.value - want).abs() < 1e-12);
        assert!(g.biases_folded);
        assert!((golowich_scale(&layers).unwrap() - g.scale).abs() < 1e-14);
    }

    #[test]
    fn neyshabur_by_hand() {
        let w1 = array![[1.0, 0.0], [2.0, 2.0]];
        let w2 = array![[3.0, 4.0]];
        let x = array![[3.0, 4.0], [0.0, 0.0]];
        let layers = [
            LayerWeights::without_bias(w1.view()),
            LayerWeights::without_bias(w2.view()),
        ];
        let v = neyshabur_complexity(&layers, x.view()).unwrap();
        // 2^{3/2} * 15 * 5 / 2 = 2.828427 * 37.5 = 106.066017
        assert!((v.value - 2f64.powf(1.5) * 15.0 * 5.0 / 2.0).abs() < 1e-12);
        assert!((v.value - 106.066_017_178).abs() < 1e-8);
    }

    #[test]
    fn activation_lipschitz_product_takes_slopes_above_one() {
        // slopes 3 and 0.25 and -2: max(1,3) * max(1,0.25) * max(1,2) = 6
        assert_eq!(
            activation_lipschitz_product(&[3.0, 0.25, -2.0]).unwrap(),
            6.0
        );
        assert_eq!(activation_lipschitz_product(&[]).unwrap(), 1.0);
        assert!(activation_lipschitz_product(&[f64::NAN]).is_err());
    }

    #[test]
    fn bft_by_hand_uses_safe_first_term() {
        let w1 = array![[3.0, 0.0], [4.0, 5.0]]; // s = sqrt(45), b = 3 + sqrt(41)
        let w2 = array![[1.0, -1.0]]; // s = sqrt(2), b = sqrt(2)
        let x = array![[3.0, 4.0], [0.0, 0.0]];
        let layers = [
            LayerWeights::without_bias(w1.view()),
            LayerWeights::without_bias(w2.view()),
        ];
        let inputs = BftInputs {
            layers: &layers,
            reference: None,
            x: x.view(),
            margin: 0.5,
            activation_lipschitz: 1.0,
        };
        let b = bft_complexity(&inputs).unwrap();
        let (s1, s2) = (45f64.sqrt(), 2f64.sqrt());
        let (b1, b2) = (3.0 + 41f64.sqrt(), 2f64.sqrt());
        let r = s1 * s2 * ((b1 / s1).powf(2.0 / 3.0) + (b2 / s2).powf(2.0 / 3.0)).powf(1.5);
        assert!((b.capacity - r).abs() < 1e-9 * r);
        let want = 4.0 / 2.0 + 36.0 * 2f64.ln() * 8f64.ln().sqrt() * 5.0 * r / (0.5 * 2.0);
        assert!(
            (b.value - want).abs() < 1e-9 * want,
            "{} vs {want}",
            b.value
        );
        assert_eq!(b.first_term, 2.0);
        assert!((b.first_term_alternative - 4.0 / 8f64.sqrt()).abs() < 1e-14);
        assert_eq!(b.max_entries, 4);
        // A reference equal to the weights leaves only... nothing: R = 0, value = 4/n.
        let refs = layers;
        let same = bft_complexity(&BftInputs {
            reference: Some(&refs),
            ..inputs
        })
        .unwrap();
        assert!(same.capacity.abs() < 1e-12);
        assert!((same.value - 2.0).abs() < 1e-12);
        // Bad margin.
        assert!(
            bft_complexity(&BftInputs {
                margin: 0.0,
                ..inputs
            })
            .is_err()
        );
    }

    #[test]
    fn complexities_reject_empty_and_bad_shapes() {
        let w = array![[1.0, 2.0]];
        let layers = [LayerWeights::without_bias(w.view())];
        let empty = ndarray::Array2::<f64>::zeros((0, 2));
        assert_eq!(
            golowich_complexity(&layers, empty.view()),
            Err(TheoryError::EmptySample)
        );
        let wrong = array![[1.0, 2.0, 3.0]];
        assert!(matches!(
            golowich_complexity(&layers, wrong.view()),
            Err(TheoryError::Shape(_))
        ));
        let nan = array![[f64::NAN, 1.0]];
        assert!(matches!(
            neyshabur_complexity(&layers, nan.view()),
            Err(TheoryError::NonFinite { .. })
        ));
    }
}
