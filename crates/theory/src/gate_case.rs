//! Which gates the bounds' proofs cover (THEORY.md §1.6 "which smoe gate is which case").

use serde::{Deserialize, Serialize};
use smoe_gating::GateConfig;

/// How a gate's weights depend on the router's logits (THEORY.md §1.6 cases A1/A2): what
/// decides whether D1's Step-4 form is proved (A1 only) and which logits the A2 remark's
/// router term counts ([`crate::d1_a2_bound`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateWeights {
    /// Case A1: uniform weights 1/k on the selected experts. In smoe that is `topk_softmax`
    /// (or `noisy_topk`, which is `topk_softmax` at evaluation) at k = 1, where the one weight
    /// is softmax of a single logit, i.e. 1; also any gate with k = T = 1.
    Uniform,
    /// Case A2, weights a softmax of the k selected logits (`topk_softmax`, `noisy_topk`, k >= 2).
    SelectedSoftmax,
    /// Case A2, weights read from a softmax over all T logits (`softmax_topk` at any k,
    /// `dense_softmax`); also the conservative choice for gates outside the proofs.
    FullSoftmax,
}

/// The [`GateWeights`] case of `gate` at k of T experts (see the variants).
pub fn gate_weights(gate: &GateConfig, k: usize, t: usize) -> GateWeights {
    match gate {
        _ if k == 1 && t == 1 => GateWeights::Uniform,
        GateConfig::TopkSoftmax | GateConfig::NoisyTopk if k == 1 => GateWeights::Uniform,
        GateConfig::TopkSoftmax | GateConfig::NoisyTopk => GateWeights::SelectedSoftmax,
        _ => GateWeights::FullSoftmax,
    }
}

/// `None` if the proofs behind smoe's bounds cover `gate`, else the one-line reason they do not.
///
/// THEORY.md §1.6 assumes a selection `p(x) = TopK_k(g(x))` of the router's logits (so the
/// router's d_N describes the selection class) and weights that are a softmax of those logits
/// on the selection (case A2; uniform weights are case A1): `topk_softmax`, `softmax_topk`,
/// `dense_softmax` and `noisy_topk` (noise-free at evaluation, where it is `topk_softmax`).
/// Not covered, so every bound evaluated for them is labelled
/// [`crate::Validity::OutsideAssumptions`]:
/// - `dense_to_sparse`: the temperature (fixed, scheduled or learned) and the activation before
///   the softmax change the weight map the A2 remark is about; not proved here;
/// - `sigmoid`: the weights σ(z_j) are not in the simplex (they sum up to k);
/// - `hierarchical_softmax`: the selection is not the top-k of the router's logits (the groups
///   come from the gate's own map of x), so the router's d_N does not bound its patterns;
/// - a custom gate: nothing is known about it.
pub fn gate_outside_proofs(gate: &GateConfig) -> Option<&'static str> {
    match gate {
        GateConfig::TopkSoftmax
        | GateConfig::SoftmaxTopk
        | GateConfig::DenseSoftmax
        | GateConfig::NoisyTopk => None,
        GateConfig::DenseToSparse { .. } => Some(
            "gate dense_to_sparse: the tempered/activated softmax weights are outside THEORY.md \
             §1.6's cases A1/A2",
        ),
        GateConfig::Sigmoid => {
            Some("gate sigmoid: the weights sigma(z_j) are not in the simplex (case A2)")
        }
        GateConfig::HierarchicalSoftmax { .. } => Some(
            "gate hierarchical_softmax: the selection is not the top-k of the router's logits, \
             so the router's d_N does not bound its patterns",
        ),
        GateConfig::Custom { .. } => Some("a custom gate: the proofs know nothing of it"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_gates_are_covered_and_the_new_ones_are_not() {
        for g in [
            GateConfig::TopkSoftmax,
            GateConfig::SoftmaxTopk,
            GateConfig::DenseSoftmax,
            GateConfig::NoisyTopk,
        ] {
            assert_eq!(gate_outside_proofs(&g), None, "{g:?}");
        }
        let examples = GateConfig::examples();
        let outside: Vec<&str> = examples
            .iter()
            .filter(|g| gate_outside_proofs(g).is_some())
            .map(GateConfig::kind)
            .collect();
        assert!(outside.contains(&"dense_to_sparse"), "{outside:?}");
        assert!(outside.contains(&"sigmoid"), "{outside:?}");
        assert!(outside.contains(&"hierarchical_softmax"), "{outside:?}");
    }

    #[test]
    fn only_topk_softmax_at_k1_is_uniform() {
        assert_eq!(
            gate_weights(&GateConfig::TopkSoftmax, 1, 8),
            GateWeights::Uniform
        );
        assert_eq!(
            gate_weights(&GateConfig::NoisyTopk, 1, 8),
            GateWeights::Uniform
        );
        assert_eq!(
            gate_weights(&GateConfig::TopkSoftmax, 2, 8),
            GateWeights::SelectedSoftmax
        );
        assert_eq!(
            gate_weights(&GateConfig::SoftmaxTopk, 1, 8),
            GateWeights::FullSoftmax
        );
        assert_eq!(
            gate_weights(&GateConfig::DenseSoftmax, 8, 8),
            GateWeights::FullSoftmax
        );
    }
}
