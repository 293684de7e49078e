//! Special functions: the checked log-gamma function and ln C(n, k).

use crate::error::{Result, TheoryError, finite};

/// ln |Γ(x)| ([`smoe_nn::ln_gamma`]) for user input: checked.
///
/// # Errors
/// [`TheoryError::NonFinite`] if x is NaN or infinite; [`TheoryError::InvalidParameter`] at the
/// poles x = 0, -1, -2, ...
pub fn log_gamma(x: f64) -> Result<f64> {
    finite("ln_gamma argument", x)?;
    if x <= 0.0 && x == x.floor() {
        return Err(TheoryError::InvalidParameter {
            name: "ln_gamma argument",
            value: x,
            requirement: "not a non-positive integer (a pole of Γ)",
        });
    }
    Ok(smoe_nn::ln_gamma(x))
}

/// ln C(n, k), the log of the binomial coefficient; exactly 0 for k = 0 and k = n.
///
/// For n ≤ [`LGAMMA_MAX_N`], through the log-gamma function:
/// `ln C(n,k) = lnΓ(n+1) - lnΓ(k+1) - lnΓ(n-k+1)` (absolute error below 1e-8 there). Beyond,
/// that difference of huge values cancels (about 1e-4 relative at n = 10¹²), so with
/// `j = min(k, n−k)`, `r = n − j`: for `j ≤ 32` the sum `Σ_{i<j} ln((n−i)/(i+1))`, otherwise
/// Stirling's series with the cancellation removed,
/// `j ln(n/j) + r ln1p(j/r) + ½ ln(n / (2π j r)) + s(n) − s(j) − s(r)`,
/// `s(x) = 1/(12x) − 1/(360x³) + 1/(1260x⁵)` (truncation error below 1e-13 for j > 32).
///
/// Used for the exact label count C(T, k) of a top-k router (THEORY.md §2.2: "compute ln C(T,k)
/// exactly with lgamma").
///
/// # Errors
/// [`TheoryError::InvalidBinomial`] if k > n (C(n, k) = 0 has no logarithm).
pub fn log_binomial(n: u64, k: u64) -> Result<f64> {
    if k > n {
        return Err(TheoryError::InvalidBinomial { n, k });
    }
    if k == 0 || k == n {
        return Ok(0.0);
    }
    if n <= LGAMMA_MAX_N {
        let (n, k) = (n as f64, k as f64);
        let v = smoe_nn::ln_gamma(n + 1.0)
            - smoe_nn::ln_gamma(k + 1.0)
            - smoe_nn::ln_gamma(n - k + 1.0);
        // Rounding can only push a tiny positive value below zero; C(n, k) >= 1.
        return Ok(v.max(0.0));
    }
    let j = k.min(n - k);
    if j <= 32 {
        return Ok((0..j).map(|i| ((n - i) as f64 / (i + 1) as f64).ln()).sum());
    }
    let (nf, jf, rf) = (n as f64, j as f64, (n - j) as f64);
    let s = |x: f64| {
        let x2 = x * x;
        1.0 / (12.0 * x) - 1.0 / (360.0 * x * x2) + 1.0 / (1260.0 * x * x2 * x2)
    };
    let main = jf * (nf / jf).ln() + rf * (jf / rf).ln_1p();
    let half = 0.5 * (nf / (2.0 * std::f64::consts::PI * jf * rf)).ln();
    Ok((main + half + s(nf) - s(jf) - s(rf)).max(0.0))
}

/// Largest n for which [`log_binomial`] uses the log-gamma difference (2²⁰).
pub const LGAMMA_MAX_N: u64 = 1 << 20;

