//! Heatmaps: a grid of coloured cells with their values, for a quantity over two categorical
//! axes (e.g. the generalization gap over k × T).

use anyhow::{Result, bail};

use super::frame::{Area, SMALL, axis_labels, title_block};
use super::style::{VIRIDIS, hex, text_on, viridis};
use super::svg::{HEIGHT, Svg, WIDTH, fmt_sig, num, text_width};

/// Id of the hatch pattern of cells without a value.
const HATCH_ID: &str = "smoe-hatch";
/// Id of the colour bar's gradient.
const GRADIENT_ID: &str = "smoe-viridis";
/// Label of the legend swatch for cells without a value.
const NO_VALUE: &str = "no value";

/// A heatmap of `values[row][col]`: row `r` is labelled `y_ticks[r]` and drawn with row 0 at
/// the bottom (the y axis grows upwards, as on the other plots); column `c` is labelled
/// `x_ticks[c]`. 720 × 480 px.
///
/// Each `Some` cell (`class="cell"`) is coloured by viridis between the smallest and the
/// largest value (all one colour, the middle one, when they are equal) and shows its value
/// with 3 significant digits (`class="cell-value"`); each `None` cell (e.g. k > T) — and each
/// non-finite value, noted under the title — is drawn hatched grey (`class="cell-empty"`)
/// with a "no value" swatch beside the colour bar. The colour bar on the right is labelled
/// with the minimum and maximum. Long x tick labels are turned 45°. With no row or no column
/// the frame is drawn with the note "no data to plot". The output depends only on the
/// arguments.
///
/// # Errors
/// When `values` has not `y_ticks.len()` rows or a row has not `x_ticks.len()` entries.
pub fn heatmap(
    title: &str,
    x_label: &str,
    y_label: &str,
    x_ticks: &[String],
    y_ticks: &[String],
    values: &[Vec<Option<f64>>],
) -> Result<String> {
    if values.len() != y_ticks.len() {
        bail!(
            "heatmap {title:?}: {} rows of values for {} y ticks",
            values.len(),
            y_ticks.len()
        );
    }
    if let Some((r, row)) = values
        .iter()
        .enumerate()
        .find(|(_, row)| row.len() != x_ticks.len())
    {
        bail!(
            "heatmap {title:?}: row {r} has {} values for {} x ticks",
            row.len(),
            x_ticks.len()
        );
    }
    let finite = || {
        values
            .iter()
            .flatten()
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
    };
    let min = finite().fold(f64::INFINITY, f64::min);
    let max = finite().fold(f64::NEG_INFINITY, f64::max);
    let has_values = min.is_finite();
    let non_finite = values
        .iter()
        .flatten()
        .flatten()
        .filter(|v| !v.is_finite())
        .count();
    let has_empty = values
        .iter()
        .flatten()
        .any(|v| !v.is_some_and(f64::is_finite));

    let mut svg = Svg::new(WIDTH, HEIGHT);
    let note = (non_finite > 0).then(|| format!("{non_finite} non-finite value(s) shown as empty"));
    let top = title_block(&mut svg, title, note.as_deref()) + 6.0;
    let (min_label, max_label) = (fmt_sig(min, 3), fmt_sig(max, 3));
    let mut key_w: f64 = 0.0;
    if has_values {
        key_w = key_w
            .max(text_width(&min_label, SMALL))
            .max(text_width(&max_label, SMALL));
    }
    if has_empty {
        key_w = key_w.max(text_width(NO_VALUE, SMALL));
    }
    let widest = |ticks: &[String]| {
        ticks
            .iter()
            .map(|s| text_width(s, SMALL))
            .fold(0.0, f64::max)
    };
    let left = 34.0 + widest(y_ticks) + 8.0;
    let right = WIDTH - (16.0 + 14.0 + 6.0 + key_w + 12.0);
    let cols = x_ticks.len().max(1) as f64;
    let rotate = widest(x_ticks) > (right - left) / cols - 4.0;
    let bottom = if rotate {
        HEIGHT - (34.0 + widest(x_ticks) * 0.71).min(160.0)
    } else {
        HEIGHT - 54.0
    };
    let area = Area {
        left,
        right,
        top,
        bottom,
    };
    svg.push(&format!(
        r##"<defs><pattern id="{HATCH_ID}" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#f2f2f2"/><line x1="0" y1="0" x2="0" y2="8" stroke="#b3b3b3" stroke-width="2"/></pattern>{}</defs>"##,
        gradient()
    ));
    if values.is_empty() || x_ticks.is_empty() {
        let attrs = r##"class="empty-note" text-anchor="middle" font-size="13" fill="#777777""##;
        svg.text(
            (left + right) / 2.0,
            (top + bottom) / 2.0,
            "no data to plot",
            attrs,
        );
    } else {
        cells(&mut svg, area, values, (min, max));
        tick_labels(&mut svg, area, x_ticks, y_ticks, rotate);
    }
    axis_labels(&mut svg, x_label, y_label, area, HEIGHT - 14.0);
    let bar_x = right + 16.0;
    if has_values {
        let h = bottom - top;
        let attrs = format!(
            r##"class="colorbar" fill="url(#{GRADIENT_ID})" stroke="#333333" stroke-width="0.5""##
        );
        svg.rect(bar_x, top, 14.0, h, &attrs);
        let attrs = format!(r##"class="colorbar-label" font-size="{SMALL}" fill="#000000""##);
        svg.text(bar_x + 20.0, top + 8.0, &max_label, &attrs);
        svg.text(bar_x + 20.0, bottom, &min_label, &attrs);
    }
    if has_empty {
        let y = if has_values { bottom + 10.0 } else { top };
        let attrs = format!(
            r##"class="legend-empty" fill="url(#{HATCH_ID})" stroke="#999999" stroke-width="0.5""##
        );
        svg.rect(bar_x, y, 14.0, 14.0, &attrs);
        let attrs = format!(r##"class="legend-label" font-size="{SMALL}" fill="#000000""##);
        svg.text(bar_x + 20.0, y + 11.0, NO_VALUE, &attrs);
    }
    svg.rect(
        left,
        top,
        right - left,
        bottom - top,
        r##"class="frame" fill="none" stroke="#333333" stroke-width="1""##,
    );
    Ok(svg.finish())
}

/// The colour bar's vertical gradient (min at the bottom) through the viridis stops.
fn gradient() -> String {
    let last = (VIRIDIS.len() - 1) as f64;
    let stops: String = VIRIDIS
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            format!(
                r#"<stop offset="{}" stop-color="{}"/>"#,
                num(i as f64 / last),
                hex(c)
            )
        })
        .collect();
    format!(
        r#"<linearGradient id="{GRADIENT_ID}" x1="0" y1="1" x2="0" y2="0">{stops}</linearGradient>"#
    )
}

