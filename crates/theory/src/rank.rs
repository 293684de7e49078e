//! Rank statistics that judge a measure or bound against measured gaps: Kendall's τ and the
//! granulated Kendall coefficient Ψ of Jiang et al. 2019 (THEORY.md §6).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use smoe_nn::ShapeError;

use crate::error::{Result, TheoryError, finite};

/// Kendall's τ over all pairs of runs (THEORY.md §6):
///
/// `τ = (1 / (n (n-1))) Σ_{i≠j} sign(μ_i - μ_j) sign(g_i - g_j)`,
///
/// the τ-a form: a tie in either coordinate contributes 0. 1 when the measure orders the runs
/// exactly as the gaps, -1 when exactly reversed.
///
/// # Errors
/// [`TheoryError::Shape`] if the slices differ in length; [`TheoryError::TooFew`] with
/// fewer than two runs; [`TheoryError::NonFinite`] on NaN or infinite values.
pub fn kendall_tau(measure: &[f64], gap: &[f64]) -> Result<f64> {
    if measure.len() != gap.len() {
        return Err(ShapeError::new("kendall_tau", vec![measure.len()], vec![gap.len()]).into());
    }
    for &v in measure {
        finite("measure", v)?;
    }
    for &v in gap {
        finite("gap", v)?;
    }
    let pairs: Vec<(f64, f64)> = measure.iter().copied().zip(gap.iter().copied()).collect();
    tau_of_pairs(&pairs)
}

/// τ of already-checked (measure, gap) pairs.
fn tau_of_pairs(pairs: &[(f64, f64)]) -> Result<f64> {
    let n = pairs.len();
    if n < 2 {
        return Err(TheoryError::TooFew { got: n, need: 2 });
    }
    let sign = |v: f64| -> i64 {
        if v > 0.0 {
            1
        } else if v < 0.0 {
            -1
        } else {
            0
        }
    };
    let mut s: i64 = 0;
    for (i, &(mi, gi)) in pairs.iter().enumerate() {
        for &(mj, gj) in &pairs[i + 1..] {
            s += sign(mi - mj) * sign(gi - gj);
        }
    }
    // Each unordered pair appears twice in the ordered sum and in n (n - 1).
    Ok(2.0 * s as f64 / (n as f64 * (n as f64 - 1.0)))
}

/// One run of a factorial sweep: its coordinate on every axis, a measure and a gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridRun<K> {
    /// One value per axis (e.g. `[k, T, m]` levels, or strings such as a router kind).
    pub coords: Vec<K>,
    /// The measure or bound μ of the run.
    pub measure: f64,
    /// The measured generalization gap g of the run.
    pub gap: f64,
}

/// What [`granulated_kendall`] does with cells of the grid that have no run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingCells {
    /// Require the complete grid, as Jiang et al. define Ψ (default).
    #[default]
    Reject,
    /// Allow missing cells (e.g. k > T in a (k, T) sweep): a setting of the other axes with
    /// fewer than two runs is left out of the average, and m_i counts the settings used. Not
    /// Jiang et al.'s definition; say so when reporting it.
    Skip,
}

/// ψ_i of one axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxisKendall {
    /// Axis index (position in `coords`).
    pub axis: usize,
    /// |Θ_i|: the number of distinct values of the axis.
    pub values: usize,
    /// m_i: the number of settings of the other axes averaged over.
    pub groups: usize,
    /// ψ_i: the mean τ when only this axis varies.
    pub psi: f64,
}

/// The granulated Kendall coefficient with its parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GranulatedKendall {
    /// ψ_i for every axis.
    pub axes: Vec<AxisKendall>,
    /// Ψ = (1/n) Σ_i ψ_i.
    pub psi: f64,
    /// Kendall's τ over all runs, for comparison.
    pub tau: f64,
}

