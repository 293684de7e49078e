//! Configs from TOML files with `--set key=value` overrides.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::de::DeserializeOwned;

/// Parses `value` as a TOML value (number, bool, array, quoted string…), falling back to a
/// bare string, so `--set task.kind=l2-norm` and `--set train.lr=0.1` both work. A bare
/// integer TOML cannot hold (beyond 64-bit signed) is an error, not a string.
///
/// # Errors
/// An integer out of TOML's range.
fn parse_value(value: &str) -> Result<toml::Value> {
    match toml::from_str::<toml::Table>(&format!("v = {value}")) {
        Ok(mut t) => Ok(t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(value.into()))),
        Err(_) if looks_like_integer(value) => bail!(
            "{value} is out of range: integers are at most {} (64-bit signed, as in TOML)",
            i64::MAX
        ),
        Err(_) => Ok(toml::Value::String(value.into())),
    }
}

/// `[+-]digits` with optional `_` separators.
fn looks_like_integer(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
        && digits.chars().any(|c| c.is_ascii_digit())
}

/// Applies one `key.path=value` override to `table`, creating sub-tables as needed.
///
/// # Errors
/// A malformed override (no `=`, empty key) or a key path through a non-table value.
pub fn apply_set(table: &mut toml::Table, set: &str) -> Result<()> {
    let Some((key, value)) = set.split_once('=') else {
        bail!("--set {set:?}: expected key=value");
    };
    parse_value(value.trim())
        .and_then(|v| set_value(table, key.trim(), v))
        .with_context(|| format!("--set {set:?}"))
}

/// Sets the dotted field `key` of `table` to `value`, creating sub-tables as needed.
///
/// # Errors
/// An empty key part, or a path through a value that is not a table.
pub fn set_value(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<()> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        bail!("empty key in {key:?}");
    }
    let mut cur = table;
    for p in &parts[..parts.len() - 1] {
        let entry = cur
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = match entry {
            toml::Value::Table(t) => t,
            _ => bail!("{key}: {p} is not a table"),
        };
    }
    cur.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

/// Largest config file smoe reads (16 MiB): configs are a few kilobytes; anything larger is
/// the wrong file.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// Reads the config file `path` as UTF-8 text, refusing files above [`MAX_CONFIG_BYTES`].
///
/// # Errors
/// An unreadable, oversized or non-UTF-8 file, naming it.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = smoe_nn::read_capped(path, MAX_CONFIG_BYTES).map_err(|e| match e {
        smoe_nn::ReadCapped::Io(e) => {
            anyhow::Error::new(e).context(format!("cannot read config {}", path.display()))
        }
        smoe_nn::ReadCapped::TooLarge { .. } => anyhow::anyhow!(
            "config {} is larger than {MAX_CONFIG_BYTES} bytes: not a config file",
            path.display()
        ),
    })?;
    String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("config {} is not UTF-8 text", path.display()))
}

/// Reads the TOML `file` (or starts from an empty table), applies `sets` in order and
/// deserialises the result; unknown keys are errors.
///
/// # Errors
/// An unreadable file, TOML syntax errors, bad overrides, unknown keys or wrong types.
pub fn load<T: DeserializeOwned>(file: Option<&Path>, sets: &[String]) -> Result<T> {
    let mut table = match file {
        Some(path) => {
            let text = read_text(path)?;
            toml::from_str::<toml::Table>(&text)
                .with_context(|| format!("config {} is not valid TOML", path.display()))?
        }
        None => toml::Table::new(),
    };
    for s in sets {
        apply_set(&mut table, s)?;
    }
    let what = file.map_or("(defaults and --set)".to_string(), |p| {
        p.display().to_string()
    });
    T::deserialize(toml::Value::Table(table)).with_context(|| format!("config {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_typed() {
        let mut t = toml::Table::new();
        apply_set(&mut t, "train.lr=0.5").expect("set");
        apply_set(&mut t, "task.kind=l2-norm").expect("set");
        apply_set(&mut t, "model.k=3").expect("set");
        assert_eq!(t["train"]["lr"].as_float(), Some(0.5));
        assert_eq!(t["task"]["kind"].as_str(), Some("l2-norm"));
        assert_eq!(t["model"]["k"].as_integer(), Some(3));
        assert!(apply_set(&mut t, "novalue").is_err());
        apply_set(&mut t, "seed=9223372036854775807").expect("i64::MAX fits");
        let e = apply_set(&mut t, "seed=18446744073709551615").expect_err("beyond i64");
        assert!(format!("{e:#}").contains("out of range"), "{e:#}");
        apply_set(&mut t, "model.gate=topk_softmax").expect("a bare word is a string");
        assert_eq!(t["model"]["gate"].as_str(), Some("topk_softmax"));
        assert!(apply_set(&mut t, "train.lr.x=1").is_err());
    }
}
