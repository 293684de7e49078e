//! Holm's step-down correction for a family of tests.

use super::StatsError;

/// Holm's (1979) adjusted p-values of a family of m tests: with p₍₁₎ ≤ … ≤ p₍ₘ₎ sorted,
/// p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1) p₍ⱼ₎), returned in the input order. Rejecting
/// every test with p̃ ≤ α controls the family-wise error rate at α under any dependence;
/// the adjusted values are monotone in the raw ones. Ties keep their input order (their
/// adjusted values are equal either way).
///
/// # Errors
/// A p-value outside [0, 1] or NaN.
pub fn holm(p: &[f64]) -> Result<Vec<f64>, StatsError> {
    if let Some(&bad) = p.iter().find(|x| !(0.0..=1.0).contains(*x)) {
        return Err(StatsError::Domain {
            what: "Holm correction",
            detail: format!("p-values must lie in [0, 1], got {bad}"),
        });
    }
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        let adj = ((m - rank) as f64 * p[i]).min(1.0);
        running = running.max(adj);
        out[i] = running;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_by_hand() {
        // p = (0.01, 0.04, 0.03, 0.5), m = 4; sorted 0.01, 0.03, 0.04, 0.5:
        // 4·0.01 = 0.04; 3·0.03 = 0.09; 2·0.04 = 0.08 → max(0.09, 0.08) = 0.09; 1·0.5 = 0.5
        let a = holm(&[0.01, 0.04, 0.03, 0.5]).unwrap();
        let want = [0.04, 0.09, 0.09, 0.5];
        for (x, w) in a.iter().zip(want) {
            assert!((x - w).abs() < 1e-15, "{a:?}");
        }
        // capped at 1
        assert_eq!(holm(&[0.6, 0.7]).unwrap(), vec![1.0, 1.0]);
        assert!(holm(&[1.2]).is_err());
        assert!(holm(&[f64::NAN]).is_err());
        assert!(holm(&[]).unwrap().is_empty());
    }
}
