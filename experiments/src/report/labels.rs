//! How bounds, their validity labels and the MELD sparse factor are named in the report.
//!
//! Names come from the records: a bound the table below does not know renders generically
//! (`bound <name>`), and a validity label it does not know renders as written.

/// How a bound is named in tables, captions and axis labels: a table of known display names
/// with a generic fallback. The validity is not part of the name (it is a column of its own,
/// read from the records).
pub fn bound_label(name: &str) -> String {
    match name {
        "zhao" => "Zhao et al. bound".into(),
        "zhao_golowich" => "Zhao et al. bound, Golowich experts".into(),
        "d1_worst" => "D1, worst case over patterns".into(),
        "d1_learned" => "D1 at the learned pattern".into(),
        "d1_a2" => "D1, A2 case".into(),
        "kratsios" => "Kratsios et al. VC shape (constant 1)".into(),
        "certificate" => "PAC-Bayes certificate (stochastic model)".into(),
        other => format!("bound {other}"),
    }
}

/// A validity label of a record (`bounds.bounds[].validity`, THEORY.md §1.8) as the report
/// shows it: `valid`, `valid_a2` → "valid (A2 remark)", `heuristic`, `shape` (old records'
/// `shape_only` reads as `shape`), `restated`, `outside_assumptions` → "outside assumptions";
/// anything else as written.
pub fn validity_label(label: &str) -> String {
    match label {
        "valid_a2" => "valid (A2 remark)".into(),
        "shape_only" | "shape" => "shape".into(),
        "outside_assumptions" => "outside assumptions".into(),
        other => other.replace('_', " "),
    }
}

/// The name of MELD's sparse factor sqrt(k (1 + ln(T/k)) / m) (THEORY.md §1.1): the
/// k-dependence of the restated bound's routing term at fixed d_N. It is not the shape of
/// that bound, whose routing term grows like sqrt(T ln T / m) through d_N ∝ T.
pub const SPARSE_FACTOR: &str = "MELD sparse factor sqrt(k(1+ln(T/k))/m)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_names() {
        assert_eq!(
            bound_label("zhao_golowich"),
            "Zhao et al. bound, Golowich experts"
        );
        assert_eq!(bound_label("new_bound"), "bound new_bound");
        assert_eq!(validity_label("valid_a2"), "valid (A2 remark)");
        assert_eq!(validity_label("shape_only"), "shape");
        assert_eq!(validity_label("outside_assumptions"), "outside assumptions");
        assert_eq!(validity_label("valid"), "valid");
    }
}
