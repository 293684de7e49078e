//! Bar charts with error bars: one value (and its confidence interval) per category.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axes::{self, Axis};
use super::canvas::{self, INK, anchored, color};
use super::format::fmt_sig;
use super::ticks::Range;

/// One bar of a [`BarChart`]: a category, its value and its confidence interval.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bar {
    /// Category label, under the bar.
    pub label: String,
    /// Height of the bar (from 0; negative values hang below 0).
    pub value: f64,
    /// Lower end of the error bar.
    pub ci_low: f64,
    /// Upper end of the error bar (either order is accepted).
    pub ci_high: f64,
}

/// Bars from 0 to each value, in one colour, with an error bar from ci low to ci high and
/// the value printed beyond its end (3 significant digits); one slot per bar, in order.
///
/// A bar whose value is not finite keeps its slot and label but is not drawn; their number
/// ([`BarChart::skipped`]) is noted under the title. A bar whose ci low or ci high is not
/// finite gets no error bar. The y axis always includes 0 (and starts there when no value or
/// interval is negative). Category labels too wide to sit side by side are turned upright.
/// With no bar, the frame is drawn with the note "no data to plot".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BarChart {
    /// Title, centred above the chart.
    pub title: String,
    /// Label of the x axis (the categories).
    pub x_label: String,
    /// Label of the y axis (the values).
    pub y_label: String,
    /// The bars, left to right.
    pub bars: Vec<Bar>,
}

/// Half the width of a bar, as a fraction of its slot.
const HALF_WIDTH: f64 = 0.3;
/// Half the width of an error bar's caps, in pixels.
const CAP: i32 = 6;

impl BarChart {
    /// The number of bars not drawn (a non-finite value).
    pub fn skipped(&self) -> usize {
        self.bars.iter().filter(|b| !b.value.is_finite()).count()
    }

    /// The chart as SVG text (720 × 480 px); the same chart gives the same bytes.
    ///
    /// # Errors
    /// When the values span more than an `f64` can represent (e.g. `-1e308` and `1e308`).
    pub fn render(&self) -> Result<String> {
        let y_range = self.value_range()?;
        let labels: Vec<String> = self.bars.iter().map(|b| b.label.clone()).collect();
        let skipped = self.skipped();
        let note = (skipped > 0).then(|| format!("{skipped} bar(s) not shown (non-finite value)"));
        canvas::render(|root| {
            let body = canvas::header(root, &self.title, note.as_deref())?;
            let (x_axis, y_axis) = (Axis::categories(&labels), Axis::numeric(y_range));
            let mut chart =
                axes::draw(root, &body, &x_axis, &y_axis, &self.x_label, &self.y_label)?;
            if self.bars.is_empty() {
                canvas::no_data(root, &chart)?;
            }
            if y_range.lo < 0.0 && y_range.hi > 0.0 {
                let (lo, hi) = (0.0, self.bars.len().max(1) as f64);
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(lo, 0.0), (hi, 0.0)],
                    INK.stroke_width(1),
                )))?;
            }
            let fill = color(0);
            for (i, b) in self.bars.iter().enumerate() {
                if !b.value.is_finite() {
                    continue;
                }
                let centre = i as f64 + 0.5;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(centre - HALF_WIDTH, 0.0), (centre + HALF_WIDTH, b.value)],
                    fill.filled(),
                )))?;
                let mut end = b.value;
                if b.ci_low.is_finite() && b.ci_high.is_finite() {
                    let (lo, hi) = (b.ci_low.min(b.ci_high), b.ci_low.max(b.ci_high));
                    let (x, top) = chart.backend_coord(&(centre, hi));
                    let (_, bottom) = chart.backend_coord(&(centre, lo));
                    let style = INK.stroke_width(1);
                    root.draw(&PathElement::new(vec![(x, top), (x, bottom)], style))?;
                    for y in [top, bottom] {
                        root.draw(&PathElement::new(vec![(x - CAP, y), (x + CAP, y)], style))?;
                    }
                    end = if b.value >= 0.0 {
                        hi.max(b.value)
                    } else {
                        lo.min(b.value)
                    };
                }
                let (x, y) = chart.backend_coord(&(centre, end));
                let (dy, v) = if b.value >= 0.0 {
                    (-4, VPos::Bottom)
                } else {
                    (4, VPos::Top)
                };
                let style = anchored(11.0, HPos::Center, v);
                root.draw(&Text::new(fmt_sig(b.value, 3), (x, y + dy), style))?;
            }
            Ok(())
        })
    }

    /// The y range: 0, the values and the finite intervals, padded (with room for the printed
    /// values), starting at 0 when nothing is negative.
    fn value_range(&self) -> Result<Range> {
        let mut ys = vec![0.0];
        for b in self.bars.iter().filter(|b| b.value.is_finite()) {
            ys.push(b.value);
            if b.ci_low.is_finite() && b.ci_high.is_finite() {
                ys.extend([b.ci_low, b.ci_high]);
            }
        }
        let mut r = Range::covering(&ys, false)?;
        let room = 0.06 * (r.hi - r.lo);
        if ys.iter().all(|&y| y >= 0.0) {
            r.lo = 0.0;
        } else {
            r.lo -= room;
        }
        if ys.iter().all(|&y| y <= 0.0) {
            r.hi = 0.0;
        } else {
            r.hi += room;
        }
        if !(r.hi - r.lo).is_finite() || r.hi <= r.lo {
            r = Range::covering(&ys, false)?;
        }
        Ok(r)
    }
}
