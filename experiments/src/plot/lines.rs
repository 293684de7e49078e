//! Line plots with markers and confidence bands.

use anyhow::Result;

use super::axis::Range;
use super::frame::{Chart, ChartSpec, LegendAt, LegendEntry};
use super::style::{Shape, color, marker};

/// One line of [`lines_with_bands`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points `(x, mean y, ci low, ci high)`; drawn in order of x.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// A point kept for drawing: x, y and its band (low ≤ high) if the interval is finite.
struct Kept {
    x: f64,
    y: f64,
    band: Option<(f64, f64)>,
}

/// One line per series, with a marker at each point and a translucent band between each
/// point's ci low and ci high; a legend on the right; the x axis logarithmic (base 10) if
/// `log_x`. 720 × 480 px.
///
/// A point is plotted only when its x and mean y are finite (and x > 0 if `log_x`); the
/// others are skipped and their number is noted under the title. A plotted point whose ci low
/// or ci high is not finite gets no band there (the band is split around it); ci low and high
/// may come in either order. Points are joined in order of increasing x. Each plotted point
/// is one element with `class="marker"`. With nothing to plot, the frame is drawn with the
/// note "no data to plot". The output depends only on the arguments (byte-identical for the
/// same input).
///
/// # Errors
/// When the values span more than an `f64` can represent (e.g. `-1e308` and `1e308`).
pub fn lines_with_bands(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_x: bool,
) -> Result<String> {
    let mut skipped = 0usize;
    let kept: Vec<Vec<Kept>> = series
        .iter()
        .map(|s| {
            let mut pts: Vec<Kept> = s
                .points
                .iter()
                .filter_map(|&(x, y, lo, hi)| {
                    let ok = x.is_finite() && y.is_finite() && (!log_x || x > 0.0);
                    if !ok {
                        skipped += 1;
                        return None;
                    }
                    let band = (lo.is_finite() && hi.is_finite()).then(|| (lo.min(hi), lo.max(hi)));
                    Some(Kept { x, y, band })
                })
                .collect();
            pts.sort_by(|a, b| a.x.total_cmp(&b.x));
            pts
        })
        .collect();
    let xs: Vec<f64> = kept.iter().flatten().map(|p| p.x).collect();
    let mut ys: Vec<f64> = kept.iter().flatten().map(|p| p.y).collect();
    for (lo, hi) in kept.iter().flatten().filter_map(|p| p.band) {
        ys.extend([lo, hi]);
    }
    let x_range = Range::covering(&xs, log_x)?;
    let y_range = Range::covering(&ys, false)?;
    let legend = series
        .iter()
        .zip(&kept)
        .enumerate()
        .map(|(i, (s, pts))| LegendEntry {
            label: s.label.clone(),
            color: color(i),
            marker: Some(Shape::nth(i)),
            line: Some(false),
            band: pts.iter().any(|p| p.band.is_some()),
        })
        .collect();
    let note = (skipped > 0).then(|| {
        let why = if log_x {
            "non-finite, or x ≤ 0 on the log axis"
        } else {
            "non-finite"
        };
        format!("{skipped} point(s) not shown ({why})")
    });
    let spec = ChartSpec {
        title,
        x_label,
        y_label,
        note,
        legend,
        legend_at: LegendAt::Right,
        empty_note: xs.is_empty().then_some("no data to plot"),
    };
    let mut chart = Chart::begin(&spec, x_range, y_range);
    chart.begin_clip();
    for (i, pts) in kept.iter().enumerate() {
        draw_bands(&mut chart, pts, color(i));
    }
    for (i, pts) in kept.iter().enumerate() {
        if pts.len() >= 2 {
            let line: Vec<(f64, f64)> = pts.iter().map(|p| chart.at(p.x, p.y)).collect();
            let attrs = format!(
                r#"class="series-line" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round""#,
                color(i)
            );
            chart.svg().polyline(&line, &attrs);
        }
    }
    chart.end_clip();
    for (i, pts) in kept.iter().enumerate() {
        for p in pts {
            let (cx, cy) = chart.at(p.x, p.y);
            let m = marker(Shape::nth(i), cx, cy, 4.0, color(i), "marker");
            chart.svg().push(&m);
        }
    }
    Ok(chart.finish())
}

/// The band of one series: a polygon over each run of consecutive points that have an
/// interval; a lone point with an interval gets a thick translucent vertical bar.
fn draw_bands(chart: &mut Chart, pts: &[Kept], fill: &str) {
    let runs = pts.split(|p| p.band.is_none()).filter(|r| !r.is_empty());
    for run in runs {
        let bands: Vec<(f64, f64, f64)> = run
            .iter()
            .filter_map(|p| p.band.map(|(lo, hi)| (p.x, lo, hi)))
            .collect();
        if let [(x, lo, hi)] = bands[..] {
            let (px, top) = chart.at(x, hi);
            let (_, bottom) = chart.at(x, lo);
            let attrs =
                format!(r#"class="band" stroke="{fill}" stroke-opacity="0.25" stroke-width="8""#);
            chart.svg().line(px, top, px, bottom, &attrs);
            continue;
        }
        let mut outline: Vec<(f64, f64)> =
            bands.iter().map(|&(x, _, hi)| chart.at(x, hi)).collect();
        outline.extend(bands.iter().rev().map(|&(x, lo, _)| chart.at(x, lo)));
        let attrs = format!(r#"class="band" fill="{fill}" fill-opacity="0.2" stroke="none""#);
        chart.svg().polygon(&outline, &attrs);
    }
}
