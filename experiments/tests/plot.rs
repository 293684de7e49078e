//! The charts against their public API: the data structs count what they skip; every SVG is
//! well-formed XML (parsed strictly by roxmltree), 720 × 480, shows its title, axis labels and
//! legend labels, has one marker per plotted point, no NaN/inf, and is byte-identical across
//! calls; the least-squares fits match hand-computed values.
//!
//! Elements are recognised the way the module doc describes: a marker is a filled element in
//! its series colour at full opacity (`<circle>` for series 0, `<rect>` for series 1,
//! `<polygon>` for series 2–4), plus one per legend row; bands are translucent; hatched cells
//! are `#EEEEEE` rectangles.

use roxmltree::{Document, Node};
use smoe_experiments::plot::{
    Bar, BarChart, Fit, Heatmap, LineChart, ScatterChart, ScatterGroup, Series, least_squares,
    least_squares_through_origin, write_svg,
};

/// Okabe–Ito colours of series 0, 1 and 2.
const BLUE: &str = "#0072B2";
const VERMILLION: &str = "#D55E00";
const GREEN: &str = "#009E73";
/// Background of hatched cells.
const HATCH: &str = "#EEEEEE";

// ---------------------------------------------------------------------------------------------
// Helpers over a parsed chart.

/// Parses `svg` strictly, checks the root and that nothing holds NaN or inf.
fn parse(svg: &str) -> Document<'_> {
    let doc = Document::parse(svg).unwrap_or_else(|e| panic!("not well-formed: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("width"), Some("720"));
    assert_eq!(root.attribute("height"), Some("480"));
    for e in doc.descendants().filter(Node::is_element) {
        for a in e.attributes() {
            let v = a.value().to_lowercase();
            assert!(
                !v.contains("nan") && !v.contains("inf"),
                "<{} {}={:?}>",
                e.tag_name().name(),
                a.name(),
                a.value()
            );
        }
    }
    for t in texts(&doc) {
        assert!(!t.contains("NaN") && !t.contains("inf"), "text {t:?}");
    }
    doc
}

/// The contents of all `<text>` elements, trimmed, in document order.
fn texts(doc: &Document) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().trim().to_string())
        .collect()
}

fn has_text(doc: &Document, s: &str) -> bool {
    texts(doc).iter().any(|t| t == s)
}

/// Elements `<tag>` filled with `fill` at opacity `opacity`.
fn filled<'a>(doc: &'a Document, tag: &str, fill: &str, opacity: &str) -> Vec<Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| {
            n.has_tag_name(tag)
                && n.attribute("fill") == Some(fill)
                && n.attribute("opacity") == Some(opacity)
        })
        .collect()
}

fn num(n: &Node, key: &str) -> f64 {
    n.attribute(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("<{}> has no numeric {key}", n.tag_name().name()))
}

/// The vertices of a `points` attribute.
fn points(n: &Node) -> Vec<(f64, f64)> {
    n.attribute("points")
        .unwrap_or_default()
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').expect("x,y");
            (x.parse().expect("x"), y.parse().expect("y"))
        })
        .collect()
}

/// The centre of a marker: a circle's centre, a rectangle's middle, a polygon's mean vertex.
fn centre(n: &Node) -> (f64, f64) {
    match n.tag_name().name() {
        "circle" => (num(n, "cx"), num(n, "cy")),
        "rect" => (
            num(n, "x") + num(n, "width") / 2.0,
            num(n, "y") + num(n, "height") / 2.0,
        ),
        "polygon" => {
            let p = points(n);
            let k = p.len() as f64;
            (
                p.iter().map(|v| v.0).sum::<f64>() / k,
                p.iter().map(|v| v.1).sum::<f64>() / k,
            )
        }
        other => panic!("marker element <{other}>"),
    }
}

/// The frame around the plot area: (left, top, right, bottom).
fn frame(doc: &Document) -> (f64, f64, f64, f64) {
    let f: Vec<Node> = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name("rect")
                && n.attribute("fill") == Some("none")
                && n.attribute("stroke") == Some("#333333")
        })
        .collect();
    assert_eq!(f.len(), 1, "one frame");
    let (x, y) = (num(&f[0], "x"), num(&f[0], "y"));
    (x, y, x + num(&f[0], "width"), y + num(&f[0], "height"))
}

/// Whether `(x, y)` is inside the frame `(l, t, r, b)`.
fn inside((x, y): (f64, f64), (l, t, r, b): (f64, f64, f64, f64)) -> bool {
    x > l && x < r && y > t && y < b
}

/// The centres of the markers of a series inside the plot area (legend rows excluded).
fn markers_in_plot(doc: &Document, tag: &str, fill: &str) -> Vec<(f64, f64)> {
    let f = frame(doc);
    filled(doc, tag, fill, "1")
        .iter()
        .map(centre)
        .filter(|&c| inside(c, f))
        .collect()
}

