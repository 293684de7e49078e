//! Matrix norms (spectral by power iteration, Frobenius, (2,1)) and the description of a
//! trained expert network as a list of layers in PyTorch layout `[out, in]`.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, s};

use smoe_nn::ShapeError;

use crate::error::{Result, TheoryError, finite};

/// One trained affine layer `y = W x + b` in PyTorch's `nn.Linear` layout.
///
/// # Shapes
/// `weight` is `[out, in]`; `bias`, when present, is `[out]`.
#[derive(Debug, Clone, Copy)]
pub struct LayerWeights<'a> {
    /// Weight matrix `[out, in]`.
    pub weight: ArrayView2<'a, f64>,
    /// Bias `[out]`, or `None` for a bias-free layer.
    pub bias: Option<ArrayView1<'a, f64>>,
}

impl<'a> LayerWeights<'a> {
    /// A layer with a bias.
    pub fn new(weight: ArrayView2<'a, f64>, bias: ArrayView1<'a, f64>) -> Self {
        Self {
            weight,
            bias: Some(bias),
        }
    }

    /// A bias-free layer.
    pub fn without_bias(weight: ArrayView2<'a, f64>) -> Self {
        Self { weight, bias: None }
    }
}

/// Most power iterations per start vector.
const POWER_MAX_ITERS: usize = 5_000;
/// Relative change of the estimate at which power iteration stops.
const POWER_TOL: f64 = 1e-15;

/// Spectral norm ||A||_σ (the largest singular value) by power iteration on AᵀA.
///
/// Deterministic: two fixed start vectors are tried, a generic one (entries from the
/// golden-ratio sequence) and the row of A with the largest norm (which cannot be orthogonal to
/// every top singular direction in the cases the first one misses, e.g. A = [1, -1]); each runs
/// until the estimate changes by less than 1e-15 relative (at most 5 000 iterations) and the
/// larger result is kept. Power iteration approaches σ_max from below; the result is also capped
/// by ||A||_F, which is a valid upper bound.
///
/// # Errors
/// [`TheoryError::NonFinite`] if an entry is NaN or infinite. An empty matrix has norm 0.
pub fn spectral_norm(a: ArrayView2<'_, f64>) -> Result<f64> {
    check_finite_matrix("matrix entry", a)?;
    let (rows, cols) = a.dim();
    if rows == 0 || cols == 0 {
        return Ok(0.0);
    }
    let frob = frobenius_norm(a)?;
    if frob == 0.0 {
        return Ok(0.0);
    }
    // Scale to unit Frobenius norm so that nothing overflows.
    let a_scaled = a.mapv(|v| v / frob);
    let phi = 0.618_033_988_749_894_9_f64;
    let generic = Array1::from_shape_fn(cols, |j| ((j as f64 + 1.0) * phi).fract() + 0.5);
    let best_row = (0..rows)
        .max_by(|&i, &j| {
            let ni = a_scaled.row(i).dot(&a_scaled.row(i));
            let nj = a_scaled.row(j).dot(&a_scaled.row(j));
            ni.total_cmp(&nj).then(j.cmp(&i))
        })
        .unwrap_or(0);
    let row_start = a_scaled.row(best_row).to_owned();
    let est =
        power_iterate(a_scaled.view(), generic).max(power_iterate(a_scaled.view(), row_start));
    Ok((est * frob).min(frob))
}

/// Power iteration on AᵀA from `v`; returns ||A v|| for the final unit v.
fn power_iterate(a: ArrayView2<'_, f64>, mut v: Array1<f64>) -> f64 {
    let norm = v.dot(&v).sqrt();
    if norm == 0.0 {
        return 0.0;
    }
    v /= norm;
    let mut est = 0.0;
    for _ in 0..POWER_MAX_ITERS {
        let u = a.dot(&v);
        let sigma = u.dot(&u).sqrt();
        if sigma == 0.0 {
            return 0.0;
        }
        let w = a.t().dot(&u);
        let wn = w.dot(&w).sqrt();
        if wn == 0.0 {
            return sigma;
        }
        v = w / wn;
        let done = (sigma - est).abs() <= POWER_TOL * sigma;
        est = sigma;
        if done {
            break;
        }
    }
    // One last evaluation at the final vector (it can only be larger).
    let u = a.dot(&v);
    u.dot(&u).sqrt().max(est)
}

