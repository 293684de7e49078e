//! The frame shared by the x–y plots: title, note, grid, ticks, axis labels and legend around
//! a plot area, and the mapping from data to pixels inside it.

use super::axis::Range;
use super::style::{Shape, marker};
use super::svg::{CHAR_WIDTH, HEIGHT, Svg, WIDTH, escape, num, text_width};

/// Font size of tick labels, legend entries and notes.
pub(crate) const SMALL: f64 = 11.0;
/// Font size of axis labels.
const LABEL: f64 = 13.0;
/// Font size of the title.
const TITLE: f64 = 16.0;
/// Widest legend, in pixels; longer labels are cut with "…" (the full text in a `<title>`).
const MAX_LEGEND: f64 = 250.0;
/// Id of the clip path around the plot area.
const CLIP_ID: &str = "smoe-plot-area";

/// Draws the title (and an optional grey note under it) centred at the top.
/// Returns the y coordinate below them.
pub(crate) fn title_block(svg: &mut Svg, title: &str, note: Option<&str>) -> f64 {
    let attrs = format!(
        r##"class="title" text-anchor="middle" font-size="{TITLE}" font-weight="bold" fill="#000000""##
    );
    svg.text(WIDTH / 2.0, 26.0, title, &attrs);
    match note {
        Some(n) => {
            let attrs = format!(
                r##"class="note" text-anchor="middle" font-size="{SMALL}" fill="#555555""##
            );
            svg.text(WIDTH / 2.0, 44.0, n, &attrs);
            58.0
        }
        None => 44.0,
    }
}

/// Draws an x axis label centred under `[x0, x1]` at `y` and a y axis label rotated along
/// `[y0, y1]` at the left edge.
pub(crate) fn axis_labels(svg: &mut Svg, x_label: &str, y_label: &str, area: Area, x_y: f64) {
    let attrs =
        format!(r##"class="axis-label" text-anchor="middle" font-size="{LABEL}" fill="#000000""##);
    svg.text((area.left + area.right) / 2.0, x_y, x_label, &attrs);
    let (x, y) = (18.0, (area.top + area.bottom) / 2.0);
    let attrs = format!(
        r##"class="axis-label" text-anchor="middle" font-size="{LABEL}" fill="#000000" transform="rotate(-90 {} {})""##,
        num(x),
        num(y)
    );
    svg.text(x, y, y_label, &attrs);
}

/// The plot area, in pixels.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Area {
    /// Left edge.
    pub left: f64,
    /// Right edge.
    pub right: f64,
    /// Top edge.
    pub top: f64,
    /// Bottom edge.
    pub bottom: f64,
}

/// One legend row: a swatch (band, line and/or marker in `color`) and a label.
pub(crate) struct LegendEntry {
    /// The label, as given by the caller.
    pub label: String,
    /// Swatch colour.
    pub color: &'static str,
    /// Marker drawn in the swatch, if any.
    pub marker: Option<Shape>,
    /// Line drawn across the swatch: `Some(true)` dashed, `Some(false)` solid.
    pub line: Option<bool>,
    /// Whether a translucent band is drawn behind the swatch.
    pub band: bool,
}

/// Where a chart's legend goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LegendAt {
    /// One entry a row, right of the plot area (many or short labels).
    Right,
    /// All entries in one row between the title and the plot area (few, long labels).
    Top,
}

/// What a chart shows around its data.
pub(crate) struct ChartSpec<'a> {
    /// Title at the top.
    pub title: &'a str,
    /// Label under the x axis.
    pub x_label: &'a str,
    /// Label left of the y axis.
    pub y_label: &'a str,
    /// Grey note under the title (e.g. how many points were skipped).
    pub note: Option<String>,
    /// Legend entries.
    pub legend: Vec<LegendEntry>,
    /// Where the legend goes.
    pub legend_at: LegendAt,
    /// Text written in the middle of the plot area (e.g. "no data to plot").
    pub empty_note: Option<&'a str>,
}

/// An x–y chart being drawn: the frame is done, data goes inside its plot area.
pub(crate) struct Chart {
    svg: Svg,
    x: Range,
    y: Range,
    area: Area,
}

