//! The SVG plots against their public API: every output is well-formed XML (checked by a
//! small strict parser below), shows its title, axis labels and legend labels, has one marker
//! per finite point, no NaN/inf, and is byte-identical across calls; the least-squares fits
//! match hand-computed values.

use smoe_experiments::plot::{
    Fit, ScatterGroup, Series, heatmap, least_squares, least_squares_through_origin,
    lines_with_bands, scatter_loglog, scatter_with_fit, write_svg,
};

// ---------------------------------------------------------------------------------------------
// A strict little XML parser: enough to prove well-formedness of what the plots write
// (balanced and properly nested tags, quoted attributes without '<', no duplicate attribute,
// only the five predefined or numeric entities, no stray '<' or '&' in text, one root).

#[derive(Debug)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

#[derive(Debug)]
enum Node {
    Element(Element),
    Text(String),
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

fn parse_xml(s: &str) -> Result<Element, String> {
    let mut p = Parser { s, pos: 0 };
    p.skip_misc()?;
    let root = p.element()?;
    p.skip_misc()?;
    if p.pos != s.len() {
        return Err(format!("content after the root element at byte {}", p.pos));
    }
    Ok(root)
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn skip_ws(&mut self) {
        let n = self.rest().len() - self.rest().trim_start().len();
        self.pos += n;
    }

    /// Whitespace, comments and an XML declaration outside the root.
    fn skip_misc(&mut self) -> Result<(), String> {
        loop {
            self.skip_ws();
            if self.rest().starts_with("<!--") {
                let end = self.rest().find("-->").ok_or("unclosed comment")?;
                self.pos += end + 3;
            } else if self.rest().starts_with("<?") {
                let end = self.rest().find("?>").ok_or("unclosed declaration")?;
                self.pos += end + 2;
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let r = self.rest();
        let len = r
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_alphabetic()
                    || c == '_'
                    || c == ':'
                    || (i > 0 && (c.is_ascii_digit() || c == '-' || c == '.')))
            })
            .map_or(r.len(), |(i, _)| i);
        if len == 0 {
            return Err(format!("expected a name at byte {}", self.pos));
        }
        let name = r[..len].to_string();
        self.pos += len;
        Ok(name)
    }

    fn expect(&mut self, what: &str) -> Result<(), String> {
        if self.rest().starts_with(what) {
            self.pos += what.len();
            Ok(())
        } else {
            Err(format!("expected {what:?} at byte {}", self.pos))
        }
    }

    fn element(&mut self) -> Result<Element, String> {
        self.expect("<")?;
        let name = self.name()?;
        let mut attrs: Vec<(String, String)> = Vec::new();
        loop {
            let before = self.pos;
            self.skip_ws();
            if self.rest().starts_with("/>") {
                self.pos += 2;
                return Ok(Element {
                    name,
                    attrs,
                    children: Vec::new(),
                });
            }
            if self.rest().starts_with('>') {
                self.pos += 1;
                break;
            }
            if self.pos == before {
                return Err(format!("no space before attribute at byte {}", self.pos));
            }
            let key = self.name()?;
            self.expect("=")?;
            let quote = self
                .rest()
                .chars()
                .next()
                .ok_or("end of input in attribute")?;
            if quote != '"' && quote != '\'' {
                return Err(format!("unquoted attribute {key} at byte {}", self.pos));
            }
            self.pos += 1;
            let end = self.rest().find(quote).ok_or("unclosed attribute value")?;
            let raw = &self.rest()[..end];
            if raw.contains('<') {
                return Err(format!("'<' in attribute {key}"));
            }
            let value = decode(raw)?;
            self.pos += end + 1;
            if attrs.iter().any(|(k, _)| *k == key) {
                return Err(format!("duplicate attribute {key} on <{name}>"));
            }
            attrs.push((key, value));
        }
        let mut children = Vec::new();
        loop {
            if self.rest().starts_with("</") {
                self.pos += 2;
                let close = self.name()?;
                if close != name {
                    return Err(format!("<{name}> closed by </{close}>"));
                }
                self.skip_ws();
                self.expect(">")?;
                return Ok(Element {
                    name,
                    attrs,
                    children,
                });
            } else if self.rest().starts_with("<!--") {
                let end = self.rest().find("-->").ok_or("unclosed comment")?;
                self.pos += end + 3;
            } else if self.rest().starts_with('<') {
                children.push(Node::Element(self.element()?));
            } else if self.rest().is_empty() {
                return Err(format!("<{name}> never closed"));
            } else {
                let end = self.rest().find('<').unwrap_or(self.rest().len());
                let raw = &self.rest()[..end];
                if raw.contains("]]>") {
                    return Err("']]>' in text".into());
                }
                children.push(Node::Text(decode(raw)?));
                self.pos += end;
            }
        }
    }
}