/// Granulated Kendall coefficient of Jiang et al. 2019, "Fantastic generalization measures"
/// (THEORY.md §6): for each axis i, the τ over the runs where only axis i varies, averaged over
/// every setting of the other axes,
///
/// `ψ_i = (1/m_i) Σ_{θ_1..θ_{i-1}, θ_{i+1}..θ_n} τ( ∪_{θ_i∈Θ_i} {(μ(θ), g(θ))} )`,
/// `m_i = |Θ_1 × … × Θ_{i-1} × Θ_{i+1} × … × Θ_n|`, `Ψ = (1/n) Σ_i ψ_i`.
///
/// Each grid cell holds one run (average seeds first, or make the seed an axis). The order of
/// `runs` does not matter.
///
/// # Errors
/// [`TheoryError::EmptySample`] with no runs; [`TheoryError::InvalidGrid`] if runs have
/// different numbers of axes or none, two runs share a cell, an axis has a single value, the
/// grid is incomplete under [`MissingCells::Reject`], or under [`MissingCells::Skip`] an axis has
/// no setting with two runs; [`TheoryError::NonFinite`] on a NaN or infinite measure or gap.
pub fn granulated_kendall<K: Ord + Clone>(
    runs: &[GridRun<K>],
    missing: MissingCells,
) -> Result<GranulatedKendall> {
    let first = runs.first().ok_or(TheoryError::EmptySample)?;
    let n_axes = first.coords.len();
    if n_axes == 0 {
        return Err(grid_error("runs have no axes"));
    }
    let mut cells = BTreeSet::new();
    for (r, run) in runs.iter().enumerate() {
        if run.coords.len() != n_axes {
            return Err(grid_error(format!(
                "run {r} has {} coordinates, run 0 has {n_axes}",
                run.coords.len()
            )));
        }
        finite("measure", run.measure)?;
        finite("gap", run.gap)?;
        if !cells.insert(&run.coords) {
            return Err(grid_error(format!(
                "run {r} repeats the cell of an earlier run"
            )));
        }
    }
    let mut values = Vec::with_capacity(n_axes);
    for axis in 0..n_axes {
        let distinct: BTreeSet<&K> = runs.iter().map(|r| &r.coords[axis]).collect();
        if distinct.len() < 2 {
            return Err(grid_error(format!("axis {axis} has a single value")));
        }
        values.push(distinct.len());
    }
    if missing == MissingCells::Reject {
        let full = values.iter().try_fold(1usize, |acc, &v| acc.checked_mul(v));
        if full != Some(runs.len()) {
            return Err(grid_error(format!(
                "incomplete grid: {} runs for {} cells",
                runs.len(),
                full.map_or_else(|| "too many".to_string(), |f| f.to_string())
            )));
        }
    }
    let mut axes = Vec::with_capacity(n_axes);
    for (axis, &n_values) in values.iter().enumerate() {
        let mut groups: BTreeMap<Vec<&K>, Vec<(f64, f64)>> = BTreeMap::new();
        for run in runs {
            let key: Vec<&K> = (0..n_axes)
                .filter(|&a| a != axis)
                .map(|a| &run.coords[a])
                .collect();
            groups.entry(key).or_default().push((run.measure, run.gap));
        }
        let mut sum = 0.0;
        let mut used = 0usize;
        for pairs in groups.values().filter(|p| p.len() >= 2) {
            sum += tau_of_pairs(pairs)?;
            used += 1;
        }
        if used == 0 {
            return Err(grid_error(format!(
                "axis {axis} has no setting with two runs"
            )));
        }
        axes.push(AxisKendall {
            axis,
            values: n_values,
            groups: used,
            psi: sum / used as f64,
        });
    }
    let psi = axes.iter().map(|a| a.psi).sum::<f64>() / n_axes as f64;
    let all: Vec<(f64, f64)> = runs.iter().map(|r| (r.measure, r.gap)).collect();
    Ok(GranulatedKendall {
        axes,
        psi,
        tau: tau_of_pairs(&all)?,
    })
}

