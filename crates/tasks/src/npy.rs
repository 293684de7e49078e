//! The project's one `.npy` reader and writer (NumPy's format, versions 1.0–3.0).
//!
//! Reading accepts the stored dtypes `f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1` in little- or
//! big-endian order (`<f8`, `>i4`, `|u1`, `|b1`, …) and converts every value to `f64`
//! (exactly, except 64-bit integers beyond 2⁵³, which round to nearest). Both C order and
//! Fortran order (`fortran_order: True`) are read; the result is always in standard (row-major)
//! layout. Dimensions are strict: [`read_array2_f64`] wants a 2-D array (a 1-D array is
//! rejected rather than read as a column, so that labels passed as inputs by mistake fail
//! loudly; save `x.reshape(-1, 1)` for `d = 1`), and [`read_array1_f64`] a 1-D one (save
//! `y.ravel()` rather than an `[m, 1]` column). Structured and object dtypes are rejected.
//!
//! The whole file is read first and the header is checked against it before any array is
//! allocated: the element count implied by the shape times the value size must equal the
//! byte count after the header, so a truncated file or a corrupt header (say a shape of 10¹²
//! elements) gives [`TaskError::NpyLength`], never a huge allocation. Every error names the
//! file.
//!
//! Writing ([`write_array2`], [`write_array1`]) produces version 1.0 files of `<f4` (`f32`)
//! or `<f8` (`f64`) in C order, header padded to 64 bytes, as `numpy.save` does.

use std::path::Path;

use ndarray::{Array1, Array2, ShapeBuilder};
use smoe_nn::Float;

use crate::{Result, TaskError};

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Reads a 2-D `.npy` file as `f64`.
///
/// # Shapes
/// The stored `[rows, cols]`.
///
/// # Errors
/// [`TaskError::Io`] if the file cannot be read; [`TaskError::Npy`] for a malformed file,
/// an unsupported dtype or a shape that is not 2-D; [`TaskError::NpyLength`] if the data
/// section does not match the header.
pub fn read_array2_f64(path: impl AsRef<Path>) -> Result<Array2<f64>> {
    let path = path.as_ref();
    decode_array2_f64(&read_bytes(path)?, &path.display().to_string())
}

/// Reads a 1-D `.npy` file as `f64`.
///
/// # Shapes
/// The stored `[len]`.
///
/// # Errors
/// As [`read_array2_f64`], with a 1-D shape required.
pub fn read_array1_f64(path: impl AsRef<Path>) -> Result<Array1<f64>> {
    let path = path.as_ref();
    decode_array1_f64(&read_bytes(path)?, &path.display().to_string())
}

/// Decodes the bytes of a 2-D `.npy` file as `f64`; `name` (the file's path) is used in
/// errors.
///
/// # Errors
/// As [`read_array2_f64`], without [`TaskError::Io`].
pub fn decode_array2_f64(bytes: &[u8], name: &str) -> Result<Array2<f64>> {
    let (header, data) = parse(bytes, name)?;
    let &[rows, cols] = header.shape.as_slice() else {
        return Err(wrong_ndim(name, "2-D [rows, cols]", &header.shape));
    };
    let values = header.decode(data, name)?;
    let (rows, cols) = (to_usize(rows, name)?, to_usize(cols, name)?);
    let array = if header.fortran {
        Array2::from_shape_vec((rows, cols).f(), values)
    } else {
        Array2::from_shape_vec((rows, cols), values)
    }
    .map_err(|e| npy_error(name, format!("shape {:?}: {e}", header.shape)))?;
    Ok(if header.fortran {
        array.as_standard_layout().into_owned()
    } else {
        array
    })
}

