//! What a claim's analysis sees: its definition, the records of its arms, where to write
//! its figures.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use smoe_train::RunRecord;

use super::arm::Arm;
use super::outcome::{ClaimOutcome, PlotRef};
use crate::sweep::{LineStatus, SweepLine};

/// A claim: what it says, where it comes from, the arms that test it and its analysis.
#[derive(Debug, Clone, Copy)]
pub struct ClaimDef {
    /// `C1` … `C7`.
    pub id: &'static str,
    /// The claim in one sentence.
    pub claim: &'static str,
    /// Paper and result number, e.g. "Zhao, Wang & Wang (2024), Theorem 1".
    pub source: &'static str,
    /// The configs that test it (the first is the main arm).
    pub arms: &'static [Arm],
    /// Computes the primary statistic, the verdict's inputs, the figures and the text.
    pub analyse: fn(&ClaimContext<'_>) -> Result<ClaimOutcome>,
}

/// The records of one claim, ready for its analysis.
#[derive(Debug)]
pub struct ClaimContext<'a> {
    /// The claim.
    pub def: &'a ClaimDef,
    /// The report folder (`results/claims`); figures go to its `plots/`.
    pub out: &'a Path,
    /// Whether these are the `--quick` settings.
    pub quick: bool,
    /// Arm name → every line of its `runs.jsonl`, sorted by cell index and key (grid order,
    /// whatever order the runs finished in).
    pub lines: BTreeMap<&'static str, Vec<SweepLine>>,
}

impl ClaimContext<'_> {
    /// Every line of `arm` (ok or failed).
    ///
    /// # Errors
    /// `arm` is not one of the claim's arms.
    pub fn lines(&self, arm: &str) -> Result<&[SweepLine]> {
        self.lines
            .get(arm)
            .map(Vec::as_slice)
            .with_context(|| format!("{}: no records of arm {arm}", self.def.id))
    }

    /// The records of `arm`'s successful runs, in grid order (cell index, then key).
    ///
    /// # Errors
    /// `arm` is not one of the claim's arms.
    pub fn records(&self, arm: &str) -> Result<Vec<&RunRecord>> {
        Ok(self
            .lines(arm)?
            .iter()
            .filter(|l| l.status == LineStatus::Ok)
            .filter_map(|l| l.record.as_ref())
            .collect())
    }

    /// Failed runs (diverged or error) of `arm`.
    ///
    /// # Errors
    /// `arm` is not one of the claim's arms.
    pub fn failed(&self, arm: &str) -> Result<usize> {
        Ok(self
            .lines(arm)?
            .iter()
            .filter(|l| l.status != LineStatus::Ok)
            .count())
    }

    /// Writes `svg` as `plots/<file>` of the report folder and returns its reference.
    ///
    /// # Errors
    /// An unwritable file.
    pub fn write_plot(&self, file: &str, svg: &str, caption: &str) -> Result<PlotRef> {
        let rel = format!("plots/{file}");
        crate::plot::write_svg(&self.out.join(&rel), svg)?;
        Ok(PlotRef {
            file: rel,
            caption: caption.to_string(),
        })
    }

    /// The command that regenerates this claim's section (and its figures).
    pub fn command(&self) -> String {
        command(self.def.id, self.quick)
    }
}

/// The command that regenerates claim `id`'s records and the report.
pub fn command(id: &str, quick: bool) -> String {
    format!(
        "cargo run --release -- claims{} --only {id}",
        if quick { " --quick" } else { "" }
    )
}
