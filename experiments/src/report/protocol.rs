//! The training protocol as the records state it: which stopping rule fired how often, and
//! how the margin γ was chosen (the `stopping` and `margin` objects of a run record; both
//! absent in older records, which this reads as "not recorded").
//!
//! Read from the raw JSON of `runs.jsonl`, so records with or without these objects read the
//! same way.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::train_cmd::gamma_text;

/// Counts over the runs that record a protocol.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Protocol {
    /// (stopping rule, fired) → runs.
    pub stopping: BTreeMap<(String, bool), usize>,
    /// Margin rule (`fixed`, `p10`) → runs.
    pub margin: BTreeMap<String, usize>,
    /// Smallest and largest γ over runs with a margin object.
    pub gamma_range: Option<(f64, f64)>,
    /// Largest union-bound price `log_count` (nats) over those runs.
    pub max_log_count: Option<f64>,
    /// Runs whose 10th percentile was ≤ 0, so γ came from the positive margins
    /// (`margin.fallback`).
    pub fallback: usize,
    /// Runs whose γ was floored at the grid's smallest point (`margin.floored`).
    pub floored: usize,
}

impl Protocol {
    /// Reads the `stopping` / `margin` objects of every record of `runs_jsonl` (unparsable
    /// lines are skipped: the typed reader has already reported them).
    pub fn from_text(runs_jsonl: &str) -> Self {
        let mut p = Self::default();
        for line in runs_jsonl.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let rec = &v["record"];
            if let Some(st) = rec.get("stopping").filter(|s| s.is_object()) {
                let rule = st["rule"].as_str().unwrap_or("?").to_string();
                let fired = st["fired"].as_bool().unwrap_or(false);
                *p.stopping.entry((rule, fired)).or_default() += 1;
            }
            if let Some(mg) = rec.get("margin").filter(|s| s.is_object()) {
                let rule = mg["rule"].as_str().unwrap_or("?").to_string();
                *p.margin.entry(rule).or_default() += 1;
                if let Some(g) = mg["gamma"].as_f64().filter(|g| g.is_finite()) {
                    p.gamma_range = Some(
                        p.gamma_range
                            .map_or((g, g), |(lo, hi)| (lo.min(g), hi.max(g))),
                    );
                }
                p.fallback += usize::from(mg["fallback"].as_bool() == Some(true));
                p.floored += usize::from(mg["floored"].as_bool() == Some(true));
                if let Some(l) = mg["log_count"].as_f64().filter(|l| l.is_finite()) {
                    p.max_log_count = Some(p.max_log_count.map_or(l, |m: f64| m.max(l)));
                }
            }
        }
        p
    }

    /// The setup lines (`- stopping: …`, `- margin: …`), empty when no record states them.
    pub fn lines(&self) -> String {
        let mut md = String::new();
        if !self.stopping.is_empty() {
            let mut rules: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
            for ((rule, fired), n) in &self.stopping {
                let e = rules.entry(rule.as_str()).or_default();
                e.0 += n;
                if *fired {
                    e.1 += n;
                }
            }
            let parts: Vec<String> = rules
                .iter()
                .map(|(r, (n, f))| format!("`{r}` in {n} runs (fired in {f})"))
                .collect();
            let _ = writeln!(md, "- stopping rule: {}", parts.join("; "));
        }
        if !self.margin.is_empty() {
            let parts: Vec<String> = self
                .margin
                .iter()
                .map(|(r, n)| format!("`{r}` in {n} runs"))
                .collect();
            let range = self.gamma_range.map_or(String::new(), |(lo, hi)| {
                format!(", γ from {} to {}", gamma_text(lo), gamma_text(hi))
            });
            let price = self.max_log_count.map_or(String::new(), |l| {
                format!(", union-bound price for choosing γ up to {l:.3} nats")
            });
            let mut odd = Vec::new();
            if self.fallback > 0 {
                odd.push(format!(
                    "in {} runs the 10th percentile was ≤ 0 (training error ≥ 10 %) and γ is the \
                     10th percentile of the positive margins",
                    self.fallback
                ));
            }
            if self.floored > 0 {
                odd.push(format!("in {} runs γ was floored at 2^-20", self.floored));
            }
            let odd = if odd.is_empty() {
                String::new()
            } else {
                format!("; {}", odd.join("; "))
            };
            let _ = writeln!(md, "- margin rule: {}{range}{price}{odd}", parts.join("; "));
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_rules_and_gamma_range() {
        let text = concat!(
            r#"{"record":{"stopping":{"rule":"steps","fired":true,"epoch":3,"step":90},"margin":{"rule":"p10","gamma":0.5,"percentile_value":0.5,"grid_points":20,"log_count":2.99}}}"#,
            "\n",
            r#"{"record":{"stopping":{"rule":"early_stopping","fired":false,"epoch":9,"step":200},"margin":{"rule":"p10","gamma":0.25,"percentile_value":0.26,"grid_points":20,"log_count":2.99}}}"#,
            "\n",
            r#"{"record":{"stopping":null}}"#,
            "\nnot json\n"
        );
        let p = Protocol::from_text(text);
        assert_eq!(p.stopping.len(), 2);
        assert_eq!(p.margin.get("p10"), Some(&2));
        assert_eq!(p.gamma_range, Some((0.25, 0.5)));
        let l = p.lines();
        assert!(l.contains("`steps` in 1 runs (fired in 1)"), "{l}");
        assert!(l.contains("`early_stopping` in 1 runs (fired in 0)"), "{l}");
        assert!(l.contains("γ from 0.25 to 0.5"), "{l}");
        assert!(Protocol::from_text("{\"record\":{}}").lines().is_empty());
    }
}