/// The cells, row 0 at the bottom, coloured over [`min`, `max`], with their values.
fn cells(svg: &mut Svg, area: Area, values: &[Vec<Option<f64>>], (min, max): (f64, f64)) {
    let rows = values.len() as f64;
    let cols = values.first().map_or(1, Vec::len).max(1) as f64;
    let (cw, ch) = (
        (area.right - area.left) / cols,
        (area.bottom - area.top) / rows,
    );
    let texts: Vec<Vec<Option<String>>> = values
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| v.filter(|v| v.is_finite()).map(|v| fmt_sig(v, 3)))
                .collect()
        })
        .collect();
    let widest = texts
        .iter()
        .flatten()
        .flatten()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(1);
    let font = (12.0f64)
        .min(ch * 0.45)
        .min((cw - 4.0) / (widest as f64 * super::svg::CHAR_WIDTH))
        .max(5.0);
    for (r, (row, row_text)) in values.iter().zip(&texts).enumerate() {
        let y = area.bottom - (r as f64 + 1.0) * ch;
        for (c, (v, text)) in row.iter().zip(row_text).enumerate() {
            let x = area.left + c as f64 * cw;
            match (v, text) {
                (Some(v), Some(text)) => {
                    let t = if max > min {
                        (v - min) / (max - min)
                    } else {
                        0.5
                    };
                    let rgb = viridis(t);
                    let attrs = format!(
                        r##"class="cell" fill="{}" stroke="#ffffff" stroke-width="1""##,
                        hex(rgb)
                    );
                    svg.rect(x, y, cw, ch, &attrs);
                    let attrs = format!(
                        r#"class="cell-value" text-anchor="middle" font-size="{}" fill="{}""#,
                        num(font),
                        text_on(rgb)
                    );
                    svg.text(x + cw / 2.0, y + ch / 2.0 + font * 0.35, text, &attrs);
                }
                _ => {
                    let attrs = format!(
                        r##"class="cell-empty" fill="url(#{HATCH_ID})" stroke="#ffffff" stroke-width="1""##
                    );
                    svg.rect(x, y, cw, ch, &attrs);
                }
            }
        }
    }
}

/// Tick labels at the cell centres; x labels turned 45° when `rotate`.
fn tick_labels(svg: &mut Svg, area: Area, x_ticks: &[String], y_ticks: &[String], rotate: bool) {
    let cw = (area.right - area.left) / x_ticks.len().max(1) as f64;
    let ch = (area.bottom - area.top) / y_ticks.len().max(1) as f64;
    for (c, label) in x_ticks.iter().enumerate() {
        let x = area.left + (c as f64 + 0.5) * cw;
        let y = area.bottom + if rotate { 12.0 } else { 18.0 };
        let attrs = if rotate {
            format!(
                r##"class="tick-label" text-anchor="end" font-size="{SMALL}" fill="#333333" transform="rotate(-45 {} {})""##,
                num(x),
                num(y)
            )
        } else {
            format!(
                r##"class="tick-label" text-anchor="middle" font-size="{SMALL}" fill="#333333""##
            )
        };
        svg.text(x, y, label, &attrs);
    }
    let attrs =
        format!(r##"class="tick-label" text-anchor="end" font-size="{SMALL}" fill="#333333""##);
    for (r, label) in y_ticks.iter().enumerate() {
        let y = area.bottom - (r as f64 + 0.5) * ch;
        svg.text(area.left - 8.0, y + 4.0, label, &attrs);
    }
}
