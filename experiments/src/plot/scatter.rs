//! Scatter charts: groups of points on linear or log–log axes, with an optional y = x
//! diagonal and an optional fitted line.

use anyhow::Result;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::axes::{self, Axis, Chart};
use super::canvas::{self, LegendEntry, MUTED, Shape, Stroke, color};
use super::fit::Fit;
use super::ticks::Range;

/// One group of points of a [`ScatterChart`] (one colour and marker shape, one legend row).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScatterGroup {
    /// Legend label (a group with an empty label gets no legend row).
    pub label: String,
    /// Points `(x, y)`.
    pub points: Vec<(f64, f64)>,
}

/// A scatter chart: measured gap against a bound (log–log, with the y = x diagonal), or gap
/// against a complexity shape with its least-squares line.
///
/// Group `i` is drawn in Okabe–Ito colour `i` with marker shape `i` and gets a legend row on
/// the right; the diagonal adds a row "y = x" (dashed grey), the fit a row with its
/// [`Fit::equation`] (`y = a x + b, R² = …`) in the colour after the groups'.
///
/// Points that cannot be placed (a non-finite coordinate, or one ≤ 0 when `log_log`) are
/// skipped and their number ([`ScatterChart::skipped`]) is written under the title. With
/// `diagonal`, both axes cover the same range, so the diagonal runs corner to corner. The fit
/// is drawn where it crosses the plot area (on log–log axes as the curve it becomes), and not
/// at all if a coefficient is not finite; the axes cover the points, not the line. With no
/// point, the frame (and the line) is drawn with the note "no data to plot".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScatterChart {
    /// Title, centred above the chart.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// The point groups, in legend order.
    pub groups: Vec<ScatterGroup>,
    /// Whether both axes are logarithmic (base 10).
    pub log_log: bool,
    /// Whether to draw the dashed y = x line (and give both axes one range).
    pub diagonal: bool,
    /// A fitted line `y = a x + b` to draw across the points.
    pub fit: Option<Fit>,
}

/// Samples of the fit on log–log axes (where the straight line becomes a curve).
const CURVE_SAMPLES: usize = 128;

impl ScatterChart {
    /// The number of points not shown: a non-finite coordinate, or one ≤ 0 when `log_log`.
    pub fn skipped(&self) -> usize {
        let total: usize = self.groups.iter().map(|g| g.points.len()).sum();
        total - self.kept().iter().map(Vec::len).sum::<usize>()
    }

