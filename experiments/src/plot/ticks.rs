//! Axis ranges (linear or base-10 logarithmic) and their tick positions and labels.

use anyhow::{Result, bail};

use super::format::{is_plain, log_label, scientific};

/// At most this many ticks are placed on an axis.
const MAX_TICKS: usize = 12;

/// A data range on one axis, stored in transformed coordinates (`log10(v)` on a log axis).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Range {
    /// Whether the axis is base-10 logarithmic.
    pub log: bool,
    /// Lower end, transformed.
    pub lo: f64,
    /// Upper end, transformed; always `> lo`.
    pub hi: f64,
}

impl Range {
    /// The range covering `values`, given in plot coordinates (`log10` of the data on a log
    /// axis, see [`Range::to_plot`]), with 5% padding on each side; a single value gets ±10%
    /// of its size (±1 at zero; ±half a decade on a log axis); no value gives [0, 1] (one
    /// decade from 1 to 10 on a log axis). `values` must be finite.
    ///
    /// # Errors
    /// When the values span more than an `f64` can hold (e.g. `-1e308` and `1e308`).
    pub(crate) fn covering(values: &[f64], log: bool) -> Result<Range> {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for &t in values {
            lo = lo.min(t);
            hi = hi.max(t);
        }
        if !(lo.is_finite() && hi.is_finite()) {
            return Ok(Range {
                log,
                lo: 0.0,
                hi: 1.0,
            });
        }
        let pad = if hi > lo {
            0.05 * (hi - lo)
        } else if log {
            0.5
        } else if lo == 0.0 {
            1.0
        } else {
            0.1 * lo.abs()
        };
        let (lo, hi) = (lo - pad, hi + pad);
        if !(hi - lo).is_finite() || hi <= lo {
            bail!("data range [{lo:e}, {hi:e}] is too wide or too narrow to plot");
        }
        Ok(Range { log, lo, hi })
    }

    /// The plot coordinate of data value `v` on a linear (`log = false`) or log axis: `v`, or
    /// `log10(v)`; `None` when `v` cannot be placed (not finite, or ≤ 0 on a log axis).
    pub(crate) fn to_plot(v: f64, log: bool) -> Option<f64> {
        if log {
            (v.is_finite() && v > 0.0).then(|| v.log10())
        } else {
            v.is_finite().then_some(v)
        }
    }

    /// Tick positions (transformed) and their labels, inside the range.
    pub(crate) fn ticks(&self) -> Vec<(f64, String)> {
        if self.log {
            log_ticks(self.lo, self.hi)
        } else {
            linear_ticks(self.lo, self.hi)
        }
    }
}

/// A "nice" step (1, 2 or 5 × 10^e) giving about `target` intervals over `span`, with `e`.
fn nice_step(span: f64, target: f64) -> (f64, i32) {
    let raw = span / target;
    let mut e = raw.log10().floor() as i32;
    let f = raw / 10f64.powi(e);
    let m = if f < 1.5 {
        1.0
    } else if f < 3.5 {
        2.0
    } else if f < 7.5 {
        5.0
    } else {
        e += 1;
        1.0
    };
    (m * 10f64.powi(e), e)
}

/// Ticks at multiples of a nice step within `[lo, hi]`, labelled with as many decimals as the
/// step needs (scientific notation for very large or very small magnitudes).
fn linear_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let (step, e) = nice_step(hi - lo, 6.0);
    if !(step.is_finite() && step > 0.0) {
        return Vec::new();
    }
    let first = (lo / step).ceil();
    let mut values = Vec::new();
    for i in 0..=4 * MAX_TICKS {
        let mut v = (first + i as f64) * step;
        if v > hi + step * 1e-9 {
            break;
        }
        if v.abs() < step * 1e-9 {
            v = 0.0;
        }
        if values.last() != Some(&v) {
            values.push(v);
        }
    }
    let max_abs = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let e_max = if max_abs > 0.0 {
        max_abs.log10().floor() as i32
    } else {
        0
    };
    let sci = max_abs > 0.0 && !(-3..6).contains(&e_max);
    values
        .into_iter()
        .map(|v| {
            let label = if sci {
                if v == 0.0 {
                    "0".to_string()
                } else {
                    scientific(v, (e_max - e + 1).clamp(1, 15) as usize)
                }
            } else {
                let decimals = (-e).max(0) as usize;
                let s = format!("{v:.decimals$}");
                if s.starts_with('-') && s.trim_start_matches(['-', '0', '.']).is_empty() {
                    format!("{:.decimals$}", 0.0)
                } else {
                    s
                }
            };
            (v, label)
        })
        .collect()
}

