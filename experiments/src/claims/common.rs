//! Small statistics the claim analyses share: scalars of a record, per-seed grouping,
//! least-squares fits, one-sided t-tests over seeds, Spearman's ρ.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use smoe_train::RunRecord;

use super::outcome::Estimate;
use crate::stats::{paired_t, t_cdf};

/// The named scalar `name` of a record (`gap_ramp`, `gap_01`, `train.error`, `test.mse`,
/// `bounds.<name>.total`, …; see [`RunRecord::scalars`]), if present and finite.
pub fn scalar(r: &RunRecord, name: &str) -> Option<f64> {
    r.scalars()
        .into_iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v)
        .filter(|v| v.is_finite())
}

/// Groups `(seed, value)` pairs by seed, keeping the seed order.
pub fn by_seed<T>(items: impl IntoIterator<Item = (u64, T)>) -> BTreeMap<u64, Vec<T>> {
    let mut out: BTreeMap<u64, Vec<T>> = BTreeMap::new();
    for (s, v) in items {
        out.entry(s).or_default().push(v);
    }
    out
}

/// Ordinary least squares y = a + b x: `(a, b)`; `None` with fewer than two distinct x.
pub fn ols(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

/// Least squares y = a + b x + c x²: `(a, b, c)`; `None` with fewer than three distinct x.
pub fn quadratic(points: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    // normal equations on centred x (3 × 3, solved by Cramer's rule)
    let n = points.len() as f64;
    if points.len() < 3 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mut s = [0.0f64; 5];
    let mut t = [0.0f64; 3];
    for &(x, y) in points {
        let u = x - mx;
        let mut p = 1.0;
        for (i, si) in s.iter_mut().enumerate() {
            *si += p;
            if i < 3 {
                t[i] += p * y;
            }
            p *= u;
        }
    }
    let m = [[s[0], s[1], s[2]], [s[1], s[2], s[3]], [s[2], s[3], s[4]]];
    let det = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(&m);
    let scale = s[0] * s[2] * s[4];
    if d.is_nan() || d.abs() <= 1e-12 * scale.abs() {
        return None;
    }
    let mut coef = [0.0; 3];
    for (j, c) in coef.iter_mut().enumerate() {
        let mut mj = m;
        for (i, row) in mj.iter_mut().enumerate() {
            row[j] = t[i];
        }
        *c = det(&mj) / d;
    }
    // back from u = x − mx: y = c0 + c1 (x − mx) + c2 (x − mx)²
    let [c0, c1, c2] = coef;
    Some((c0 - c1 * mx + c2 * mx * mx, c1 - 2.0 * c2 * mx, c2))
}

/// A mean over seeds with its t interval and one-sided p-values.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedMean {
    /// The mean with its 95 % t interval.
    pub estimate: Estimate,
    /// P(T ≥ t): small when the mean is significantly above `null`.
    pub p_greater: f64,
    /// P(T ≤ t): small when the mean is significantly below `null`.
    pub p_less: f64,
    /// Seeds.
    pub n: usize,
    /// Degrees of freedom.
    pub df: f64,
    /// The t statistic.
    pub t: f64,
}

/// The one-sample t-test of per-seed values against `null` (two-sided 95 % interval, both
/// one-sided p-values). With zero spread the p-values are 0 or 1 by the mean's side.
///
/// # Errors
/// Fewer than two values or a non-finite one.
pub fn seed_mean(name: &str, values: &[f64], null: f64) -> Result<SeedMean> {
    let d: Vec<f64> = values.iter().map(|v| v - null).collect();
    let t = paired_t(&d).with_context(|| name.to_string())?;
    let (p_greater, p_less) = if t.se > 0.0 {
        let lower = t_cdf(t.t, t.df)?;
        (1.0 - lower, lower)
    } else if t.mean > 0.0 {
        (0.0, 1.0)
    } else if t.mean < 0.0 {
        (1.0, 0.0)
    } else {
        (1.0, 1.0)
    };
    Ok(SeedMean {
        estimate: Estimate {
            name: name.to_string(),
            value: t.mean + null,
            ci_low: t.ci_low + null,
            ci_high: t.ci_high + null,
        },
        p_greater,
        p_less,
        n: t.n,
        df: t.df,
        t: t.t,
    })
}

