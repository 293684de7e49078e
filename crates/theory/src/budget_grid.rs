//! The union-bound price of norm budgets read off the trained weights (THEORY.md §1.8 item 2).
//!
//! A bound over a norm ball needs the ball fixed before seeing S. smoe fixes, in advance, the
//! geometric grid `B ∈ {2^i : i = −30, …, 30}` (61 points, [`BUDGET_GRID_POINTS`]), proves the
//! bound for every grid point with failure probability δ / 61ⁿ for n budgets (so it holds for all
//! of them at once with probability ≥ 1 − δ), and evaluates it at each measured budget rounded
//! **up** to the grid: the ball of the rounded budget contains the trained weights, the budget
//! grows by at most a factor 2, and the confidence root pays `n ln 61` nats more
//! ([`budget_log_count`]). A budget above 2³⁰ (or NaN/∞) is outside the grid: no union bound
//! covers it, and the bound evaluated with it is labelled heuristic. A budget below 2⁻³⁰ rounds
//! up to 2⁻³⁰ (still a ball containing the weights).

/// Smallest exponent of the grid: 2⁻³⁰.
pub const BUDGET_GRID_MIN_EXP: i32 = -30;
/// Largest exponent of the grid: 2³⁰.
pub const BUDGET_GRID_MAX_EXP: i32 = 30;
/// Number of grid points, 61.
pub const BUDGET_GRID_POINTS: usize = (BUDGET_GRID_MAX_EXP - BUDGET_GRID_MIN_EXP + 1) as usize;

/// A budget rounded up to the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridBudget {
    /// The smallest grid point >= the budget, or the budget itself when it is outside the grid.
    pub value: f64,
    /// Whether the budget was on or below the grid's top (the union bound covers it).
    pub on_grid: bool,
}

/// Rounds a non-negative budget `b` up to the smallest grid point 2^i >= b (2⁻³⁰ for
/// b <= 2⁻³⁰). Outside the grid (b > 2³⁰, NaN, ∞) the budget is returned unchanged with
/// `on_grid = false`.
pub fn round_up_to_grid(b: f64) -> GridBudget {
    let top = 2f64.powi(BUDGET_GRID_MAX_EXP);
    if !(b.is_finite() && b <= top) {
        return GridBudget {
            value: b,
            on_grid: false,
        };
    }
    let bottom = 2f64.powi(BUDGET_GRID_MIN_EXP);
    if b <= bottom {
        return GridBudget {
            value: bottom,
            on_grid: true,
        };
    }
    // ceil(log2 b), corrected for rounding in log2 so that 2^(e-1) < b <= 2^e exactly
    let mut e = b.log2().ceil() as i32;
    while e > BUDGET_GRID_MIN_EXP && 2f64.powi(e - 1) >= b {
        e -= 1;
    }
    while 2f64.powi(e) < b {
        e += 1;
    }
    GridBudget {
        value: 2f64.powi(e),
        on_grid: true,
    }
}

/// `n ln(61)`: the nats a union bound over the grid costs for `n` budgets chosen from the data
/// (THEORY.md §1.8 item 2), added to ln(2/δ) under the confidence root.
pub fn budget_log_count(n: usize) -> f64 {
    n as f64 * (BUDGET_GRID_POINTS as f64).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_up_to_powers_of_two_and_flags_the_outside() {
        assert_eq!(BUDGET_GRID_POINTS, 61);
        let r = |b: f64| round_up_to_grid(b);
        assert_eq!(r(1.0).value, 1.0);
        assert_eq!(r(1.000_001).value, 2.0);
        assert_eq!(r(3.0).value, 4.0);
        assert_eq!(r(0.3).value, 0.5);
        assert_eq!(r(0.25).value, 0.25);
        assert_eq!(r(0.0).value, 2f64.powi(-30));
        assert!(r(2f64.powi(30)).on_grid);
        assert!(!r(2f64.powi(30) * 1.5).on_grid);
        assert!(!r(f64::NAN).on_grid);
        for b in [1e-8, 0.7, 5.5, 123.4, 1e8] {
            let g = r(b);
            assert!(
                g.on_grid && g.value >= b && g.value < 2.0 * b,
                "{b} -> {}",
                g.value
            );
        }
        // 3 budgets: 3 ln 61 = 3 * 4.110874 = 12.332622
        assert!((budget_log_count(3) - 3.0 * 61f64.ln()).abs() < 1e-12);
        assert!((budget_log_count(3) - 12.332_622).abs() < 1e-6);
    }
}