impl Chart {
    /// Draws the frame for ranges `x` and `y` as `spec` says.
    pub(crate) fn begin(spec: &ChartSpec<'_>, x: Range, y: Range) -> Chart {
        let mut svg = Svg::new(WIDTH, HEIGHT);
        let below_title = title_block(&mut svg, spec.title, spec.note.as_deref()) + 6.0;
        let y_ticks = y.ticks();
        let tick_w = y_ticks
            .iter()
            .map(|(_, s)| text_width(s, SMALL))
            .fold(0.0, f64::max);
        let (top, right) = match (spec.legend.is_empty(), spec.legend_at) {
            (true, _) => (below_title, WIDTH - 24.0),
            (false, LegendAt::Right) => (below_title, WIDTH - legend_width(&spec.legend) - 22.0),
            (false, LegendAt::Top) => (below_title + 22.0, WIDTH - 24.0),
        };
        let area = Area {
            left: 34.0 + tick_w + 8.0,
            right,
            top,
            bottom: HEIGHT - 54.0,
        };
        let mut chart = Chart { svg, x, y, area };
        chart.grid_and_ticks(&y_ticks);
        axis_labels(
            &mut chart.svg,
            spec.x_label,
            spec.y_label,
            area,
            HEIGHT - 14.0,
        );
        match spec.legend_at {
            LegendAt::Right => chart.legend_right(&spec.legend),
            LegendAt::Top => chart.legend_top(&spec.legend),
        }
        chart.svg.push(&format!(
            r#"<defs><clipPath id="{CLIP_ID}"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath></defs>"#,
            num(area.left),
            num(area.top),
            num(area.right - area.left),
            num(area.bottom - area.top)
        ));
        if let Some(note) = spec.empty_note {
            let attrs = format!(
                r##"class="empty-note" text-anchor="middle" font-size="{LABEL}" fill="#777777""##
            );
            chart.svg.text(
                (area.left + area.right) / 2.0,
                (area.top + area.bottom) / 2.0,
                note,
                &attrs,
            );
        }
        chart
    }