fn grid_error(reason: impl Into<String>) -> TheoryError {
    TheoryError::InvalidGrid {
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kendall_tau_known_permutations() {
        let m = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(
            kendall_tau(&m, &[10.0, 20.0, 30.0, 40.0, 50.0]).unwrap(),
            1.0
        );
        assert_eq!(kendall_tau(&m, &[5.0, 4.0, 3.0, 2.0, 1.0]).unwrap(), -1.0);
        // One discordant pair (2, 3) of 6: (5 - 1) / 6.
        let t = kendall_tau(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert!((t - 2.0 / 3.0).abs() < 1e-15);
        // A tie in the measure contributes 0: pairs +, +, 0 -> 2/3.
        let t = kendall_tau(&[1.0, 2.0, 2.0], &[1.0, 2.0, 3.0]).unwrap();
        assert!((t - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn kendall_tau_rejects_bad_input() {
        assert!(matches!(
            kendall_tau(&[1.0], &[1.0]),
            Err(TheoryError::TooFew { got: 1, need: 2 })
        ));
        assert!(matches!(
            kendall_tau(&[1.0, 2.0], &[1.0]),
            Err(TheoryError::Shape(_))
        ));
        assert!(matches!(
            kendall_tau(&[1.0, f64::NAN], &[1.0, 2.0]),
            Err(TheoryError::NonFinite { .. })
        ));
    }

    /// A 2 x 3 grid: axis 0 in {0, 1}, axis 1 in {0, 1, 2}; (a, b, μ, g).
    fn hand_grid() -> Vec<GridRun<usize>> {
        [
            (0, 0, 1.0, 1.0),
            (0, 1, 2.0, 3.0),
            (0, 2, 3.0, 2.0),
            (1, 0, 0.5, 6.0),
            (1, 1, 5.0, 4.0),
            (1, 2, 6.0, 5.0),
        ]
        .into_iter()
        .map(|(a, b, measure, gap)| GridRun {
            coords: vec![a, b],
            measure,
            gap,
        })
        .collect()
    }

    #[test]
    fn granulated_kendall_2x3_by_hand() {
        // ψ_0: per b, τ of the 2 runs: b=0 -> -1, b=1 -> +1, b=2 -> +1: 1/3.
        // ψ_1: a=0 -> (+,+,-) = 1/3; a=1 -> (-,-,+) = -1/3: 0.  Ψ = 1/6.
        // Overall τ: 9 concordant, 6 discordant of 15 pairs: 0.2.
        let g = granulated_kendall(&hand_grid(), MissingCells::Reject).unwrap();
        assert!((g.axes[0].psi - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!((g.axes[0].values, g.axes[0].groups), (2, 3));
        assert!(g.axes[1].psi.abs() < 1e-15);
        assert_eq!((g.axes[1].values, g.axes[1].groups), (3, 2));
        assert!((g.psi - 1.0 / 6.0).abs() < 1e-15);
        assert!((g.tau - 0.2).abs() < 1e-15);
        // Order of runs does not matter.
        let mut rev = hand_grid();
        rev.reverse();
        assert_eq!(granulated_kendall(&rev, MissingCells::Reject).unwrap(), g);
    }

    #[test]
    fn granulated_kendall_grid_checks() {
        let mut grid = hand_grid();
        grid.pop();
        assert!(matches!(
            granulated_kendall(&grid, MissingCells::Reject),
            Err(TheoryError::InvalidGrid { .. })
        ));
        // Skip: a=1 keeps (1,0),(1,1) -> τ = -1; b=2 has one run and is left out of ψ_0.
        let s = granulated_kendall(&grid, MissingCells::Skip).unwrap();
        assert_eq!(s.axes[0].groups, 2);
        assert!(s.axes[0].psi.abs() < 1e-15); // (-1 + 1) / 2
        assert!((s.axes[1].psi - (1.0 / 3.0 - 1.0) / 2.0).abs() < 1e-15);
        let mut dup = hand_grid();
        dup[1].coords = vec![0, 0];
        assert!(granulated_kendall(&dup, MissingCells::Skip).is_err());
        let empty: Vec<GridRun<usize>> = Vec::new();
        assert_eq!(
            granulated_kendall(&empty, MissingCells::Reject),
            Err(TheoryError::EmptySample)
        );
        let single_axis_value: Vec<GridRun<&str>> = (0..3)
            .map(|i| GridRun {
                coords: vec!["linear", ["a", "b", "c"][i]],
                measure: i as f64,
                gap: i as f64,
            })
            .collect();
        assert!(granulated_kendall(&single_axis_value, MissingCells::Reject).is_err());
    }

    proptest::proptest! {
        #[test]
        fn tau_is_bounded_and_antisymmetric(
            pairs in proptest::collection::vec((-10i32..10, -10i32..10), 2..30)
        ) {
            let m: Vec<f64> = pairs.iter().map(|p| p.0 as f64).collect();
            let g: Vec<f64> = pairs.iter().map(|p| p.1 as f64).collect();
            let neg: Vec<f64> = g.iter().map(|v| -v).collect();
            let t = kendall_tau(&m, &g).unwrap();
            proptest::prop_assert!((-1.0..=1.0).contains(&t));
            proptest::prop_assert!((t + kendall_tau(&m, &neg).unwrap()).abs() < 1e-12);
            proptest::prop_assert!((t - kendall_tau(&g, &m).unwrap()).abs() < 1e-12);
        }
    }
}