/// Ticks on a log axis with transformed range `[lo, hi]`: every decade (or every n-th when
/// there are many), all written as powers of ten if one of them cannot be a plain number;
/// 1-2-5 within each decade when fewer than two decades show; linear nice ticks when even
/// that gives fewer than two.
fn log_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let label = |t: f64| log_label(t, false);
    let first = lo.ceil();
    let last = hi.floor();
    let decades = if last >= first {
        (last - first) as usize + 1
    } else {
        0
    };
    if decades >= 2 {
        let every = decades.div_ceil(MAX_TICKS - 4).max(1);
        let ts: Vec<f64> = (0..decades)
            .step_by(every)
            .map(|i| first + i as f64)
            .collect();
        let powers = ts.iter().any(|&t| !is_plain(10f64.powf(t)));
        return ts.into_iter().map(|t| (t, log_label(t, powers))).collect();
    }
    let mut ticks = Vec::new();
    let mut n = lo.floor();
    while n <= hi.ceil() && ticks.len() < MAX_TICKS {
        for m in [1.0f64, 2.0, 5.0] {
            let t = n + m.log10();
            if t >= lo && t <= hi {
                ticks.push((t, label(t)));
            }
        }
        n += 1.0;
    }
    if ticks.len() >= 2 {
        return ticks;
    }
    linear_ticks(10f64.powf(lo), 10f64.powf(hi))
        .into_iter()
        .filter(|(v, _)| *v > 0.0)
        .map(|(v, s)| (v.log10(), s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(ticks: &[(f64, String)]) -> Vec<&str> {
        ticks.iter().map(|(_, s)| s.as_str()).collect()
    }

    #[test]
    fn linear_ticks_are_nice() {
        let t = linear_ticks(-0.05, 1.05);
        assert_eq!(labels(&t), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let t = linear_ticks(0.0, 100.0);
        assert_eq!(labels(&t), ["0", "20", "40", "60", "80", "100"]);
        let t = linear_ticks(1e6, 6e6);
        assert_eq!(labels(&t)[0], "1e6");
    }

    #[test]
    fn log_ticks_decades_and_125() {
        let t = log_ticks(0.0, 3.0);
        assert_eq!(labels(&t), ["1", "10", "100", "1000"]);
        let t = log_ticks(2f64.log10() - 0.01, 64f64.log10());
        assert_eq!(labels(&t), ["2", "5", "10", "20", "50"]);
        assert!(log_ticks(-300.0, 300.0).len() <= MAX_TICKS);
        let t = log_ticks(-7.0, -5.0);
        assert_eq!(labels(&t), ["10⁻⁷", "10⁻⁶", "10⁻⁵"]);
        let t = log_ticks(3.0, 6.0);
        assert_eq!(labels(&t), ["10³", "10⁴", "10⁵", "10⁶"]);
    }

    #[test]
    fn covering_pads_and_rejects_overflow() {
        let r = Range::covering(&[0.0, 10.0], false).unwrap();
        assert!((r.lo + 0.5).abs() < 1e-12 && (r.hi - 10.5).abs() < 1e-12);
        let r = Range::covering(&[5.0], false).unwrap();
        assert!((r.lo - 4.5).abs() < 1e-12 && (r.hi - 5.5).abs() < 1e-12);
        assert!(Range::covering(&[-1e308, 1e308], false).is_err());
        let r = Range::covering(&[], true).unwrap();
        assert_eq!((r.lo, r.hi), (0.0, 1.0));
        let r = Range::covering(&[2.0], true).unwrap();
        assert_eq!((r.lo, r.hi), (1.5, 2.5));
        assert_eq!(Range::to_plot(100.0, true), Some(2.0));
        assert_eq!(Range::to_plot(0.0, true), None);
        assert_eq!(Range::to_plot(-3.0, false), Some(-3.0));
        assert_eq!(Range::to_plot(f64::NAN, false), None);
    }
}
