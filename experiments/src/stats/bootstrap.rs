//! The seed bootstrap: resampled seed sets, shared by every cell, and percentile intervals.
//!
//! The seed is the unit of replication of a sweep (it fixes teacher, data and test set in
//! every cell), so a bootstrap draw resamples the *seed set* with replacement and every cell
//! uses the same drawn seeds; a statistic over cells (Kendall τ, Ψ, a difference of two τ)
//! is recomputed per draw, and its interval is the percentile interval of the draws. Two
//! statistics computed from the same draws give a paired bootstrap of their difference.

use super::StatsError;

/// The default number of bootstrap draws.
pub const DEFAULT_DRAWS: usize = 2000;
/// The default seed of the bootstrap's random numbers (reports are reproducible).
pub const DEFAULT_SEED: u64 = 20_261_201;
/// The most draws × seeds a bootstrap may hold (guards the allocation).
const MAX_ENTRIES: usize = 50_000_000;

/// SplitMix64 (Steele, Lea & Flood 2014): x ← x + 0x9E3779B97F4A7C15, then two xor-shift-multiply
/// rounds. Written here so the draws never change with a dependency's version.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// An index in 0..n by the multiply-high map ⌊x n / 2⁶⁴⌋ (bias < n / 2⁶⁴, negligible).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// B resampled seed sets: draw b lists n indices into the sweep's seed list, drawn uniformly
/// with replacement.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedBootstrap {
    /// The number of seeds n.
    pub seeds: usize,
    /// `draws[b][i]`: the index of the i-th drawn seed of draw b.
    pub draws: Vec<Vec<usize>>,
}

impl SeedBootstrap {
    /// Draws `draws` resamples of `seeds` seeds with the RNG seeded by `rng_seed`.
    ///
    /// # Errors
    /// No seed, no draw, or more than 5·10⁷ drawn entries.
    pub fn new(seeds: usize, draws: usize, rng_seed: u64) -> Result<Self, StatsError> {
        if seeds == 0 || draws == 0 {
            return Err(StatsError::TooFew {
                what: "seed bootstrap",
                need: 1,
                got: seeds.min(draws),
            });
        }
        if seeds.saturating_mul(draws) > MAX_ENTRIES {
            return Err(StatsError::Domain {
                what: "seed bootstrap",
                detail: format!("{draws} draws of {seeds} seeds exceed {MAX_ENTRIES} entries"),
            });
        }
        let mut rng = SplitMix64(rng_seed);
        let draws = (0..draws)
            .map(|_| (0..seeds).map(|_| rng.below(seeds)).collect())
            .collect();
        Ok(Self { seeds, draws })
    }

    /// How often each seed index occurs in draw `b` (its weight in a resampled mean).
    pub fn counts(&self, b: usize) -> Vec<usize> {
        let mut c = vec![0; self.seeds];
        if let Some(d) = self.draws.get(b) {
            for &i in d {
                c[i] += 1;
            }
        }
        c
    }
}

/// The q-quantile of sorted finite values by linear interpolation between order statistics
/// (Hyndman & Fan type 7, numpy's default): h = (n − 1) q, x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎).
/// `None` for no values.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// The 95 % percentile interval (2.5 % and 97.5 % quantiles, [`percentile`]) of the finite
/// values among `draws` (a draw where the statistic is undefined is `NaN` and left out).
pub fn percentile_ci(draws: &[f64]) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = draws.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    Some((percentile(&v, 0.025)?, percentile(&v, 0.975)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_reproducible_and_seeded() {
        let a = SeedBootstrap::new(5, 50, 7).unwrap();
        let b = SeedBootstrap::new(5, 50, 7).unwrap();
        let c = SeedBootstrap::new(5, 50, 8).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.draws, c.draws);
        assert!(a.draws.iter().flatten().all(|&i| i < 5));
        assert_eq!(a.counts(0).iter().sum::<usize>(), 5);
        assert!(SeedBootstrap::new(0, 5, 1).is_err());
        assert!(SeedBootstrap::new(1_000_000, 1_000, 1).is_err());
    }

    /// The percentile CI of a bootstrapped mean: the same seed gives the same interval, another
    /// seed another one.
    #[test]
    fn bootstrap_intervals_are_reproducible() {
        let x = [0.11, 0.25, 0.19, 0.32, 0.08, 0.27, 0.15];
        let ci = |seed: u64| {
            let b = SeedBootstrap::new(x.len(), DEFAULT_DRAWS, seed).unwrap();
            let means: Vec<f64> = (0..b.draws.len())
                .map(|i| b.draws[i].iter().map(|&j| x[j]).sum::<f64>() / x.len() as f64)
                .collect();
            percentile_ci(&means).unwrap()
        };
        let (a, b, c) = (ci(DEFAULT_SEED), ci(DEFAULT_SEED), ci(DEFAULT_SEED + 1));
        assert_eq!(a, b);
        assert_ne!(a, c);
        // the interval lies inside the data's range and around the mean 0.1957
        assert!(
            a.0 > 0.08 && a.1 < 0.32 && a.0 < 0.1957 && a.1 > 0.1957,
            "{a:?}"
        );
    }

    #[test]
    fn type_seven_percentiles() {
        // (0, 1, 2, 3, 4) at 0.025: h = 0.1 → 0.1; at 0.975: h = 3.9 → 3.9
        let (lo, hi) = percentile_ci(&[4.0, 0.0, 2.0, f64::NAN, 1.0, 3.0]).unwrap();
        assert!((lo - 0.1).abs() < 1e-12 && (hi - 3.9).abs() < 1e-12);
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[2.0], 0.9), Some(2.0));
    }
}
