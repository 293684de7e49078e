//! `smoe claims`: each claim of the papers in `../shared/seeds/` tested by a committed
//! config, its primary statistic, a verdict and `results/claims/REPORT.md` (design:
//! `../shared/CLAIMS.md`).
//!
//! - [`arm`]: one config of a claim (`experiments/claims/<arm>.toml`) and its `--quick` form;
//! - [`context`]: a claim's definition ([`ClaimDef`]) and what its analysis sees;
//! - [`outcome`]: what an analysis returns, the [`Verdict`] rule;
//! - [`common`]: per-seed fits and tests the analyses share;
//! - [`runner`]: runs the arms as sweeps (resumable, shardable) and the analyses;
//! - [`report`]: `REPORT.md` and `claims.json`;
//! - [`c1`] … [`c7`]: one module per claim: its arms and its analysis.

/// The [`Arm`] named `$name`, its text embedded from `experiments/claims/$name.toml`.
macro_rules! arm {
    ($name:literal) => {
        $crate::claims::Arm {
            name: $name,
            text: include_str!(concat!("../../claims/", $name, ".toml")),
        }
    };
}

pub mod arm;
pub mod c1;
pub mod c2;
pub mod c3;
pub mod c4;
pub mod c5;
pub mod c6;
pub mod c7;
pub mod common;
pub mod context;
pub mod outcome;
pub mod ranking;
pub mod report;
pub mod runner;

pub use arm::Arm;
pub use context::{ClaimContext, ClaimDef};
pub use outcome::{ClaimOutcome, Condition, Estimate, PlotRef, Primary, Verdict};
pub use runner::{ClaimsOptions, ClaimsOutcome, run_claims};

/// The seven claims, in report order.
pub fn all() -> [&'static ClaimDef; 7] {
    [
        &c1::DEF,
        &c2::DEF,
        &c3::DEF,
        &c4::DEF,
        &c5::DEF,
        &c6::DEF,
        &c7::DEF,
    ]
}

/// Where `smoe claims` writes without `--out`.
pub const DEFAULT_OUT: &str = "results/claims";
/// Where `smoe claims --quick` writes without `--out`.
pub const QUICK_OUT: &str = "results/claims-quick";
