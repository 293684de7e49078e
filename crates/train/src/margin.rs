//! The ramp-loss margin γ of the evaluation and the bounds (`eval.gamma`): a fixed number, or
//! `"p10"`, the 10th percentile of the training margins rounded down to a fixed geometric
//! grid, paid for in the bounds by a union bound over that grid (THEORY.md §1.8 item 2).

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Smallest exponent j of the γ grid `{2^j : j = GAMMA_GRID_MIN_EXP..=GAMMA_GRID_MAX_EXP}`.
pub const GAMMA_GRID_MIN_EXP: i32 = -20;

/// Largest exponent j of the γ grid.
pub const GAMMA_GRID_MAX_EXP: i32 = 20;

/// Points of the γ grid: 41.
pub const GAMMA_GRID_POINTS: usize = (GAMMA_GRID_MAX_EXP - GAMMA_GRID_MIN_EXP + 1) as usize;

/// How the margin γ of the ramp loss is chosen (`eval.gamma`): a number (a fixed γ > 0) or
/// the string `"p10"` (the default).
///
/// With `"p10"`, γ is chosen from the data by [`p10_margin`] on the margins `y_i f(x_i)` of
/// the model being evaluated on the training (fit) set, and the bounds pay
/// `ln(GAMMA_GRID_POINTS) = ln 41` nats for the choice (`BoundSettings::margin_log_count`,
/// THEORY.md §1.8 item 2: a union bound over the 41 grid values, each at confidence δ/41).
///
/// Which model each evaluation's γ comes from:
/// - the final evaluation (train and test `ramp`, `gap_ramp`) and the bounds: the final
///   model's training margins (the γ recorded in [`MarginRecord`] and `bounds.gamma`);
/// - an intermediate evaluation (`train.eval_every`) and a full-batch restart's evaluation:
///   the same rule on the model at that point (its own training margins); its γ is recorded as
///   that evaluation's `gamma`;
/// - `init_test`: the same rule on the initial model's training margins.
///
/// A loss without a margin (the squared loss, a custom loss that does not implement
/// [`crate::Loss::with_margin`]) ignores `eval.gamma` whatever it says; its record has
/// `margin: null`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum MarginRule {
    /// A fixed γ > 0 (TOML: a number).
    Fixed(f64),
    /// The 10th percentile of the training margins on the γ grid (TOML: `"p10"`).
    #[default]
    P10,
}

impl MarginRule {
    /// The fixed γ, if the rule is one.
    pub fn fixed(self) -> Option<f64> {
        match self {
            MarginRule::Fixed(g) => Some(g),
            MarginRule::P10 => None,
        }
    }

    /// The γ a loss is built with before any margin is measured: the fixed γ, or 1 for
    /// `"p10"` (replaced at every evaluation by the measured one).
    pub fn initial(self) -> f64 {
        self.fixed().unwrap_or(1.0)
    }

    /// The rule's name in a record: `"fixed"` or `"p10"`.
    pub fn name(self) -> &'static str {
        match self {
            MarginRule::Fixed(_) => "fixed",
            MarginRule::P10 => "p10",
        }
    }
}

impl fmt::Display for MarginRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MarginRule::Fixed(g) => write!(f, "{g}"),
            MarginRule::P10 => write!(f, "p10 (10th percentile of the training margins)"),
        }
    }
}

impl Serialize for MarginRule {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            MarginRule::Fixed(g) => s.serialize_f64(*g),
            MarginRule::P10 => s.serialize_str("p10"),
        }
    }
}

const EXPECTED: &str = "a number > 0 or \"p10\" (eval.gamma)";

struct RuleVisitor;

