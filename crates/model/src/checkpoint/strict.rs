//! Strict reading of a checkpoint's JSON config: a checkpoint is complete, so no serde
//! default applies — every field the config has must be written out, no unknown field is
//! accepted, the format, version and dtype must be exactly what this code writes.

use std::path::Path;

use serde_json::{Map, Value};

use super::{CheckpointMeta, FORMAT, VERSION, err};
use crate::{ModelError, Result};

/// The top-level fields of a checkpoint's JSON config, in the order they are written.
const TOP_LEVEL: [&str; 6] = ["format", "version", "dtype", "d", "seed", "model"];

/// The dtypes a checkpoint may declare.
pub(super) const DTYPES: [&str; 2] = ["f32", "f64"];

/// Parses the JSON config `bytes` of the checkpoint config file `path`.
///
/// Order: the top-level fields (none missing or unknown), then format, version and dtype
/// (so a config of another version is reported as such, not by the fields it lacks), then
/// the typed config, then every nested field against the config written back out: a field
/// a default would fill (e.g. `model.k`) is missing, an extra one is unknown.
///
/// # Errors
/// [`ModelError::CheckpointField`] for a missing, unknown or malformed field;
/// [`ModelError::Checkpoint`] for JSON that does not parse, another format or version, or
/// an unknown dtype.
pub(super) fn parse_meta(path: &Path, bytes: &[u8]) -> Result<CheckpointMeta> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| err(path, format!("invalid JSON: {e}")))?;
    let Value::Object(top) = &value else {
        return Err(err(path, "the config is not a JSON object"));
    };
    check_keys(path, top, TOP_LEVEL.iter().copied(), "")?;
    match top.get("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        other => {
            return Err(err(
                path,
                format!("format is {}, not \"{FORMAT}\"", shown(other)),
            ));
        }
    }
    match top.get("version").and_then(Value::as_u64) {
        Some(v) if v == u64::from(VERSION) => {}
        _ => {
            return Err(err(
                path,
                format!(
                    "format version {} (this smoe reads {VERSION})",
                    shown(top.get("version"))
                ),
            ));
        }
    }
    match top.get("dtype").and_then(Value::as_str) {
        Some(d) if DTYPES.contains(&d) => {}
        _ => {
            return Err(err(
                path,
                format!(
                    "dtype {} is not \"f32\" or \"f64\"",
                    shown(top.get("dtype"))
                ),
            ));
        }
    }
    let meta: CheckpointMeta = serde_json::from_value(value.clone())
        .map_err(|e| err(path, format!("invalid config: {e}")))?;
    let written = serde_json::to_value(&meta).map_err(|e| err(path, e))?;
    same_fields(path, &value, &written, "")?;
    Ok(meta)
}

/// A JSON value for a message (or `nothing` for an absent one).
fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "missing".into(), Value::to_string)
}

/// The dotted name of field `key` under `prefix`.
fn dotted(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn field_error(path: &Path, field: String, problem: &'static str) -> ModelError {
    ModelError::CheckpointField {
        path: path.display().to_string(),
        field,
        problem,
    }
}

const MISSING: &str =
    "is missing (a checkpoint must be complete: no default is filled in when one is read)";
const UNKNOWN: &str = "is not a field of the checkpoint format";
const WRONG_FORM: &str = "does not have the form smoe writes (an object, list or value)";

/// Checks that `obj` has exactly the fields `want`: the first missing one, then the first
/// unknown one, is the error.
fn check_keys<'a>(
    path: &Path,
    obj: &Map<String, Value>,
    want: impl Iterator<Item = &'a str> + Clone,
    prefix: &str,
) -> Result<()> {
    if let Some(k) = want.clone().find(|k| !obj.contains_key(*k)) {
        return Err(field_error(path, dotted(prefix, k), MISSING));
    }
    if let Some(k) = obj.keys().find(|k| !want.clone().any(|w| w == k.as_str())) {
        return Err(field_error(path, dotted(prefix, k), UNKNOWN));
    }
    Ok(())
}

/// Checks that `read` (the file) has the same fields, recursively, as `written` (the parsed
/// config serialized again): objects the same keys, lists the same length. Leaf values are
/// not compared (serde has parsed them; `2` and `2.0` are the same number).
fn same_fields(path: &Path, read: &Value, written: &Value, prefix: &str) -> Result<()> {
    match (read, written) {
        (Value::Object(r), Value::Object(w)) => {
            check_keys(path, r, w.keys().map(String::as_str), prefix)?;
            for (k, wv) in w {
                if let Some(rv) = r.get(k) {
                    same_fields(path, rv, wv, &dotted(prefix, k))?;
                }
            }
            Ok(())
        }
        (Value::Array(r), Value::Array(w)) if r.len() == w.len() => {
            for (i, (rv, wv)) in r.iter().zip(w).enumerate() {
                same_fields(path, rv, wv, &format!("{prefix}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => {
            Err(field_error(path, prefix.to_string(), WRONG_FORM))
        }
        _ => Ok(()),
    }
}
