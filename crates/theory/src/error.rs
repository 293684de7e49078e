//! The crate's error type and the input checks every public function shares.

use thiserror::Error;

/// Everything that can go wrong in `smoe-theory`.
///
/// Every public function validates its inputs first and returns one of these variants instead
/// of panicking or returning a NaN.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TheoryError {
    /// A failure probability outside the open interval (0, 1).
    #[error("failure probability delta = {delta} is not in (0, 1)")]
    InvalidDelta {
        /// The rejected value.
        delta: f64,
    },
    /// A sample (training set, routed sub-sample, list of runs) with no elements, or m = 0.
    #[error("the sample is empty (m = 0)")]
    EmptySample,
    /// k = 0, T = 0 or k > T.
    #[error("invalid top-k: k = {k} with {experts} experts (need 1 <= k <= T)")]
    InvalidTopK {
        /// Experts selected per input.
        k: usize,
        /// Experts in total.
        experts: usize,
    },
    /// ln C(n, k) asked for k > n.
    #[error("binomial coefficient C({n}, {k}) is zero (k > n)")]
    InvalidBinomial {
        /// The upper argument.
        n: u64,
        /// The lower argument.
        k: u64,
    },
    /// Array shapes that do not fit together (the workspace's one shape error,
    /// [`smoe_nn::ShapeError`]).
    #[error(transparent)]
    Shape(#[from] smoe_nn::ShapeError),
    /// A NaN or infinite input (or an intermediate that overflowed).
    #[error("{name} is not finite ({value})")]
    NonFinite {
        /// Which quantity.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// A finite input outside its allowed range (a negative Lipschitz constant, a margin <= 0, ...).
    #[error("{name} = {value} is invalid: must be {requirement}")]
    InvalidParameter {
        /// Which quantity.
        name: &'static str,
        /// Its value.
        value: f64,
        /// The condition it breaks, e.g. "> 0".
        requirement: &'static str,
    },
    /// Per-expert loads m_j that do not add up to k m (each input is routed to exactly k experts).
    #[error("per-expert loads sum to {sum}, expected k * m = {expected}")]
    InvalidLoads {
        /// The sum of the loads given.
        sum: usize,
        /// k * m.
        expected: usize,
    },
    /// A list of runs that is not the factorial grid a granulated Kendall coefficient needs.
    #[error("invalid factorial grid: {reason}")]
    InvalidGrid {
        /// What is wrong with it.
        reason: String,
    },
    /// Too few items for the statistic (a Kendall tau needs two runs).
    #[error("need at least {need} items, got {got}")]
    TooFew {
        /// How many were given.
        got: usize,
        /// How many are needed.
        need: usize,
    },
    /// A model the bound report cannot measure: a model kind it does not know, or routing
    /// that is not top-k.
    #[error("bound report: unsupported {what}")]
    Unsupported {
        /// What is not supported, e.g. "routing diagnostics other than top-k".
        what: String,
    },
    /// Parameter recovery (the Voronoi loss) cannot compare this model or these measures.
    #[error("parameter recovery: unsupported {what}")]
    Recovery {
        /// What is not supported, e.g. "router `mlp` (needs linear)".
        what: String,
    },
    /// The model failed on the training sample (its own error, as text).
    #[error("bound report: the model failed on the training sample: {message}")]
    Model {
        /// The model's error message.
        message: String,
    },
    /// A PAC-Bayes certificate cannot be computed for this model, data or config.
    #[error("certificate: {what}")]
    Certify {
        /// What is wrong, e.g. "needs labels ±1".
        what: String,
    },
    /// An exact computation that would take too long (exact enumeration over 2^m sign vectors).
    #[error("exact computation over {size} items is too large (at most {max})")]
    TooLarge {
        /// The requested size.
        size: usize,
        /// The largest size accepted.
        max: usize,
    },
    /// More Monte Carlo sign draws than [`crate::MAX_MC_DRAWS`] (each draw costs a pass over
    /// the sample, so an unbounded count could run for hours without a word).
    #[error("{draws} Monte Carlo draws is too many (at most {max})")]
    TooManyDraws {
        /// The requested number of draws.
        draws: usize,
        /// The largest number accepted.
        max: usize,
    },
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, TheoryError>;

/// Rejects NaN and infinities.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(TheoryError::NonFinite { name, value })
    }
}

/// Finite and >= 0.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<f64> {
    finite(name, value)?;
    if value >= 0.0 {
        Ok(value)
    } else {
        Err(TheoryError::InvalidParameter {
            name,
            value,
            requirement: ">= 0",
        })
    }
}

/// Finite and > 0.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64> {
    finite(name, value)?;
    if value > 0.0 {
        Ok(value)
    } else {
        Err(TheoryError::InvalidParameter {
            name,
            value,
            requirement: "> 0",
        })
    }
}

/// delta in the open interval (0, 1).
pub(crate) fn check_delta(delta: f64) -> Result<f64> {
    if delta.is_finite() && delta > 0.0 && delta < 1.0 {
        Ok(delta)
    } else {
        Err(TheoryError::InvalidDelta { delta })
    }
}

/// 1 <= k <= T.
pub(crate) fn check_topk(k: usize, experts: usize) -> Result<()> {
    if k == 0 || experts == 0 || k > experts {
        Err(TheoryError::InvalidTopK { k, experts })
    } else {
        Ok(())
    }
}

/// m >= 1.
pub(crate) fn check_m(m: usize) -> Result<f64> {
    if m == 0 {
        Err(TheoryError::EmptySample)
    } else {
        Ok(m as f64)
    }
}