/// Polylines stroked in `stroke` with width `width`.
fn polylines<'a>(doc: &'a Document, stroke: &str, width: &str) -> Vec<Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| {
            n.has_tag_name("polyline")
                && n.attribute("stroke") == Some(stroke)
                && n.attribute("stroke-width") == Some(width)
        })
        .collect()
}

fn s(v: &str) -> String {
    v.to_string()
}

fn labels(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// LineChart

fn two_series() -> Vec<Series> {
    vec![
        Series {
            label: s("T = 8"),
            points: vec![
                (1.0, 0.10, 0.08, 0.12),
                (2.0, 0.14, 0.11, 0.17),
                (4.0, 0.19, 0.15, 0.23),
            ],
        },
        Series {
            label: s("T = 16"),
            points: vec![
                (4.0, 0.25, 0.20, 0.30),
                (1.0, 0.12, 0.10, 0.14),
                (2.0, f64::NAN, 0.1, 0.2),
                (8.0, 0.30, f64::NAN, 0.4),
                (16.0, 0.33, 0.36, 0.30),
            ],
        },
    ]
}

fn line_chart(series: Vec<Series>, log_x: bool, log_y: bool) -> LineChart {
    LineChart {
        title: s("gap vs k"),
        x_label: s("k (experts per input)"),
        y_label: s("gap"),
        series,
        log_x,
        log_y,
    }
}

#[test]
fn lines_show_labels_markers_and_bands() {
    let chart = line_chart(two_series(), false, false);
    assert_eq!(chart.skipped(), 1);
    let svg = chart.render().expect("render");
    let doc = parse(&svg);
    for t in [
        "gap vs k",
        "k (experts per input)",
        "gap",
        "T = 8",
        "T = 16",
        "1 point(s) not shown (non-finite)",
    ] {
        assert!(has_text(&doc, t), "{t:?} missing from {:?}", texts(&doc));
    }
    // 3 + 4 plotted points, one marker each (circles for series 0, squares for series 1),
    // plus one per legend row.
    assert_eq!(markers_in_plot(&doc, "circle", BLUE).len(), 3);
    assert_eq!(markers_in_plot(&doc, "rect", VERMILLION).len(), 4);
    assert_eq!(filled(&doc, "circle", BLUE, "1").len(), 4);
    assert_eq!(filled(&doc, "rect", VERMILLION, "1").len(), 5);
    // Series 0 has one band polygon; series 1's band is split by the point without an
    // interval (x = 8): a polygon over x = 1, 4 and a lone bar at x = 16.
    assert_eq!(filled(&doc, "polygon", BLUE, "0.2").len(), 1);
    assert_eq!(filled(&doc, "polygon", VERMILLION, "0.2").len(), 1);
    assert_eq!(filled(&doc, "rect", VERMILLION, "0.25").len(), 1);
    // One line per series (and one legend swatch each); series 1 is joined in order of x.
    let lines = polylines(&doc, VERMILLION, "2");
    assert_eq!(lines.len(), 2);
    let xs: Vec<f64> = points(&lines[1]).iter().map(|p| p.0).collect();
    assert_eq!(xs.len(), 4);
    assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
    assert_eq!(polylines(&doc, BLUE, "2").len(), 2);
}

#[test]
fn series_get_distinct_colours_and_marker_shapes() {
    let series: Vec<Series> = (0..5)
        .map(|i| Series {
            label: format!("s{i}"),
            points: vec![
                (1.0, i as f64, i as f64, i as f64),
                (2.0, i as f64 + 0.5, 0.0, 0.0),
            ],
        })
        .collect();
    let svg = line_chart(series, false, false).render().expect("render");
    let doc = parse(&svg);
    // Circles, squares, then polygons (triangle up, diamond, triangle down) in the next
    // Okabe–Ito colours: two data markers each.
    assert_eq!(markers_in_plot(&doc, "circle", BLUE).len(), 2);
    assert_eq!(markers_in_plot(&doc, "rect", VERMILLION).len(), 2);
    let green = markers_in_plot(&doc, "polygon", GREEN);
    assert_eq!(green.len(), 2);
    let vertices: Vec<usize> = ["#009E73", "#CC79A7", "#E69F00"]
        .iter()
        .map(|c| points(&filled(&doc, "polygon", c, "1")[0]).len())
        .collect();
    assert_eq!(vertices, [3, 4, 3]);
    for l in ["s0", "s1", "s2", "s3", "s4"] {
        assert!(has_text(&doc, l), "legend {l}");
    }
}

#[test]
fn lines_place_markers_by_value() {
    let series = vec![Series {
        label: String::new(),
        points: vec![
            (0.0, 0.0, 0.0, 0.0),
            (1.0, 1.0, 1.0, 1.0),
            (2.0, 4.0, 4.0, 4.0),
        ],
    }];
    let svg = line_chart(series, false, false).render().expect("render");
    let doc = parse(&svg);
    // An empty label: no legend row, so every circle is a data marker.
    let c: Vec<(f64, f64)> = filled(&doc, "circle", BLUE, "1")
        .iter()
        .map(centre)
        .collect();
    assert_eq!(c.len(), 3);
    // Linear axes: equal x steps give equal pixel steps (to the pixel); y grows upwards and
    // y = 4 is 4× as far from y = 0 as y = 1 is.
    assert!(
        ((c[1].0 - c[0].0) - (c[2].0 - c[1].0)).abs() <= 1.0,
        "{c:?}"
    );
    let (d1, d4) = (c[0].1 - c[1].1, c[0].1 - c[2].1);
    assert!(d1 > 50.0 && (d4 / d1 - 4.0).abs() < 0.05, "{c:?}");
    let f = frame(&doc);
    assert!(c.iter().all(|&p| inside(p, f)), "{c:?} outside {f:?}");
}

#[test]
fn lines_log_x_skips_non_positive_x_and_spaces_decades_evenly() {
    let series = vec![Series {
        label: s("k = 2"),
        points: vec![
            (0.0, 1.0, 0.9, 1.1),
            (-4.0, 1.0, 0.9, 1.1),
            (2.0, 1.0, 0.9, 1.1),
            (20.0, 2.0, 1.9, 2.1),
            (200.0, 3.0, 2.9, 3.1),
        ],
    }];
    let chart = line_chart(series, true, false);
    assert_eq!(chart.skipped(), 2);
    let doc_text = chart.render().expect("render");
    let doc = parse(&doc_text);
    let c = markers_in_plot(&doc, "circle", BLUE);
    assert_eq!(c.len(), 3);
    // x = 2, 20, 200: one decade apart each, so equally spaced.
    assert!(
        ((c[1].0 - c[0].0) - (c[2].0 - c[1].0)).abs() <= 1.0,
        "{c:?}"
    );
    assert!(has_text(
        &doc,
        "2 point(s) not shown (non-finite, or x ≤ 0 on the log axis)"
    ));
    for t in ["10", "100"] {
        assert!(has_text(&doc, t), "tick {t} missing from {:?}", texts(&doc));
    }
}

#[test]
fn lines_log_log_label_decades_and_draw_bands_reaching_zero_to_the_axis() {
    let series = vec![Series {
        label: s("rate"),
        points: vec![
            (1e3, 1e-2, -1.0, 2e-2),
            (1e4, 3e-3, 2e-3, 4e-3),
            (1e5, 1e-3, 5e-4, 2e-3),
            (1e6, 0.0, 0.0, 1e-3),
        ],
    }];
    let chart = line_chart(series, true, true);
    assert_eq!(chart.skipped(), 1, "y = 0 cannot be placed on a log axis");
    let svg = chart.render().expect("render");
    let doc = parse(&svg);
    assert!(has_text(
        &doc,
        "1 point(s) not shown (non-finite, or ≤ 0 on a log axis)"
    ));
    // All decades on the x axis in powers of ten, since 10⁵ is one.
    for t in ["10³", "10⁴", "10⁵"] {
        assert!(has_text(&doc, t), "tick {t} missing from {:?}", texts(&doc));
    }
    // The band's first point reaches below 0: drawn down to the bottom of the frame.
    let band = filled(&doc, "polygon", BLUE, "0.2");
    assert_eq!(band.len(), 1);
    let lowest = points(&band[0]).iter().map(|p| p.1).fold(0.0, f64::max);
    let (_, _, _, bottom) = frame(&doc);
    assert!((lowest - bottom).abs() <= 2.0, "{lowest} vs {bottom}");
}

#[test]
fn lines_escape_text_and_handle_no_data() {
    let series = vec![Series {
        label: s("k ≤ T & x < 2 − \"q\""),
        points: vec![(1.0, 0.5, 0.4, 0.6), (2.0, 0.7, 0.6, 0.8)],
    }];
    let mut chart = line_chart(series, false, false);
    chart.title = s("<b>gap</b> & more");
    chart.x_label = s("it's\u{1} <x>\n");
    let svg = chart.render().expect("render");
    assert!(!svg.contains("<b>") && !svg.contains('\u{1}'));
    let doc = parse(&svg);
    assert!(has_text(&doc, "<b>gap</b> & more"));
    assert!(has_text(&doc, "k ≤ T & x < 2 − \"q\""), "{:?}", texts(&doc));
    assert!(has_text(&doc, "it's <x>"), "{:?}", texts(&doc));

    for chart in [
        line_chart(Vec::new(), false, false),
        line_chart(
            vec![Series {
                label: s("all bad"),
                points: vec![(f64::NAN, 1.0, 0.0, 2.0), (1.0, f64::INFINITY, 0.0, 1.0)],
            }],
            true,
            true,
        ),
    ] {
        let svg = chart.render().expect("render");
        let doc = parse(&svg);
        assert!(has_text(&doc, "no data to plot"));
        assert!(has_text(&doc, "gap vs k"));
        assert!(filled(&doc, "circle", BLUE, "1").len() <= 1, "legend only");
    }
}

#[test]
fn lines_reject_ranges_wider_than_f64() {
    let series = vec![Series {
        label: s("huge"),
        points: vec![(0.0, -1e308, -1e308, -1e308), (1.0, 1e308, 1e308, 1e308)],
    }];
    assert!(line_chart(series, false, false).render().is_err());
}

// ---------------------------------------------------------------------------------------------
// ScatterChart

fn groups() -> Vec<ScatterGroup> {
    vec![
        ScatterGroup {
            label: s("Zhao et al. 2024"),
            points: vec![(0.01, 0.5), (0.1, 2.0), (1.0, 9.0), (0.0, 1.0), (1.0, -2.0)],
        },
        ScatterGroup {
            label: s("dense bound"),
            points: vec![(0.02, 3.0), (f64::NAN, 1.0), (0.5, 40.0)],
        },
    ]
}

fn loglog(groups: Vec<ScatterGroup>, diagonal: bool) -> ScatterChart {
    ScatterChart {
        title: s("gap vs bound"),
        x_label: s("measured gap"),
        y_label: s("bound"),
        groups,
        log_log: true,
        diagonal,
        fit: None,
    }
}

#[test]
fn loglog_scatter_shows_groups_and_diagonal() {
    let chart = loglog(groups(), true);
    assert_eq!(chart.skipped(), 3);
    let svg = chart.render().expect("render");
    let doc = parse(&svg);
    for t in [
        "gap vs bound",
        "measured gap",
        "bound",
        "Zhao et al. 2024",
        "dense bound",
        "y = x",
        "3 point(s) not shown (non-finite, or ≤ 0 on a log axis)",
        "0.01",
        "10",
    ] {
        assert!(has_text(&doc, t), "{t:?} missing from {:?}", texts(&doc));
    }
    let zhao = markers_in_plot(&doc, "circle", BLUE);
    assert_eq!(zhao.len(), 3);
    assert_eq!(markers_in_plot(&doc, "rect", VERMILLION).len(), 2);
    // The dashed diagonal runs corner to corner (both axes share one range): its dashes start
    // at the bottom-left and end at the top-right of the plot area.
    let (left, top, right, bottom) = frame(&doc);
    let near = (left - 2.0, top - 2.0, right + 2.0, bottom + 2.0);
    let dashes: Vec<Vec<(f64, f64)>> = polylines(&doc, "#555555", "1")
        .iter()
        .map(points)
        .filter(|p| inside(p[0], near))
        .collect();
    assert!(dashes.len() > 10, "{} dashes", dashes.len());
    let first = dashes[0][0];
    let last = *dashes[dashes.len() - 1].last().expect("a point");
    assert!(
        (first.0 - left).abs() <= 2.0 && (first.1 - bottom).abs() <= 2.0,
        "{first:?}"
    );
    assert!(
        (last.0 - right).abs() <= 12.0 && (last.1 - top).abs() <= 12.0,
        "{last:?}"
    );
    // Every Zhao point has y > x, so lies above (smaller pixel y than) the diagonal.
    for &(x, y) in &zhao {
        let on_diagonal = bottom - (x - left) * (bottom - top) / (right - left);
        assert!(y < on_diagonal, "({x}, {y}) not above the diagonal");
    }
}

#[test]
fn loglog_scatter_without_diagonal_and_without_points() {
    let doc_text = loglog(groups(), false).render().expect("render");
    let doc = parse(&doc_text);
    assert!(polylines(&doc, "#555555", "1").is_empty());
    assert!(!has_text(&doc, "y = x"));
    let bad = vec![ScatterGroup {
        label: s("all bad"),
        points: vec![(0.0, 1.0), (-1.0, 2.0), (1.0, f64::NAN)],
    }];
    let chart = loglog(bad, true);
    assert_eq!(chart.skipped(), 3);
    let svg = chart.render().expect("render");
    let doc = parse(&svg);
    assert!(markers_in_plot(&doc, "circle", BLUE).is_empty());
    assert!(has_text(&doc, "no data to plot"));
    assert!(has_text(&doc, "gap vs bound"));
}

fn with_fit(points: Vec<(f64, f64)>, fit: Option<Fit>) -> ScatterChart {
    ScatterChart {
        title: s("gap vs complexity"),
        x_label: s("sqrt(k (1 + log(T/k)))"),
        y_label: s("gap"),
        groups: vec![ScatterGroup {
            label: s("data (n = 5)"),
            points,
        }],
        log_log: false,
        diagonal: false,
        fit,
    }
}

#[test]
fn scatter_with_fit_draws_points_on_the_line() {
    let pts: Vec<(f64, f64)> = (0..5).map(|i| (i as f64, 2.0 * i as f64 + 1.0)).collect();
    let fit = least_squares(&pts).expect("fit");
    let mut with_bad = pts.clone();
    with_bad.push((f64::NAN, 3.0));
    let chart = with_fit(with_bad, Some(fit));
    assert_eq!(chart.skipped(), 1);
    let svg = chart.render().expect("render");
    let doc = parse(&svg);
    // The equation wraps after its comma in the legend.
    for t in [
        "gap vs complexity",
        "sqrt(k (1 + log(T/k)))",
        "data (n = 5)",
        "y = 2 x + 1,",
        "R² = 1.000",
        "1 point(s) not shown (non-finite)",
    ] {
        assert!(has_text(&doc, t), "{t:?} missing from {:?}", texts(&doc));
    }
    let centres = markers_in_plot(&doc, "circle", BLUE);
    assert_eq!(centres.len(), 5);
    // The fit line (in the colour after the group's) and its legend swatch.
    let f = frame(&doc);
    let lines: Vec<Node> = polylines(&doc, VERMILLION, "2")
        .into_iter()
        .filter(|n| inside(points(n)[0], (f.0 - 1.0, f.1 - 1.0, f.2 + 1.0, f.3 + 1.0)))
        .collect();
    assert_eq!(lines.len(), 1);
    let p = points(&lines[0]);
    assert_eq!(p.len(), 2);
    let ((x1, y1), (x2, y2)) = (p[0], p[1]);
    // Every marker lies on the drawn line (to the pixel rounding of the output).
    for &(cx, cy) in &centres {
        let on_line = y1 + (cx - x1) * (y2 - y1) / (x2 - x1);
        assert!(
            (cy - on_line).abs() < 1.5,
            "marker ({cx}, {cy}) vs line {on_line}"
        );
    }
}

#[test]
fn scatter_with_fit_clips_a_steep_line_and_works_without_fit() {
    let pts = vec![(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)];
    let steep = Fit {
        slope: 100.0,
        intercept: 0.0,
        r2: 0.0,
    };
    let svg = with_fit(pts.clone(), Some(steep)).render().expect("render");
    let doc = parse(&svg);
    let (left, top, right, bottom) = frame(&doc);
    let line: Vec<(f64, f64)> = polylines(&doc, VERMILLION, "2")
        .iter()
        .flat_map(|n| points(n))
        .filter(|p| p.0 < right + 1.0)
        .collect();
    assert_eq!(line.len(), 2);
    for (x, y) in line {
        assert!(x >= left - 1.0 && x <= right + 1.0, "{x}");
        assert!(
            y >= top - 1.0 && y <= bottom + 1.0,
            "{y} outside [{top}, {bottom}]"
        );
    }

    let svg = with_fit(pts.clone(), None).render().expect("render");
    let doc = parse(&svg);
    assert!(polylines(&doc, VERMILLION, "2").is_empty());
    assert_eq!(markers_in_plot(&doc, "circle", BLUE).len(), 3);

    let nan_fit = Fit {
        slope: f64::NAN,
        intercept: 0.0,
        r2: 0.0,
    };
    let svg = with_fit(Vec::new(), Some(nan_fit))
        .render()
        .expect("render");
    let doc = parse(&svg);
    assert!(polylines(&doc, VERMILLION, "2").is_empty());
    assert!(has_text(&doc, "no data to plot"));
}

#[test]
fn scatter_fit_on_log_log_axes_is_drawn_as_a_curve_inside_the_frame() {
    let pts = vec![(0.1, 0.2), (1.0, 2.1), (10.0, 19.0)];
    let mut chart = with_fit(pts.clone(), least_squares(&pts));
    chart.log_log = true;
    let svg = chart.render().expect("render");
    let doc = parse(&svg);
    let f = frame(&doc);
    let curve: Vec<(f64, f64)> = polylines(&doc, VERMILLION, "2")
        .iter()
        .flat_map(|n| points(n))
        .filter(|&p| p.0 <= f.2 + 1.0)
        .collect();
    assert!(curve.len() > 20, "{} samples", curve.len());
    assert!(curve.iter().all(|&(_, y)| y >= f.1 - 1.0 && y <= f.3 + 1.0));
}

// ---------------------------------------------------------------------------------------------
// Heatmap

fn heatmap(x_ticks: &[&str], y_ticks: &[&str], values: Vec<Vec<Option<f64>>>) -> Heatmap {
    Heatmap {
        title: s("gap over k × T"),
        x_label: s("T"),
        y_label: s("k"),
        x_ticks: labels(x_ticks),
        y_ticks: labels(y_ticks),
        values,
    }
}

/// Rectangles inside the frame that are cells with a value (filled, opaque, not hatched).
fn value_cells<'a>(doc: &'a Document) -> Vec<Node<'a, 'a>> {
    let f = frame(doc);
    doc.descendants()
        .filter(|n| {
            n.has_tag_name("rect")
                && n.attribute("opacity") == Some("1")
                && !matches!(n.attribute("fill"), Some("none" | "#FFFFFF" | HATCH))
                && inside(centre(n), f)
        })
        .collect()
}

