//! Small numeric helpers shared by the generators.

use ndarray::{Array1, Array2, ArrayView2};
use rand_distr::{Distribution, StandardNormal};
use smoe_nn::{Float, SmoeRng};

/// `+1` for `s >= 0`, `−1` otherwise (NaN gives −1).
pub(crate) fn sign(s: f64) -> f64 {
    if s >= 0.0 { 1.0 } else { -1.0 }
}

/// The median of `v` (mean of the two middle values for an even length); `None` if empty.
/// Reorders `v`.
pub(crate) fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// One standard normal draw.
pub(crate) fn normal(rng: &mut SmoeRng) -> f64 {
    StandardNormal.sample(rng)
}

/// `[rows, cols]` of independent `N(0, std²)` draws, row-major order.
pub(crate) fn normal_matrix(rng: &mut SmoeRng, rows: usize, cols: usize, std: f64) -> Array2<f64> {
    Array2::from_shape_simple_fn((rows, cols), || std * normal(rng))
}

/// A uniform random unit vector of length `d >= 1` (a normalised Gaussian; redrawn in the
/// practically impossible case of a zero draw).
pub(crate) fn random_unit(rng: &mut SmoeRng, d: usize) -> Array1<f64> {
    loop {
        let g = Array1::from_shape_simple_fn(d, || normal(rng));
        let n = g.dot(&g).sqrt();
        if n > 1e-150 {
            return g / n;
        }
    }
}

/// Index of the largest entry, ties to the lower index.
pub(crate) fn argmax<'a>(row: impl IntoIterator<Item = &'a f64>) -> usize {
    let mut best: Option<(usize, f64)> = None;
    for (i, &v) in row.into_iter().enumerate() {
        match best {
            Some((_, b)) if v <= b => {}
            _ => best = Some((i, v)),
        }
    }
    best.map_or(0, |(i, _)| i)
}

/// The indices of the `k` largest entries of `z` in decreasing order, ties to the lower
/// index first, appended to `out`. `taken` is scratch space of `z.len()` flags.
pub(crate) fn top_k(z: &[f64], k: usize, taken: &mut [bool], out: &mut Vec<usize>) {
    taken.fill(false);
    for _ in 0..k.min(z.len()) {
        let mut best: Option<usize> = None;
        for (i, v) in z.iter().enumerate() {
            if taken[i] {
                continue;
            }
            match best {
                Some(b) if *v <= z[b] => {}
                _ => best = Some(i),
            }
        }
        if let Some(b) = best {
            taken[b] = true;
            out.push(b);
        }
    }
}

/// Exact conversion of `x` to `f64`.
pub(crate) fn to_f64<F: Float>(x: ArrayView2<'_, F>) -> Array2<f64> {
    x.mapv(F::to_f64c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_lengths() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn top_k_breaks_ties_towards_lower_index() {
        let mut out = Vec::new();
        let mut taken = [false; 4];
        top_k(&[1.0, 3.0, 3.0, 2.0], 3, &mut taken, &mut out);
        assert_eq!(out, [1, 2, 3]);
        assert_eq!(argmax(&[0.5, 2.0, 2.0, 1.0]), 1);
    }

    #[test]
    fn sign_maps_zero_to_plus_one() {
        assert_eq!(sign(0.0), 1.0);
        assert_eq!(sign(-1e-300), -1.0);
    }
}
