//! Trend statistics: paired contrasts along each numeric axis, Holm-corrected as one family.
//!
//! For a numeric axis X, a *setting* is one combination of the other (non-seed) axes. In
//! each setting the cell at the smallest X is contrasted with the cell at the largest X that
//! exist there (smallest vs largest rather than adjacent values: one contrast per setting,
//! the largest effect the grid can show, and a smaller family). Per seed s the paired
//! difference is d_s = v(largest, s) − v(smallest, s) (a seed fixes teacher, data and test
//! set in both cells); the contrast is the paired t-test of the d_s ([`paired_t`]).
//!
//! The sentences pool settings: for each value of the regime axis (`data.m_train`, when it
//! varies and is not X itself) and each interpolation class, the per-seed differences are
//! averaged over the settings, D_s = (1/G) Σ_g d_{g,s}, over the seeds every cell of the pool
//! has, and the paired t-test is applied to D_s. A contrast is *interpolating* when either
//! of its cells interpolates (mean train error below [`INTERPOLATION_THRESHOLD`]); the two
//! classes are stated apart. Without two shared seeds the test falls back to Welch's
//! unpaired contrast ([`welch_contrast`]) and says so.
//!
//! Every contrast the report states — pooled sentences and the per-setting rows of the
//! sentences that pool several settings — is one Holm family ([`holm`]); its size is stated.

use std::collections::BTreeMap;

use serde_json::Value;

use super::seeds::SeedTable;
use super::summary::{Axis, Summary, show};
use crate::stats::{TTest, holm, paired_t, welch_contrast};

/// The axis whose values split the sentences (the sample size: the regime in which the
/// other effects can change sign).
pub const REGIME_AXIS: &str = "data.m_train";

/// One tested contrast.
#[derive(Debug, Clone, PartialEq)]
pub struct Contrast {
    /// The scalar compared (e.g. `gap_01`, `test.error`).
    pub metric: String,
    /// The axis varied (its dotted name).
    pub axis: String,
    /// The regime axis value the contrast belongs to, if the sentences are split by regime.
    pub regime: Option<Value>,
    /// For a per-setting row: the other axes' values; `None` for a pooled sentence.
    pub setting: Option<BTreeMap<String, Value>>,
    /// Whether a cell of the contrast interpolates.
    pub interpolating: bool,
    /// Settings pooled (1 for a row).
    pub settings: usize,
    /// The smallest and largest value of the axis (for a row; the pooled extremes otherwise).
    pub from: Value,
    /// See `from`.
    pub to: Value,
    /// The test of the mean difference (largest − smallest).
    pub test: TTest,
    /// Seeds whose difference is > 0, < 0 (paired only).
    pub seeds_up_down: Option<(usize, usize)>,
    /// Holm-adjusted p-value within the report's family.
    pub p_holm: f64,
}

/// All contrasts of a report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trends {
    /// Pooled contrasts (the sentences) then per-setting rows, in axis order.
    pub contrasts: Vec<Contrast>,
}

/// A pool of settings: (regime value, interpolating).
type PoolKey = (Option<Value>, bool);

struct Setting {
    rest: BTreeMap<String, Value>,
    lo: usize,
    hi: usize,
    from: Value,
    to: Value,
    interpolating: bool,
}

fn settings(s: &Summary, axis: &Axis, metric: &str) -> Vec<Setting> {
    let mut groups: BTreeMap<String, (BTreeMap<String, Value>, Vec<usize>)> = BTreeMap::new();
    for (i, c) in s.cells.iter().enumerate() {
        if c.mean(metric).is_none() {
            continue;
        }
        let mut rest = c.coords.clone();
        rest.remove(&axis.name);
        let e = groups
            .entry(serde_json::to_string(&rest).unwrap_or_default())
            .or_insert_with(|| (rest, Vec::new()));
        e.1.push(i);
    }
    let pos = |i: usize| {
        s.cells[i]
            .coord(&axis.name)
            .and_then(|v| axis.values.iter().position(|x| x == v))
            .unwrap_or(0)
    };
    let order = |rest: &BTreeMap<String, Value>| -> Vec<usize> {
        rest.iter()
            .map(|(a, v)| {
                s.axis(a)
                    .and_then(|ax| ax.values.iter().position(|x| x == v))
                    .unwrap_or(0)
            })
            .collect()
    };
    let mut groups: Vec<(BTreeMap<String, Value>, Vec<usize>)> = groups.into_values().collect();
    groups.sort_by_key(|(rest, _)| order(rest));
    groups
        .into_iter()
        .filter_map(|(rest, cells)| {
            let lo = *cells.iter().min_by_key(|&&i| pos(i))?;
            let hi = *cells.iter().max_by_key(|&&i| pos(i))?;
            (pos(lo) != pos(hi)).then(|| Setting {
                rest,
                lo,
                hi,
                from: axis.values[pos(lo)].clone(),
                to: axis.values[pos(hi)].clone(),
                interpolating: s.cells[lo].interpolating() == Some(true)
                    || s.cells[hi].interpolating() == Some(true),
            })
        })
        .collect()
}