/// Spearman's rank correlation (average ranks for ties); `None` for fewer than two points or
/// a constant variable.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let sxy: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let syy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Average ranks (1-based) of `v`.
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// The intersection-union test of "β > 0 in every design" from each design's (or each setting's) one-sided
/// p for (p_greater) and against (p_less): `p_for` is the largest p_greater (every design must
/// show β > 0), `p_against` the Bonferroni-corrected smallest p_less (one design with β < 0
/// is enough to refute "in every design"), and the index of the binding design (the one with
/// the largest p_greater).
///
/// # Errors
/// No designs, or the two lists differ in length.
pub fn intersection_union(p_greater: &[f64], p_less: &[f64]) -> Result<(f64, f64, usize)> {
    if p_greater.is_empty() || p_greater.len() != p_less.len() {
        bail!("the intersection-union test needs one p for and one against per design");
    }
    let mut bind = 0;
    for (i, p) in p_greater.iter().enumerate() {
        if *p > p_greater[bind] {
            bind = i;
        }
    }
    let min_less = p_less.iter().copied().fold(f64::INFINITY, f64::min);
    let p_against = (min_less * p_less.len() as f64).min(1.0);
    Ok((p_greater[bind], p_against, bind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_recover_exact_lines_and_parabolas() {
        let line: Vec<(f64, f64)> = (0..5).map(|i| (i as f64, 2.0 + 0.5 * i as f64)).collect();
        let (a, b) = ols(&line).unwrap();
        assert!((a - 2.0).abs() < 1e-12 && (b - 0.5).abs() < 1e-12);
        let par: Vec<(f64, f64)> = (1..=7)
            .map(|i| {
                let x = i as f64;
                (x, 1.0 - 0.3 * x + 0.05 * x * x)
            })
            .collect();
        let (a, b, c) = quadratic(&par).unwrap();
        assert!((a - 1.0).abs() < 1e-9 && (b + 0.3).abs() < 1e-9 && (c - 0.05).abs() < 1e-9);
        assert!(ols(&[(1.0, 1.0), (1.0, 2.0)]).is_none());
        assert!(quadratic(&[(1.0, 1.0), (2.0, 2.0), (2.0, 3.0)]).is_none());
    }

    #[test]
    fn seed_mean_matches_a_hand_t_test() {
        // values 1, 2, 3, 4: mean 2.5, sd 1.291, se 0.6455, t = 3.873 (df 3) against 0
        let m = seed_mean("x", &[1.0, 2.0, 3.0, 4.0], 0.0).unwrap();
        assert!((m.t - 3.872_983).abs() < 1e-5);
        // scipy.stats.t.sf(3.872983, 3) = 0.015225
        assert!((m.p_greater - 0.015_225).abs() < 1e-5, "{}", m.p_greater);
        assert!((m.p_less - (1.0 - 0.015_225)).abs() < 1e-5);
        // 2.5 ± 3.182446 · 0.645497
        assert!((m.estimate.ci_low - 0.445_745).abs() < 1e-5);
        let c = seed_mean("c", &[1.0, 1.0, 1.0], 0.0).unwrap();
        assert_eq!((c.p_greater, c.p_less), (0.0, 1.0));
    }

    #[test]
    fn spearman_handles_ties_and_monotone_maps() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert!((spearman(&x, &[10.0, 20.0, 25.0, 100.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((spearman(&x, &[4.0, 3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
        assert!(spearman(&x, &[1.0; 4]).is_none());
    }

    #[test]
    fn intersection_union_takes_the_weaker_design() {
        // design 0: p_for 0.01, p_against 0.99; design 1: p_for 0.20, p_against 0.80
        let (pf, pa, bind) = intersection_union(&[0.01, 0.20], &[0.99, 0.80]).unwrap();
        assert_eq!(bind, 1);
        assert!((pf - 0.20).abs() < 1e-12);
        assert!((pa - 1.0).abs() < 1e-12); // 2 × 0.80 capped at 1
        // one design clearly negative: 2 × 0.004 = 0.008 against
        let (pf, pa, bind) = intersection_union(&[0.001, 0.996], &[0.999, 0.004]).unwrap();
        assert_eq!(bind, 1);
        assert!((pf - 0.996).abs() < 1e-12 && (pa - 0.008).abs() < 1e-12);
        assert!(intersection_union(&[], &[]).is_err());
    }
}
