//! What a claim's analysis returns and how the verdict follows from it.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// The verdict on a claim: one of three words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The primary test favours the claim after the Holm correction and every extra
    /// condition of its decision rule holds.
    Supported,
    /// The primary test goes significantly against the claim (Holm-corrected), or the claim's
    /// own refutation rule fired.
    NotSupported,
    /// Neither.
    Inconclusive,
}

impl Verdict {
    /// The three words the report uses.
    pub const WORDS: [&'static str; 3] = ["supported", "not supported", "inconclusive"];

    /// The verdict's word.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Supported => Self::WORDS[0],
            Verdict::NotSupported => Self::WORDS[1],
            Verdict::Inconclusive => Self::WORDS[2],
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// A number with its 95 % interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// What it is, e.g. "mean per-seed slope of the ramp gap on log2 k (m = 8000, iso-expert)".
    pub name: String,
    /// The point estimate.
    pub value: f64,
    /// Lower end of the 95 % interval.
    pub ci_low: f64,
    /// Upper end of the 95 % interval.
    pub ci_high: f64,
}

impl Estimate {
    /// True when the value and both ends are finite.
    pub fn is_finite(&self) -> bool {
        self.value.is_finite() && self.ci_low.is_finite() && self.ci_high.is_finite()
    }

    /// `value [lo, hi]`, each with [`num`].
    pub fn show(&self) -> String {
        format!(
            "{} [{}, {}]",
            num(self.value),
            num(self.ci_low),
            num(self.ci_high)
        )
    }
}

/// A number for the report: 3 significant digits, plain notation where readable.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if (1e-3..1e4).contains(&a) {
        let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.2e}")
    }
}

/// A p-value for the report.
pub fn pval(p: f64) -> String {
    if !p.is_finite() {
        return format!("{p}");
    }
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// One extra condition of a decision rule (beyond the primary test), e.g. "β > 0 also in the
/// iso-active design" or "not worse than the best baseline".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    /// What is required.
    pub text: String,
    /// Whether it holds.
    pub met: bool,
}

/// The primary test of a claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Primary {
    /// The primary statistic with its 95 % interval.
    pub estimate: Estimate,
    /// One-sided p-value in the claim's direction (small: evidence for the claim). It enters
    /// the Holm family of the seven claims.
    pub p_for: f64,
    /// One-sided p-value against the claim (small: evidence against it); Holm-corrected as
    /// a family of its own.
    pub p_against: f64,
    /// Extra conditions for "supported".
    pub conditions: Vec<Condition>,
    /// A claim-specific refutation that fired (e.g. "the upper end of ψ_k's interval is
    /// below 0"), making the verdict "not supported".
    pub refuted_by: Option<String>,
}

/// A figure of a claim's section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlotRef {
    /// Path relative to the report's folder, e.g. `plots/c1-gap-vs-k.svg`.
    pub file: String,
    /// One-sentence caption.
    pub caption: String,
}

/// What a claim's analysis returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimOutcome {
    /// The primary test.
    pub primary: Primary,
    /// The regime the verdict holds in (e.g. "m = 8000, not interpolating").
    pub regime: String,
    /// Markdown: the setup (grid, seeds, protocol) as run.
    pub setup: String,
    /// Markdown: the primary statistic, how it was computed, its per-setting rows.
    pub primary_text: String,
    /// Markdown: the pre-registered secondary analyses.
    pub secondary: String,
    /// Markdown: exploratory analyses (labelled so in the report).
    pub exploratory: String,
    /// The section's figures, written by the analysis.
    pub plots: Vec<PlotRef>,
    /// Every number the section states, by name (compared across runs for reproducibility).
    pub statistics: BTreeMap<String, f64>,
}

/// The verdict from the primary test and its Holm-adjusted p-values, with its reason.
pub fn decide(p: &Primary, p_for_holm: f64, p_against_holm: f64) -> (Verdict, String) {
    if let Some(r) = &p.refuted_by {
        return (Verdict::NotSupported, r.clone());
    }
    if p_against_holm < 0.05 {
        return (
            Verdict::NotSupported,
            format!(
                "the primary test goes against the claim (one-sided p_Holm = {})",
                pval(p_against_holm)
            ),
        );
    }
    let unmet: Vec<&str> = p
        .conditions
        .iter()
        .filter(|c| !c.met)
        .map(|c| c.text.as_str())
        .collect();
    if p_for_holm < 0.05 && unmet.is_empty() {
        return (
            Verdict::Supported,
            format!(
                "the primary test favours the claim (one-sided p_Holm = {}){}",
                pval(p_for_holm),
                if p.conditions.is_empty() {
                    String::new()
                } else {
                    " and every condition of the decision rule holds".into()
                }
            ),
        );
    }
    let mut why = Vec::new();
    if p_for_holm >= 0.05 {
        why.push(format!(
            "the primary test does not reach p_Holm < 0.05 in the claim's direction (p_Holm = {})",
            pval(p_for_holm)
        ));
    }
    if !unmet.is_empty() {
        why.push(format!("not met: {}", unmet.join("; ")));
    }
    (Verdict::Inconclusive, why.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn primary(conditions: Vec<Condition>, refuted: Option<&str>) -> Primary {
        Primary {
            estimate: Estimate {
                name: "x".into(),
                value: 1.0,
                ci_low: 0.5,
                ci_high: 1.5,
            },
            p_for: 0.01,
            p_against: 0.99,
            conditions,
            refuted_by: refuted.map(String::from),
        }
    }

    #[test]
    fn verdicts_follow_the_rule() {
        let ok = Condition {
            text: "a".into(),
            met: true,
        };
        let bad = Condition {
            text: "b".into(),
            met: false,
        };
        assert_eq!(
            decide(&primary(vec![ok.clone()], None), 0.01, 1.0).0,
            Verdict::Supported
        );
        assert_eq!(
            decide(&primary(vec![ok.clone(), bad], None), 0.01, 1.0).0,
            Verdict::Inconclusive
        );
        assert_eq!(
            decide(&primary(vec![], None), 0.2, 0.6).0,
            Verdict::Inconclusive
        );
        assert_eq!(
            decide(&primary(vec![], None), 0.9, 0.01).0,
            Verdict::NotSupported
        );
        assert_eq!(
            decide(&primary(vec![ok], Some("r")), 0.01, 1.0),
            (Verdict::NotSupported, "r".to_string())
        );
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(0.012345), "0.0123");
        assert_eq!(num(-1.5), "-1.50");
        assert_eq!(num(1234.5), "1234");
        assert_eq!(num(2.5e-6), "2.50e-6");
        assert_eq!(pval(0.5), "0.5000");
        assert_eq!(pval(1e-7), "1.0e-7");
    }
}
