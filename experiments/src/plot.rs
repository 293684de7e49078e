//! Plots for sweep reports, as standalone SVG text: no font file, no system library.
//!
//! - [`lines_with_bands`]: one line per series with markers and a confidence band (gap vs k,
//!   one line per T; gap vs T per k on a log x axis);
//! - [`scatter_loglog`]: log–log scatter with an optional y = x diagonal (measured gap vs a
//!   bound);
//! - [`heatmap()`]: a value over two categorical axes, viridis-coloured, values printed in the
//!   cells, hatched cells where there is no value (k > T);
//! - [`scatter_with_fit`] with [`least_squares`] or [`least_squares_through_origin`]: points
//!   and a fitted line with its equation and R².
//!
//! Every plot is 720 × 480 px, has a title, axis labels and (for x–y plots) a legend, and is
//! written by hand as SVG elements, text included (`<text>` elements that the viewer renders
//! in its sans-serif font). Points with a non-finite coordinate are skipped (and counted in a
//! note under the title), so the output never contains `NaN` or `inf`. The same arguments
//! give byte-identical SVG. Data elements carry classes (`marker`, `band`, `series-line`,
//! `cell`, `cell-empty`, `cell-value`, `fit-line`, `diagonal`) so the output can be checked
//! or styled.
//!
//! ```
//! use smoe_experiments::plot::{Series, lines_with_bands};
//!
//! let series = [Series {
//!     label: "T = 8".into(),
//!     points: vec![(1.0, 0.10, 0.08, 0.12), (2.0, 0.14, 0.11, 0.17), (4.0, 0.19, 0.15, 0.23)],
//! }];
//! let svg = lines_with_bands("gap vs k", "k", "generalization gap", &series, false)?;
//! assert!(svg.starts_with("<svg") && svg.contains("T = 8"));
//! assert_eq!(svg.matches(r#"class="marker""#).count(), 3);
//! # Ok::<(), anyhow::Error>(())
//! ```

mod axis;
mod fit;
mod frame;
mod heatmap;
mod lines;
mod scatter;
mod style;
mod svg;

use std::path::Path;

use anyhow::{Context, Result};

pub use fit::{Fit, least_squares, least_squares_through_origin};
pub use heatmap::heatmap;
pub use lines::{Series, lines_with_bands};
pub use scatter::{ScatterGroup, scatter_loglog, scatter_with_fit};

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