    /// Grid lines, tick marks and tick labels on both axes.
    fn grid_and_ticks(&mut self, y_ticks: &[(f64, String)]) {
        let a = self.area;
        let grid = r##"stroke="#e6e6e6" stroke-width="1""##;
        let tick = r##"stroke="#333333" stroke-width="1""##;
        let x_attrs = format!(
            r##"class="tick-label" text-anchor="middle" font-size="{SMALL}" fill="#333333""##
        );
        for (t, label) in self.x.ticks() {
            let px = self.px_t(t);
            self.svg.line(px, a.top, px, a.bottom, grid);
            self.svg.line(px, a.bottom, px, a.bottom + 5.0, tick);
            self.svg.text(px, a.bottom + 18.0, &label, &x_attrs);
        }
        let y_attrs =
            format!(r##"class="tick-label" text-anchor="end" font-size="{SMALL}" fill="#333333""##);
        for (t, label) in y_ticks {
            let py = self.py_t(*t);
            self.svg.line(a.left, py, a.right, py, grid);
            self.svg.line(a.left - 5.0, py, a.left, py, tick);
            self.svg.text(a.left - 8.0, py + 4.0, label, &y_attrs);
        }
    }

    /// The legend right of the plot area, one row per entry.
    fn legend_right(&mut self, entries: &[LegendEntry]) {
        let x0 = self.area.right + 14.0;
        let row = ((self.area.bottom - self.area.top) / entries.len().max(1) as f64).min(20.0);
        let max_chars = ((MAX_LEGEND - 34.0) / (SMALL * CHAR_WIDTH)) as usize;
        for (i, e) in entries.iter().enumerate() {
            self.legend_entry(e, x0, self.area.top + 8.0 + row * i as f64, max_chars);
        }
    }

    /// The legend in one row above the plot area, centred over it.
    fn legend_top(&mut self, entries: &[LegendEntry]) {
        let a = self.area;
        let gap = 18.0;
        let slot = (a.right - a.left + gap) / entries.len().max(1) as f64 - gap;
        let max_chars = ((slot - 30.0) / (SMALL * CHAR_WIDTH)).max(4.0) as usize;
        let widths: Vec<f64> = entries
            .iter()
            .map(|e| 30.0 + text_width(&e.label, SMALL).min(max_chars as f64 * SMALL * CHAR_WIDTH))
            .collect();
        let total = widths.iter().sum::<f64>() + gap * widths.len().saturating_sub(1) as f64;
        let mut x = a.left.max((a.left + a.right - total) / 2.0);
        for (e, w) in entries.iter().zip(widths) {
            self.legend_entry(e, x, a.top - 14.0, max_chars);
            x += w + gap;
        }
    }

    /// One legend entry: a 24 px swatch from `x0`, then the label (cut to `max_chars`, the full
    /// label then in a `<title>`), vertically centred on `cy`.
    fn legend_entry(&mut self, e: &LegendEntry, x0: f64, cy: f64, max_chars: usize) {
        if e.band {
            let attrs = format!(
                r#"class="legend-band" fill="{}" fill-opacity="0.2""#,
                e.color
            );
            self.svg.rect(x0, cy - 6.0, 24.0, 12.0, &attrs);
        }
        if let Some(dashed) = e.line {
            let dash = if dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let attrs = format!(r#"stroke="{}" stroke-width="2"{dash}"#, e.color);
            self.svg.line(x0, cy, x0 + 24.0, cy, &attrs);
        }
        if let Some(shape) = e.marker {
            let m = marker(shape, x0 + 12.0, cy, 4.0, e.color, "legend-marker");
            self.svg.push(&m);
        }
        let text_attrs = format!(r##"class="legend-label" font-size="{SMALL}" fill="#000000""##);
        if e.label.chars().count() > max_chars {
            let cut: String = e.label.chars().take(max_chars.saturating_sub(1)).collect();
            self.svg.push(&format!(
                r#"<text x="{}" y="{}" {text_attrs}><title>{}</title>{}…</text>"#,
                num(x0 + 30.0),
                num(cy + 4.0),
                escape(&e.label),
                escape(&cut)
            ));
        } else {
            self.svg.text(x0 + 30.0, cy + 4.0, &e.label, &text_attrs);
        }
    }

    /// Pixel x of transformed coordinate `t`.
    pub(crate) fn px_t(&self, t: f64) -> f64 {
        let a = self.area;
        a.left + (t - self.x.lo) / (self.x.hi - self.x.lo) * (a.right - a.left)
    }

    /// Pixel y of transformed coordinate `t`.
    pub(crate) fn py_t(&self, t: f64) -> f64 {
        let a = self.area;
        a.bottom - (t - self.y.lo) / (self.y.hi - self.y.lo) * (a.bottom - a.top)
    }

    /// Pixel position of data point (`x`, `y`).
    pub(crate) fn at(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.px_t(self.x.transform(x)),
            self.py_t(self.y.transform(y)),
        )
    }

    /// The document, to draw data into.
    pub(crate) fn svg(&mut self) -> &mut Svg {
        &mut self.svg
    }

    /// Opens a group clipped to the plot area (close it with [`Chart::end_clip`]).
    pub(crate) fn begin_clip(&mut self) {
        self.svg
            .push(&format!(r#"<g clip-path="url(#{CLIP_ID})">"#));
    }

    /// Closes the group opened by [`Chart::begin_clip`].
    pub(crate) fn end_clip(&mut self) {
        self.svg.push("</g>");
    }

    /// Draws the axes' box and returns the finished document.
    pub(crate) fn finish(mut self) -> String {
        let a = self.area;
        self.svg.rect(
            a.left,
            a.top,
            a.right - a.left,
            a.bottom - a.top,
            r##"class="frame" fill="none" stroke="#333333" stroke-width="1""##,
        );
        self.svg.finish()
    }
}

/// Width the legend needs (0 without entries), capped at [`MAX_LEGEND`].
fn legend_width(entries: &[LegendEntry]) -> f64 {
    entries
        .iter()
        .map(|e| (34.0 + text_width(&e.label, SMALL)).min(MAX_LEGEND))
        .fold(0.0, f64::max)
}