/// Decodes the bytes of a 1-D `.npy` file as `f64`; `name` (the file's path) is used in
/// errors.
///
/// # Errors
/// As [`read_array1_f64`], without [`TaskError::Io`].
pub fn decode_array1_f64(bytes: &[u8], name: &str) -> Result<Array1<f64>> {
    let (header, data) = parse(bytes, name)?;
    if header.shape.len() != 1 {
        return Err(wrong_ndim(name, "1-D [len]", &header.shape));
    }
    Ok(Array1::from(header.decode(data, name)?))
}

/// Writes `a` as a version 1.0 `.npy` file (`<f4` or `<f8`, C order).
///
/// # Errors
/// [`TaskError::Io`] if the file cannot be written.
pub fn write_array2<F: Float>(path: impl AsRef<Path>, a: &Array2<F>) -> Result<()> {
    write_bytes(path.as_ref(), &encode_array2(a))
}

/// Writes `a` as a version 1.0 `.npy` file (`<f4` or `<f8`).
///
/// # Errors
/// [`TaskError::Io`] if the file cannot be written.
pub fn write_array1<F: Float>(path: impl AsRef<Path>, a: &Array1<F>) -> Result<()> {
    write_bytes(path.as_ref(), &encode_array1(a))
}

/// The bytes of the `.npy` file [`write_array2`] writes.
pub fn encode_array2<F: Float>(a: &Array2<F>) -> Vec<u8> {
    encode::<F>(&format!("({}, {})", a.nrows(), a.ncols()), a.iter())
}

/// The bytes of the `.npy` file [`write_array1`] writes.
pub fn encode_array1<F: Float>(a: &Array1<F>) -> Vec<u8> {
    encode::<F>(&format!("({},)", a.len()), a.iter())
}

/// The bytes of a `.npy` file of 64-bit signed integers (`<i8`, C order), e.g. expert
/// indices.
pub fn encode_array2_i64(a: &Array2<i64>) -> Vec<u8> {
    let mut payload = Vec::with_capacity(a.len() * 8);
    a.iter()
        .for_each(|v| payload.extend_from_slice(&v.to_le_bytes()));
    encode_raw("<i8", &format!("({}, {})", a.nrows(), a.ncols()), &payload)
}

/// Largest data file smoe reads: the bytes of [`smoe_nn::MAX_ELEMENTS`] `f64` values plus
/// 1 MiB (header, CSV separators).
pub const MAX_FILE_BYTES: u64 = 8 * smoe_nn::MAX_ELEMENTS as u64 + (1 << 20);

/// Reads a whole file, after checking its size against [`MAX_FILE_BYTES`].
///
/// # Errors
/// [`TaskError::Io`] (`action = "read"`) naming the file; [`TaskError::FileTooLarge`].
pub fn read_bytes(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    smoe_nn::read_capped(path, MAX_FILE_BYTES).map_err(|e| match e {
        smoe_nn::ReadCapped::Io(e) => TaskError::Io {
            action: "read",
            path: path.display().to_string(),
            message: e.to_string(),
        },
        smoe_nn::ReadCapped::TooLarge { bytes } => TaskError::FileTooLarge {
            path: path.display().to_string(),
            bytes,
            max: MAX_FILE_BYTES,
        },
    })
}

fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| TaskError::Io {
        action: "write",
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn encode<'a, F: Float>(shape: &str, values: impl Iterator<Item = &'a F>) -> Vec<u8> {
    let descr = if F::BYTES == 4 { "<f4" } else { "<f8" };
    let mut payload = Vec::with_capacity(F::BYTES * values.size_hint().0);
    for v in values {
        v.write_le(&mut payload);
    }
    encode_raw(descr, shape, &payload)
}

/// A version-1 `.npy` file: magic, the header dict padded to 64 bytes, then `payload`.
fn encode_raw(descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // magic (6) + version (2) + header length (2) + header + '\n', padded to 64 bytes
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    // the header of a 1-D or 2-D shape is far below 65 535 bytes
    out.extend_from_slice(
        &u16::try_from(header.len())
            .unwrap_or(u16::MAX)
            .to_le_bytes(),
    );
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(payload);
    out
}