/// Hatched rectangles inside the frame.
fn hatched_cells<'a>(doc: &'a Document) -> Vec<Node<'a, 'a>> {
    let f = frame(doc);
    filled(doc, "rect", HATCH, "1")
        .into_iter()
        .filter(|n| inside(centre(n), f))
        .collect()
}

#[test]
fn heatmap_cells_values_hatching_and_colorbar() {
    // k (rows) × T (columns); k > T has no value.
    let chart = heatmap(
        &["1", "2", "4", "8"],
        &["1", "2", "4"],
        vec![
            vec![Some(0.01), Some(0.0123456), Some(0.05), Some(0.08)],
            vec![None, Some(0.02), Some(0.06), Some(0.09)],
            vec![None, None, Some(0.07), Some(0.1)],
        ],
    );
    assert_eq!((chart.hatched(), chart.skipped()), (3, 0));
    let svg = chart.render().expect("render");
    let doc = parse(&svg);
    for t in [
        "gap over k × T",
        "T",
        "k",
        "0.0123",
        "no value",
        "0.1",
        "0.01",
        "8",
    ] {
        assert!(has_text(&doc, t), "{t:?} missing from {:?}", texts(&doc));
    }
    let cells = value_cells(&doc);
    assert_eq!(cells.len(), 9);
    // Exactly the None cells are hatched (plus the legend swatch outside the frame), each
    // crossed by grey lines.
    assert_eq!(hatched_cells(&doc).len(), 3);
    assert_eq!(filled(&doc, "rect", HATCH, "1").len(), 4);
    assert!(polylines(&doc, "#AAAAAA", "1").len() >= 4 * 3);
    // The minimum gets viridis' first colour, the maximum its last; row 0 is at the bottom.
    assert_eq!(cells[0].attribute("fill"), Some("#440154"));
    assert_eq!(cells[8].attribute("fill"), Some("#FEE825"));
    assert!(num(&cells[0], "y") > num(&cells[8], "y"));
    // Values in the cells: 3 significant digits, in white on the dark first cell.
    let first = doc
        .descendants()
        .find(|n| n.has_tag_name("text") && n.text().unwrap_or_default().trim() == "0.0123")
        .expect("value text");
    assert!(inside((num(&first, "x"), num(&first, "y")), frame(&doc)));
    let dark = doc
        .descendants()
        .find(|n| n.has_tag_name("text") && n.text().unwrap_or_default().trim() == "0.01")
        .expect("0.01");
    assert_eq!(dark.attribute("fill"), Some("#FFFFFF"));
    // The colour bar: strips from viridis' first to its last colour, right of the frame.
    let (_, _, right, _) = frame(&doc);
    let strips: Vec<Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("opacity") == Some("1"))
        .filter(|n| centre(n).0 > right)
        .filter(|n| !matches!(n.attribute("fill"), Some("none" | HATCH)))
        .collect();
    assert_eq!(strips.len(), 64);
}

