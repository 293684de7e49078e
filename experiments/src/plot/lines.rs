//! Line charts with markers and confidence bands.

use anyhow::Result;
use plotters::prelude::*;

use super::axes::{self, Axis, Chart};
use super::canvas::{self, Area, LegendEntry, Shape, Stroke, color};
use super::ticks::Range;

/// One line of a [`LineChart`]: a legend label and its points.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Legend label (a series with an empty label gets no legend row).
    pub label: String,
    /// Points `(x, mean y, ci low, ci high)`, in any order (they are joined in order of x);
    /// ci low and ci high may come in either order.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// Lines with markers and a translucent confidence band per series: gap against k, one line
/// per T; learning curves; with `log_x` and `log_y`, log–log rate plots.
///
/// Series `i` is drawn in Okabe–Ito colour `i` with marker shape `i` (circle, square,
/// triangle up, diamond, triangle down, cycling), and gets a legend row on the right (unless
/// its label is empty).
///
/// A point is plotted when its x and mean y can be placed: finite, and > 0 on a log axis;
/// the others are skipped and their number ([`LineChart::skipped`]) is written under the
/// title. A plotted point gets a band when its ci low and ci high are finite (the band is
/// split around points without one; a lone point with an interval gets a translucent bar);
/// on a log y axis, an interval reaching 0 or below is drawn down to the bottom of the axis,
/// and one entirely ≤ 0 is not drawn. With nothing to plot, the frame is drawn with the note
/// "no data to plot".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineChart {
    /// Title, centred above the chart.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// The lines, in legend order.
    pub series: Vec<Series>,
    /// Whether the x axis is logarithmic (base 10).
    pub log_x: bool,
    /// Whether the y axis is logarithmic (base 10).
    pub log_y: bool,
}

/// A plotted point in plot coordinates, with its band `(low, high)`; a low of `None` means
/// "down to the bottom of the axis" (an interval reaching 0 on a log axis).
struct Kept {
    x: f64,
    y: f64,
    band: Option<(Option<f64>, f64)>,
}

impl LineChart {
    /// The number of points not shown: a non-finite x or mean, or one ≤ 0 on a log axis.
    pub fn skipped(&self) -> usize {
        let total: usize = self.series.iter().map(|s| s.points.len()).sum();
        total - self.kept().iter().map(Vec::len).sum::<usize>()
    }

    /// The chart as SVG text (720 × 480 px); the same chart gives the same bytes.
    ///
    /// # Errors
    /// When the values span more than an `f64` can represent (e.g. `-1e308` and `1e308`).
    pub fn render(&self) -> Result<String> {
        let kept = self.kept();
        let xs: Vec<f64> = kept.iter().flatten().map(|p| p.x).collect();
        let mut ys: Vec<f64> = kept.iter().flatten().map(|p| p.y).collect();
        for (lo, hi) in kept.iter().flatten().filter_map(|p| p.band) {
            ys.extend(lo);
            ys.push(hi);
        }
        let x_range = Range::covering(&xs, self.log_x)?;
        let y_range = Range::covering(&ys, self.log_y)?;
        let skipped = self.skipped();
        let why = match (self.log_x, self.log_y) {
            (false, false) => "non-finite",
            (true, false) => "non-finite, or x ≤ 0 on the log axis",
            (false, true) => "non-finite, or y ≤ 0 on the log axis",
            (true, true) => "non-finite, or ≤ 0 on a log axis",
        };
        let note = (skipped > 0).then(|| format!("{skipped} point(s) not shown ({why})"));
        let entries: Vec<LegendEntry> = self
            .series
            .iter()
            .zip(&kept)
            .enumerate()
            .filter(|(_, (s, _))| !s.label.is_empty())
            .map(|(i, (s, pts))| LegendEntry {
                label: s.label.clone(),
                color: color(i),
                marker: Some(Shape::nth(i)),
                line: Some(Stroke::Solid),
                band: pts.iter().any(|p| p.band.is_some()),
            })
            .collect();
        canvas::render(|root| {
            let body = canvas::header(root, &self.title, note.as_deref())?;
            let area = canvas::legend(&body, &entries)?;
            let (x_axis, y_axis) = (Axis::numeric(x_range), Axis::numeric(y_range));
            let mut chart =
                axes::draw(root, &area, &x_axis, &y_axis, &self.x_label, &self.y_label)?;
            if xs.is_empty() {
                canvas::no_data(root, &chart)?;
            }
            for (i, pts) in kept.iter().enumerate() {
                draw_bands(root, &mut chart, pts, color(i), y_range.lo)?;
            }
            for (i, pts) in kept.iter().enumerate() {
                if pts.len() >= 2 {
                    chart.draw_series(LineSeries::new(
                        pts.iter().map(|p| (p.x, p.y)),
                        color(i).stroke_width(2),
                    ))?;
                }
            }
            for (i, pts) in kept.iter().enumerate() {
                for p in pts {
                    let at = chart.backend_coord(&(p.x, p.y));
                    canvas::marker(root, Shape::nth(i), at, color(i))?;
                }
            }
            Ok(())
        })
    }

    /// The plotted points of each series in plot coordinates, sorted by x.
    fn kept(&self) -> Vec<Vec<Kept>> {
        self.series
            .iter()
            .map(|s| {
                let mut pts: Vec<Kept> = s
                    .points
                    .iter()
                    .filter_map(|&(x, y, lo, hi)| {
                        let x = Range::to_plot(x, self.log_x)?;
                        let y = Range::to_plot(y, self.log_y)?;
                        Some(Kept {
                            x,
                            y,
                            band: self.band(lo, hi),
                        })
                    })
                    .collect();
                pts.sort_by(|a, b| a.x.total_cmp(&b.x));
                pts
            })
            .collect()
    }

    /// The band of an interval in plot coordinates, if it can be drawn.
    fn band(&self, lo: f64, hi: f64) -> Option<(Option<f64>, f64)> {
        if !(lo.is_finite() && hi.is_finite()) {
            return None;
        }
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        let top = Range::to_plot(hi, self.log_y)?;
        Some((Range::to_plot(lo, self.log_y), top))
    }
}

/// The bands of one series: a translucent polygon over each run of consecutive points that
/// have an interval; a lone point with an interval gets a translucent bar 8 px wide.
fn draw_bands(
    root: &Area,
    chart: &mut Chart,
    pts: &[Kept],
    fill: RGBColor,
    floor: f64,
) -> Result<()> {
    let runs = pts.split(|p| p.band.is_none()).filter(|r| !r.is_empty());
    for run in runs {
        let bands: Vec<(f64, f64, f64)> = run
            .iter()
            .filter_map(|p| p.band.map(|(lo, hi)| (p.x, lo.unwrap_or(floor), hi)))
            .collect();
        if let [(x, lo, hi)] = bands[..] {
            let (px, top) = chart.backend_coord(&(x, hi));
            let (_, bottom) = chart.backend_coord(&(x, lo));
            root.draw(&Rectangle::new(
                [(px - 4, top), (px + 4, bottom)],
                fill.mix(0.25).filled(),
            ))?;
            continue;
        }
        let mut outline: Vec<(f64, f64)> = bands.iter().map(|&(x, _, hi)| (x, hi)).collect();
        outline.extend(bands.iter().rev().map(|&(x, lo, _)| (x, lo)));
        chart.draw_series(std::iter::once(Polygon::new(
            outline,
            fill.mix(0.2).filled(),
        )))?;
    }
    Ok(())
}
