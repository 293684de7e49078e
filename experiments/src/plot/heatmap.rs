//! Heatmaps: a grid of coloured cells with their values, for a quantity over two categorical
//! axes (e.g. the generalization gap over k × T).

use anyhow::{Result, bail};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axes::{self, Axis};
use super::canvas::{self, Area, INK, anchored};
use super::format::{fmt_sig, text_width};

/// Background of a cell without a value (and of the "no value" swatch).
const HATCH_BACKGROUND: RGBColor = RGBColor(0xEE, 0xEE, 0xEE);
/// The diagonal lines over a cell without a value.
const HATCH_LINE: RGBColor = RGBColor(0xAA, 0xAA, 0xAA);
/// Distance between hatch lines, in pixels (along each axis).
const HATCH_STEP: i32 = 7;
/// Label of the legend swatch for cells without a value.
const NO_VALUE: &str = "no value";
/// Number of colour strips of the colour bar.
const STRIPS: usize = 64;
/// Font size of the colour bar and swatch labels, in pixels.
const KEY_PX: f64 = 11.0;

/// A heatmap of `values[row][col]`: row `r` is labelled `y_ticks[r]` and drawn with row 0 at
/// the bottom (the y axis grows upwards, as on the other charts); column `c` is labelled
/// `x_ticks[c]`.
///
/// Each `Some` cell is a rectangle coloured by viridis between the smallest and the largest
/// value (the middle colour when they are equal), with its value printed in it (3 significant
/// digits, black or white for contrast). Each `None` cell (e.g. k > T) — and each non-finite
/// value, counted by [`Heatmap::skipped`] and noted under the title — is hatched grey (a
/// light grey rectangle crossed by diagonal lines), with a "no value" swatch on the right.
/// The colour bar on the right is labelled with the minimum (bottom) and the maximum (top).
/// Column labels too wide to sit side by side are turned upright. With no row or no column,
/// the frame is drawn with the note "no data to plot".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Heatmap {
    /// Title, centred above the chart.
    pub title: String,
    /// Label of the x axis (the columns).
    pub x_label: String,
    /// Label of the y axis (the rows).
    pub y_label: String,
    /// Column labels, left to right.
    pub x_ticks: Vec<String>,
    /// Row labels, bottom to top.
    pub y_ticks: Vec<String>,
    /// `values[row][col]`: `y_ticks.len()` rows of `x_ticks.len()` entries.
    pub values: Vec<Vec<Option<f64>>>,
}

impl Heatmap {
    /// The number of `Some` values that are not finite (drawn as cells without a value).
    pub fn skipped(&self) -> usize {
        self.values
            .iter()
            .flatten()
            .flatten()
            .filter(|v| !v.is_finite())
            .count()
    }

    /// The number of cells drawn hatched: `None` cells and non-finite values.
    pub fn hatched(&self) -> usize {
        self.values
            .iter()
            .flatten()
            .filter(|v| !v.is_some_and(f64::is_finite))
            .count()
    }

    /// The chart as SVG text (720 × 480 px); the same chart gives the same bytes.
    ///
    /// # Errors
    /// When `values` has not `y_ticks.len()` rows or a row has not `x_ticks.len()` entries.
    pub fn render(&self) -> Result<String> {
        self.check_shape()?;
        let finite = || {
            self.values
                .iter()
                .flatten()
                .flatten()
                .copied()
                .filter(|v| v.is_finite())
        };
        let min = finite().fold(f64::INFINITY, f64::min);
        let max = finite().fold(f64::NEG_INFINITY, f64::max);
        let scale = min.is_finite().then_some((min, max));
        let has_empty = self.hatched() > 0;
        let (min_label, max_label) = (fmt_sig(min, 3), fmt_sig(max, 3));
        let mut key_w: f64 = 0.0;
        if scale.is_some() {
            key_w = key_w
                .max(text_width(&min_label, KEY_PX))
                .max(text_width(&max_label, KEY_PX));
        }
        if has_empty {
            key_w = key_w.max(text_width(NO_VALUE, KEY_PX));
        }
        let panel = (key_w + 44.0).ceil() as i32;
        let skipped = self.skipped();
        let note = (skipped > 0).then(|| format!("{skipped} non-finite value(s) shown as empty"));
        canvas::render(|root| {
            let body = canvas::header(root, &self.title, note.as_deref())?;
            let (area, _) = body.split_horizontally(canvas::WIDTH as i32 - panel);
            let x_axis = Axis::categories(&self.x_ticks);
            let y_axis = Axis::categories(&self.y_ticks);
            let chart = axes::draw(root, &area, &x_axis, &y_axis, &self.x_label, &self.y_label)?;
            if self.values.is_empty() || self.x_ticks.is_empty() {
                canvas::no_data(root, &chart)?;
            }
            for (r, row) in self.values.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    let (x0, y0) = chart.backend_coord(&(c as f64, r as f64 + 1.0));
                    let (x1, y1) = chart.backend_coord(&(c as f64 + 1.0, r as f64));
                    // A 1 px white gap around each cell (none left on tiny cells).
                    let cell = (x0 + 1, y0 + 1, (x1 - 1).max(x0 + 1), (y1 - 1).max(y0 + 1));
                    match (v.filter(|v| v.is_finite()), scale) {
                        (Some(v), Some((min, max))) => value_cell(root, cell, v, min, max)?,
                        _ => hatch(root, cell)?,
                    }
                }
            }
            let (_, top, right, bottom) = axes::plot_box(&chart);
            let bar_x = right + 22;
            if let Some((min, max)) = scale {
                colour_bar(root, (bar_x, top, bar_x + 14, bottom), min, max)?;
                let style = anchored(KEY_PX, HPos::Left, VPos::Top);
                root.draw(&Text::new(max_label.clone(), (bar_x + 20, top), style))?;
                let style = anchored(KEY_PX, HPos::Left, VPos::Bottom);
                root.draw(&Text::new(min_label.clone(), (bar_x + 20, bottom), style))?;
            }
            if has_empty {
                let y = if scale.is_some() { bottom + 12 } else { top };
                hatch(root, (bar_x, y, bar_x + 14, y + 14))?;
                let style = anchored(KEY_PX, HPos::Left, VPos::Center);
                root.draw(&Text::new(NO_VALUE, (bar_x + 20, y + 7), style))?;
            }
            Ok(())
        })
    }

    /// Checks that `values` is `y_ticks.len()` × `x_ticks.len()`.
    fn check_shape(&self) -> Result<()> {
        let (title, rows, cols) = (&self.title, self.y_ticks.len(), self.x_ticks.len());
        if self.values.len() != rows {
            bail!(
                "heatmap {title:?}: {} rows of values for {rows} y ticks",
                self.values.len()
            );
        }
        if let Some((r, row)) = self
            .values
            .iter()
            .enumerate()
            .find(|(_, row)| row.len() != cols)
        {
            bail!(
                "heatmap {title:?}: row {r} has {} values for {cols} x ticks",
                row.len()
            );
        }
        Ok(())
    }
}