#[test]
fn heatmap_non_finite_values_equal_values_and_empty_grid() {
    let chart = heatmap(&["a", "b"], &["r"], vec![vec![Some(f64::NAN), Some(3.0)]]);
    assert_eq!((chart.hatched(), chart.skipped()), (2 - 1, 1));
    let svg = chart.render().expect("render");
    let doc = parse(&svg);
    assert_eq!(value_cells(&doc).len(), 1);
    assert_eq!(hatched_cells(&doc).len(), 1);
    assert!(has_text(&doc, "1 non-finite value(s) shown as empty"));
    // A single value: the middle colour; min = max label.
    assert_eq!(value_cells(&doc)[0].attribute("fill"), Some("#23918C"));
    assert_eq!(texts(&doc).iter().filter(|t| *t == "3").count(), 3);

    let svg = heatmap(&[], &[], Vec::new()).render().expect("render");
    let doc = parse(&svg);
    assert!(has_text(&doc, "no data to plot"));
    assert!(value_cells(&doc).is_empty());
    assert!(!has_text(&doc, "no value"));

    let chart = heatmap(&["a", "b"], &["r"], vec![vec![None, None]]);
    let svg = chart.render().expect("render");
    let doc = parse(&svg);
    assert_eq!(hatched_cells(&doc).len(), 2);
    assert!(value_cells(&doc).is_empty());
    assert!(has_text(&doc, "no value"));
}

