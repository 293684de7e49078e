//! The sweep config and its expansion into cells.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use smoe_gating::GatingError;
use smoe_model::ModelError;
use smoe_train::{SCHEMA, TrainConfig, TrainError};

use super::SweepError;
use crate::config_io;

/// The most cells a sweep grid may have.
pub const MAX_CELLS: usize = 1_000_000;

/// One axis of the grid: a list of values, or an arithmetic or geometric range.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum GridAxis {
    /// Explicit values, e.g. `"model.k" = [1, 2, 4]`.
    List(Vec<toml::Value>),
    /// `{ start, stop, step }` (inclusive, arithmetic) or `{ start, stop, factor }`
    /// (inclusive, geometric), integers or floats.
    Range {
        /// First value.
        start: f64,
        /// Last value (included if hit).
        stop: f64,
        /// Additive step.
        step: Option<f64>,
        /// Multiplicative factor.
        factor: Option<f64>,
    },
}

/// The most values one grid axis may have; a range with more is refused, never cut.
pub const MAX_AXIS_VALUES: usize = 100_000;

/// Integers up to this size are exact in an f64; an integral range beyond it is refused
/// (its values would not be the integers written).
const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_992.0; // 2^53

/// The number of values of a range, computed before any is generated (as an f64, so that a
/// huge or infinite count is seen as such).
fn range_count(start: f64, stop: f64, step: Option<f64>, factor: Option<f64>) -> f64 {
    let end = stop * (1.0 + 1e-12);
    if end < start {
        return 0.0;
    }
    let n = match (step, factor) {
        (Some(s), _) => ((end - start) / s).floor() + 1.0,
        (None, Some(f)) => ((end / start).ln() / f.ln()).floor() + 1.0,
        (None, None) => 0.0,
    };
    if n.is_nan() {
        f64::INFINITY
    } else {
        n.max(0.0)
    }
}

fn count_text(n: f64) -> String {
    super::error::short(n)
}

impl GridAxis {
    /// The axis' values in order.
    ///
    /// # Errors
    /// An empty list, a range without exactly one of step/factor, with a non-finite bound,
    /// one that does not move towards `stop`, one with more than [`MAX_AXIS_VALUES`] values
    /// (or a count that cannot be computed, e.g. a step of 1e-300:
    /// [`SweepError::AxisTooLong`]), or an integral range beyond 2^53.
    pub fn values(&self, name: &str) -> Result<Vec<toml::Value>> {
        match self {
            GridAxis::List(v) if v.is_empty() => bail!("grid axis {name} is empty"),
            GridAxis::List(v) => Ok(v.clone()),
            GridAxis::Range {
                start,
                stop,
                step,
                factor,
            } => {
                let (start, stop) = (*start, *stop);
                let finite = [Some(start), Some(stop), *step, *factor]
                    .iter()
                    .flatten()
                    .all(|x| x.is_finite());
                if !finite {
                    bail!("grid axis {name}: a range needs finite start, stop, step and factor");
                }
                let integral = start.fract() == 0.0
                    && stop.fract() == 0.0
                    && step.is_none_or(|s| s.fract() == 0.0);
                let next: Box<dyn Fn(f64) -> f64> = match (step, factor) {
                    (Some(s), None) if *s > 0.0 => Box::new(move |x| x + s),
                    (None, Some(f)) if *f > 1.0 && start > 0.0 => Box::new(move |x| x * f),
                    _ => bail!(
                        "grid axis {name}: a range needs a positive step or a factor > 1 (with start > 0)"
                    ),
                };
                let too_long = |n: f64| SweepError::AxisTooLong {
                    axis: name.to_string(),
                    start,
                    stop,
                    count: count_text(n),
                    max: MAX_AXIS_VALUES,
                };
                let count = range_count(start, stop, *step, *factor);
                if count > MAX_AXIS_VALUES as f64 {
                    return Err(too_long(count).into());
                }
                if integral && start.abs().max(stop.abs()) > MAX_EXACT_INTEGER {
                    bail!(
                        "grid axis {name}: integers beyond 2^53 are not exact; list the values instead"
                    );
                }
                // the count is an estimate of the loop below (rounding may add one value):
                // the loop itself refuses to pass the cap rather than cutting
                let mut out = Vec::with_capacity(count as usize);
                let mut x = start;
                while x <= stop * (1.0 + 1e-12) {
                    if out.len() == MAX_AXIS_VALUES {
                        return Err(too_long((out.len() + 1) as f64).into());
                    }
                    out.push(if integral {
                        toml::Value::Integer(x.round() as i64)
                    } else {
                        toml::Value::Float(x)
                    });
                    x = next(x);
                }
                if out.is_empty() {
                    bail!("grid axis {name}: the range from {start} to {stop} is empty");
                }
                Ok(out)
            }
        }
    }
}

