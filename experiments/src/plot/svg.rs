//! A minimal SVG writer: elements as strings, XML escaping and deterministic number formatting.
//!
//! Every number written goes through [`num`], which never prints `NaN` or `inf`, and every
//! piece of user text goes through [`escape`], so the output is well-formed XML whatever the
//! labels contain.

use std::fmt::Write as _;

/// Width of every plot, in pixels.
pub(crate) const WIDTH: f64 = 720.0;
/// Height of every plot, in pixels.
pub(crate) const HEIGHT: f64 = 480.0;
/// Approximate advance of one character of sans-serif text, as a fraction of the font size
/// (used to size margins; there is no font metric without a font file).
pub(crate) const CHAR_WIDTH: f64 = 0.6;

/// An SVG document being written, one element a line.
pub(crate) struct Svg {
    buf: String,
}

impl Svg {
    /// Starts a `width` × `height` document with a white background.
    pub(crate) fn new(width: f64, height: f64) -> Self {
        let mut buf = String::with_capacity(16 * 1024);
        let (w, h) = (num(width), num(height));
        let _ = writeln!(
            buf,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif">"#
        );
        let mut svg = Svg { buf };
        svg.rect(0.0, 0.0, width, height, r##"fill="#ffffff""##);
        svg
    }

    /// Appends one raw element (attributes already escaped by the caller).
    pub(crate) fn push(&mut self, element: &str) {
        self.buf.push_str(element);
        self.buf.push('\n');
    }

    /// A `<rect>` with extra attributes `attrs`.
    pub(crate) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, attrs: &str) {
        let _ = writeln!(
            self.buf,
            r#"<rect x="{}" y="{}" width="{}" height="{}" {attrs}/>"#,
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0))
        );
    }

    /// A `<line>` with extra attributes `attrs`.
    pub(crate) fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, attrs: &str) {
        let _ = writeln!(
            self.buf,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" {attrs}/>"#,
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
    }

    /// A `<text>` element whose content is `content`, escaped.
    pub(crate) fn text(&mut self, x: f64, y: f64, content: &str, attrs: &str) {
        let _ = writeln!(
            self.buf,
            r#"<text x="{}" y="{}" {attrs}>{}</text>"#,
            num(x),
            num(y),
            escape(content)
        );
    }

    /// A `<polyline>` through `points` with extra attributes `attrs`.
    pub(crate) fn polyline(&mut self, points: &[(f64, f64)], attrs: &str) {
        let _ = writeln!(
            self.buf,
            r#"<polyline points="{}" {attrs}/>"#,
            point_list(points)
        );
    }

    /// A closed `<polygon>` through `points` with extra attributes `attrs`.
    pub(crate) fn polygon(&mut self, points: &[(f64, f64)], attrs: &str) {
        let _ = writeln!(
            self.buf,
            r#"<polygon points="{}" {attrs}/>"#,
            point_list(points)
        );
    }

    /// Closes the document and returns its text.
    pub(crate) fn finish(mut self) -> String {
        self.buf.push_str("</svg>\n");
        self.buf
    }
}

/// `x1,y1 x2,y2 …` for a `points` attribute.
fn point_list(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .map(|&(x, y)| format!("{},{}", num(x), num(y)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A coordinate with at most 2 decimals and no trailing zeros; `0` for a non-finite value
/// (callers never pass one, but the document must stay valid if they did).
pub(crate) fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    trim_zeros(&format!("{v:.2}"))
}

/// Removes trailing zeros after a decimal point (and the point itself), and turns `-0` into `0`.
fn trim_zeros(s: &str) -> String {
    let t = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    };
    if t == "-0" { "0".into() } else { t.into() }
}

/// `v` with `sig` significant digits, trailing zeros removed; scientific notation (`1.5e6`,
/// `2e-5`) below 1e-3 or from 1e5 on. `n/a` for a non-finite value.
pub(crate) fn fmt_sig(v: f64, sig: usize) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let sig = sig.clamp(1, 17);
    let exp = v.abs().log10().floor() as i32;
    if (-3..5).contains(&exp) {
        let decimals = (sig as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{v:.decimals$}"))
    } else {
        scientific(v, sig)
    }
}

/// `v` in scientific notation with `sig` significant digits, mantissa zeros trimmed.
pub(crate) fn scientific(v: f64, sig: usize) -> String {
    let s = format!("{:.*e}", sig.clamp(1, 17) - 1, v);
    match s.split_once('e') {
        Some((m, e)) => format!("{}e{e}", trim_zeros(m)),
        None => s,
    }
}

/// Escapes `s` for XML text or attribute values; drops characters XML 1.0 forbids
/// (control characters other than tab, newline and carriage return).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Estimated width in pixels of `s` at `font_size`.
pub(crate) fn text_width(s: &str, font_size: f64) -> f64 {
    s.chars().count() as f64 * font_size * CHAR_WIDTH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_trimmed_and_finite() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.256), "1.26");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(f64::INFINITY), "0");
    }

    #[test]
    fn significant_digits() {
        assert_eq!(fmt_sig(0.12345, 3), "0.123");
        assert_eq!(fmt_sig(123.45, 3), "123");
        assert_eq!(fmt_sig(2.0, 3), "2");
        assert_eq!(fmt_sig(-1.5, 3), "-1.5");
        assert_eq!(fmt_sig(1.5e6, 3), "1.5e6");
        assert_eq!(fmt_sig(2.0e-5, 3), "2e-5");
        assert_eq!(fmt_sig(9.9996, 3), "10");
        assert_eq!(fmt_sig(f64::NAN, 3), "n/a");
    }

    #[test]
    fn escaping() {
        assert_eq!(escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