#[test]
fn heatmap_rejects_mismatched_shapes() {
    let e = heatmap(&["a", "b"], &["r", "s"], vec![vec![Some(1.0), None]])
        .render()
        .expect_err("rows");
    assert!(
        e.to_string().contains("1 rows of values for 2 y ticks"),
        "{e}"
    );
    let e = heatmap(
        &["a", "b"],
        &["r", "s"],
        vec![vec![Some(1.0)], vec![None, None]],
    )
    .render()
    .expect_err("columns");
    assert!(
        e.to_string().contains("row 0 has 1 values for 2 x ticks"),
        "{e}"
    );
}

#[test]
fn heatmap_turns_long_column_labels_upright() {
    let xs: Vec<String> = (0..12).map(|i| format!("T = {} experts", 1 << i)).collect();
    let xs: Vec<&str> = xs.iter().map(String::as_str).collect();
    let values = vec![(0..12).map(|i| Some(i as f64)).collect()];
    let svg = heatmap(&xs, &["k = 1"], values).render().expect("render");
    let doc = parse(&svg);
    let upright = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter(|n| n.text().unwrap_or_default().trim().starts_with("T = "))
        .filter(|n| {
            n.attribute("transform")
                .is_some_and(|t| t.starts_with("rotate(270"))
        })
        .count();
    assert_eq!(upright, 12);
}

