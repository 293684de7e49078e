//! Initialisation and seeded random streams.

use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::Float;

/// The random generator of smoe: a named algorithm, so streams stay the same across rand
/// releases.
pub type SmoeRng = rand::rngs::Xoshiro256PlusPlus;

/// How a linear layer's parameters are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// PyTorch's `nn.Linear` default: weight and bias uniform on `±1/sqrt(fan_in)`.
    #[default]
    PytorchUniform,
    /// Kaiming (He) normal for ReLU: weight `N(0, 2/fan_in)`, bias 0.
    KaimingNormal,
}

impl Init {
    /// Fills `weight [out, in]` and `bias [out]` in row-major order from `rng`.
    pub fn fill_linear<F: Float>(
        self,
        weight: &mut Array2<F>,
        bias: &mut Array1<F>,
        rng: &mut SmoeRng,
    ) {
        let fan_in = weight.ncols().max(1) as f64;
        match self {
            Init::PytorchUniform => {
                let bound = 1.0 / fan_in.sqrt();
                for w in weight.iter_mut().chain(bias.iter_mut()) {
                    *w = F::from_f64c(rng.random_range(-bound..bound));
                }
            }
            Init::KaimingNormal => {
                let std = (2.0 / fan_in).sqrt();
                // std is finite and positive since fan_in >= 1
                let normal = Normal::new(0.0, std).unwrap_or_else(|_| unreachable!());
                for w in weight.iter_mut() {
                    *w = F::from_f64c(normal.sample(rng));
                }
                bias.fill(F::zero());
            }
        }
    }
}

/// A seed for one component's stream: `seed` mixed with a name and an index (SplitMix64 over
/// FNV-1a), so the router, expert 0, expert 1, … draw from independent streams and adding an
/// expert never changes another's draws.
pub fn stream_seed(seed: u64, component: &str, index: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in component.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = seed ^ h.rotate_left(17) ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for _ in 0..2 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
    }
    z
}

/// The generator of one component's stream (see [`stream_seed`]).
pub fn stream_rng(seed: u64, component: &str, index: u64) -> SmoeRng {
    SmoeRng::seed_from_u64(stream_seed(seed, component, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_name_and_index_and_repeat() {
        let a = stream_seed(1, "expert", 0);
        assert_ne!(a, stream_seed(1, "expert", 1));
        assert_ne!(a, stream_seed(1, "router", 0));
        assert_ne!(a, stream_seed(2, "expert", 0));
        assert_eq!(a, stream_seed(1, "expert", 0));
    }

    #[test]
    fn pytorch_uniform_respects_its_bound() {
        let mut w = Array2::<f64>::zeros((50, 16));
        let mut b = Array1::<f64>::zeros(50);
        Init::PytorchUniform.fill_linear(&mut w, &mut b, &mut stream_rng(0, "x", 0));
        assert!(w.iter().chain(b.iter()).all(|v| v.abs() <= 0.25));
        let mean_sq = w.iter().map(|v| v * v).sum::<f64>() / 800.0;
        // uniform on ±0.25 has variance 0.25²/3 ≈ 0.0208
        assert!((mean_sq - 0.0208).abs() < 0.003, "{mean_sq}");
    }

    #[test]
    fn kaiming_normal_has_its_variance() {
        let mut w = Array2::<f64>::zeros((200, 50));
        let mut b = Array1::<f64>::ones(200);
        Init::KaimingNormal.fill_linear(&mut w, &mut b, &mut stream_rng(0, "x", 0));
        let var = w.iter().map(|v| v * v).sum::<f64>() / 10_000.0;
        assert!((var - 0.04).abs() < 0.003, "{var}");
        assert!(b.iter().all(|v| *v == 0.0));
    }
}