/// The upper form `k (1 + ln(n/k))` of ln C(n, k), from C(n,k) <= (e n / k)^k (THEORY.md §1.3).
///
/// # Errors
/// [`TheoryError::InvalidBinomial`] if k > n; [`TheoryError::InvalidTopK`] if k = 0 (the form
/// is undefined there).
pub fn log_binomial_upper(n: u64, k: u64) -> Result<f64> {
    if k > n {
        return Err(TheoryError::InvalidBinomial { n, k });
    }
    if k == 0 {
        return Err(TheoryError::InvalidTopK {
            k: 0,
            experts: n as usize,
        });
    }
    let (n, k) = (n as f64, k as f64);
    Ok(k * (1.0 + (n / k).ln()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_reference_values() {
        // Reference: CPython math.lgamma (correctly rounded to ~1 ulp).
        let cases = [
            (0.5, 0.572_364_942_924_700_4),
            (1.0, 0.0),
            (1.5, -0.120_782_237_635_245_43),
            (2.0, 0.0),
            (3.0, std::f64::consts::LN_2),
            (10.0, 12.801_827_480_081_467),
            (10.5, 13.940_625_219_403_763),
            (20.0, 39.339_884_187_199_495),
            (100.25, 360.284_559_637_764_3),
        ];
        for (x, want) in cases {
            let got = log_gamma(x).unwrap();
            assert!((got - want).abs() < 1e-12, "lnΓ({x}) = {got}, want {want}");
        }
        // Reflection: Γ(-0.5) = -2 sqrt(pi), so ln|Γ(-0.5)| = ln(2 sqrt(pi)).
        let want = (2.0 * std::f64::consts::PI.sqrt()).ln();
        assert!((log_gamma(-0.5).unwrap() - want).abs() < 1e-12);
    }

    #[test]
    fn ln_gamma_rejects_poles_and_nan() {
        assert!(matches!(
            log_gamma(0.0),
            Err(TheoryError::InvalidParameter { .. })
        ));
        assert!(matches!(
            log_gamma(-3.0),
            Err(TheoryError::InvalidParameter { .. })
        ));
        assert!(matches!(
            log_gamma(f64::NAN),
            Err(TheoryError::NonFinite { .. })
        ));
    }

    #[test]
    fn log_binomial_exact_vs_upper_table() {
        // (T, k, ln C(T,k), k (1 + ln(T/k))); reference from Python's exact math.comb.
        let table = [
            (8, 1, 2.079_441_541_679_835_7, 3.079_441_541_679_835_7),
            (8, 2, 3.332_204_510_175_204, 4.772_588_722_239_782),
            (8, 8, 0.0, 8.0),
            (16, 2, 4.787_491_742_782_046, 6.158_883_083_359_671_5),
            (16, 4, 7.506_591_780_070_841, 9.545_177_444_479_563),
            (64, 8, 22.210_799_440_733_147, 24.635_532_333_438_686),
            (64, 32, 42.052_280_570_411_12, 54.180_709_777_918_25),
            (100, 50, 66.783_841_652_017_43, 84.657_359_027_997_27),
            (1000, 3, 18.928_503_864_714_1, 20.427_428_970_942_08),
            (1_000_000, 5, 64.290_051_047_024_32, 66.030_363_227_650_87),
        ];
        for (t, k, exact, upper) in table {
            let e = log_binomial(t, k).unwrap();
            let u = log_binomial_upper(t, k).unwrap();
            assert!(
                (e - exact).abs() < 1e-9 * exact.max(1.0),
                "ln C({t},{k}) = {e}, want {exact}"
            );
            assert!(
                (u - upper).abs() < 1e-12 * upper,
                "upper({t},{k}) = {u}, want {upper}"
            );
            assert!(e <= u, "exact must not exceed the upper form");
        }
        // ln C(64, 8) = ln 4_426_165_368.
        assert!((log_binomial(64, 8).unwrap() - 4_426_165_368f64.ln()).abs() < 1e-11);
    }

    #[test]
    fn log_binomial_is_accurate_beyond_the_lgamma_range() {
        // k = 2: ln(n (n−1) / 2), computed without cancellation
        for n in [LGAMMA_MAX_N + 1, 1 << 30, 1_000_000_000_000, 1 << 62] {
            let want = (n as f64).ln() + ((n - 1) as f64).ln() - 2f64.ln();
            let got = log_binomial(n, 2).unwrap();
            assert!(
                (got - want).abs() <= 1e-14 * want,
                "n = {n}: {got} vs {want}"
            );
            assert_eq!(got, log_binomial(n, n - 2).unwrap());
        }
        // Stirling (j > 32) against the term-by-term sum, which is exact to ~j ulps
        let sum = |n: u64, k: u64| -> f64 {
            (0..k).map(|i| ((n - i) as f64 / (i + 1) as f64).ln()).sum()
        };
        for n in [LGAMMA_MAX_N + 1, 1_000_000_000_000] {
            for k in [33, 100, 1000, 5000] {
                let (got, want) = (log_binomial(n, k).unwrap(), sum(n, k));
                assert!(
                    (got - want).abs() <= 1e-12 * want,
                    "C({n}, {k}): {got} vs {want}"
                );
            }
        }
        // continuity at the switch from the lgamma form: C(2^20 + 1, k) vs C(2^20, k)
        for k in [1, 2, 40, 1000, 1 << 19] {
            let below = log_binomial(LGAMMA_MAX_N, k).unwrap();
            let above = log_binomial(LGAMMA_MAX_N + 1, k).unwrap();
            // C(n+1, k) / C(n, k) = (n+1) / (n+1−k)
            let ratio = ((LGAMMA_MAX_N + 1) as f64 / (LGAMMA_MAX_N + 1 - k) as f64).ln();
            assert!(
                (above - below - ratio).abs() < 1e-7,
                "k = {k}: {above} − {below} vs {ratio}"
            );
        }
        // the middle of a huge n: ln C(n, n/2) ≈ n ln 2 − ½ ln(π n / 2)
        let n = 1_000_000_000_000u64;
        let want = n as f64 * 2f64.ln() - 0.5 * (std::f64::consts::PI * n as f64 / 2.0).ln();
        let got = log_binomial(n, n / 2).unwrap();
        assert!((got - want).abs() < 1e-12 * want, "{got} vs {want}");
    }

    #[test]
    fn log_binomial_rejects_k_above_n() {
        assert_eq!(
            log_binomial(3, 4),
            Err(TheoryError::InvalidBinomial { n: 3, k: 4 })
        );
        assert!(log_binomial_upper(3, 4).is_err());
        assert!(log_binomial_upper(3, 0).is_err());
        assert_eq!(log_binomial(5, 0).unwrap(), 0.0);
    }

    proptest::proptest! {
        #[test]
        fn log_binomial_symmetry_pascal_and_upper(n in 2u64..60, k in 1u64..60) {
            let k = k.min(n - 1);
            let e = log_binomial(n, k).unwrap();
            proptest::prop_assert!((e - log_binomial(n, n - k).unwrap()).abs() < 1e-10);
            proptest::prop_assert!(e <= log_binomial_upper(n, k).unwrap() + 1e-12);
            // Pascal: C(n,k) = C(n-1,k-1) + C(n-1,k), compared in relative terms.
            let lhs = e.exp();
            let rhs = log_binomial(n - 1, k - 1).unwrap().exp() + log_binomial(n - 1, k).unwrap().exp();
            proptest::prop_assert!((lhs - rhs).abs() <= 1e-10 * rhs);
        }
    }
}