// ---------------------------------------------------------------------------------------------
// BarChart

fn bar(label: &str, value: f64, ci_low: f64, ci_high: f64) -> Bar {
    Bar {
        label: s(label),
        value,
        ci_low,
        ci_high,
    }
}

fn bar_chart(bars: Vec<Bar>) -> BarChart {
    BarChart {
        title: s("bound / gap"),
        x_label: s("bound"),
        y_label: s("ratio"),
        bars,
    }
}

#[test]
fn bars_show_values_error_bars_and_labels() {
    let chart = bar_chart(vec![
        bar("Zhao", 12.5, 10.0, 15.0),
        bar("D1 worst", 4.25, 4.6, 3.9),
        bar("D1 learned", f64::NAN, 1.0, 1.7),
        bar("VC", 30.0, f64::NAN, 31.0),
    ]);
    assert_eq!(chart.skipped(), 1);
    let svg = chart.render().expect("render");
    let doc = parse(&svg);
    for t in [
        "bound / gap",
        "bound",
        "ratio",
        "Zhao",
        "D1 worst",
        "D1 learned",
        "VC",
        "12.5",
        "4.25",
        "30",
        "1 bar(s) not shown (non-finite value)",
    ] {
        assert!(has_text(&doc, t), "{t:?} missing from {:?}", texts(&doc));
    }
    let bars = filled(&doc, "rect", BLUE, "1");
    assert_eq!(bars.len(), 3);
    // All bars stand on one baseline (y = 0 at the bottom of the frame); heights follow the
    // values.
    let (_, _, _, bottom) = frame(&doc);
    let base: Vec<f64> = bars
        .iter()
        .map(|b| num(b, "y") + num(b, "height"))
        .collect();
    assert!(
        base.iter().all(|&b| (b - bottom).abs() <= 1.5),
        "{base:?} vs {bottom}"
    );
    let h: Vec<f64> = bars.iter().map(|b| num(b, "height")).collect();
    assert!((h[2] / h[0] - 30.0 / 12.5).abs() < 0.02, "{h:?}");
    // Error bars: a vertical line and two caps each, for the two bars with a finite interval.
    assert_eq!(polylines(&doc, "#222222", "1").len(), 2 * 3);
}

