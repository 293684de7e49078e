//! The page every chart is drawn on, with plotters' SVG backend: the 720 × 480 canvas, the
//! title block (title and an optional note such as a skipped-point count), the legend panel
//! on the right, the "no data" note, the Okabe–Ito series palette and the marker shapes.
//! The axes are in [`super::axes`].
//!
//! Every data shape is placed in pixels through the chart's own coordinate mapping
//! (`backend_coord`) and drawn with plotters elements, so the output is plotters' SVG in draw
//! order: the same chart gives the same bytes.

use anyhow::Result;
use plotters::backend::SVGBackend;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axes::{Chart, plot_box};
use super::format::{clean, text_width};

/// Width of every chart, in pixels.
pub(crate) const WIDTH: u32 = 720;
/// Height of every chart, in pixels.
pub(crate) const HEIGHT: u32 = 480;

/// A region of the canvas in pixels (origin at its top-left corner).
pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// Text colour of titles, labels and ticks.
pub(crate) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Colour of notes and reference lines (the y = x diagonal).
pub(crate) const MUTED: RGBColor = RGBColor(0x55, 0x55, 0x55);
/// Series colours: the Okabe–Ito palette (readable with colour-vision deficiencies), without
/// its yellow, which is too light on white.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x00, 0x00),
];

/// The colour of series number `i` (cycling through the palette).
pub(crate) fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A text style of `px` pixels (plotters' SVG backend writes `font-size` = size / 1.24).
pub(crate) fn font(px: f64) -> TextStyle<'static> {
    TextStyle::from(("sans-serif", px * 1.24).into_font()).color(&INK)
}

/// [`font`] anchored at (`h`, `v`) of the text box.
pub(crate) fn anchored(px: f64, h: HPos, v: VPos) -> TextStyle<'static> {
    font(px).pos(Pos::new(h, v))
}

/// A marker shape; series number `i` gets [`Shape::nth`]`(i)`, so series stay distinct in
/// grey scale too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A disc (`<circle>`).
    Circle,
    /// An axis-aligned square (`<rect>`).
    Square,
    /// A triangle pointing up (`<polygon>`).
    TriangleUp,
    /// A square turned 45° (`<polygon>`).
    Diamond,
    /// A triangle pointing down (`<polygon>`).
    TriangleDown,
}

impl Shape {
    /// The shape of series number `i` (cycling).
    pub(crate) fn nth(i: usize) -> Shape {
        match i % 5 {
            0 => Shape::Circle,
            1 => Shape::Square,
            2 => Shape::TriangleUp,
            3 => Shape::Diamond,
            _ => Shape::TriangleDown,
        }
    }
}

/// Draws one filled marker of `shape` centred at pixel `(x, y)` of `area`: a single SVG
/// element in `color`.
pub(crate) fn marker(area: &Area, shape: Shape, (x, y): (i32, i32), color: RGBColor) -> Result<()> {
    let style = color.filled();
    match shape {
        Shape::Circle => area.draw(&Circle::new((x, y), 4, style))?,
        Shape::Square => area.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], style))?,
        Shape::TriangleUp => area.draw(&Polygon::new(
            vec![(x, y - 5), (x + 5, y + 4), (x - 5, y + 4)],
            style,
        ))?,
        Shape::Diamond => area.draw(&Polygon::new(
            vec![(x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y)],
            style,
        ))?,
        Shape::TriangleDown => area.draw(&Polygon::new(
            vec![(x, y + 5), (x + 5, y - 4), (x - 5, y - 4)],
            style,
        ))?,
    }
    Ok(())
}

/// Renders a chart: gives `draw` the white 720 × 480 canvas and returns the SVG text.
///
/// # Errors
/// Whatever `draw` returns.
pub(crate) fn render(draw: impl FnOnce(&Area) -> Result<()>) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(svg)
}

/// Draws the title (bold, centred) and, if given, a note under it in grey; returns the area
/// below them.
pub(crate) fn header<'a>(root: &Area<'a>, title: &str, note: Option<&str>) -> Result<Area<'a>> {
    let height = if note.is_some() { 50 } else { 34 };
    let (head, body) = root.split_vertically(height);
    let centre = WIDTH as i32 / 2;
    let title_style = TextStyle::from(("sans-serif", 16.0 * 1.24, FontStyle::Bold).into_font())
        .color(&INK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    head.draw(&Text::new(clean(title), (centre, 10), title_style))?;
    if let Some(note) = note {
        let style = anchored(11.0, HPos::Center, VPos::Top).color(&MUTED);
        head.draw(&Text::new(clean(note), (centre, 31), style))?;
    }
    Ok(body)
}

/// How a legend row's line swatch is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stroke {
    /// A solid 2 px line.
    Solid,
    /// A dashed 1.5 px line (reference lines).
    Dashed,
}

