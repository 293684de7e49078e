//! `REPORT.md` (the verdict table, then one section per claim) and `claims.json` (every
//! statistic, for the reproducibility check) of a claims folder.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::context::{ClaimDef, command};
use super::outcome::{ClaimOutcome, Estimate, Verdict, decide, pval};
use crate::stats::holm;

/// One claim's line of `claims.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimSummary {
    /// `C1` … `C7`.
    pub id: String,
    /// `None` when the claim's records are not in the folder.
    pub verdict: Option<Verdict>,
    /// The primary statistic.
    pub estimate: Option<Estimate>,
    /// One-sided p in the claim's direction, and Holm-adjusted over the claims tested.
    pub p_for: Option<f64>,
    /// Holm-adjusted `p_for`.
    pub p_for_holm: Option<f64>,
    /// One-sided p against the claim, and Holm-adjusted.
    pub p_against: Option<f64>,
    /// Holm-adjusted `p_against`.
    pub p_against_holm: Option<f64>,
    /// The verdict's reason.
    pub reason: Option<String>,
    /// Regime.
    pub regime: Option<String>,
    /// Every statistic the section states.
    pub statistics: std::collections::BTreeMap<String, f64>,
}

/// The verdict of each tested claim, with the Holm-adjusted p-values of the family of tested
/// claims.
///
/// # Errors
/// A non-finite p-value.
pub fn summarise(outcomes: &[(&ClaimDef, Option<ClaimOutcome>)]) -> Result<Vec<ClaimSummary>> {
    let tested: Vec<&ClaimOutcome> = outcomes.iter().filter_map(|(_, o)| o.as_ref()).collect();
    let p_for: Vec<f64> = tested.iter().map(|o| o.primary.p_for).collect();
    let p_against: Vec<f64> = tested.iter().map(|o| o.primary.p_against).collect();
    let (hf, ha) = if tested.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (
            holm(&p_for).context("Holm over the claims' p-values")?,
            holm(&p_against).context("Holm over the claims' p-values against")?,
        )
    };
    let mut i = 0;
    let mut out = Vec::new();
    for (def, o) in outcomes {
        out.push(match o {
            None => ClaimSummary {
                id: def.id.into(),
                verdict: None,
                estimate: None,
                p_for: None,
                p_for_holm: None,
                p_against: None,
                p_against_holm: None,
                reason: None,
                regime: None,
                statistics: Default::default(),
            },
            Some(o) => {
                let (v, reason) = decide(&o.primary, hf[i], ha[i]);
                let s = ClaimSummary {
                    id: def.id.into(),
                    verdict: Some(v),
                    estimate: Some(o.primary.estimate.clone()),
                    p_for: Some(o.primary.p_for),
                    p_for_holm: Some(hf[i]),
                    p_against: Some(o.primary.p_against),
                    p_against_holm: Some(ha[i]),
                    reason: Some(reason),
                    regime: Some(o.regime.clone()),
                    statistics: o.statistics.clone(),
                };
                i += 1;
                s
            }
        });
    }
    Ok(out)
}