/// A stored element type.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Float,
    Int,
    Uint,
    Bool,
}

/// A parsed header.
#[derive(Debug, Clone, PartialEq)]
struct Header {
    kind: Kind,
    size: usize,
    big_endian: bool,
    fortran: bool,
    shape: Vec<u64>,
}

impl Header {
    /// Checks that `data` holds exactly the header's elements, then converts them.
    fn decode(&self, data: &[u8], name: &str) -> Result<Vec<f64>> {
        let count = self
            .shape
            .iter()
            .try_fold(1u128, |acc, &n| acc.checked_mul(u128::from(n)));
        let expected = count.and_then(|c| c.checked_mul(self.size as u128));
        if expected != Some(data.len() as u128) {
            return Err(TaskError::NpyLength {
                path: name.to_string(),
                shape: self.shape.clone(),
                item_bytes: self.size,
                expected: expected.unwrap_or(u128::MAX),
                got: data.len(),
            });
        }
        // the count now equals data.len() / size: bounded by the file's real size
        Ok(data
            .chunks_exact(self.size)
            .map(|c| self.value(c))
            .collect())
    }

    /// One element of exactly `size` bytes as `f64`.
    fn value(&self, c: &[u8]) -> f64 {
        let mut b = [0u8; 8];
        if self.big_endian {
            // right-align and read as big-endian: the same as reversing into little-endian
            for (i, v) in c.iter().rev().enumerate() {
                b[i] = *v;
            }
        } else {
            b[..c.len()].copy_from_slice(c);
        }
        let raw = u64::from_le_bytes(b);
        let bits = 8 * self.size as u32;
        match self.kind {
            Kind::Bool => f64::from(u8::from(raw != 0)),
            Kind::Uint => raw as f64,
            Kind::Int => {
                // sign-extend the low `bits` bits
                let shift = 64 - bits;
                (((raw << shift) as i64) >> shift) as f64
            }
            Kind::Float if self.size == 4 => f64::from(f32::from_bits(raw as u32)),
            Kind::Float => f64::from_bits(raw),
        }
    }
}

/// Splits an `.npy` file into its parsed header and its data bytes.
fn parse<'a>(bytes: &'a [u8], name: &str) -> Result<(Header, &'a [u8])> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(npy_error(name, "not an .npy file (no \\x93NUMPY magic)"));
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => {
            let n = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (usize::try_from(n).unwrap_or(usize::MAX), 12)
        }
        2 | 3 => return Err(npy_error(name, "truncated header")),
        v => {
            return Err(npy_error(
                name,
                format!("unsupported format version {v}.{}", bytes[7]),
            ));
        }
    };
    let end = start
        .checked_add(len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| {
            npy_error(
                name,
                format!(
                    "header length {len} runs past the end of the file ({} bytes)",
                    bytes.len()
                ),
            )
        })?;
    let text = std::str::from_utf8(&bytes[start..end])
        .map_err(|_| npy_error(name, "the header is not ASCII/UTF-8 text"))?;
    let header = parse_header(text).map_err(|reason| npy_error(name, reason))?;
    Ok((header, &bytes[end..]))
}

/// Parses the header dictionary, e.g. `{'descr': '<f8', 'fortran_order': False,
/// 'shape': (2, 3), }`.
fn parse_header(text: &str) -> std::result::Result<Header, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    p.expect(b'{')?;
    loop {
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.expect(b':')?;
        match key.as_str() {
            "descr" => descr = Some(p.descr()?),
            "fortran_order" => fortran = Some(p.boolean()?),
            "shape" => shape = Some(p.tuple()?),
            other => return Err(format!("unexpected header key {other:?}")),
        }
        if !p.eat(b',') {
            p.expect(b'}')?;
            break;
        }
    }
    p.skip_ws();
    if p.i != p.s.len() {
        return Err("trailing characters after the header dictionary".into());
    }
    let (Some((kind, size, big_endian)), Some(fortran), Some(shape)) = (descr, fortran, shape)
    else {
        return Err("the header needs the keys 'descr', 'fortran_order' and 'shape'".into());
    };
    Ok(Header {
        kind,
        size,
        big_endian,
        fortran,
        shape,
    })
}

