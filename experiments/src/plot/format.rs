//! Numbers and text as the charts print them: significant digits, tick labels, and labels
//! cleaned of characters XML cannot hold.

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

/// The label of a tick at `10^t` on a log axis: a plain number from 0.001 to 10 000, and
/// `10⁻⁵`, `10⁶` … for powers of ten outside that, or for all of them with `powers` (other
/// values in scientific notation).
pub(crate) fn log_label(t: f64, powers: bool) -> String {
    let v = 10f64.powf(t);
    let plain = !powers && is_plain(v);
    if !plain && (t - t.round()).abs() < 1e-9 {
        format!("10{}", superscript(t.round() as i64))
    } else {
        fmt_sig(v, 3)
    }
}

/// Whether `v` is printed as a plain number on a log axis (0.001 ≤ v < 100 000).
pub(crate) fn is_plain(v: f64) -> bool {
    (1e-3..1e5).contains(&v)
}

/// `n` in Unicode superscript digits (`⁻¹²`).
fn superscript(n: i64) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut out = String::new();
    if n < 0 {
        out.push('⁻');
    }
    for c in n.unsigned_abs().to_string().chars() {
        out.push(DIGITS[c.to_digit(10).unwrap_or(0) as usize]);
    }
    out
}

/// Removes trailing zeros after a decimal point (and the point itself), and turns `-0` into `0`.
pub(crate) fn trim_zeros(s: &str) -> String {
    let t = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    };
    if t == "-0" { "0".into() } else { t.into() }
}

/// `s` made safe to print: tabs and line breaks become spaces, other control characters and
/// the two non-characters XML forbids are dropped. (plotters escapes `<`, `>`, `&` and quotes
/// itself, but passes everything else through.)
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(' '),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => None,
            c => Some(c),
        })
        .collect()
}

/// Estimated width in pixels of `s` printed `px` pixels high (there are no font metrics
/// without a font file; sans-serif glyphs such as DejaVu Sans average about 0.62 em).
pub(crate) fn text_width(s: &str, px: f64) -> f64 {
    s.chars().count() as f64 * px * 0.62
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn log_labels_are_plain_or_powers_of_ten() {
        assert_eq!(log_label(-2.0, false), "0.01");
        assert_eq!(log_label(3.0, false), "1000");
        assert_eq!(log_label(3.0, true), "10³");
        assert_eq!(log_label(2f64.log10(), false), "2");
        assert_eq!(log_label(-5.0, false), "10⁻⁵");
        assert_eq!(log_label(12.0, false), "10¹²");
    }

    #[test]
    fn cleaning_drops_control_characters() {
        assert_eq!(clean("a<b\u{1}\nc − ≤"), "a<b c − ≤");
    }
}