/// Writes `REPORT.md` and `claims.json` into `out`; returns the report's path.
///
/// # Errors
/// Unwritable files, a non-finite p-value.
pub fn write(
    out: &Path,
    quick: bool,
    outcomes: &[(&ClaimDef, Option<ClaimOutcome>)],
) -> Result<PathBuf> {
    let sums = summarise(outcomes)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let json = serde_json::to_string_pretty(&sums)?;
    std::fs::write(out.join("claims.json"), json + "\n")
        .with_context(|| format!("cannot write {}", out.join("claims.json").display()))?;
    let md = render(quick, outcomes, &sums);
    let path = out.join("REPORT.md");
    std::fs::write(&path, md).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The verdict table; each claim links to `{link}#c1` … (`link` empty inside the report,
/// `results/claims/REPORT.md` in the README, which shows the same table).
pub fn verdict_table(
    outcomes: &[(&ClaimDef, Option<ClaimOutcome>)],
    sums: &[ClaimSummary],
    link: &str,
) -> String {
    let mut s = String::from(
        "| claim | source | verdict | primary statistic [95 % CI] | p_Holm (for / against) | regime |\n|---|---|---|---|---|---|\n",
    );
    for ((def, _), sum) in outcomes.iter().zip(sums) {
        let anchor = def.id.to_lowercase();
        match (&sum.verdict, &sum.estimate) {
            (Some(v), Some(e)) => {
                let _ = writeln!(
                    s,
                    "| [{}]({link}#{anchor}) {} | {} | **{}** | {}: {} | {} / {} | {} |",
                    def.id,
                    one_line(def.claim),
                    one_line(def.source),
                    v,
                    one_line(&e.name),
                    e.show(),
                    sum.p_for_holm.map_or("–".into(), pval),
                    sum.p_against_holm.map_or("–".into(), pval),
                    one_line(sum.regime.as_deref().unwrap_or("")),
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "| {} {} | {} | not run | – | – | – |",
                    def.id,
                    one_line(def.claim),
                    one_line(def.source)
                );
            }
        }
    }
    s
}

fn render(
    quick: bool,
    outcomes: &[(&ClaimDef, Option<ClaimOutcome>)],
    sums: &[ClaimSummary],
) -> String {
    let tested = sums.iter().filter(|s| s.verdict.is_some()).count();
    let mut s = String::new();
    let all = if quick { " --quick" } else { "" };
    let _ = writeln!(
        s,
        "# The papers' claims, tested{}\n",
        if quick { " (quick settings)" } else { "" }
    );
    if quick {
        s.push_str("> **Quick settings**: tiny grids and few seeds, to check the code path. These verdicts say nothing about the claims.\n\n");
    }
    let _ = writeln!(
        s,
        "Regenerate everything: `cargo run --release -- claims{all}` (resumes from the records under `runs/`; each arm is a sweep of a committed config in `experiments/claims/`). Design: `../shared/CLAIMS.md`; where this report deviates from it, the claim's section says so and why.\n"
    );
    s.push_str(
        "**Reading the table.** Each claim has one pre-registered primary test. `p_Holm (for / against)` are the one-sided p-values of that test in the claim's direction and against it, each Holm-corrected over the claims tested",
    );
    let _ = writeln!(
        s,
        " (family of {tested}). A verdict is **supported** when the test favours the claim at p_Holm < 0.05 and every extra condition of the claim's decision rule holds; **not supported** when the test goes against the claim at p_Holm < 0.05 or the claim's own refutation rule fires; **inconclusive** otherwise. A seed is the unit of replication; cells of a claim share their seeds.\n"
    );
    s.push_str(&verdict_table(outcomes, sums, ""));
    s.push('\n');
    for ((def, o), sum) in outcomes.iter().zip(sums) {
        let _ = writeln!(
            s,
            "<a id=\"{}\"></a>\n## {} — {}\n",
            def.id.to_lowercase(),
            def.id,
            one_line(def.claim)
        );
        let _ = writeln!(s, "**Source.** {}\n", one_line(def.source));
        let configs: Vec<String> = def.arms.iter().map(|a| format!("`{}`", a.path())).collect();
        let cmd = command(def.id, quick);
        let _ = writeln!(
            s,
            "**Configs.** {}. **Regenerate:** `{cmd}`\n",
            configs.join(", ")
        );
        let Some(o) = o else {
            s.push_str("*Not run: its records are not in this folder.*\n\n");
            continue;
        };
        let _ = writeln!(s, "### Setup\n\n{}\n", o.setup.trim());
        let _ = writeln!(s, "### Primary statistic\n\n{}\n", o.primary_text.trim());
        let e = &o.primary.estimate;
        let _ = writeln!(
            s,
            "**{}** = {} ; one-sided p = {} for the claim (p_Holm = {}), p = {} against (p_Holm = {}).\n",
            one_line(&e.name),
            e.show(),
            pval(o.primary.p_for),
            sum.p_for_holm.map_or("–".into(), pval),
            pval(o.primary.p_against),
            sum.p_against_holm.map_or("–".into(), pval),
        );
        if !o.primary.conditions.is_empty() {
            s.push_str("Conditions of the decision rule:\n\n");
            for c in &o.primary.conditions {
                let _ = writeln!(
                    s,
                    "- {} {}",
                    if c.met { "✓ met:" } else { "✗ not met:" },
                    one_line(&c.text)
                );
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "**Verdict: {}** ({} = {}, p_Holm = {}) — {}. Regime: {}.\n",
            sum.verdict.map_or("not run", Verdict::word),
            one_line(&e.name),
            e.show(),
            sum.p_for_holm.map_or("–".into(), pval),
            sum.reason.as_deref().unwrap_or(""),
            one_line(&o.regime)
        );
        for p in &o.plots {
            let _ = writeln!(
                s,
                "![{}]({})\n\n*{}* Regenerate: `{cmd}`\n",
                one_line(&p.caption),
                p.file,
                one_line(&p.caption)
            );
        }
        if !o.secondary.trim().is_empty() {
            let _ = writeln!(
                s,
                "### Secondary (pre-registered)\n\n{}\n",
                o.secondary.trim()
            );
        }
        if !o.exploratory.trim().is_empty() {
            let _ = writeln!(
                s,
                "### Exploratory (not pre-registered; no verdict rests on it)\n\n{}\n",
                o.exploratory.trim()
            );
        }
    }
    s
}