/// The test of settings pooled: paired on the seeds every cell has, else Welch.
fn pooled_test(
    seeds: &SeedTable,
    metric: &str,
    set: &[&Setting],
) -> Option<(TTest, Option<(usize, usize)>)> {
    let n = seeds.seeds.len();
    let shared: Vec<usize> = (0..n)
        .filter(|&i| {
            set.iter().all(|g| {
                seeds.get(g.lo, metric, i).is_some() && seeds.get(g.hi, metric, i).is_some()
            })
        })
        .collect();
    if shared.len() >= 2 {
        let d: Vec<f64> = shared
            .iter()
            .map(|&i| {
                set.iter()
                    .map(|g| {
                        seeds.get(g.hi, metric, i).unwrap_or(0.0)
                            - seeds.get(g.lo, metric, i).unwrap_or(0.0)
                    })
                    .sum::<f64>()
                    / set.len() as f64
            })
            .collect();
        let t = paired_t(&d).ok()?;
        let up = d.iter().filter(|x| **x > 0.0).count();
        let down = d.iter().filter(|x| **x < 0.0).count();
        return Some((t, Some((up, down))));
    }
    let vals = |c: usize| -> Vec<f64> { seeds.column(c, metric).into_iter().flatten().collect() };
    let samples: Vec<(Vec<f64>, Vec<f64>)> = set.iter().map(|g| (vals(g.hi), vals(g.lo))).collect();
    let refs: Vec<(&[f64], &[f64])> = samples
        .iter()
        .map(|(a, b)| (a.as_slice(), b.as_slice()))
        .collect();
    welch_contrast(&refs).ok().map(|t| (t, None))
}

