//! One arm of a claim: a sweep config (`experiments/claims/<arm>.toml`) with an optional
//! `[quick]` table that turns it into the tiny form `smoe claims --quick` runs.
//!
//! ```toml
//! [quick.set]            # dotted run-config fields set in [base]
//! "train.steps" = 100
//! "data.m_test" = 500
//! [quick.grid]           # grid axes replaced (or added)
//! seed = [0, 1, 2]
//! "data.m_train" = [500]
//! ```
//!
//! Both forms run through the same sweep code; only the sizes differ.

use anyhow::{Context, Result, bail};

use crate::config_io::set_value;
use crate::sweep::SweepConfig;

/// An arm: its name (the config's file stem, also its output folder) and its TOML text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arm {
    /// File stem, e.g. `c1-iso-expert`.
    pub name: &'static str,
    /// The committed config text (`experiments/claims/<name>.toml`, embedded).
    pub text: &'static str,
}

impl Arm {
    /// The config file in the repository.
    pub fn path(&self) -> String {
        format!("experiments/claims/{}.toml", self.name)
    }

    /// The sweep this arm runs (the full form, or with `--quick` the `[quick]` overlay
    /// applied) and the TOML text of exactly that sweep (written as the folder's
    /// `sweep.toml`).
    ///
    /// # Errors
    /// TOML syntax, a malformed `[quick]` table, an invalid sweep config.
    pub fn resolve(&self, quick: bool) -> Result<(SweepConfig, String)> {
        resolve_text(self.text, quick).with_context(|| self.path())
    }
}

/// [`Arm::resolve`] on any config text.
///
/// # Errors
/// See [`Arm::resolve`].
pub fn resolve_text(text: &str, quick: bool) -> Result<(SweepConfig, String)> {
    let mut table: toml::Table = toml::from_str(text).context("TOML syntax")?;
    let overlay = table.remove("quick");
    if quick {
        let Some(toml::Value::Table(overlay)) = overlay else {
            bail!("--quick needs a [quick] table (quick.set and/or quick.grid)");
        };
        for (key, section) in overlay {
            let toml::Value::Table(section) = section else {
                bail!("quick.{key} must be a table");
            };
            match key.as_str() {
                "set" => {
                    let base = table
                        .entry("base")
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                    let toml::Value::Table(base) = base else {
                        bail!("base must be a table");
                    };
                    for (field, v) in section {
                        set_value(base, &field, v).with_context(|| format!("quick.set.{field}"))?;
                    }
                }
                "grid" => {
                    let grid = table
                        .entry("grid")
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                    let toml::Value::Table(grid) = grid else {
                        bail!("grid must be a table");
                    };
                    for (axis, v) in section {
                        grid.insert(axis, v);
                    }
                }
                other => bail!("unknown table quick.{other} (expected quick.set, quick.grid)"),
            }
        }
        if let Some(toml::Value::String(name)) = table.get_mut("name") {
            name.push_str("-quick");
        }
    }
    let resolved = toml::to_string(&table).context("writing the resolved config")?;
    let cfg = SweepConfig::parse(&resolved)?;
    Ok((cfg, resolved))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
name = "a"
[base.train]
steps = 4000
[grid]
seed = [0, 1, 2, 3]
"model.k" = [1, 2]
[quick.set]
"train.steps" = 50
"data.m_test" = 100
[quick.grid]
seed = [0, 1]
"#;

    #[test]
    fn quick_overlays_fields_and_axes() {
        let (full, _) = resolve_text(TEXT, false).unwrap();
        assert_eq!(full.name, "a");
        assert_eq!(full.base["train"]["steps"].as_integer(), Some(4000));
        let (q, text) = resolve_text(TEXT, true).unwrap();
        assert_eq!(q.name, "a-quick");
        assert_eq!(q.base["train"]["steps"].as_integer(), Some(50));
        assert_eq!(q.base["data"]["m_test"].as_integer(), Some(100));
        assert_eq!(q.grid.len(), 2);
        assert_eq!(SweepConfig::parse(&text).unwrap(), q);
    }

    #[test]
    fn bad_overlays_are_refused() {
        assert!(resolve_text("name = \"a\"\n[grid]\nseed = [0]\n", true).is_err());
        let bad = TEXT.replace("[quick.grid]", "[quick.other]");
        assert!(resolve_text(&bad, true).is_err());
    }
}
