//! The paired t-test and Welch's unpaired test of a contrast between cells.

use super::special::{t_quantile, t_two_sided_p};
use super::{StatsError, check_finite};

/// A t-test of a difference, with its two-sided p-value and 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    /// Whether the test is paired (by seed) or Welch's unpaired test.
    pub paired: bool,
    /// Pairs (paired) or values in all groups (unpaired).
    pub n: usize,
    /// The estimated difference: the mean paired difference d̄, or the contrast L.
    pub mean: f64,
    /// Sample standard deviation of the paired differences (`None` when unpaired).
    pub sd: Option<f64>,
    /// Standard error of `mean`.
    pub se: f64,
    /// t = mean / se (±∞ when se = 0 and mean ≠ 0; 0 when both are 0).
    pub t: f64,
    /// Degrees of freedom (n − 1 paired; Welch–Satterthwaite unpaired).
    pub df: f64,
    /// Two-sided p-value P(|T_df| ≥ |t|) (1 when mean = se = 0, 0 when only se = 0).
    pub p: f64,
    /// Lower end of the 95 % interval, mean − t_{0.975, df} · se.
    pub ci_low: f64,
    /// Upper end of the 95 % interval, mean + t_{0.975, df} · se.
    pub ci_high: f64,
}

fn finish(
    paired: bool,
    n: usize,
    mean: f64,
    sd: Option<f64>,
    se: f64,
    df: f64,
) -> Result<TTest, StatsError> {
    let (t, p) = if se > 0.0 {
        let t = mean / se;
        (t, t_two_sided_p(t, df)?)
    } else if mean == 0.0 {
        (0.0, 1.0)
    } else {
        (mean.signum() * f64::INFINITY, 0.0)
    };
    let h = t_quantile(0.975, df)? * se;
    Ok(TTest {
        paired,
        n,
        mean,
        sd,
        se,
        t,
        df,
        p,
        ci_low: mean - h,
        ci_high: mean + h,
    })
}

/// The paired t-test of differences d₁ … d_n (one per seed: the value in one cell minus the
/// value in the other): d̄ = (1/n) Σ d_i, s² = Σ (d_i − d̄)² / (n − 1), se = s / √n,
/// t = d̄ / se with n − 1 degrees of freedom, p = P(|T_{n−1}| ≥ |t|), and the 95 % interval
/// d̄ ± t_{0.975, n−1} se (as `scipy.stats.ttest_rel` and `t.ppf`).
///
/// # Errors
/// Fewer than two differences, or a non-finite one.
pub fn paired_t(d: &[f64]) -> Result<TTest, StatsError> {
    check_finite("paired t", d)?;
    let n = d.len();
    if n < 2 {
        return Err(StatsError::TooFew {
            what: "paired t",
            need: 2,
            got: n,
        });
    }
    let nf = n as f64;
    let mean = d.iter().sum::<f64>() / nf;
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nf - 1.0)).sqrt();
    finish(true, n, mean, Some(sd), sd / nf.sqrt(), nf - 1.0)
}

/// Welch's unpaired test of the contrast L = (1/G) Σ_g (ȳ_{g,hi} − ȳ_{g,lo}) over G pairs of
/// independent samples (`groups[g] = (hi, lo)`): with v_i = s_i² / n_i for each of the 2G
/// samples, Var(L) = (1/G²) Σ v_i, se = sqrt(Var L) and the Welch–Satterthwaite degrees of
/// freedom df = (Σ v_i)² / Σ (v_i² / (n_i − 1)); t = L / se, p = P(|T_df| ≥ |t|),
/// interval L ± t_{0.975, df} se. For G = 1 this is `scipy.stats.ttest_ind(hi, lo,
/// equal_var=False)`. Used when cells do not share seeds, so no pairing exists.
///
/// # Errors
/// No group, a sample of fewer than two values, non-finite values, or every sample constant
/// (no degrees of freedom).
pub fn welch_contrast(groups: &[(&[f64], &[f64])]) -> Result<TTest, StatsError> {
    if groups.is_empty() {
        return Err(StatsError::TooFew {
            what: "Welch contrast",
            need: 1,
            got: 0,
        });
    }
    let g = groups.len() as f64;
    let (mut l, mut sum_v, mut sum_v2, mut n_all) = (0.0, 0.0, 0.0, 0);
    for (hi, lo) in groups {
        for (sample, sign) in [(hi, 1.0), (lo, -1.0)] {
            check_finite("Welch contrast", sample)?;
            let n = sample.len();
            if n < 2 {
                return Err(StatsError::TooFew {
                    what: "Welch contrast (per sample)",
                    need: 2,
                    got: n,
                });
            }
            let nf = n as f64;
            let mean = sample.iter().sum::<f64>() / nf;
            let var = sample.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nf - 1.0);
            let v = var / nf;
            l += sign * mean / g;
            sum_v += v;
            sum_v2 += v * v / (nf - 1.0);
            n_all += n;
        }
    }
    let se = sum_v.sqrt() / g;
    let df = if sum_v2 > 0.0 {
        sum_v * sum_v / sum_v2
    } else {
        // every sample constant: no spread to estimate, the smallest honest df
        (n_all - 2 * groups.len()) as f64
    };
    if df <= 0.0 {
        return Err(StatsError::TooFew {
            what: "Welch contrast (degrees of freedom)",
            need: 1,
            got: 0,
        });
    }
    finish(false, n_all, l, None, se, df)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_by_hand() {
        // d = (1, 2, 3): d̄ = 2, s = 1, se = 1/√3, t = 2√3 = 3.4641, df = 2
        let r = paired_t(&[1.0, 2.0, 3.0]).unwrap();
        assert!((r.mean - 2.0).abs() < 1e-15);
        assert!((r.sd.unwrap() - 1.0).abs() < 1e-15);
        assert!((r.t - 2.0 * 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(r.df, 2.0);
        // ν = 2: p = 1 − t / sqrt(2 + t²) = 1 − 3.4641/3.7417 = 0.0741799...
        let t = r.t;
        assert!((r.p - (1.0 - t / (2.0 + t * t).sqrt())).abs() < 1e-13);
        // CI: 2 ± 4.302653 / √3
        assert!((r.ci_high - (2.0 + 4.302_652_729_749_464 / 3f64.sqrt())).abs() < 1e-9);
        assert!(paired_t(&[1.0]).is_err());
        assert!(paired_t(&[1.0, f64::NAN]).is_err());
        // constant differences: t = ∞, p = 0; all zero: p = 1
        assert_eq!(paired_t(&[0.5, 0.5]).unwrap().p, 0.0);
        assert_eq!(paired_t(&[0.0, 0.0]).unwrap().p, 1.0);
    }

    #[test]
    fn welch_reduces_to_the_pooled_df_for_equal_variances_and_sizes() {
        // hi = (2, 4), lo = (0, 2): means 3 and 1, both variances 2, v = 1 each:
        // L = 2, se = √2, df = (1 + 1)² / (1 + 1) = 2 (= n₁ + n₂ − 2)
        let r = welch_contrast(&[(&[2.0, 4.0], &[0.0, 2.0])]).unwrap();
        assert!((r.mean - 2.0).abs() < 1e-15);
        assert!((r.se - 2f64.sqrt()).abs() < 1e-15);
        assert!((r.df - 2.0).abs() < 1e-12);
        assert!(!r.paired);
        assert!(welch_contrast(&[]).is_err());
    }
}