    /// The chart as SVG text (720 × 480 px); the same chart gives the same bytes.
    ///
    /// # Errors
    /// When the values span more than an `f64` can represent (e.g. `-1e308` and `1e308`).
    pub fn render(&self) -> Result<String> {
        let kept = self.kept();
        let xs: Vec<f64> = kept.iter().flatten().map(|p| p.0).collect();
        let ys: Vec<f64> = kept.iter().flatten().map(|p| p.1).collect();
        let (x_range, y_range) = if self.diagonal {
            let both: Vec<f64> = xs.iter().chain(&ys).copied().collect();
            let r = Range::covering(&both, self.log_log)?;
            (r, r)
        } else {
            (
                Range::covering(&xs, self.log_log)?,
                Range::covering(&ys, self.log_log)?,
            )
        };
        let fit = self
            .fit
            .filter(|f| f.slope.is_finite() && f.intercept.is_finite());
        let skipped = self.skipped();
        let note = (skipped > 0).then(|| {
            let why = if self.log_log {
                "non-finite, or ≤ 0 on a log axis"
            } else {
                "non-finite"
            };
            format!("{skipped} point(s) not shown ({why})")
        });
        let mut entries: Vec<LegendEntry> = self
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| !g.label.is_empty())
            .map(|(i, g)| LegendEntry {
                label: g.label.clone(),
                color: color(i),
                marker: Some(Shape::nth(i)),
                line: None,
                band: false,
            })
            .collect();
        if self.diagonal {
            entries.push(LegendEntry {
                label: "y = x".into(),
                color: MUTED,
                marker: None,
                line: Some(Stroke::Dashed),
                band: false,
            });
        }
        let fit_color = color(self.groups.len());
        if let Some(f) = fit {
            entries.push(LegendEntry {
                label: f.equation(),
                color: fit_color,
                marker: None,
                line: Some(Stroke::Solid),
                band: false,
            });
        }
        canvas::render(|root| {
            let body = canvas::header(root, &self.title, note.as_deref())?;
            let area = canvas::legend(&body, &entries)?;
            let (x_axis, y_axis) = (Axis::numeric(x_range), Axis::numeric(y_range));
            let mut chart =
                axes::draw(root, &area, &x_axis, &y_axis, &self.x_label, &self.y_label)?;
            if xs.is_empty() {
                canvas::no_data(root, &chart)?;
            }
            if self.diagonal {
                let (lo, hi) = (x_range.lo, x_range.hi);
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    vec![(lo, lo), (hi, hi)],
                    6,
                    4,
                    MUTED.stroke_width(1),
                )))?;
            }
            if let Some(f) = fit {
                for run in self.fit_runs(&f, x_range, y_range) {
                    chart.draw_series(LineSeries::new(run, fit_color.stroke_width(2)))?;
                }
            }
            draw_markers(root, &chart, &kept)?;
            Ok(())
        })
    }

    /// The points of each group that can be placed, in plot coordinates.
    fn kept(&self) -> Vec<Vec<(f64, f64)>> {
        self.groups
            .iter()
            .map(|g| {
                g.points
                    .iter()
                    .filter_map(|&(x, y)| {
                        Some((
                            Range::to_plot(x, self.log_log)?,
                            Range::to_plot(y, self.log_log)?,
                        ))
                    })
                    .collect()
            })
            .collect()
    }

    /// The visible pieces of the fitted line, in plot coordinates: one straight segment on
    /// linear axes; runs of samples inside the plot area on log–log axes.
    fn fit_runs(&self, fit: &Fit, x: Range, y: Range) -> Vec<Vec<(f64, f64)>> {
        if !self.log_log {
            return visible_span(fit, x, y)
                .map(|(a, b)| vec![vec![(a, fit.predict(a)), (b, fit.predict(b))]])
                .unwrap_or_default();
        }
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for i in 0..=CURVE_SAMPLES {
            let tx = x.lo + (x.hi - x.lo) * i as f64 / CURVE_SAMPLES as f64;
            let ty = Range::to_plot(fit.predict(10f64.powf(tx)), true);
            match (ty.filter(|t| (y.lo..=y.hi).contains(t)), runs.last_mut()) {
                (Some(ty), Some(run)) => run.push((tx, ty)),
                _ => runs.push(Vec::new()),
            }
        }
        runs.retain(|r| r.len() >= 2);
        runs
    }
}

/// The x interval over which the line `fit` lies inside the plot area, if it crosses it.
fn visible_span(fit: &Fit, x: Range, y: Range) -> Option<(f64, f64)> {
    let (a, b) = (fit.slope, fit.intercept);
    let (mut lo, mut hi) = (x.lo, x.hi);
    if a == 0.0 {
        if b < y.lo || b > y.hi {
            return None;
        }
    } else {
        let (xa, xb) = ((y.lo - b) / a, (y.hi - b) / a);
        lo = lo.max(xa.min(xb));
        hi = hi.min(xa.max(xb));
    }
    (lo < hi).then_some((lo, hi))
}

/// One marker per point, group `i` in colour and shape `i`.
fn draw_markers(root: &canvas::Area, chart: &Chart, groups: &[Vec<(f64, f64)>]) -> Result<()> {
    for (i, pts) in groups.iter().enumerate() {
        for p in pts {
            canvas::marker(root, Shape::nth(i), chart.backend_coord(p), color(i))?;
        }
    }
    Ok(())
}