/// A cursor over the header text.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    /// Skips blanks, then consumes `c` if it is next.
    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> std::result::Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "malformed header: expected '{}' at byte {}",
                c as char, self.i
            ))
        }
    }

    /// A quoted Python string without escapes.
    fn string(&mut self) -> std::result::Result<String, String> {
        self.skip_ws();
        let quote = match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            Some(b'[') => return Err("structured dtypes are not supported".into()),
            _ => {
                return Err(format!(
                    "malformed header: expected a string at byte {}",
                    self.i
                ));
            }
        };
        let start = self.i + 1;
        let len = self.s[start..]
            .iter()
            .position(|&c| c == quote)
            .ok_or("malformed header: unterminated string")?;
        self.i = start + len + 1;
        Ok(String::from_utf8_lossy(&self.s[start..start + len]).into_owned())
    }

    /// A dtype descriptor: `(kind, size, big_endian)`.
    fn descr(&mut self) -> std::result::Result<(Kind, usize, bool), String> {
        let d = self.string()?;
        let unsupported = || {
            format!(
                "unsupported dtype {d:?} (supported: f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1, \
                 little- or big-endian)"
            )
        };
        let b = d.as_bytes();
        if b.len() != 3 {
            return Err(unsupported());
        }
        let kind = match b[1] {
            b'f' => Kind::Float,
            b'i' => Kind::Int,
            b'u' => Kind::Uint,
            b'b' => Kind::Bool,
            _ => return Err(unsupported()),
        };
        let size = match (kind, b[2]) {
            (Kind::Float, b'4') => 4,
            (Kind::Float, b'8') => 8,
            (Kind::Int | Kind::Uint, b'1') => 1,
            (Kind::Int | Kind::Uint, b'2') => 2,
            (Kind::Int | Kind::Uint, b'4') => 4,
            (Kind::Int | Kind::Uint, b'8') => 8,
            (Kind::Bool, b'1') => 1,
            _ => return Err(unsupported()),
        };
        let big_endian = match b[0] {
            b'<' => false,
            b'>' => true,
            b'|' | b'=' if size == 1 => false,
            _ => return Err(unsupported()),
        };
        Ok((kind, size, big_endian))
    }

    fn boolean(&mut self) -> std::result::Result<bool, String> {
        self.skip_ws();
        for (word, v) in [("True", true), ("False", false)] {
            if self.s[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                return Ok(v);
            }
        }
        Err("malformed header: fortran_order must be True or False".into())
    }

    /// A tuple of non-negative integers: `()`, `(5,)`, `(2, 3)`.
    fn tuple(&mut self) -> std::result::Result<Vec<u64>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            if self.eat(b')') {
                return Ok(dims);
            }
            if dims.len() == 32 {
                return Err("shape has more than 32 dimensions".into());
            }
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
            let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
            let n = digits.parse::<u64>().map_err(|_| {
                format!("malformed shape: {digits:?} at byte {start} is not a dimension")
            })?;
            dims.push(n);
            if !self.eat(b',') {
                self.expect(b')')?;
                return Ok(dims);
            }
        }
    }
}

fn npy_error(name: &str, reason: impl Into<String>) -> TaskError {
    TaskError::Npy {
        path: name.to_string(),
        reason: reason.into(),
    }
}

fn wrong_ndim(name: &str, want: &str, shape: &[u64]) -> TaskError {
    npy_error(
        name,
        format!(
            "expected a {want} array, got shape {shape:?} ({}-D)",
            shape.len()
        ),
    )
}

