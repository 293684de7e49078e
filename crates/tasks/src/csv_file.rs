//! Parsing a CSV data file: a header row, numeric feature columns and one label column.

use ndarray::{Array1, Array2};

use crate::{Result, Targets, TaskError};

/// A parsed CSV file: its header, features `x [m, d]` (every column but the label, in file
/// order) and `y [m]`, with the labels or targets checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CsvTable {
    pub header: Vec<String>,
    pub x: Array2<f64>,
    pub y: Array1<f64>,
}

/// Parses `bytes` (the file `path`). `label` names the label column (default: the last);
/// `expected_header`, when given, must equal the file's header (a test file).
pub(crate) fn parse_csv(
    bytes: &[u8],
    path: &str,
    label: Option<&str>,
    targets: Targets,
    expected_header: Option<&[String]>,
) -> Result<CsvTable> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| csv_error(path, &e))?
        .iter()
        .map(str::to_string)
        .collect();
    if header.is_empty() {
        return Err(TaskError::CsvEmpty {
            path: path.to_string(),
            what: "empty file (a header row is required)",
        });
    }
    if let Some(expected) = expected_header
        && expected != header.as_slice()
    {
        return Err(TaskError::CsvHeaderMismatch {
            path: path.to_string(),
            expected: expected.to_vec(),
            got: header,
        });
    }
    if let Some((i, name)) = header
        .iter()
        .enumerate()
        .find(|(i, name)| header[..*i].contains(name))
    {
        return Err(TaskError::Csv {
            path: path.to_string(),
            line: 1,
            reason: format!("column {name:?} appears twice (again as column {})", i + 1),
        });
    }
    let label_col =
        match label {
            Some(name) => header.iter().position(|h| h == name).ok_or_else(|| {
                TaskError::CsvMissingColumn {
                    path: path.to_string(),
                    column: name.to_string(),
                    available: header.clone(),
                }
            })?,
            None => header.len() - 1,
        };
    if header.len() < 2 {
        return Err(TaskError::Csv {
            path: path.to_string(),
            line: 1,
            reason: format!(
                "no feature column: the header has only the label column {:?}",
                header[label_col]
            ),
        });
    }
    let d = header.len() - 1;
    let mut features = Vec::new();
    let mut y = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, &e)),
        }
        let line = record.position().map_or(0, csv::Position::line);
        for (j, cell) in record.iter().enumerate() {
            let v = cell
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| TaskError::CsvCell {
                    path: path.to_string(),
                    line,
                    column: header[j].clone(),
                    value: cell.to_string(),
                })?;
            if j != label_col {
                features.push(v);
                continue;
            }
            if targets == Targets::Labels && v != 1.0 && v != -1.0 {
                return Err(TaskError::InFile {
                    path: format!("{path}, line {line}, column {:?}", header[j]),
                    source: Box::new(TaskError::InvalidLabel {
                        index: y.len(),
                        value: v,
                    }),
                });
            }
            y.push(v);
        }
    }
    if y.is_empty() {
        return Err(TaskError::CsvEmpty {
            path: path.to_string(),
            what: "no data rows",
        });
    }
    let x = Array2::from_shape_vec((y.len(), d), features).map_err(|e| TaskError::Csv {
        path: path.to_string(),
        line: 0,
        reason: e.to_string(),
    })?;
    Ok(CsvTable {
        header,
        x,
        y: Array1::from(y),
    })
}

/// The typed error of a `csv` crate error.
fn csv_error(path: &str, e: &csv::Error) -> TaskError {
    let line = e.position().map_or(0, csv::Position::line);
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => TaskError::CsvRagged {
            path: path.to_string(),
            line: pos.as_ref().map_or(line, csv::Position::line),
            expected: *expected_len as usize,
            got: *len as usize,
        },
        csv::ErrorKind::Utf8 { pos, .. } => TaskError::Csv {
            path: path.to_string(),
            line: pos.as_ref().map_or(line, csv::Position::line),
            reason: "invalid UTF-8".into(),
        },
        _ => TaskError::Csv {
            path: path.to_string(),
            line,
            reason: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn parse(text: &str, label: Option<&str>, targets: Targets) -> Result<CsvTable> {
        parse_csv(text.as_bytes(), "t.csv", label, targets, None)
    }

    #[test]
    fn label_column_anywhere_and_whitespace_trimmed() {
        let t = parse(
            "a, y ,b\n1.5, -1, 2\n-3e2,+1,0.25\n",
            Some("y"),
            Targets::Labels,
        )
        .unwrap();
        assert_eq!(t.header, ["a", "y", "b"]);
        assert_eq!(t.x, array![[1.5, 2.0], [-300.0, 0.25]]);
        assert_eq!(t.y, array![-1.0, 1.0]);
        let t = parse("a,b,t\n1,2,0.5\n", None, Targets::Real).unwrap();
        assert_eq!((t.x, t.y), (array![[1.0, 2.0]], array![0.5]));
    }

    #[test]
    fn bad_files_give_typed_errors_with_lines() {
        let e = parse("a,y\n1,1\n2,-1,3\n", None, Targets::Labels).unwrap_err();
        assert_eq!(
            e,
            TaskError::CsvRagged {
                path: "t.csv".into(),
                line: 3,
                expected: 2,
                got: 3
            }
        );
        let e = parse("a,y\n1,1\nabc,1\n", None, Targets::Labels).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv, line 3, column \"a\": \"abc\" is not a finite number"
        );
        let e = parse("a,y\nnan,1\n", None, Targets::Labels).unwrap_err();
        assert!(matches!(e, TaskError::CsvCell { line: 2, .. }), "{e}");
        let e = parse("a,y\n1,0\n", None, Targets::Labels).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv, line 2, column \"y\": label 0 is 0: labels must be -1 or +1"
        );
        assert!(matches!(
            parse("", None, Targets::Labels),
            Err(TaskError::CsvEmpty { .. })
        ));
        assert!(matches!(
            parse("a,y\n", None, Targets::Labels),
            Err(TaskError::CsvEmpty {
                what: "no data rows",
                ..
            })
        ));
        assert!(matches!(
            parse("y\n1\n", None, Targets::Labels),
            Err(TaskError::Csv { line: 1, .. })
        ));
        assert!(matches!(
            parse("a,a,y\n1,2,1\n", None, Targets::Labels),
            Err(TaskError::Csv { line: 1, .. })
        ));
        assert_eq!(
            parse("a,b\n1,1\n", Some("label"), Targets::Labels)
                .unwrap_err()
                .to_string(),
            "t.csv: no column \"label\"; the columns are [\"a\", \"b\"]"
        );
        let e = parse_csv(b"a,y\n\xff,1\n", "t.csv", None, Targets::Labels, None).unwrap_err();
        assert!(matches!(e, TaskError::Csv { line: 2, .. }), "{e}");
        let expected = vec!["a".to_string(), "y".to_string()];
        let e = parse_csv(
            b"b,y\n1,1\n",
            "u.csv",
            None,
            Targets::Labels,
            Some(&expected),
        );
        assert!(matches!(e, Err(TaskError::CsvHeaderMismatch { .. })));
    }
}