/// One row of the legend: a swatch (band, line and/or marker) and its label.
#[derive(Clone, Debug)]
pub(crate) struct LegendEntry {
    /// The label, as given.
    pub label: String,
    /// The swatch colour.
    pub color: RGBColor,
    /// The marker of the swatch, if any.
    pub marker: Option<Shape>,
    /// The line of the swatch, if any.
    pub line: Option<Stroke>,
    /// Whether the swatch has a translucent band behind it.
    pub band: bool,
}

/// Font size of legend labels, in pixels.
const LEGEND_PX: f64 = 12.0;
/// Width of the legend panel besides its text: swatch, gaps and margin.
const LEGEND_PAD: f64 = 60.0;
/// The widest the legend panel gets; longer labels wrap onto more lines.
const LEGEND_MAX: f64 = 220.0;
/// Height of a legend row, in pixels.
const ROW: i32 = 22;
/// Extra height of each wrapped line of a label, in pixels.
const LINE: i32 = 15;

/// Splits a legend panel off the right of `body` (as wide as its longest label needs, at
/// most 220 px: longer labels wrap at spaces) and draws `entries` in it, one row each from
/// the top; returns the area left for the chart (all of `body` when there is no entry). The
/// legend never covers data.
pub(crate) fn legend<'a>(body: &Area<'a>, entries: &[LegendEntry]) -> Result<Area<'a>> {
    if entries.is_empty() {
        return Ok(body.clone());
    }
    let max_chars = ((LEGEND_MAX - LEGEND_PAD) / text_width("m", LEGEND_PX)).floor() as usize;
    let lines: Vec<Vec<String>> = entries
        .iter()
        .map(|e| wrap(&clean(&e.label), max_chars))
        .collect();
    let widest = lines
        .iter()
        .flatten()
        .map(|l| text_width(l, LEGEND_PX))
        .fold(0.0, f64::max);
    let width = (widest + LEGEND_PAD).clamp(96.0, LEGEND_MAX) as i32;
    let (plot, panel) = body.split_horizontally(WIDTH as i32 - width);
    let mut y = 16;
    for (e, lines) in entries.iter().zip(&lines) {
        if e.band {
            panel.draw(&Rectangle::new(
                [(6, y - 7), (34, y + 7)],
                e.color.mix(0.2).filled(),
            ))?;
        }
        match e.line {
            Some(Stroke::Solid) => {
                panel.draw(&PathElement::new(
                    vec![(6, y), (34, y)],
                    e.color.stroke_width(2),
                ))?;
            }
            Some(Stroke::Dashed) => {
                panel.draw(&DashedPathElement::new(
                    vec![(6, y), (34, y)],
                    6,
                    4,
                    e.color.stroke_width(1),
                ))?;
            }
            None => {}
        }
        if let Some(shape) = e.marker {
            marker(&panel, shape, (20, y), e.color)?;
        }
        for (j, line) in lines.iter().enumerate() {
            let style = anchored(LEGEND_PX, HPos::Left, VPos::Center);
            panel.draw(&Text::new(line.clone(), (42, y + LINE * j as i32), style))?;
        }
        y += ROW + LINE * (lines.len() as i32 - 1).max(0);
    }
    Ok(plot)
}

/// `text` in lines of at most `max_chars` characters: broken after a ", " where that makes
/// the first line fit (the latest such place), else at spaces (a longer word stays whole on
/// its own line).
fn wrap(text: &str, max_chars: usize) -> Vec<String> {
    let len = |s: &str| s.chars().count();
    if len(text) <= max_chars {
        return vec![text.to_string()];
    }
    let comma = text
        .match_indices(", ")
        .map(|(i, _)| i + 1)
        .filter(|&i| len(&text[..i]) <= max_chars)
        .last();
    if let Some(i) = comma {
        let mut lines = vec![text[..i].to_string()];
        lines.extend(wrap(&text[i + 1..], max_chars));
        return lines;
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && len(&line) + 1 + len(word) > max_chars {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// Writes "no data to plot" in the middle of the plot area.
pub(crate) fn no_data(root: &Area, chart: &Chart) -> Result<()> {
    let (left, top, right, bottom) = plot_box(chart);
    let style = anchored(14.0, HPos::Center, VPos::Center).color(&MUTED);
    root.draw(&Text::new(
        "no data to plot",
        ((left + right) / 2, (top + bottom) / 2),
        style,
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_breaks_at_spaces() {
        assert_eq!(
            wrap("y = 2.09 x + 0.793, R² = 0.920", 20),
            ["y = 2.09 x + 0.793,", "R² = 0.920"]
        );
        assert_eq!(
            wrap("y = 2 x + 1, R² = 1.000", 21),
            ["y = 2 x + 1,", "R² = 1.000"]
        );
        assert_eq!(wrap("short", 20), ["short"]);
        assert_eq!(wrap("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            ["averyveryverylongword", "x"]
        );
    }
}
