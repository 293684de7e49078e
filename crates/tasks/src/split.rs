//! The seeded train/test split of file data.

use rand::seq::SliceRandom;
use smoe_nn::stream_rng;

use crate::source::check_fraction;
use crate::{Dataset, Result, TaskError};

/// The seeded train/test split of `m` samples: the indices `0..m` are shuffled with
/// `stream_rng(seed, "data-split", 0)` ([`SliceRandom::shuffle`]); the test set is the first
/// `round(fraction · m)` of them, clamped to `1..=m − 1`, the training set the rest; both are
/// returned sorted (the samples' original order). Returns `(train, test)`.
///
/// # Errors
/// [`TaskError::InvalidDataConfig`] if `fraction` is not in `(0, 1)`;
/// [`TaskError::TooFewSamples`] if `m < 2`.
pub fn split_indices(m: usize, fraction: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    check_fraction(fraction)?;
    if m < 2 {
        return Err(TaskError::TooFewSamples {
            what: "a train/test split",
            needed: 2,
            got: m,
        });
    }
    let n_test = ((fraction * m as f64).round() as usize).clamp(1, m - 1);
    let mut idx: Vec<usize> = (0..m).collect();
    idx.shuffle(&mut stream_rng(seed, "data-split", 0));
    let mut test = idx[..n_test].to_vec();
    let mut train = idx[n_test..].to_vec();
    test.sort_unstable();
    train.sort_unstable();
    Ok((train, test))
}

/// Splits `data` by [`split_indices`]: `(train, test)`, groups and targets kind kept.
///
/// # Errors
/// Those of [`split_indices`].
pub fn train_test_split<F: smoe_nn::Float>(
    data: &Dataset<F>,
    fraction: f64,
    seed: u64,
) -> Result<(Dataset<F>, Dataset<F>)> {
    let (train, test) = split_indices(data.len(), fraction, seed)?;
    Ok((data.select(&train), data.select(&test)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_seeded_disjoint_sorted_and_clamped() {
        let (train, test) = split_indices(10, 0.3, 7).unwrap();
        assert_eq!((train.len(), test.len()), (7, 3));
        let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert!(train.windows(2).all(|w| w[0] < w[1]) && test.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            split_indices(10, 0.3, 7).unwrap(),
            (train.clone(), test.clone())
        );
        assert_ne!(split_indices(10, 0.3, 8).unwrap().1, test);
        assert_eq!(split_indices(2, 0.01, 0).unwrap().1.len(), 1);
        assert_eq!(split_indices(2, 0.99, 0).unwrap().0.len(), 1);
        assert_eq!(split_indices(5, 0.5, 0).unwrap().1.len(), 3); // round(2.5) = 3
        assert_eq!(
            split_indices(1, 0.5, 0),
            Err(TaskError::TooFewSamples {
                what: "a train/test split",
                needed: 2,
                got: 1
            })
        );
        assert!(matches!(
            split_indices(10, 1.0, 0),
            Err(TaskError::InvalidDataConfig {
                field: "test_fraction",
                ..
            })
        ));
    }
}
