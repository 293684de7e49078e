//! Central-difference gradient checking (in f64).

/// The outcome of [`check_gradient`].
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheck {
    /// Largest relative error over the checked entries (see [`relative_error`]).
    pub max_rel_err: f64,
    /// Index of the entry where it occurred.
    pub worst: usize,
    /// The analytic and numeric values there.
    pub worst_pair: (f64, f64),
    /// How many entries were checked.
    pub checked: usize,
}

/// `|a − n| / max(|a|, |n|, floor)`: relative where the gradient is large, absolute (scaled
/// by `1/floor`) where both are near zero.
pub fn relative_error(analytic: f64, numeric: f64, floor: f64) -> f64 {
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(floor)
}

/// `(f(x + h e_i) − f(x − h e_i)) / 2h` for each `i` in `indices`.
pub fn central_difference(
    f: &mut dyn FnMut(&[f64]) -> f64,
    x: &[f64],
    indices: &[usize],
    h: f64,
) -> Vec<f64> {
    let mut probe = x.to_vec();
    indices
        .iter()
        .map(|&i| {
            probe[i] = x[i] + h;
            let up = f(&probe);
            probe[i] = x[i] - h;
            let down = f(&probe);
            probe[i] = x[i];
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// Compares `analytic[i]` with the central difference of `f` at `x` for each `i` in `indices`
/// (all entries if `indices` is `None`), step `h`, relative-error floor `floor`.
pub fn check_gradient(
    f: &mut dyn FnMut(&[f64]) -> f64,
    x: &[f64],
    analytic: &[f64],
    indices: Option<&[usize]>,
    h: f64,
    floor: f64,
) -> GradCheck {
    let all: Vec<usize> = (0..x.len()).collect();
    let idx = indices.unwrap_or(&all);
    let numeric = central_difference(f, x, idx, h);
    let mut out = GradCheck {
        max_rel_err: 0.0,
        worst: 0,
        worst_pair: (0.0, 0.0),
        checked: idx.len(),
    };
    for (&i, &n) in idx.iter().zip(&numeric) {
        let e = relative_error(analytic[i], n, floor);
        if e > out.max_rel_err || e.is_nan() {
            out = GradCheck {
                max_rel_err: if e.is_nan() { f64::INFINITY } else { e },
                worst: i,
                worst_pair: (analytic[i], n),
                checked: idx.len(),
            };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_gradient_passes_and_wrong_one_fails() {
        let mut f = |x: &[f64]| x[0].sin() * x[1] + x[1].powi(3);
        let x = [0.3, -1.2];
        let good = [0.3f64.cos() * -1.2, 0.3f64.sin() + 3.0 * 1.44];
        let r = check_gradient(&mut f, &x, &good, None, 1e-5, 1e-6);
        assert!(r.max_rel_err < 1e-8, "{r:?}");
        let bad = [good[0], good[1] * 1.001];
        let r = check_gradient(&mut f, &x, &bad, None, 1e-5, 1e-6);
        assert!(r.max_rel_err > 5e-4 && r.worst == 1, "{r:?}");
    }
}
