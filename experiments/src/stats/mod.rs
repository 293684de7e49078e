//! Sweep statistics: the tests and intervals the report states.
//!
//! The unit of replication of a sweep is the seed (a seed fixes the teacher, the training data
//! and the test set across cells), so contrasts between cells are paired by seed.
//!
//! - [`special`]: ln Γ, the regularised incomplete beta function and Student's t CDF and
//!   quantile (written by hand: a few dozen lines, no dependency; checked against scipy);
//! - [`ttest`]: the paired t-test and Welch's unpaired test of a linear contrast;
//! - [`holm`]: Holm's step-down correction of a family of p-values;
//! - [`bootstrap`]: the seed bootstrap (resampled seed sets shared by every cell) and
//!   percentile intervals.

pub mod bootstrap;
pub mod holm;
pub mod special;
pub mod ttest;

pub use bootstrap::{SeedBootstrap, percentile, percentile_ci};
pub use holm::holm;
pub use special::{ln_gamma, reg_inc_beta, t_cdf, t_quantile, t_two_sided_p};
pub use ttest::{TTest, paired_t, welch_contrast};

/// Why a statistic could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// Fewer values than the statistic needs.
    #[error("{what} needs at least {need} values, got {got}")]
    TooFew {
        /// The statistic.
        what: &'static str,
        /// Values it needs.
        need: usize,
        /// Values given.
        got: usize,
    },
    /// A NaN or infinite input.
    #[error("{what}: non-finite input {value}")]
    NonFinite {
        /// The statistic.
        what: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A probability or parameter outside its range.
    #[error("{what}: {detail}")]
    Domain {
        /// The statistic.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
}

pub(crate) fn check_finite(what: &'static str, v: &[f64]) -> Result<(), StatsError> {
    match v.iter().find(|x| !x.is_finite()) {
        Some(&value) => Err(StatsError::NonFinite { what, value }),
        None => Ok(()),
    }
}