#[test]
fn bars_hang_below_zero_and_empty_chart_renders() {
    let chart = bar_chart(vec![bar("a", -2.0, -3.0, -1.0), bar("b", 1.0, 0.5, 1.5)]);
    let svg = chart.render().expect("render");
    let doc = parse(&svg);
    let bars = filled(&doc, "rect", BLUE, "1");
    assert_eq!(bars.len(), 2);
    // The negative bar's top is the zero line, where the positive bar's bottom is.
    let neg_top = num(&bars[0], "y");
    let pos_bottom = num(&bars[1], "y") + num(&bars[1], "height");
    assert!(
        (neg_top - pos_bottom).abs() <= 1.5,
        "{neg_top} vs {pos_bottom}"
    );
    assert!(has_text(&doc, "-2"));

    let svg = bar_chart(Vec::new()).render().expect("render");
    let doc = parse(&svg);
    assert!(has_text(&doc, "no data to plot"));
    assert!(filled(&doc, "rect", BLUE, "1").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Fits

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + b.abs())
}

#[test]
fn least_squares_recovers_an_exact_line() {
    let pts: Vec<(f64, f64)> = (0..6).map(|i| (i as f64, 2.0 * i as f64 + 1.0)).collect();
    let f = least_squares(&pts).expect("fit");
    assert!(
        close(f.slope, 2.0) && close(f.intercept, 1.0) && close(f.r2, 1.0),
        "{f:?}"
    );
    assert_eq!(f.equation(), "y = 2 x + 1, R² = 1.000");
}

#[test]
fn least_squares_matches_hand_computation() {
    // Points (0,1) (1,3) (2,4) (3,8): x̄ = 1.5, ȳ = 4.
    // Sxx = 2.25 + 0.25 + 0.25 + 2.25 = 5; Sxy = 4.5 + 0.5 + 0 + 6 = 11.
    // a = 11/5 = 2.2, b = 4 − 2.2·1.5 = 0.7. Fitted 0.7, 2.9, 5.1, 7.3; residuals 0.3, 0.1,
    // −1.1, 0.7: SS_res = 0.09 + 0.01 + 1.21 + 0.49 = 1.8. SS_tot = 9 + 1 + 0 + 16 = 26.
    // R² = 1 − 1.8/26 = 121/130.
    let pts = [(0.0, 1.0), (1.0, 3.0), (2.0, 4.0), (3.0, 8.0)];
    let f = least_squares(&pts).expect("fit");
    assert!(close(f.slope, 2.2), "{f:?}");
    assert!(close(f.intercept, 0.7), "{f:?}");
    assert!(close(f.r2, 121.0 / 130.0), "{f:?}");
    assert_eq!(f.equation(), "y = 2.2 x + 0.7, R² = 0.931");
    // Non-finite points are ignored.
    let mut with_nan = pts.to_vec();
    with_nan.extend([(f64::NAN, 1.0), (4.0, f64::INFINITY)]);
    assert_eq!(least_squares(&with_nan), Some(f));
}

