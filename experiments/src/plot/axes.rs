//! The axes of a chart, on plotters: a linear coordinate whose ticks are exactly those of
//! [`super::ticks`] (log axes hold `log10` of the data), numeric tick labels and grid lines
//! drawn by plotters' mesh, category labels (upright when they do not fit side by side),
//! the axis labels and a frame around the plot area.

use anyhow::Result;
use plotters::backend::SVGBackend;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{Area, anchored, font};
use super::format::{clean, text_width};
use super::ticks::Range;

/// A chart whose axes are [`Ticked`] `f64` ranges (log axes hold `log10` of the data).
pub(crate) type Chart<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<Ticked, Ticked>>;

/// A linear `f64` axis whose grid lines and labels sit exactly at the given ticks (those of
/// [`super::ticks`]; plotters' own log-axis ticks vanish on ranges within one decade).
pub(crate) struct Ticked {
    range: std::ops::Range<f64>,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = (value - self.range.start) / (self.range.end - self.range.start);
        if !t.is_finite() {
            return limit.0;
        }
        let px = f64::from(limit.0) + f64::from(limit.1 - limit.0) * t;
        px.round()
            .clamp(f64::from(i32::MIN / 2), f64::from(i32::MAX / 2)) as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

/// Colour of the axes and the frame around the plot area.
const AXIS: RGBColor = RGBColor(0x33, 0x33, 0x33);
/// Colour of the grid lines at the ticks.
const GRID: RGBColor = RGBColor(0xE3, 0xE3, 0xE3);

/// What an axis shows under (or beside) it.
#[derive(Clone, Debug)]
pub(crate) enum Labels {
    /// Numeric ticks `(position, label)` with grid lines, drawn by plotters' mesh.
    Ticks(Vec<(f64, String)>),
    /// One label per unit slot, category `i` centred at `i + 0.5` (no grid lines); turned
    /// upright when they do not fit side by side.
    Categories(Vec<String>),
}

/// One axis: its range (in plot coordinates) and its labels.
#[derive(Clone, Debug)]
pub(crate) struct Axis {
    /// The range shown.
    pub range: Range,
    /// The ticks or categories.
    pub labels: Labels,
}

impl Axis {
    /// A numeric axis over `range` with its ticks from [`Range::ticks`].
    pub(crate) fn numeric(range: Range) -> Axis {
        Axis {
            range,
            labels: Labels::Ticks(range.ticks()),
        }
    }

    /// A categorical axis with one unit slot per label, over `[0, n]`.
    pub(crate) fn categories(labels: &[String]) -> Axis {
        Axis {
            range: Range {
                log: false,
                lo: 0.0,
                hi: labels.len().max(1) as f64,
            },
            labels: Labels::Categories(labels.iter().map(|s| clean(s)).collect()),
        }
    }

    fn ticks(&self) -> Vec<(f64, String)> {
        match &self.labels {
            Labels::Ticks(t) => t.clone(),
            Labels::Categories(_) => Vec::new(),
        }
    }

    fn categories_list(&self) -> &[String] {
        match &self.labels {
            Labels::Ticks(_) => &[],
            Labels::Categories(c) => c,
        }
    }
}

/// Font size of tick and category labels, in pixels.
const TICK_PX: f64 = 11.0;
/// Font size of the axis labels, in pixels.
const DESC_PX: f64 = 12.0;

/// The widest label of a list, in pixels.
fn widest(labels: impl IntoIterator<Item = String>) -> f64 {
    labels
        .into_iter()
        .map(|s| text_width(&s, TICK_PX))
        .fold(0.0, f64::max)
}

/// Builds the axes in `area`: tick labels, grid lines, axis labels (`x_label` under,
/// `y_label` upright on the left) and a frame around the plot area. The label areas are sized
/// from the estimated width of the labels, so nothing is clipped.
pub(crate) fn draw<'a>(
    root: &Area<'a>,
    area: &Area<'a>,
    x: &Axis,
    y: &Axis,
    x_label: &str,
    y_label: &str,
) -> Result<Chart<'a>> {
    let (x_ticks, y_ticks) = (x.ticks(), y.ticks());
    let y_widest = widest(
        y_ticks
            .iter()
            .map(|t| t.1.clone())
            .chain(y.categories_list().iter().cloned()),
    );
    let y_area = (y_widest + 34.0).ceil() as i32;
    let (area_w, _) = area.dim_in_pixel();
    let cats = x.categories_list();
    let slot = (area_w as f64 - y_area as f64 - 16.0) / cats.len().max(1) as f64;
    let x_widest = widest(cats.iter().cloned());
    let upright = !cats.is_empty() && x_widest > slot - 6.0;
    let x_area = if upright {
        (x_widest + 36.0).min(170.0).ceil() as i32
    } else {
        44
    };
    let mut chart = ChartBuilder::on(area)
        .margin_top(8)
        .margin_right(16)
        .margin_left(6)
        .margin_bottom(6)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(
            Ticked {
                range: x.range.lo..x.range.hi,
                ticks: x_ticks.iter().map(|t| t.0).collect(),
            },
            Ticked {
                range: y.range.lo..y.range.hi,
                ticks: y_ticks.iter().map(|t| t.0).collect(),
            },
        )?;
    let x_fmt = |v: &f64| lookup(&x_ticks, *v);
    let y_fmt = |v: &f64| lookup(&y_ticks, *v);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(clean(x_label))
        .y_desc(clean(y_label))
        .axis_desc_style(font(DESC_PX))
        .label_style(font(TICK_PX))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS.stroke_width(1))
        .set_all_tick_mark_size(4);
    if !cats.is_empty() {
        mesh.disable_x_mesh();
    }
    if !y.categories_list().is_empty() {
        mesh.disable_y_mesh();
    }
    mesh.draw()?;
    let (left, top, right, bottom) = plot_box(&chart);
    // Over the axis lines plotters draws just outside the plot area.
    root.draw(&Rectangle::new(
        [(left - 1, top - 1), (right + 1, bottom + 1)],
        AXIS.stroke_width(1),
    ))?;
    for (i, label) in cats.iter().enumerate() {
        let (cx, _) = chart.backend_coord(&(i as f64 + 0.5, y.range.lo));
        if upright {
            let style =
                anchored(TICK_PX, HPos::Right, VPos::Center).transform(FontTransform::Rotate270);
            root.draw(&Text::new(label.clone(), (cx, bottom + 6), style))?;
        } else {
            let style = anchored(TICK_PX, HPos::Center, VPos::Top);
            root.draw(&Text::new(label.clone(), (cx, bottom + 7), style))?;
        }
    }
    for (i, label) in y.categories_list().iter().enumerate() {
        let (_, cy) = chart.backend_coord(&(x.range.lo, i as f64 + 0.5));
        let style = anchored(TICK_PX, HPos::Right, VPos::Center);
        root.draw(&Text::new(label.clone(), (left - 6, cy), style))?;
    }
    Ok(chart)
}

/// The label of the tick at `v` (the formatter is only asked about the tick positions).
fn lookup(ticks: &[(f64, String)], v: f64) -> String {
    ticks
        .iter()
        .find(|t| t.0 == v)
        .map(|t| t.1.clone())
        .unwrap_or_default()
}

/// The plot area's edges in canvas pixels: (left, top, right, bottom).
pub(crate) fn plot_box(chart: &Chart) -> (i32, i32, i32, i32) {
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    (xs.start, ys.start, xs.end - 1, ys.end - 1)
}