fn to_usize(n: u64, name: &str) -> Result<usize> {
    usize::try_from(n).map_err(|_| npy_error(name, format!("dimension {n} does not fit usize")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// An `.npy` file of `descr` and `shape` (header unpadded) around `data`.
    pub(crate) fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let f = if fortran { "True" } else { "False" };
        let header = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}\n");
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn header_parser_accepts_numpy_spellings() {
        let h = parse_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }    \n")
            .unwrap();
        assert_eq!(
            (h.kind, h.size, h.big_endian, h.fortran),
            (Kind::Float, 8, false, false)
        );
        assert_eq!(h.shape, [2, 3]);
        let h = parse_header(r#"{"shape":(7,),"fortran_order":True,"descr":">i2"}"#).unwrap();
        assert_eq!(
            (h.kind, h.size, h.big_endian, h.fortran),
            (Kind::Int, 2, true, true)
        );
        assert_eq!(h.shape, [7]);
        assert_eq!(
            parse_header("{'descr': '|b1', 'fortran_order': False, 'shape': ()}")
                .unwrap()
                .shape,
            Vec::<u64>::new()
        );
        for bad in [
            "",
            "{'descr': '<f8', 'fortran_order': False}",
            "{'descr': '<c16', 'fortran_order': False, 'shape': (2,)}",
            "{'descr': '<U3', 'fortran_order': False, 'shape': (2,)}",
            "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,)}",
            "{'descr': '>f8', 'fortran_order': maybe, 'shape': (2,)}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3)}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} x",
            "{'descr': '<f8",
        ] {
            assert!(parse_header(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_integer_and_bool_dtype_converts() {
        let y = decode_array1_f64(&npy("|i1", false, "(3,)", &[0xff, 1, 0x80]), "y").unwrap();
        assert_eq!(y, array![-1.0, 1.0, -128.0]);
        let y = decode_array1_f64(&npy("<u1", false, "(2,)", &[255, 1]), "y").unwrap();
        assert_eq!(y, array![255.0, 1.0]);
        let y = decode_array1_f64(&npy("|b1", false, "(3,)", &[1, 0, 1]), "y").unwrap();
        assert_eq!(y, array![1.0, 0.0, 1.0]);
        let data: Vec<u8> = [-1i32, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            decode_array1_f64(&npy("<i4", false, "(2,)", &data), "y").unwrap(),
            array![-1.0, 7.0]
        );
        let data: Vec<u8> = [-3i16, 300].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(
            decode_array1_f64(&npy(">i2", false, "(2,)", &data), "y").unwrap(),
            array![-3.0, 300.0]
        );
        let data: Vec<u8> = [1.5f64, -2.25]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        assert_eq!(
            decode_array1_f64(&npy(">f8", false, "(2,)", &data), "y").unwrap(),
            array![1.5, -2.25]
        );
        let data: Vec<u8> = [u64::MAX].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            decode_array1_f64(&npy("<u8", false, "(1,)", &data), "y").unwrap()[0],
            2f64.powi(64)
        );
    }

    #[test]
    fn encoded_files_are_aligned_and_read_back() {
        let a = array![[1.0f32, -2.5], [3.25, 1e-30], [0.0, f32::MAX]];
        let bytes = encode_array2(&a);
        let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        assert_eq!((10 + header_len) % 64, 0);
        assert_eq!(bytes.len(), 10 + header_len + 6 * 4);
        assert_eq!(bytes[10 + header_len - 1], b'\n');
        assert_eq!(decode_array2_f64(&bytes, "a").unwrap(), a.mapv(f64::from));
        let v = array![0.1f64, -7.0];
        assert_eq!(decode_array1_f64(&encode_array1(&v), "v").unwrap(), v);
        // an empty [0, 3] array is a valid file
        let e = decode_array2_f64(&encode_array2(&Array2::<f64>::zeros((0, 3))), "e").unwrap();
        assert_eq!(e.dim(), (0, 3));
    }
}