#[test]
fn least_squares_needs_two_distinct_x() {
    assert_eq!(least_squares(&[]), None);
    assert_eq!(least_squares(&[(1.0, 2.0)]), None);
    assert_eq!(least_squares(&[(1.0, 2.0), (1.0, 5.0), (1.0, 7.0)]), None);
    assert_eq!(least_squares(&[(1.0, 2.0), (f64::NAN, 5.0)]), None);
    // All y equal: a flat exact fit, R² reported as 1.
    let f = least_squares(&[(1.0, 0.1), (2.0, 0.1), (3.0, 0.1)]).expect("fit");
    assert!(
        f.slope.abs() < 1e-15 && close(f.intercept, 0.1) && f.r2 == 1.0,
        "{f:?}"
    );
}

#[test]
fn least_squares_through_origin_matches_hand_computation() {
    // Points (1,2) (2,3) (3,7): Σxy = 2 + 6 + 21 = 29, Σx² = 14, a = 29/14.
    // SS_res = Σy² − a Σxy = 62 − 841/14 = 27/14; ȳ = 4, SS_tot = 4 + 1 + 9 = 14;
    // R² = 1 − 27/196 = 169/196.
    let f = least_squares_through_origin(&[(1.0, 2.0), (2.0, 3.0), (3.0, 7.0)]).expect("fit");
    assert!(close(f.slope, 29.0 / 14.0), "{f:?}");
    assert_eq!(f.intercept, 0.0);
    assert!(close(f.r2, 169.0 / 196.0), "{f:?}");
    assert_eq!(f.equation(), "y = 2.07 x, R² = 0.862");
    // Far from the origin the line fits worse than the mean: R² < 0 (centred SS_tot).
    // (1,5) (2,5.5) (3,4.5): Σxy = 29.5, a = 29.5/14; SS_res = 75.5 − 29.5²/14; SS_tot = 0.5.
    let f = least_squares_through_origin(&[(1.0, 5.0), (2.0, 5.5), (3.0, 4.5)]).expect("fit");
    let expected = 1.0 - (75.5 - 29.5 * 29.5 / 14.0) / 0.5;
    assert!((f.r2 - expected).abs() < 1e-9, "{f:?} vs {expected}");
    assert!(f.r2 < -25.0);
    // Exact proportional data.
    let f = least_squares_through_origin(&[(1.0, 3.0), (2.0, 6.0), (4.0, 12.0)]).expect("fit");
    assert!(close(f.slope, 3.0) && close(f.r2, 1.0), "{f:?}");
    // Needs a point with x ≠ 0.
    assert_eq!(
        least_squares_through_origin(&[(0.0, 1.0), (0.0, 2.0)]),
        None
    );
    assert_eq!(least_squares_through_origin(&[]), None);
}

#[test]
fn fit_equation_writes_negative_intercepts_with_a_minus() {
    let f = Fit {
        slope: -0.5,
        intercept: -1.25,
        r2: 0.5,
    };
    assert_eq!(f.equation(), "y = -0.5 x - 1.25, R² = 0.500");
    assert_eq!(f.predict(2.0), -2.25);
}

// ---------------------------------------------------------------------------------------------
// Determinism and files

fn one_of_each() -> Vec<String> {
    let pts = vec![(0.0, 1.0), (1.0, 3.0), (2.0, 4.0), (3.0, 8.0)];
    let fit = least_squares(&pts);
    vec![
        line_chart(two_series(), true, false)
            .render()
            .expect("lines"),
        loglog(groups(), true).render().expect("scatter"),
        with_fit(pts, fit).render().expect("fit"),
        heatmap(
            &["1", "2"],
            &["1", "2"],
            vec![vec![Some(0.1), Some(0.2)], vec![None, Some(0.3)]],
        )
        .render()
        .expect("heatmap"),
        bar_chart(vec![bar("a", 1.0, 0.5, 1.5), bar("b", 2.0, 1.5, 2.5)])
            .render()
            .expect("bars"),
    ]
}

#[test]
fn same_input_gives_byte_identical_svg() {
    let (first, second) = (one_of_each(), one_of_each());
    assert_eq!(first, second);
    for svg in &first {
        parse(svg);
    }
    // And a different input gives a different picture.
    let mut other = line_chart(two_series(), true, false);
    other.series[0].points[0].1 = 0.11;
    assert_ne!(other.render().expect("render"), first[0]);
}

#[test]
fn write_svg_creates_folders_and_writes_the_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plots/sub/gap.svg");
    let svg = loglog(groups(), false).render().expect("render");
    write_svg(&path, &svg).expect("write");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), svg);
    // A path whose parent is a file cannot be written.
    let bad = path.join("below-a-file.svg");
    assert!(write_svg(&bad, &svg).is_err());
}