/// Decodes entity references; any other '&' is an error.
fn decode(raw: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').ok_or(format!("stray '&' in {raw:?}"))?;
        let entity = &rest[i + 1..i + end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or(format!("bad reference &{e};"))?,
            e if e.starts_with('#') => e[1..]
                .parse::<u32>()
                .ok()
                .and_then(char::from_u32)
                .ok_or(format!("bad reference &{e};"))?,
            e => return Err(format!("unknown entity &{e};")),
        };
        out.push(c);
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    if out
        .chars()
        .any(|c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(format!("control character in {raw:?}"));
    }
    Ok(out)
}

impl Element {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn num(&self, key: &str) -> f64 {
        self.attr(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("<{}> has no numeric {key}", self.name))
    }

    /// This element and all below it, in document order.
    fn all(&self) -> Vec<&Element> {
        let mut out = vec![self];
        for c in &self.children {
            if let Node::Element(e) = c {
                out.extend(e.all());
            }
        }
        out
    }

    /// All text inside this element.
    fn text(&self) -> String {
        self.children
            .iter()
            .map(|c| match c {
                Node::Text(t) => t.clone(),
                Node::Element(e) => e.text(),
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers over a parsed plot.

/// Parses `svg`, checks the root and that no attribute holds NaN or inf.
fn parse_svg(svg: &str) -> Element {
    let root = parse_xml(svg).unwrap_or_else(|e| panic!("not well-formed: {e}\n{svg}"));
    assert_eq!(root.name, "svg");
    assert_eq!(root.attr("width"), Some("720"));
    assert_eq!(root.attr("height"), Some("480"));
    for e in root.all() {
        for (k, v) in &e.attrs {
            let lower = v.to_lowercase();
            assert!(
                !lower.contains("nan") && !lower.contains("inf"),
                "<{} {k}={v:?}>",
                e.name
            );
        }
    }
    root
}

fn with_class<'a>(root: &'a Element, class: &str) -> Vec<&'a Element> {
    root.all()
        .into_iter()
        .filter(|e| e.attr("class") == Some(class))
        .collect()
}

/// The texts of all `<text>` elements with `class`.
fn texts(root: &Element, class: &str) -> Vec<String> {
    with_class(root, class)
        .into_iter()
        .filter(|e| e.name == "text")
        .map(Element::text)
        .collect()
}

/// Marker centres: circles' (cx, cy), paths' mean vertex.
fn marker_centres(root: &Element) -> Vec<(f64, f64)> {
    with_class(root, "marker")
        .into_iter()
        .map(|e| match e.name.as_str() {
            "circle" => (e.num("cx"), e.num("cy")),
            "path" => {
                let d = e.attr("d").unwrap_or_default();
                let pts: Vec<(f64, f64)> = d
                    .trim_end_matches('Z')
                    .split(['M', 'L'])
                    .filter(|s| !s.is_empty())
                    .map(|p| {
                        let (x, y) = p.split_once(',').expect("x,y");
                        (x.parse().expect("x"), y.parse().expect("y"))
                    })
                    .collect();
                let n = pts.len() as f64;
                (
                    pts.iter().map(|p| p.0).sum::<f64>() / n,
                    pts.iter().map(|p| p.1).sum::<f64>() / n,
                )
            }
            other => panic!("marker element <{other}>"),
        })
        .collect()
}

/// The plot area from the `frame` rectangle: (left, top, right, bottom).
fn frame(root: &Element) -> (f64, f64, f64, f64) {
    let f = with_class(root, "frame");
    assert_eq!(f.len(), 1);
    let (x, y) = (f[0].num("x"), f[0].num("y"));
    (x, y, x + f[0].num("width"), y + f[0].num("height"))
}

fn two_series() -> Vec<Series> {
    vec![
        Series {
            label: "T = 8".into(),
            points: vec![
                (1.0, 0.10, 0.08, 0.12),
                (2.0, 0.14, 0.11, 0.17),
                (4.0, 0.19, 0.15, 0.23),
            ],
        },
        Series {
            label: "T = 16".into(),
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

// ---------------------------------------------------------------------------------------------
// lines_with_bands

#[test]
fn lines_show_labels_markers_and_bands() {
    let svg = lines_with_bands(
        "gap vs k",
        "k (experts per input)",
        "gap",
        &two_series(),
        false,
    )
    .expect("plot");
    let root = parse_svg(&svg);
    assert_eq!(texts(&root, "title"), ["gap vs k"]);
    assert_eq!(texts(&root, "axis-label"), ["k (experts per input)", "gap"]);
    assert_eq!(texts(&root, "legend-label"), ["T = 8", "T = 16"]);
    // 3 + 4 finite (x, y) points; the NaN mean is skipped and noted.
    assert_eq!(with_class(&root, "marker").len(), 7);
    assert_eq!(with_class(&root, "legend-marker").len(), 2);
    assert_eq!(texts(&root, "note"), ["1 point(s) not shown (non-finite)"]);
    // One line per series. Series 0 has one band polygon; series 1's band is split by the
    // point without an interval (x = 8): a polygon over x = 1, 4 and a lone bar at x = 16.
    assert_eq!(with_class(&root, "series-line").len(), 2);
    let bands = with_class(&root, "band");
    let polygons = bands.iter().filter(|e| e.name == "polygon").count();
    let bars = bands.iter().filter(|e| e.name == "line").count();
    assert_eq!((polygons, bars), (2, 1));
    // Series 1 is drawn in order of x: its line's x coordinates increase.
    let line = with_class(&root, "series-line")[1]
        .attr("points")
        .unwrap_or_default();
    let xs: Vec<f64> = line
        .split(' ')
        .map(|p| p.split_once(',').expect("x,y").0.parse().expect("x"))
        .collect();
    assert_eq!(xs.len(), 4);
    assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
}

#[test]
fn lines_place_markers_by_value() {
    let series = [Series {
        label: "s".into(),
        points: vec![
            (0.0, 0.0, 0.0, 0.0),
            (1.0, 1.0, 1.0, 1.0),
            (2.0, 4.0, 4.0, 4.0),
        ],
    }];
    let root = parse_svg(&lines_with_bands("t", "x", "y", &series, false).expect("plot"));
    let c = marker_centres(&root);
    assert_eq!(c.len(), 3);
    // Linear axes: equal x steps give equal pixel steps; y grows upwards, y = 4 is 4× as far
    // from y = 0 as y = 1 is.
    assert!(
        ((c[1].0 - c[0].0) - (c[2].0 - c[1].0)).abs() < 0.02,
        "{c:?}"
    );
    let (d1, d4) = (c[0].1 - c[1].1, c[0].1 - c[2].1);
    assert!(d1 > 0.0 && (d4 / d1 - 4.0).abs() < 1e-3, "{c:?}");
    let (left, top, right, bottom) = frame(&root);
    for &(x, y) in &c {
        assert!(
            x > left && x < right && y > top && y < bottom,
            "{c:?} outside frame"
        );
    }
}

#[test]
fn lines_log_x_skips_non_positive_x_and_spaces_decades_evenly() {
    let series = [Series {
        label: "k = 2".into(),
        points: vec![
            (0.0, 1.0, 0.9, 1.1),
            (-4.0, 1.0, 0.9, 1.1),
            (2.0, 1.0, 0.9, 1.1),
            (20.0, 2.0, 1.9, 2.1),
            (200.0, 3.0, 2.9, 3.1),
        ],
    }];
    let svg = lines_with_bands("gap vs T", "T", "gap", &series, true).expect("plot");
    let root = parse_svg(&svg);
    let c = marker_centres(&root);
    assert_eq!(c.len(), 3);
    // x = 2, 20, 200: one decade apart each, so equally spaced.
    assert!(
        ((c[1].0 - c[0].0) - (c[2].0 - c[1].0)).abs() < 0.02,
        "{c:?}"
    );
    assert_eq!(
        texts(&root, "note"),
        ["2 point(s) not shown (non-finite, or x ≤ 0 on the log axis)"]
    );
    let ticks = texts(&root, "tick-label");
    for t in ["10", "100"] {
        assert!(
            ticks.iter().any(|s| s == t),
            "tick {t} missing from {ticks:?}"
        );
    }
}

#[test]
fn lines_escape_text_and_handle_no_data() {
    let series = [Series {
        label: "a < b & \"c\"".into(),
        points: vec![(f64::INFINITY, 1.0, 0.0, 2.0)],
    }];
    let svg = lines_with_bands("<gap> & 'bound'", "x & y", "y < 1", &series, false).expect("plot");
    let root = parse_svg(&svg);
    assert_eq!(texts(&root, "title"), ["<gap> & 'bound'"]);
    assert_eq!(texts(&root, "axis-label"), ["x & y", "y < 1"]);
    assert_eq!(texts(&root, "legend-label"), ["a < b & \"c\""]);
    assert_eq!(texts(&root, "empty-note"), ["no data to plot"]);
    assert!(with_class(&root, "marker").is_empty());
    let empty = lines_with_bands("nothing", "x", "y", &[], true).expect("plot");
    assert_eq!(texts(&parse_svg(&empty), "empty-note"), ["no data to plot"]);
}

#[test]
fn lines_long_label_is_cut_but_kept_in_a_tooltip() {
    let label = "a very long legend label that cannot possibly fit beside the plot".to_string();
    let series = [Series {
        label: label.clone(),
        points: vec![(1.0, 1.0, 1.0, 1.0)],
    }];
    let root = parse_svg(&lines_with_bands("t", "x", "y", &series, false).expect("plot"));
    let shown = &texts(&root, "legend-label")[0];
    assert!(
        shown.starts_with(&label),
        "the <title> child holds the full label: {shown}"
    );
    assert!(shown.ends_with('…'));
    let (_, _, right, _) = frame(&root);
    assert!(
        right > 400.0,
        "plot area keeps most of the width: right edge {right}"
    );
}

#[test]
fn lines_reject_a_range_too_wide_for_f64() {
    let series = [Series {
        label: "s".into(),
        points: vec![(0.0, -1e308, -1e308, -1e308), (1.0, 1e308, 1e308, 1e308)],
    }];
    assert!(lines_with_bands("t", "x", "y", &series, false).is_err());
}

// ---------------------------------------------------------------------------------------------
// scatter_loglog

fn groups() -> Vec<ScatterGroup> {
    vec![
        ScatterGroup {
            label: "Zhao et al. 2024".into(),
            points: vec![(0.01, 0.5), (0.1, 2.0), (1.0, 9.0), (0.0, 1.0), (1.0, -2.0)],
        },
        ScatterGroup {
            label: "dense bound".into(),
            points: vec![(0.02, 3.0), (f64::NAN, 1.0), (0.5, 40.0)],
        },
    ]
}

#[test]
fn loglog_scatter_shows_groups_and_diagonal() {
    let svg =
        scatter_loglog("gap vs bound", "measured gap", "bound", &groups(), true).expect("plot");
    let root = parse_svg(&svg);
    assert_eq!(texts(&root, "title"), ["gap vs bound"]);
    assert_eq!(texts(&root, "axis-label"), ["measured gap", "bound"]);
    assert_eq!(
        texts(&root, "legend-label"),
        ["Zhao et al. 2024", "dense bound", "y = x"]
    );
    assert_eq!(with_class(&root, "marker").len(), 5);
    assert_eq!(
        texts(&root, "note"),
        ["3 point(s) not shown (non-finite, or ≤ 0 on a log axis)"]
    );
    // The diagonal runs corner to corner (both axes share one range), and the marker at
    // (1, 9) lies above it, the one at (0.01, 0.5) too.
    let d = with_class(&root, "diagonal");
    assert_eq!(d.len(), 1);
    let (left, top, right, bottom) = frame(&root);
    assert!((d[0].num("x1") - left).abs() < 0.02 && (d[0].num("y1") - bottom).abs() < 0.02);
    assert!((d[0].num("x2") - right).abs() < 0.02 && (d[0].num("y2") - top).abs() < 0.02);
    let ticks = texts(&root, "tick-label");
    assert!(
        ticks.iter().any(|t| t == "0.01") && ticks.iter().any(|t| t == "10"),
        "{ticks:?}"
    );
}

#[test]
fn loglog_scatter_without_diagonal_and_without_points() {
    let root = parse_svg(&scatter_loglog("t", "x", "y", &groups(), false).expect("plot"));
    assert!(with_class(&root, "diagonal").is_empty());
    assert_eq!(
        texts(&root, "legend-label"),
        ["Zhao et al. 2024", "dense bound"]
    );
    let bad = [ScatterGroup {
        label: "all bad".into(),
        points: vec![(0.0, 1.0), (-1.0, 2.0), (1.0, f64::NAN)],
    }];
    let root = parse_svg(&scatter_loglog("empty", "x", "y", &bad, true).expect("plot"));
    assert!(with_class(&root, "marker").is_empty());
    assert_eq!(
        texts(&root, "empty-note"),
        ["no positive finite points to plot"]
    );
    assert_eq!(texts(&root, "title"), ["empty"]);
}

// ---------------------------------------------------------------------------------------------
// heatmap

fn labels(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn heatmap_cells_values_hatching_and_colorbar() {
    // k (rows) × T (columns); k > T has no value.
    let xs = labels(&["1", "2", "4", "8"]);
    let ys = labels(&["1", "2", "4"]);
    let values = vec![
        vec![Some(0.01), Some(0.0123456), Some(0.05), Some(0.08)],
        vec![None, Some(0.02), Some(0.06), Some(0.09)],
        vec![None, None, Some(0.07), Some(0.1)],
    ];
    let svg = heatmap("gap over k × T", "T", "k", &xs, &ys, &values).expect("plot");
    let root = parse_svg(&svg);
    assert_eq!(texts(&root, "title"), ["gap over k × T"]);
    assert_eq!(texts(&root, "axis-label"), ["T", "k"]);
    assert_eq!(with_class(&root, "cell").len(), 9);
    let empty = with_class(&root, "cell-empty");
    assert_eq!(empty.len(), 3);
    assert!(
        empty
            .iter()
            .all(|e| e.attr("fill") == Some("url(#smoe-hatch)"))
    );
    let pattern = root
        .all()
        .into_iter()
        .filter(|e| e.name == "pattern" && e.attr("id") == Some("smoe-hatch"))
        .count();
    assert_eq!(pattern, 1);
    let values_shown = texts(&root, "cell-value");
    assert_eq!(values_shown.len(), 9);
    assert_eq!(values_shown[1], "0.0123", "3 significant digits");
    assert_eq!(texts(&root, "colorbar-label"), ["0.1", "0.01"]);
    assert_eq!(texts(&root, "legend-label"), ["no value"]);
    assert_eq!(with_class(&root, "colorbar").len(), 1);
    // The minimum gets viridis' first colour, the maximum its last.
    let cells = with_class(&root, "cell");
    assert_eq!(cells[0].attr("fill"), Some("#440154"));
    assert_eq!(cells[8].attr("fill"), Some("#fde725"));
    // Row 0 is at the bottom: its cells are lower (greater y) than row 2's.
    assert!(cells[0].num("y") > cells[8].num("y"));
    let ticks = texts(&root, "tick-label");
    assert_eq!(ticks, ["1", "2", "4", "8", "1", "2", "4"]);
}

#[test]
fn heatmap_non_finite_values_equal_values_and_empty_grid() {
    let xs = labels(&["a", "b"]);
    let ys = labels(&["r"]);
    let root = parse_svg(
        &heatmap("t", "x", "y", &xs, &ys, &[vec![Some(f64::NAN), Some(3.0)]]).expect("plot"),
    );
    assert_eq!(with_class(&root, "cell").len(), 1);
    assert_eq!(with_class(&root, "cell-empty").len(), 1);
    assert_eq!(
        texts(&root, "note"),
        ["1 non-finite value(s) shown as empty"]
    );
    // A single value: the middle colour, min = max label.
    assert_eq!(with_class(&root, "cell")[0].attr("fill"), Some("#21918c"));
    assert_eq!(texts(&root, "colorbar-label"), ["3", "3"]);

    let root = parse_svg(&heatmap("none", "x", "y", &[], &[], &[]).expect("plot"));
    assert_eq!(texts(&root, "empty-note"), ["no data to plot"]);
    assert!(with_class(&root, "colorbar").is_empty());

    let root =
        parse_svg(&heatmap("all empty", "x", "y", &xs, &ys, &[vec![None, None]]).expect("plot"));
    assert_eq!(with_class(&root, "cell-empty").len(), 2);
    assert!(with_class(&root, "colorbar").is_empty());
}

#[test]
fn heatmap_rejects_mismatched_shapes() {
    let xs = labels(&["a", "b"]);
    let ys = labels(&["r", "s"]);
    let e = heatmap("t", "x", "y", &xs, &ys, &[vec![Some(1.0), None]]).expect_err("rows");
    assert!(
        e.to_string().contains("1 rows of values for 2 y ticks"),
        "{e}"
    );
    let e = heatmap(
        "t",
        "x",
        "y",
        &xs,
        &ys,
        &[vec![Some(1.0)], vec![None, None]],
    )
    .expect_err("columns");
    assert!(
        e.to_string().contains("row 0 has 1 values for 2 x ticks"),
        "{e}"
    );
}

#[test]
fn heatmap_rotates_long_column_labels() {
    let xs: Vec<String> = (0..12).map(|i| format!("T = {} experts", 1 << i)).collect();
    let ys = labels(&["k = 1"]);
    let values = vec![(0..12).map(|i| Some(i as f64)).collect()];
    let root = parse_svg(&heatmap("t", "x", "y", &xs, &ys, &values).expect("plot"));
    let rotated = with_class(&root, "tick-label")
        .into_iter()
        .filter(|e| {
            e.attr("transform")
                .is_some_and(|t| t.starts_with("rotate(-45"))
        })
        .count();
    assert_eq!(rotated, 12);
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
// scatter_with_fit

#[test]
fn scatter_with_fit_draws_points_on_the_line() {
    let pts: Vec<(f64, f64)> = (0..5).map(|i| (i as f64, 2.0 * i as f64 + 1.0)).collect();
    let fit = least_squares(&pts).expect("fit");
    let mut with_bad = pts.clone();
    with_bad.push((f64::NAN, 3.0));
    let svg = scatter_with_fit(
        "gap vs complexity",
        "sqrt(k (1 + log(T/k)))",
        "gap",
        &with_bad,
        Some(&fit),
    )
    .expect("plot");
    let root = parse_svg(&svg);
    assert_eq!(texts(&root, "title"), ["gap vs complexity"]);
    assert_eq!(
        texts(&root, "axis-label"),
        ["sqrt(k (1 + log(T/k)))", "gap"]
    );
    assert_eq!(
        texts(&root, "legend-label"),
        ["data (n = 5)", "y = 2 x + 1, R² = 1.000"]
    );
    assert_eq!(texts(&root, "note"), ["1 non-finite point(s) not shown"]);
    let centres = marker_centres(&root);
    assert_eq!(centres.len(), 5);
    let line = with_class(&root, "fit-line");
    assert_eq!(line.len(), 1);
    let (x1, y1, x2, y2) = (
        line[0].num("x1"),
        line[0].num("y1"),
        line[0].num("x2"),
        line[0].num("y2"),
    );
    // Every marker lies on the drawn line (to the 0.01 px rounding of the output).
    for &(cx, cy) in &centres {
        let on_line = y1 + (cx - x1) * (y2 - y1) / (x2 - x1);
        assert!(
            (cy - on_line).abs() < 0.05,
            "marker ({cx}, {cy}) vs line {on_line}"
        );
    }
    // The line stays inside the plot area.
    let (left, top, right, bottom) = frame(&root);
    for (x, y) in [(x1, y1), (x2, y2)] {
        assert!(x >= left - 0.01 && x <= right + 0.01 && y >= top - 0.01 && y <= bottom + 0.01);
    }
}

#[test]
fn scatter_with_fit_clips_a_steep_line_and_works_without_fit() {
    let pts = [(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)];
    let steep = Fit {
        slope: 100.0,
        intercept: 0.0,
        r2: 0.0,
    };
    let root = parse_svg(&scatter_with_fit("t", "x", "y", &pts, Some(&steep)).expect("plot"));
    let line = &with_class(&root, "fit-line")[0];
    let (_, top, _, bottom) = frame(&root);
    for y in [line.num("y1"), line.num("y2")] {
        assert!(
            y >= top - 0.01 && y <= bottom + 0.01,
            "{y} outside [{top}, {bottom}]"
        );
    }
    let root = parse_svg(&scatter_with_fit("t", "x", "y", &pts, None).expect("plot"));
    assert!(with_class(&root, "fit-line").is_empty());
    assert_eq!(texts(&root, "legend-label"), ["data (n = 3)"]);
    assert_eq!(with_class(&root, "marker").len(), 3);
    let nan_fit = Fit {
        slope: f64::NAN,
        intercept: 0.0,
        r2: 0.0,
    };
    let root = parse_svg(&scatter_with_fit("t", "x", "y", &[], Some(&nan_fit)).expect("plot"));
    assert!(with_class(&root, "fit-line").is_empty());
    assert_eq!(texts(&root, "empty-note"), ["no data to plot"]);
}

// ---------------------------------------------------------------------------------------------
// Determinism and files

#[test]
fn same_input_gives_byte_identical_svg() {
    let fit = least_squares(&[(0.0, 1.0), (1.0, 3.0), (2.0, 4.0), (3.0, 8.0)]);
    let xs = labels(&["1", "2"]);
    let ys = labels(&["1", "2"]);
    let vals = vec![vec![Some(0.1), Some(0.2)], vec![None, Some(0.3)]];
    let make = || {
        [
            lines_with_bands("a", "x", "y", &two_series(), true).expect("lines"),
            scatter_loglog("b", "x", "y", &groups(), true).expect("scatter"),
            heatmap("c", "x", "y", &xs, &ys, &vals).expect("heatmap"),
            scatter_with_fit("d", "x", "y", &[(0.0, 1.0), (1.0, 3.0)], fit.as_ref()).expect("fit"),
        ]
    };
    let (first, second) = (make(), make());
    assert_eq!(first, second);
    for svg in &first {
        parse_svg(svg);
    }
}

#[test]
fn write_svg_creates_folders_and_writes_the_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plots/sub/gap.svg");
    let svg = scatter_loglog("t", "x", "y", &groups(), false).expect("plot");
    write_svg(&path, &svg).expect("write");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), svg);
    // A path whose parent is a file cannot be written.
    let bad = path.join("below-a-file.svg");
    assert!(write_svg(&bad, &svg).is_err());
}

#[test]
fn checker_rejects_malformed_xml() {
    for bad in [
        "<svg><g></svg>",
        "<svg a=1/>",
        "<svg a=\"1\" a=\"2\"/>",
        "<svg>a & b</svg>",
        "<svg>a < b</svg>",
        "<svg/><svg/>",
        "<svg a=\"<\"/>",
        "<svg>&nbsp;</svg>",
    ] {
        assert!(parse_xml(bad).is_err(), "accepted {bad:?}");
    }
    assert!(parse_xml("<svg a='1'><t>x &amp; &#60;</t></svg>").is_ok());
}