/// Frobenius norm ||A||_F = sqrt(Σ a_ij²).
///
/// # Errors
/// [`TheoryError::NonFinite`] if an entry is NaN or infinite (or the sum overflows).
pub fn frobenius_norm(a: ArrayView2<'_, f64>) -> Result<f64> {
    check_finite_matrix("matrix entry", a)?;
    finite(
        "Frobenius norm",
        a.iter().map(|v| v * v).sum::<f64>().sqrt(),
    )
}

/// The (2,1) norm used by Bartlett–Foster–Telgarsky, ||Aᵀ - Mᵀ||_{2,1}: the sum of the ℓ2
/// norms of the rows of `A - M` for `[out, in]` matrices (THEORY.md §3.5). `reference = None`
/// means M = 0.
///
/// # Errors
/// [`TheoryError::Shape`] if `reference` has another shape; [`TheoryError::NonFinite`]
/// on a NaN or infinite entry.
pub fn norm_2_1_rows(
    a: ArrayView2<'_, f64>,
    reference: Option<ArrayView2<'_, f64>>,
) -> Result<f64> {
    check_finite_matrix("matrix entry", a)?;
    if let Some(m) = reference {
        check_finite_matrix("reference matrix entry", m)?;
        if m.dim() != a.dim() {
            return Err(
                ShapeError::new("norm_2_1_rows", a.shape().to_vec(), m.shape().to_vec()).into(),
            );
        }
        let d = &a - &m;
        Ok(d.rows().into_iter().map(|r| r.dot(&r).sqrt()).sum())
    } else {
        Ok(a.rows().into_iter().map(|r| r.dot(&r).sqrt()).sum())
    }
}

/// Σ_i ||x_i||² over the rows of `x` `[n, d]`.
///
/// # Errors
/// [`TheoryError::NonFinite`] on a NaN or infinite entry.
pub fn sum_sq_row_norms(x: ArrayView2<'_, f64>) -> Result<f64> {
    check_finite_matrix("input entry", x)?;
    finite("sum of squared input norms", x.iter().map(|v| v * v).sum())
}

/// Rejects NaN / infinite entries.
pub(crate) fn check_finite_matrix(name: &'static str, a: ArrayView2<'_, f64>) -> Result<()> {
    match a.iter().find(|v| !v.is_finite()) {
        Some(&value) => Err(TheoryError::NonFinite { name, value }),
        None => Ok(()),
    }
}

/// A network's layers with their biases folded into the weights (THEORY.md §3.4 project note):
/// a constant-1 coordinate is appended to the input and a constant unit (ReLU(1) = 1) to every
/// hidden layer, so hidden layer l becomes `[[W, b], [0, 1]]` and the output layer `[W, b]`.
pub(crate) struct Folded {
    /// The (possibly augmented) matrices, `[out, in]`.
    pub mats: Vec<Array2<f64>>,
    /// Whether the input is augmented with a constant 1.
    pub augmented: bool,
}