impl Trends {
    /// Every contrast of `metrics` along every numeric varying axis of `s` (module doc), with
    /// Holm-adjusted p-values over all of them.
    pub fn new(s: &Summary, seeds: &SeedTable, metrics: &[String]) -> Self {
        let varying: Vec<&Axis> = s.axes.iter().filter(|a| a.values.len() > 1).collect();
        let regime_varies = varying.iter().any(|a| a.name == REGIME_AXIS);
        let mut out = Vec::new();
        for metric in metrics {
            for axis in varying.iter().filter(|a| a.numeric()) {
                let all = settings(s, axis, metric);
                let split = regime_varies && axis.name != REGIME_AXIS;
                // pools: (regime value, interpolating) → settings
                let mut pools: Vec<(PoolKey, Vec<&Setting>)> = Vec::new();
                for g in &all {
                    let key = (
                        if split {
                            g.rest.get(REGIME_AXIS).cloned()
                        } else {
                            None
                        },
                        g.interpolating,
                    );
                    match pools.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, v)) => v.push(g),
                        None => pools.push((key, vec![g])),
                    }
                }
                let rank = |v: &Option<Value>| {
                    v.as_ref()
                        .and_then(|x| s.axis(REGIME_AXIS)?.values.iter().position(|y| y == x))
                        .unwrap_or(0)
                };
                pools.sort_by_key(|((r, i), _)| (rank(r), *i));
                for ((regime, interp), set) in &pools {
                    let Some((test, ud)) = pooled_test(seeds, metric, set) else {
                        continue;
                    };
                    let from = axis
                        .values
                        .iter()
                        .find(|v| set.iter().any(|g| g.from == **v));
                    let to = axis
                        .values
                        .iter()
                        .rev()
                        .find(|v| set.iter().any(|g| g.to == **v));
                    out.push(Contrast {
                        metric: metric.clone(),
                        axis: axis.name.clone(),
                        regime: regime.clone(),
                        setting: None,
                        interpolating: *interp,
                        settings: set.len(),
                        from: from.cloned().unwrap_or(Value::Null),
                        to: to.cloned().unwrap_or(Value::Null),
                        test,
                        seeds_up_down: ud,
                        p_holm: 1.0,
                    });
                }
                // rows only where a sentence pools several settings (else the row is the sentence)
                let pooled: Vec<&Setting> = pools
                    .iter()
                    .filter(|(_, set)| set.len() > 1)
                    .flat_map(|(_, set)| set.iter().copied())
                    .collect();
                for g in pooled {
                    let Some((test, ud)) = pooled_test(seeds, metric, &[g]) else {
                        continue;
                    };
                    out.push(Contrast {
                        metric: metric.clone(),
                        axis: axis.name.clone(),
                        regime: if split {
                            g.rest.get(REGIME_AXIS).cloned()
                        } else {
                            None
                        },
                        setting: Some(g.rest.clone()),
                        interpolating: g.interpolating,
                        settings: 1,
                        from: g.from.clone(),
                        to: g.to.clone(),
                        test,
                        seeds_up_down: ud,
                        p_holm: 1.0,
                    });
                }
            }
        }
        let p: Vec<f64> = out.iter().map(|c| c.test.p).collect();
        if let Ok(adj) = holm(&p) {
            for (c, a) in out.iter_mut().zip(adj) {
                c.p_holm = a;
            }
        }
        Self { contrasts: out }
    }

    /// The pooled contrasts (one sentence each).
    pub fn sentences(&self) -> impl Iterator<Item = &Contrast> {
        self.contrasts.iter().filter(|c| c.setting.is_none())
    }

    /// The per-setting rows.
    pub fn rows(&self) -> impl Iterator<Item = &Contrast> {
        self.contrasts.iter().filter(|c| c.setting.is_some())
    }
}

/// "rose" / "fell" when the Holm-adjusted p is below 0.05, else `None` (not separated from 0).
pub fn verdict(c: &Contrast) -> Option<&'static str> {
    (c.p_holm < 0.05).then_some(if c.test.mean > 0.0 { "rose" } else { "fell" })
}

/// `p = 0.0123`, or `p < 1e-6`.
pub fn fmt_p(p: f64) -> String {
    if p < 1e-6 {
        "< 1e-6".into()
    } else if p < 0.001 {
        format!("= {p:.1e}")
    } else {
        format!("= {p:.3}")
    }
}

/// A t statistic: two decimals, or `> 1e4` in size (constant differences up to rounding).
fn fmt_t(t: f64) -> String {
    if t.abs() > 1e4 {
        format!("{}1e4", if t > 0.0 { "> " } else { "< −" })
    } else {
        format!("{t:.2}")
    }
}

/// The statistic in words: effect, CI, test, p, Holm-adjusted p, seeds up/down.
pub fn describe(c: &Contrast) -> String {
    let t = &c.test;
    let test = if t.paired {
        format!("paired t({}) = {}", t.df, fmt_t(t.t))
    } else {
        format!(
            "Welch t({:.1}) = {}, unpaired (the cells share fewer than two seeds)",
            t.df,
            fmt_t(t.t)
        )
    };
    let seeds = match c.seeds_up_down {
        Some((up, down)) => format!("; up in {up} of {} seeds, down in {down}", t.n),
        None => String::new(),
    };
    format!(
        "mean change {:+.4}, 95 % CI [{:+.4}, {:+.4}], {test}, p {}, p_Holm {}{seeds}",
        t.mean,
        t.ci_low,
        t.ci_high,
        fmt_p(t.p),
        fmt_p(c.p_holm)
    )
}

/// The class of a contrast in words, for a report where some cell interpolates.
pub fn class_words(interpolating: bool) -> String {
    if interpolating {
        "contrasts involving interpolating cells".into()
    } else {
        "non-interpolating cells".into()
    }
}

/// A setting in words: `T = 8, gate = noisy_topk`.
pub fn setting_words(rest: &BTreeMap<String, Value>) -> String {
    if rest.is_empty() {
        return "—".into();
    }
    rest.iter()
        .map(|(a, v)| format!("{} = {}", super::summary::short_name(a), show(v)))
        .collect::<Vec<_>>()
        .join(", ")
}
