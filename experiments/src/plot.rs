//! Charts for sweep reports, drawn with plotters' SVG backend (no font file, no system
//! library).
//!
//! Each chart kind is a plain data struct holding exactly what the chart shows, so tests and
//! reports can check the data apart from the drawing; its `render()` returns the SVG text and
//! [`write_svg`] saves it.
//!
//! - [`LineChart`] of [`Series`]: lines with markers and a confidence band per series (gap
//!   vs k, one line per T; gap vs T on a log x axis; learning curves; log–log rate plots);
//! - [`ScatterChart`] of [`ScatterGroup`]s: points on linear or log–log axes, with an
//!   optional dashed y = x diagonal (measured gap vs a bound) and an optional fitted line
//!   with its equation and R² in the legend;
//! - [`Heatmap`]: a value over two categorical axes, viridis-coloured cells with their values
//!   printed, hatched cells where there is no value (k > T), a colour bar;
//! - [`BarChart`] of [`Bar`]s: one bar per category with its error bar;
//! - [`least_squares`] and [`least_squares_through_origin`] give the [`Fit`] a scatter chart
//!   draws.
//!
//! Every chart is 720 × 480 px with a title, axis labels and, for x–y charts, a legend on
//! the right, beside the plot area so it never covers data. Series are told apart by colour
//! (the Okabe–Ito palette, readable with colour-vision deficiencies) and by marker shape
//! (circle, square, triangle up, diamond, triangle down). Log axes are labelled with plain
//! numbers (0.01, 10, 1000) or powers of ten (10⁻⁵, 10⁶). Points that cannot be placed
//! (a non-finite coordinate, or ≤ 0 on a log axis) are skipped and counted in a note under
//! the title (`skipped()` on each chart gives the count), so the output never contains `NaN`
//! or `inf`; with nothing to plot a chart still draws its frame, with the note
//! "no data to plot". Labels may hold any text (`<`, `&`, `−`, `≤`): it is escaped. The same
//! chart gives byte-identical SVG (plotters writes elements in draw order).
//!
//! In the SVG, each data point is one marker element in its series colour (`<circle>`,
//! `<rect>` or `<polygon>`, and one more per legend row); each heatmap cell one `<rect>`
//! (cells without a value: a `#EEEEEE` `<rect>` under grey hatch lines, the "no value" swatch
//! drawn the same way); each text one `<text>` element.
//!
//! ```
//! use smoe_experiments::plot::{LineChart, Series};
//!
//! let chart = LineChart {
//!     title: "gap vs k".into(),
//!     x_label: "k".into(),
//!     y_label: "generalization gap".into(),
//!     series: vec![Series {
//!         label: "T = 8".into(),
//!         points: vec![
//!             (1.0, 0.10, 0.08, 0.12),
//!             (2.0, 0.14, 0.11, 0.17),
//!             (f64::NAN, 0.20, 0.10, 0.30),
//!         ],
//!     }],
//!     ..LineChart::default()
//! };
//! assert_eq!(chart.skipped(), 1);
//! let svg = chart.render()?;
//! assert!(svg.starts_with("<svg") && svg.contains("T = 8"));
//! assert!(svg.contains("1 point(s) not shown (non-finite)"));
//! assert!(!svg.contains("NaN"));
//! assert_eq!(svg, chart.render()?);
//! # Ok::<(), anyhow::Error>(())
//! ```

mod axes;
mod bar;
mod canvas;
mod fit;
mod format;
mod heatmap;
mod lines;
mod scatter;
mod ticks;

use std::path::Path;

use anyhow::{Context, Result};

pub use bar::{Bar, BarChart};
pub use fit::{Fit, least_squares, least_squares_through_origin};
pub use heatmap::Heatmap;
pub use lines::{LineChart, Series};
pub use scatter::{ScatterChart, ScatterGroup};

/// Writes `svg` to `path`, creating the parent folders if needed.
///
/// # Errors
/// When a folder cannot be created or the file cannot be written.
pub fn write_svg(path: &Path, svg: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating folder {}", dir.display()))?;
    }
    std::fs::write(path, svg).with_context(|| format!("writing plot {}", path.display()))
}