/// A sweep: a base run config and a grid over any of its fields.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// Name, used in the report.
    pub name: String,
    /// One paragraph on what the sweep asks (copied into the report).
    #[serde(default)]
    pub description: String,
    /// The run config every cell starts from (the fields of `smoe train`'s config).
    #[serde(default)]
    pub base: toml::Table,
    /// Dotted field path → values, e.g. `"model.k" = [1, 2, 4]`, `seed = { start = 0, stop = 4, step = 1 }`.
    pub grid: BTreeMap<String, GridAxis>,
    /// Named whole tables for an axis: a grid value that is a string naming
    /// `variants.<axis>.<name>` sets the axis' field to that table (the cell's coordinate
    /// stays the name). E.g. `[variants.model.soft]` with `model = ["sparse", "soft"]` in the
    /// grid sweeps over model kinds whose fields differ (a tagged table such as `[model]`
    /// rejects the other kind's fields, so `"model.kind"` alone cannot).
    #[serde(default)]
    pub variants: BTreeMap<String, BTreeMap<String, toml::Table>>,
}

impl SweepConfig {
    /// Parses a sweep config from TOML text.
    ///
    /// # Errors
    /// TOML syntax, unknown keys, wrong types.
    pub fn parse(text: &str) -> Result<Self> {
        toml::from_str(text).context("sweep config")
    }

    /// The folder the sweep writes to without `--out`: `results/NAME`.
    ///
    /// # Errors
    /// [`SweepError::BadName`] unless the name is letters, digits, `-`, `_` and `.` only,
    /// and not only dots (so it cannot be empty, `..`, or lead out of `results/`).
    pub fn default_out(&self) -> Result<std::path::PathBuf> {
        let n = &self.name;
        let allowed = n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !allowed || n.chars().all(|c| c == '.') {
            return Err(SweepError::BadName { name: n.clone() }.into());
        }
        Ok(std::path::Path::new("results").join(n))
    }
}

/// One run of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Position in grid order (0-based, over valid cells).
    pub index: usize,
    /// The grid coordinates, axis name → value.
    pub coords: BTreeMap<String, serde_json::Value>,
    /// The fully resolved run config.
    pub config: TrainConfig,
    /// Hash of the resolved config (which includes the seed): the resume key.
    pub key: String,
}

/// Keys of a file data source that name files: the resume key replaces them by the files'
/// content hash, so moving the data does not redo a sweep and changing it does.
const PATH_KEYS: &[&str] = &["x", "y", "test_x", "test_y", "path", "test"];

