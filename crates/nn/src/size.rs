//! Size caps: every array smoe allocates from a user-given size is checked against
//! [`MAX_ELEMENTS`] first, so a huge width, sample count or file header is a clear error
//! instead of an aborted allocation.

use thiserror::Error;

/// Largest number of values one array (a dataset, a model's parameters, a batch's
/// activations) may hold: 2²⁸, 2 GiB of `f64`.
pub const MAX_ELEMENTS: usize = 1 << 28;

/// A size beyond [`MAX_ELEMENTS`] (or beyond `usize` altogether).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{what} would hold {} values; at most {max} are allowed", count_text(*.elements))]
pub struct TooLarge {
    /// What would have been allocated (e.g. "the model's parameters").
    pub what: String,
    /// How many values; `None` when the count does not fit in 64 bits.
    pub elements: Option<u128>,
    /// The cap.
    pub max: usize,
}

fn count_text(n: Option<u128>) -> String {
    n.map_or("more than 2^64".into(), |n| n.to_string())
}

/// `elements` (`None`: overflowed) if it is at most [`MAX_ELEMENTS`].
///
/// # Errors
/// [`TooLarge`] naming `what`.
pub fn check_elements(what: &str, elements: Option<usize>) -> Result<usize, TooLarge> {
    match elements {
        Some(n) if n <= MAX_ELEMENTS => Ok(n),
        _ => Err(TooLarge {
            what: what.to_string(),
            elements: elements.map(|n| n as u128),
            max: MAX_ELEMENTS,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_overflow() {
        assert_eq!(check_elements("x", Some(MAX_ELEMENTS)), Ok(MAX_ELEMENTS));
        let e = check_elements("the data", Some(MAX_ELEMENTS + 1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "the data would hold {} values; at most {MAX_ELEMENTS} are allowed",
                MAX_ELEMENTS + 1
            )
        );
        let e = check_elements("w", None).unwrap_err();
        assert!(e.to_string().contains("more than 2^64"), "{e}");
    }
}
