//! Colours, marker shapes and the viridis colormap.

use super::svg::num;

/// Series colours: the Okabe–Ito palette (readable with colour-vision deficiencies), without
/// its yellow, which is too light on white.
const PALETTE: [&str; 7] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
];

/// The colour of series number `i` (cycling).
pub(crate) fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// A marker shape; series number `i` gets [`Shape::nth`]`(i)`, so series stay distinct in
/// grey scale too.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape {
    /// A disc.
    Circle,
    /// An axis-aligned square.
    Square,
    /// A triangle pointing up.
    TriangleUp,
    /// A square turned 45°.
    Diamond,
    /// A triangle pointing down.
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

/// One marker element of `shape` centred at (`cx`, `cy`) with radius about `r`, filled with
/// `fill`, carrying `class` (so markers can be told apart from legend swatches).
pub(crate) fn marker(shape: Shape, cx: f64, cy: f64, r: f64, fill: &str, class: &str) -> String {
    let paint = format!(r##"fill="{fill}" stroke="#ffffff" stroke-width="0.8""##);
    let path = |pts: &[(f64, f64)]| {
        let d = pts
            .iter()
            .enumerate()
            .map(|(i, &(x, y))| {
                let cmd = if i == 0 { 'M' } else { 'L' };
                format!("{cmd}{},{}", num(cx + x * r), num(cy + y * r))
            })
            .collect::<String>();
        format!(r#"<path class="{class}" d="{d}Z" {paint}/>"#)
    };
    match shape {
        Shape::Circle => format!(
            r#"<circle class="{class}" cx="{}" cy="{}" r="{}" {paint}/>"#,
            num(cx),
            num(cy),
            num(r)
        ),
        Shape::Square => path(&[(-0.9, -0.9), (0.9, -0.9), (0.9, 0.9), (-0.9, 0.9)]),
        Shape::TriangleUp => path(&[(0.0, -1.2), (1.1, 0.9), (-1.1, 0.9)]),
        Shape::Diamond => path(&[(0.0, -1.25), (1.25, 0.0), (0.0, 1.25), (-1.25, 0.0)]),
        Shape::TriangleDown => path(&[(0.0, 1.2), (1.1, -0.9), (-1.1, -0.9)]),
    }
}

/// Viridis (matplotlib's perceptually uniform sequential colormap) sampled at 9 evenly spaced
/// stops; [`viridis`] interpolates linearly between them.
pub(crate) const VIRIDIS: [(u8, u8, u8); 9] = [
    (0x44, 0x01, 0x54),
    (0x47, 0x2d, 0x7b),
    (0x3b, 0x52, 0x8b),
    (0x2c, 0x72, 0x8e),
    (0x21, 0x91, 0x8c),
    (0x28, 0xae, 0x80),
    (0x5e, 0xc9, 0x62),
    (0xad, 0xdc, 0x30),
    (0xfd, 0xe7, 0x25),
];

/// The viridis colour at `t` in [0, 1] (clamped; NaN maps to 0) as RGB.
pub(crate) fn viridis(t: f64) -> (u8, u8, u8) {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let pos = t * (VIRIDIS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(VIRIDIS.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
    (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// `#rrggbb` for an RGB triple.
pub(crate) fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Black or white, whichever reads better on `rgb` (by perceived brightness).
pub(crate) fn text_on((r, g, b): (u8, u8, u8)) -> &'static str {
    let luma = 0.299 * r as f64 + 0.587 * g as f64 + 0.114 * b as f64;
    if luma > 140.0 { "#000000" } else { "#ffffff" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_midpoint() {
        assert_eq!(hex(viridis(0.0)), "#440154");
        assert_eq!(hex(viridis(1.0)), "#fde725");
        assert_eq!(hex(viridis(0.5)), "#21918c");
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(viridis(7.0), viridis(1.0));
        assert_eq!(text_on(viridis(0.0)), "#ffffff");
        assert_eq!(text_on(viridis(1.0)), "#000000");
    }
}