/// Checks a scalar-output network against inputs of dimension `d_in` and folds its biases.
/// `augment` forces folding (used so a reference network folds like the trained one).
pub(crate) fn fold_network(
    op: &'static str,
    layers: &[LayerWeights<'_>],
    d_in: usize,
    augment: Option<bool>,
) -> Result<Folded> {
    if layers.is_empty() {
        return Err(TheoryError::InvalidParameter {
            name: "number of layers",
            value: 0.0,
            requirement: ">= 1",
        });
    }
    let mut prev = d_in;
    for layer in layers {
        let (out, inp) = layer.weight.dim();
        if inp != prev {
            // each weight must take the previous layer's `prev` outputs
            return Err(ShapeError::new(op, vec![out, prev], vec![out, inp]).into());
        }
        if let Some(b) = layer.bias
            && b.len() != out
        {
            return Err(ShapeError::new(op, vec![out], vec![b.len()]).into());
        }
        check_finite_matrix("weight entry", layer.weight)?;
        if let Some(b) = layer.bias
            && let Some(&value) = b.iter().find(|v| !v.is_finite())
        {
            return Err(TheoryError::NonFinite {
                name: "bias entry",
                value,
            });
        }
        prev = out;
    }
    if prev != 1 {
        // a scalar output: the last weight must have one row
        let inp = layers[layers.len() - 1].weight.ncols();
        return Err(ShapeError::new(op, vec![1, inp], vec![prev, inp]).into());
    }
    let augmented = augment.unwrap_or_else(|| layers.iter().any(|l| l.bias.is_some()));
    let last = layers.len() - 1;
    let mats = layers
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            if !augmented {
                return layer.weight.to_owned();
            }
            let (out, inp) = layer.weight.dim();
            let extra = usize::from(l != last);
            let mut m = Array2::zeros((out + extra, inp + 1));
            m.slice_mut(s![..out, ..inp]).assign(&layer.weight);
            if let Some(b) = layer.bias {
                m.slice_mut(s![..out, inp]).assign(&b);
            }
            if extra == 1 {
                m[[out, inp]] = 1.0;
            }
            m
        })
        .collect();
    Ok(Folded { mats, augmented })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn spectral_norm_hand_cases() {
        // AᵀA = [[25, 20], [20, 25]]: eigenvalues 45 and 5, so ||A||_σ = sqrt(45).
        let a = array![[3.0, 0.0], [4.0, 5.0]];
        assert!((spectral_norm(a.view()).unwrap() - 45f64.sqrt()).abs() < 1e-12);
        // A start of all ones would be orthogonal to the answer here.
        let b = array![[1.0, -1.0]];
        assert!((spectral_norm(b.view()).unwrap() - 2f64.sqrt()).abs() < 1e-12);
        let c = array![[1.0, 0.0, 0.0], [0.0, -3.0, 0.0], [0.0, 0.0, 2.0]];
        assert!((spectral_norm(c.view()).unwrap() - 3.0).abs() < 1e-12);
        // Rank one: ||u vᵀ|| = ||u|| ||v||.
        let d = array![[2.0, 4.0], [1.0, 2.0], [-2.0, -4.0]];
        assert!((spectral_norm(d.view()).unwrap() - 3.0 * 5f64.sqrt()).abs() < 1e-12);
        assert_eq!(
            spectral_norm(Array2::<f64>::zeros((2, 3)).view()).unwrap(),
            0.0
        );
        assert!(spectral_norm(array![[f64::NAN]].view()).is_err());
    }

    #[test]
    fn spectral_norm_close_singular_values() {
        // Singular values 1 and 0.999 (slow vector convergence, fast value convergence).
        let a = array![[1.0, 0.0], [0.0, 0.999]];
        assert!((spectral_norm(a.view()).unwrap() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn frobenius_and_2_1_norms() {
        let a = array![[3.0, 4.0], [0.0, 1.0]];
        assert!((frobenius_norm(a.view()).unwrap() - 26f64.sqrt()).abs() < 1e-14);
        assert!((norm_2_1_rows(a.view(), None).unwrap() - 6.0).abs() < 1e-14);
        let m = array![[3.0, 0.0], [0.0, 0.0]];
        assert!((norm_2_1_rows(a.view(), Some(m.view())).unwrap() - 5.0).abs() < 1e-14);
        let bad = array![[1.0]];
        assert!(matches!(
            norm_2_1_rows(a.view(), Some(bad.view())),
            Err(TheoryError::Shape(_))
        ));
    }

    #[test]
    fn folding_appends_bias_column_and_constant_unit() {
        let w1 = array![[1.0, 2.0], [3.0, 4.0]];
        let b1 = array![5.0, 6.0];
        let w2 = array![[7.0, 8.0]];
        let b2 = array![9.0];
        let layers = [
            LayerWeights::new(w1.view(), b1.view()),
            LayerWeights::new(w2.view(), b2.view()),
        ];
        let f = fold_network("test", &layers, 2, None).unwrap();
        assert!(f.augmented);
        assert_eq!(
            f.mats[0],
            array![[1.0, 2.0, 5.0], [3.0, 4.0, 6.0], [0.0, 0.0, 1.0]]
        );
        assert_eq!(f.mats[1], array![[7.0, 8.0, 9.0]]);
        // Shape errors: wrong input width, vector output.
        assert!(fold_network("test", &layers, 3, None).is_err());
        assert!(fold_network("test", &layers[..1], 2, None).is_err());
        assert!(fold_network("test", &[], 2, None).is_err());
    }
}
