//! Scatter plots: log–log with an optional y = x diagonal, and linear with a fitted line.

use anyhow::Result;

use super::axis::Range;
use super::fit::Fit;
use super::frame::{Chart, ChartSpec, LegendAt, LegendEntry};
use super::style::{Shape, color, marker};

/// One group of points of [`scatter_loglog`] (one colour and marker shape, one legend row).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScatterGroup {
    /// Legend label.
    pub label: String,
    /// Points `(x, y)`.
    pub points: Vec<(f64, f64)>,
}

/// Colour of the reference lines (diagonal).
const REFERENCE: &str = "#555555";

/// A log–log (base 10) scatter plot, one colour and marker shape per group, with a legend;
/// with `diagonal`, a dashed y = x line, and both axes then cover the same range so the
/// diagonal always shows. 720 × 480 px.
///
/// Points with a non-finite coordinate, x ≤ 0 or y ≤ 0 cannot be placed on log axes and are
/// skipped; their number is noted under the title. Each plotted point is one element with
/// `class="marker"`. With nothing left to plot, the frame is drawn with the note
/// "no positive finite points to plot". The output depends only on the arguments.
///
/// # Errors
/// None in practice (log coordinates of finite positive values always fit an `f64`); the
/// `Result` matches the other plots.
pub fn scatter_loglog(
    title: &str,
    x_label: &str,
    y_label: &str,
    groups: &[ScatterGroup],
    diagonal: bool,
) -> Result<String> {
    let mut skipped = 0usize;
    let kept: Vec<Vec<(f64, f64)>> = groups
        .iter()
        .map(|g| {
            let pts: Vec<(f64, f64)> = g
                .points
                .iter()
                .copied()
                .filter(|&(x, y)| x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0)
                .collect();
            skipped += g.points.len() - pts.len();
            pts
        })
        .collect();
    let xs: Vec<f64> = kept.iter().flatten().map(|p| p.0).collect();
    let ys: Vec<f64> = kept.iter().flatten().map(|p| p.1).collect();
    let (x_range, y_range) = if diagonal {
        let both: Vec<f64> = xs.iter().chain(&ys).copied().collect();
        let r = Range::covering(&both, true)?;
        (r, r)
    } else {
        (Range::covering(&xs, true)?, Range::covering(&ys, true)?)
    };
    let mut legend: Vec<LegendEntry> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| LegendEntry {
            label: g.label.clone(),
            color: color(i),
            marker: Some(Shape::nth(i)),
            line: None,
            band: false,
        })
        .collect();
    if diagonal {
        legend.push(LegendEntry {
            label: "y = x".into(),
            color: REFERENCE,
            marker: None,
            line: Some(true),
            band: false,
        });
    }
    let note = (skipped > 0)
        .then(|| format!("{skipped} point(s) not shown (non-finite, or ≤ 0 on a log axis)"));
    let spec = ChartSpec {
        title,
        x_label,
        y_label,
        note,
        legend,
        legend_at: LegendAt::Right,
        empty_note: xs.is_empty().then_some("no positive finite points to plot"),
    };
    let mut chart = Chart::begin(&spec, x_range, y_range);
    if diagonal {
        let (lo, hi) = (x_range.lo, x_range.hi);
        let attrs = format!(
            r#"class="diagonal" stroke="{REFERENCE}" stroke-width="1.5" stroke-dasharray="6 4""#
        );
        let (x1, y1, x2, y2) = (
            chart.px_t(lo),
            chart.py_t(lo),
            chart.px_t(hi),
            chart.py_t(hi),
        );
        chart.svg().line(x1, y1, x2, y2, &attrs);
    }
    draw_markers(&mut chart, &kept);
    Ok(chart.finish())
}

/// A scatter plot on linear axes with the fitted line `fit` (if any) drawn across the plot,
/// the legend reading `data (n = N)` and the fit's [`Fit::equation`] (`y = a x + b,
/// R² = …`). 720 × 480 px.
///
/// Points with a non-finite coordinate are skipped and their number noted under the title;
/// each plotted point is one element with `class="marker"`; the line is the element with
/// `class="fit-line"`. A fit with a non-finite coefficient is not drawn. With no point, the
/// frame (and the line, if given) is drawn with the note "no data to plot". The output
/// depends only on the arguments.
///
/// # Errors
/// When the values span more than an `f64` can represent (e.g. `-1e308` and `1e308`).
pub fn scatter_with_fit(
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[(f64, f64)],
    fit: Option<&Fit>,
) -> Result<String> {
    let kept: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let skipped = points.len() - kept.len();
    let fit = fit.filter(|f| f.slope.is_finite() && f.intercept.is_finite());
    let xs: Vec<f64> = kept.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = kept.iter().map(|p| p.1).collect();
    let x_range = Range::covering(&xs, false)?;
    let y_range = Range::covering(&ys, false)?;
    let mut legend = vec![LegendEntry {
        label: format!("data (n = {})", kept.len()),
        color: color(0),
        marker: Some(Shape::Circle),
        line: None,
        band: false,
    }];
    if let Some(f) = fit {
        legend.push(LegendEntry {
            label: f.equation(),
            color: color(1),
            marker: None,
            line: Some(false),
            band: false,
        });
    }
    let spec = ChartSpec {
        title,
        x_label,
        y_label,
        note: (skipped > 0).then(|| format!("{skipped} non-finite point(s) not shown")),
        legend,
        legend_at: LegendAt::Top,
        empty_note: kept.is_empty().then_some("no data to plot"),
    };
    let mut chart = Chart::begin(&spec, x_range, y_range);
    if let Some(f) = fit
        && let Some((x1, x2)) = visible_span(f, x_range, y_range)
    {
        let (x1, y1) = (chart.px_t(x1), chart.py_t(f.predict(x1)));
        let (x2, y2) = (chart.px_t(x2), chart.py_t(f.predict(x2)));
        let attrs = format!(r#"class="fit-line" stroke="{}" stroke-width="2""#, color(1));
        chart.svg().line(x1, y1, x2, y2, &attrs);
    }
    draw_markers(&mut chart, &[kept]);
    Ok(chart.finish())
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
fn draw_markers(chart: &mut Chart, groups: &[Vec<(f64, f64)>]) {
    for (i, pts) in groups.iter().enumerate() {
        for &(x, y) in pts {
            let (cx, cy) = chart.at(x, y);
            let m = marker(Shape::nth(i), cx, cy, 4.0, color(i), "marker");
            chart.svg().push(&m);
        }
    }
}
