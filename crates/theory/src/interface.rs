//! The bound interface: a [`Bound`] turns [`BoundInputs`] into a [`BoundValue`] (name,
//! validity, total, named terms). The per-model report and the what-if mode of `smoe bound`
//! both build a [`BoundInputs`] and evaluate every bound of the registry
//! ([`crate::bounds`]) on it.

use serde::{Deserialize, Serialize};

use crate::{BoundInputs, Result, Validity};

/// One bound evaluated on one set of inputs.
///
/// `terms` lists the summands of `total` first, in the formula's order, then the quantities
/// inside them (a log-count, a complexity, a constant), each under a stable snake_case name.
/// They serialise as a JSON array of `[name, value]` pairs, so the order survives any JSON
/// round trip (a run record stores the report as a `serde_json::Value`, whose objects sort
/// their keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundValue {
    /// The bound's registry name, e.g. `zhao` or `d1_worst` ([`Bound::name`]).
    pub name: String,
    /// How far the number can be trusted.
    pub validity: Validity,
    /// The bound's value.
    pub total: f64,
    /// The named terms, in order (see the type's docs).
    pub terms: Vec<(String, f64)>,
    /// One line on what the value assumes or how to read it, if anything needs saying.
    pub note: Option<String>,
    /// The loss whose generalization gap the bound speaks of: a report ranks the bound
    /// against that gap (the ramp gap for the Rademacher bounds, the 0-1 gap for VC bounds).
    /// Records written before this field existed read as [`GapLoss::Ramp`].
    #[serde(default)]
    pub loss: GapLoss,
}

/// Which measured gap a bound bounds ([`BoundValue::loss`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapLoss {
    /// The ramp loss at the margin γ of the bound settings (`final.gap_ramp` of a record).
    #[default]
    Ramp,
    /// The 0-1 loss (`final.gap_01`).
    ZeroOne,
}

impl BoundValue {
    /// The term called `name`, if the bound has one.
    pub fn term(&self, name: &str) -> Option<f64> {
        self.terms.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    }

    /// `{name}.total` and `{name}.{term}` for every term, in order.
    pub fn scalars(&self) -> Vec<(String, f64)> {
        std::iter::once((format!("{}.total", self.name), self.total))
            .chain(
                self.terms
                    .iter()
                    .map(|(t, v)| (format!("{}.{t}", self.name), *v)),
            )
            .collect()
    }
}

/// A generalization bound: a name and a formula over [`BoundInputs`].
///
/// Implementations are small adapters around the crate's pure functions ([`crate::zhao_paper`],
/// [`crate::d1_bound`], [`crate::kratsios_vc_shape`]); the registry [`crate::bounds`] lists them.
pub trait Bound: Send + Sync {
    /// The bound's stable name: a snake_case key of run records and summaries.
    fn name(&self) -> &'static str;

    /// Evaluates the bound with all its terms.
    ///
    /// # Errors
    /// The underlying function's input checks (δ ∉ (0, 1), m = 0, k > T, NaN or negative
    /// inputs, loads that do not sum to k m, ...).
    fn evaluate(&self, inputs: &BoundInputs) -> Result<BoundValue>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_serialise_as_ordered_pairs_and_read_back() {
        let v = BoundValue {
            name: "b".into(),
            validity: Validity::Valid,
            total: 3.0,
            terms: vec![("z".into(), 1.0), ("a".into(), 2.0)],
            note: None,
            loss: GapLoss::Ramp,
        };
        let s = serde_json::to_string(&v).unwrap();
        assert_eq!(
            s,
            r#"{"name":"b","validity":"valid","total":3.0,"terms":[["z",1.0],["a",2.0]],"note":null,"loss":"ramp"}"#
        );
        let back: BoundValue = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
        let via_value: BoundValue =
            serde_json::from_value(serde_json::to_value(&v).unwrap()).unwrap();
        assert_eq!(via_value, v);
        assert_eq!(v.term("a"), Some(2.0));
        assert_eq!(v.term("q"), None);
        assert_eq!(
            v.scalars(),
            vec![
                ("b.total".to_string(), 3.0),
                ("b.z".to_string(), 1.0),
                ("b.a".to_string(), 2.0)
            ]
        );
    }
}