/// The viridis colour of `v` on [`min`, `max`] (the middle colour when `min == max`).
fn viridis(v: f64, min: f64, max: f64) -> RGBColor {
    let t = if max > min {
        ((v - min) / (max - min)).clamp(0.0, 1.0)
    } else {
        0.5
    };
    ViridisRGB.get_color(t)
}

/// A cell `(left, top, right, bottom)` coloured for `v`, with `v` printed in its middle.
fn value_cell(
    root: &Area,
    (x0, y0, x1, y1): (i32, i32, i32, i32),
    v: f64,
    min: f64,
    max: f64,
) -> Result<()> {
    let fill = viridis(v, min, max);
    root.draw(&Rectangle::new([(x0, y0), (x1, y1)], fill.filled()))?;
    let text = fmt_sig(v, 3);
    let (w, h) = (f64::from(x1 - x0), f64::from(y1 - y0));
    let px = 12f64
        .min(h * 0.45)
        .min((w - 4.0) / (text.chars().count() as f64 * 0.6))
        .floor()
        .max(8.0);
    let RGBColor(r, g, b) = fill;
    let luma = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b);
    let ink = if luma > 140.0 { INK } else { WHITE };
    let style = anchored(px, HPos::Center, VPos::Center).color(&ink);
    root.draw(&Text::new(text, ((x0 + x1) / 2, (y0 + y1) / 2), style))?;
    Ok(())
}

/// A hatched rectangle `(left, top, right, bottom)`: light grey, crossed by "/" lines.
fn hatch(root: &Area, (x0, y0, x1, y1): (i32, i32, i32, i32)) -> Result<()> {
    root.draw(&Rectangle::new(
        [(x0, y0), (x1, y1)],
        HATCH_BACKGROUND.filled(),
    ))?;
    // Lines x + y = k, clipped to the rectangle.
    let mut k = x0 + y0 + HATCH_STEP;
    while k < x1 + y1 {
        let (xa, xb) = ((k - y1).max(x0), (k - y0).min(x1));
        if xa < xb {
            root.draw(&PathElement::new(
                vec![(xa, k - xa), (xb, k - xb)],
                HATCH_LINE.stroke_width(1),
            ))?;
        }
        k += HATCH_STEP;
    }
    Ok(())
}

/// The colour bar in `(left, top, right, bottom)`: viridis from `min` (bottom) to `max` (top)
/// in [`STRIPS`] strips, framed.
fn colour_bar(
    root: &Area,
    (x0, y0, x1, y1): (i32, i32, i32, i32),
    min: f64,
    max: f64,
) -> Result<()> {
    let h = f64::from(y1 - y0);
    for k in 0..STRIPS {
        let top = y1 - (h * (k + 1) as f64 / STRIPS as f64).round() as i32;
        let bottom = y1 - (h * k as f64 / STRIPS as f64).round() as i32;
        if bottom > top {
            let t = (k as f64 + 0.5) / STRIPS as f64;
            let fill = viridis(min + t * (max - min), min, max);
            root.draw(&Rectangle::new([(x0, top), (x1, bottom)], fill.filled()))?;
        }
    }
    root.draw(&Rectangle::new([(x0, y0), (x1, y1)], INK.stroke_width(1)))?;
    Ok(())
}