impl Visitor<'_> for RuleVisitor {
    type Value = MarginRule;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<MarginRule, E> {
        Ok(MarginRule::Fixed(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<MarginRule, E> {
        Ok(MarginRule::Fixed(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<MarginRule, E> {
        Ok(MarginRule::Fixed(v as f64))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<MarginRule, E> {
        if v == "p10" {
            Ok(MarginRule::P10)
        } else {
            Err(E::custom(format!(
                "eval.gamma = {v:?}: must be a number > 0 or \"p10\" (the only percentile rule)"
            )))
        }
    }
}

impl<'de> Deserialize<'de> for MarginRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(RuleVisitor)
    }
}

/// The margin the evaluation and the bounds used, as the record shows it (`margin`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarginRecord {
    /// `"fixed"` or `"p10"`.
    pub rule: String,
    /// The γ used (the grid value for `"p10"`).
    pub gamma: f64,
    /// The 10th percentile of the training margins before rounding (`None` when fixed).
    pub percentile_value: Option<f64>,
    /// Points of the grid γ was chosen from: 41 for `"p10"`, 1 for a fixed γ.
    pub grid_points: usize,
    /// The nats the bounds paid for the choice, `ln(grid_points)` (0 for a fixed γ).
    pub log_count: f64,
    /// The percentile was below the grid's smallest point `2^−20` (including ≤ 0), so γ was
    /// set to `2^−20`.
    pub floored: bool,
    /// The 10th percentile was ≤ 0 (a training error of 10 % or more), so γ was taken from
    /// the 10th percentile of the *positive* margins instead (see [`p10_margin`]). Records
    /// written before this field existed read as `false`.
    #[serde(default)]
    pub fallback: bool,
}

impl MarginRecord {
    /// The record of a fixed γ.
    pub fn fixed(gamma: f64) -> Self {
        Self {
            rule: "fixed".into(),
            gamma,
            percentile_value: None,
            grid_points: 1,
            log_count: 0.0,
            floored: false,
            fallback: false,
        }
    }
}

/// The 10th percentile of `margins` by Jiang et al.'s convention: sort ascending and take
/// the element of 0-based index `⌊m / 10⌋` (m = `margins.len()`); NaN sorts above every
/// number. `None` for no margins.
///
/// E.g. m = 25: index ⌊2.5⌋ = 2, the third smallest; m = 9: index 0, the smallest.
pub fn percentile10(margins: &[f64]) -> Option<f64> {
    if margins.is_empty() {
        return None;
    }
    let mut v = margins.to_vec();
    let i = v.len() / 10;
    let (_, &mut p, _) = v.select_nth_unstable_by(i, f64::total_cmp);
    Some(p)
}

/// Rounds `value` down to the grid `{2^j : j = −20..=20}`: `(2^j, floored)` with
/// `j = min(⌊log₂ value⌋, 20)`, or `(2^−20, true)` when `value < 2^−20` (including ≤ 0 and
/// NaN). Exact: the exponent is read with `log2` and corrected so that `2^j ≤ value`.
pub fn round_down_to_grid(value: f64) -> (f64, bool) {
    let lo = 2f64.powi(GAMMA_GRID_MIN_EXP);
    if value.is_nan() || value < lo {
        return (lo, true);
    }
    let hi = 2f64.powi(GAMMA_GRID_MAX_EXP);
    if value >= hi {
        return (hi, false);
    }
    let mut j = value.log2().floor() as i32;
    // guard against log2 rounding at exact powers of two
    if 2f64.powi(j) > value {
        j -= 1;
    } else if 2f64.powi(j + 1) <= value {
        j += 1;
    }
    (
        2f64.powi(j.clamp(GAMMA_GRID_MIN_EXP, GAMMA_GRID_MAX_EXP)),
        false,
    )
}

/// The `"p10"` margin of model outputs `f` on labels `y`: the [`percentile10`] of the
/// margins `y_i f_i`, rounded down by [`round_down_to_grid`], with `log_count = ln 41`.
///
/// **Fallback.** When that percentile is ≤ 0 (at least a tenth of the training points are
/// misclassified or on the boundary), Jiang et al.'s rule gives no margin; γ is then the
/// [`percentile10`] of the positive margins, rounded down the same way, and the record says
/// `fallback: true`. The bound stays valid: it pays for the whole 41-point grid (a union
/// bound over every γ on it, THEORY.md §1.8 item 2), so *which* data-dependent rule picks
/// the grid point does not matter. Without a positive margin (or an empty set), γ = 2^−20,
/// floored.
pub fn p10_margin(f: &[f64], y: &[f64]) -> MarginRecord {
    let margins: Vec<f64> = f.iter().zip(y).map(|(&f, &y)| y * f).collect();
    let p = percentile10(&margins);
    let fallback = matches!(p, Some(v) if v <= 0.0);
    let chosen = if fallback {
        let positive: Vec<f64> = margins.iter().copied().filter(|&v| v > 0.0).collect();
        percentile10(&positive)
    } else {
        p
    };
    let (gamma, floored) = round_down_to_grid(chosen.unwrap_or(f64::NAN));
    MarginRecord {
        rule: "p10".into(),
        gamma,
        percentile_value: p.filter(|v| v.is_finite()),
        grid_points: GAMMA_GRID_POINTS,
        log_count: (GAMMA_GRID_POINTS as f64).ln(),
        floored,
        fallback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_index_is_floor_m_over_10() {
        // m = 25: sorted 0..25, index 2
        let v: Vec<f64> = (0..25).rev().map(|i| i as f64).collect();
        assert_eq!(percentile10(&v), Some(2.0));
        // m = 9: index 0 (the smallest)
        assert_eq!(
            percentile10(&[5.0, 3.0, 9.0, 1.0, 2.0, 8.0, 7.0, 6.0, 4.0]),
            Some(1.0)
        );
        // m = 10: index 1
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile10(&v), Some(2.0));
        assert_eq!(percentile10(&[]), None);
    }

    #[test]
    fn a_non_positive_percentile_falls_back_to_the_positive_margins() {
        // 10 margins, 3 negative: index 1 of the sorted margins is -1 (≤ 0), so γ comes from
        // the 7 positive ones, sorted 0.3 0.5 0.7 1.1 2 3 5: index ⌊7/10⌋ = 0 → 0.3 → 0.25
        let f = [-2.0, -1.0, -0.5, 0.3, 0.5, 0.7, 1.1, 2.0, 3.0, 5.0];
        let y = [1.0; 10];
        let r = p10_margin(&f, &y);
        assert_eq!(r.percentile_value, Some(-1.0));
        assert!(r.fallback && !r.floored);
        assert_eq!(r.gamma, 0.25);
        // no positive margin at all: floored
        let r = p10_margin(&[-1.0, -2.0], &[1.0, 1.0]);
        assert!(r.fallback && r.floored);
        assert_eq!(r.gamma, 2f64.powi(-20));
        // a positive percentile: no fallback (margins 1..10, index 1 → 2)
        let f: Vec<f64> = (1..=10).map(f64::from).collect();
        let r = p10_margin(&f, &[1.0; 10]);
        assert!(!r.fallback);
        assert_eq!(r.gamma, 2.0);
    }

    #[test]
    fn grid_rounds_down() {
        assert_eq!(round_down_to_grid(1.0), (1.0, false));
        assert_eq!(round_down_to_grid(0.75), (0.5, false));
        assert_eq!(round_down_to_grid(3.99), (2.0, false));
        assert_eq!(round_down_to_grid(4.0), (4.0, false));
        assert_eq!(round_down_to_grid(2f64.powi(-20)), (2f64.powi(-20), false));
        assert_eq!(round_down_to_grid(2f64.powi(-21)), (2f64.powi(-20), true));
        assert_eq!(round_down_to_grid(0.0), (2f64.powi(-20), true));
        assert_eq!(round_down_to_grid(-3.0), (2f64.powi(-20), true));
        assert_eq!(round_down_to_grid(f64::NAN), (2f64.powi(-20), true));
        assert_eq!(round_down_to_grid(1e9), (2f64.powi(20), false));
        // every grid point maps to itself, and just below it to the point below
        for j in GAMMA_GRID_MIN_EXP + 1..=GAMMA_GRID_MAX_EXP {
            let g = 2f64.powi(j);
            assert_eq!(round_down_to_grid(g).0, g);
            assert_eq!(round_down_to_grid(g * (1.0 - 1e-12)).0, g / 2.0);
        }
    }

    #[test]
    fn rule_reads_number_or_p10() {
        #[derive(Deserialize, Serialize)]
        struct E {
            gamma: MarginRule,
        }
        let r = |s: &str| toml::from_str::<E>(s).map(|e| e.gamma);
        assert_eq!(r("gamma = 0.5").unwrap(), MarginRule::Fixed(0.5));
        assert_eq!(r("gamma = 2").unwrap(), MarginRule::Fixed(2.0));
        assert_eq!(r("gamma = \"p10\"").unwrap(), MarginRule::P10);
        let e = r("gamma = \"p11\"").unwrap_err().to_string();
        assert!(e.contains("eval.gamma = \"p11\""), "{e}");
        assert!(r("gamma = true").is_err());
        for g in [MarginRule::P10, MarginRule::Fixed(0.25)] {
            let s = toml::to_string(&E { gamma: g }).unwrap();
            assert_eq!(r(&s).unwrap(), g);
        }
    }
}