/// The resume key of a run: FNV-1a 64, as 16 hex digits, of the record schema version and the
/// resolved config's JSON, in which a file data source's paths are replaced by
/// `content_hash` (the hash of the files' bytes).
///
/// # Errors
/// A config that does not serialise.
pub fn config_key(cfg: &TrainConfig, content_hash: Option<&str>) -> Result<String> {
    let mut v = serde_json::to_value(cfg)?;
    if let (Some(h), Some(data)) = (
        content_hash,
        v.get_mut("data").and_then(|d| d.as_object_mut()),
    ) {
        for k in PATH_KEYS {
            data.remove(*k);
        }
        data.insert(
            "content_hash".into(),
            serde_json::Value::String(h.to_string()),
        );
    }
    let json = format!("schema {SCHEMA} {}", serde_json::to_string(&v)?);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in json.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Ok(format!("{h:016x}"))
}

/// Whether a cell is an impossible combination to skip (k > T, or a gate that does not
/// support its k), rather than a config error.
fn is_invalid_combination(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<TrainError>(),
        Some(TrainError::Model(
            ModelError::InvalidTopK { .. } | ModelError::Gating(GatingError::KNotSupported { .. })
        ))
    )
}

/// A text equal for two values exactly when they are equal (`==`; 0.0 and -0.0 alike), so
/// duplicates are found in linear time.
fn value_identity(v: &toml::Value) -> String {
    match v {
        toml::Value::Float(f) if *f == 0.0 => "float 0".into(),
        toml::Value::Float(f) => format!("float {f:?}"),
        toml::Value::Integer(i) => format!("int {i}"),
        toml::Value::String(s) => format!("str {s:?}"),
        other => format!("{} {other}", other.type_str()),
    }
}

fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Expands the grid (cartesian product, axes in sorted order, last axis fastest) into valid
/// cells; impossible combinations (k > T, a gate that does not support its k) are skipped
/// and described in the returned notes. Relative data paths are resolved against `base_dir`
/// to hash the files' content into each cell's key.
///
/// # Errors
/// Bad axes, an axis that lists a value twice (its cells would be indistinguishable),
/// unknown fields, unreadable data files, or any invalid cell other than an impossible
/// combination (a typo in the base config must not silently skip the whole sweep).
pub fn expand(
    cfg: &SweepConfig,
    base_dir: Option<&std::path::Path>,
) -> Result<(Vec<Cell>, Vec<String>)> {
    let axes: Vec<(String, Vec<toml::Value>)> = cfg
        .grid
        .iter()
        .map(|(k, a)| Ok((k.clone(), a.values(k)?)))
        .collect::<Result<_>>()?;
    for (name, vals) in &axes {
        let mut seen = std::collections::HashSet::with_capacity(vals.len());
        for v in vals {
            if !seen.insert(value_identity(v)) {
                bail!(
                    "grid axis {name} lists {v} twice: its cells would be indistinguishable (and a repeated seed is not an independent replicate)"
                );
            }
        }
    }
    let mut hashes: BTreeMap<String, Option<String>> = BTreeMap::new();
    if axes.is_empty() {
        bail!("the sweep grid has no axes");
    }
    let total = axes
        .iter()
        .try_fold(1usize, |acc, (_, v)| acc.checked_mul(v.len()))
        .filter(|t| *t <= MAX_CELLS);
    let Some(total) = total else {
        let n: f64 = axes.iter().map(|(_, v)| v.len() as f64).product();
        bail!(
            "the sweep grid has {} cells; at most 1 000 000",
            count_text(n)
        );
    };
    let mut cells = Vec::new();
    let mut notes = Vec::new();
    for flat in 0..total {
        let mut rest = flat;
        let mut choice = vec![0usize; axes.len()];
        for (i, (_, vals)) in axes.iter().enumerate().rev() {
            choice[i] = rest % vals.len();
            rest /= vals.len();
        }
        let mut table = cfg.base.clone();
        let mut coords = BTreeMap::new();
        for ((name, vals), &c) in axes.iter().zip(&choice) {
            let value = match (&vals[c], cfg.variants.get(name)) {
                (toml::Value::String(v), Some(named)) => match named.get(v) {
                    Some(t) => toml::Value::Table(t.clone()),
                    None => bail!(
                        "grid axis {name}: {v:?} is not one of its variants ({})",
                        named.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                },
                (v, _) => v.clone(),
            };
            config_io::set_value(&mut table, name, value)?;
            coords.insert(name.clone(), toml_to_json(&vals[c]));
        }
        let resolved: Result<TrainConfig> = TrainConfig::deserialize(toml::Value::Table(table))
            .map_err(anyhow::Error::from)
            .and_then(|c: TrainConfig| {
                c.validate()?;
                Ok(c)
            });
        match resolved {
            Ok(config) => {
                let data_json = serde_json::to_string(&config.data)?;
                let hash = match hashes.get(&data_json) {
                    Some(h) => h.clone(),
                    None => {
                        let h = smoe_tasks::data_content_hash(&config.data, base_dir)?;
                        hashes.insert(data_json, h.clone());
                        h
                    }
                };
                let key = config_key(&config, hash.as_deref())?;
                cells.push(Cell {
                    index: cells.len(),
                    coords,
                    config,
                    key,
                });
            }
            Err(e) if is_invalid_combination(&e) => {
                notes.push(format!(
                    "skipped {}: {e}",
                    serde_json::to_string(&coords).unwrap_or_default()
                ));
            }
            Err(e) => {
                return Err(e.context(format!(
                    "sweep cell {}",
                    serde_json::to_string(&coords).unwrap_or_default()
                )));
            }
        }
    }
    Ok((cells, notes))
}

/// Parses `I/N` (1 ≤ I ≤ N).
///
/// # Errors
/// Anything else.
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let parsed = s.split_once('/').and_then(|(i, n)| {
        Some((
            i.trim().parse::<usize>().ok()?,
            n.trim().parse::<usize>().ok()?,
        ))
    });
    match parsed {
        Some((i, n)) if n >= 1 && (1..=n).contains(&i) => Ok((i, n)),
        _ => bail!("--shard {s:?}: expected I/N with 1 <= I <= N"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_lists() {
        let r = GridAxis::Range {
            start: 1.0,
            stop: 64.0,
            step: None,
            factor: Some(2.0),
        };
        let v: Vec<i64> = r
            .values("T")
            .unwrap()
            .iter()
            .filter_map(|v| v.as_integer())
            .collect();
        assert_eq!(v, vec![1, 2, 4, 8, 16, 32, 64]);
        let r = GridAxis::Range {
            start: 0.0,
            stop: 4.0,
            step: Some(1.0),
            factor: None,
        };
        assert_eq!(r.values("seed").unwrap().len(), 5);
        assert!(GridAxis::List(vec![]).values("x").is_err());
        assert_eq!(parse_shard("2/3").unwrap(), (2, 3));
        assert!(parse_shard("0/0").is_err());
        assert!(
            parse_shard("0/3").is_err() && parse_shard("4/3").is_err() && parse_shard("x").is_err()
        );
    }

    fn range(start: f64, stop: f64, step: Option<f64>, factor: Option<f64>) -> GridAxis {
        GridAxis::Range {
            start,
            stop,
            step,
            factor,
        }
    }

    #[test]
    fn ranges_beyond_the_cap_are_refused_not_cut() {
        let at_cap = range(0.0, 99_999.0, Some(1.0), None)
            .values("seed")
            .unwrap();
        assert_eq!(at_cap.len(), MAX_AXIS_VALUES);
        assert_eq!(at_cap.last(), Some(&toml::Value::Integer(99_999)));
        let cases = [
            (
                range(0.0, 100_000.0, Some(1.0), None),
                "has 100001 values; at most 100000",
            ),
            (range(0.0, 1.0, Some(1e-300), None), "has 1.000e300 values"),
            (
                range(0.0, 1e300, Some(1.0), None),
                "from 0 to 1.000e300 has 1.000e300 values",
            ),
            (
                range(1.0, 2.0, None, Some(1.0 + f64::EPSILON)),
                "has 3.122e15 values",
            ),
        ];
        for (axis, want) in cases {
            let e = axis.values("seed").unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains(want), "{msg}");
            assert!(matches!(
                e.downcast_ref::<SweepError>(),
                Some(SweepError::AxisTooLong {
                    max: MAX_AXIS_VALUES,
                    ..
                })
            ));
        }
        for axis in [
            range(0.0, f64::INFINITY, Some(1.0), None),
            range(f64::NAN, 1.0, Some(1.0), None),
            range(0.0, 1.0, Some(f64::NAN), None),
        ] {
            assert!(
                axis.values("x").unwrap_err().to_string().contains("finite"),
                "{axis:?}"
            );
        }
        // a range that goes nowhere is empty, not too long
        let e = range(4.0, 1.0, None, Some(2.0)).values("T").unwrap_err();
        assert!(e.to_string().contains("is empty"), "{e}");
        let e = range(0.0, 1e17, Some(1e13), None).values("m").unwrap_err();
        assert!(e.to_string().contains("2^53"), "{e}");
    }

    #[test]
    fn a_product_of_axes_beyond_the_cell_cap_is_refused() {
        let cfg = SweepConfig::parse(
            "name = \"t\"\n[grid]\nseed = { start = 0, stop = 99999, step = 1 }\n\"train.epochs\" = { start = 1, stop = 100, step = 1 }\n",
        )
        .unwrap();
        let msg = expand(&cfg, None).unwrap_err().to_string();
        assert_eq!(msg, "the sweep grid has 10000000 cells; at most 1 000 000");
    }

    #[test]
    fn names_that_leave_results_are_refused() {
        let with = |name: &str| SweepConfig {
            name: name.into(),
            description: String::new(),
            base: toml::Table::new(),
            grid: BTreeMap::new(),
            variants: BTreeMap::new(),
        };
        for bad in ["../x", "..", ".", "", "a/b", "/abs", "a\\b", "sp ace", "ü"] {
            let e = with(bad).default_out().unwrap_err();
            assert!(
                matches!(e.downcast_ref::<SweepError>(), Some(SweepError::BadName { name }) if name == bad),
                "{bad:?}: {e}"
            );
        }
        for good in ["kt-quick", "v1.2_x", "..a", "A9"] {
            assert_eq!(
                with(good).default_out().unwrap(),
                std::path::Path::new("results").join(good)
            );
        }
    }

    #[test]
    fn expansion_skips_k_above_t_and_keys_differ() {
        let cfg = SweepConfig::parse(
            r#"
name = "t"
[grid]
"model.k" = [1, 4]
"model.experts" = [2, 4]
seed = [0, 1]
"#,
        )
        .unwrap();
        let (cells, notes) = expand(&cfg, None).unwrap();
        // (k=4, T=2) is invalid for both seeds
        assert_eq!(cells.len(), 6);
        assert_eq!(notes.len(), 2);
        let keys: std::collections::HashSet<_> = cells.iter().map(|c| c.key.clone()).collect();
        assert_eq!(keys.len(), 6);
        assert!(
            cells
                .iter()
                .all(|c| c.config.model.k() <= c.config.model.experts())
        );
        let bad = SweepConfig::parse("name = \"t\"\n[grid]\n\"train.lr\" = [-1.0]\n").unwrap();
        assert!(expand(&bad, None).is_err());
        let dup = SweepConfig::parse("name = \"t\"\n[grid]\nseed = [0, 0]\n").unwrap();
        let dup_float =
            SweepConfig::parse("name = \"t\"\n[grid]\n\"train.lr\" = [0.0, 0.1, -0.0]\n").unwrap();
        assert!(
            expand(&dup_float, None)
                .unwrap_err()
                .to_string()
                .contains("lists -0.0 twice")
        );
        assert!(
            expand(&dup, None)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
    }
}
