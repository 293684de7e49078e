//! Data source configs: where a run's train and test sets come from (a synthetic task,
//! `.npy` files or CSV files). [`crate::load_data`] loads them.

use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize};

use crate::{Result, Targets, TaskConfig, TaskError};

/// Where the data comes from. In TOML a `[data]` table selected by `kind` (default
/// `"synthetic"` when read through [`deserialize_data_config`]); unknown keys are rejected.
///
/// ```toml
/// [data]                # a synthetic task (the default)
/// kind = "synthetic"
/// d = 16
/// m_train = 4096
/// m_test = 10000
/// [data.task]
/// kind = "mixture-of-linear"
/// ```
///
/// ```toml
/// [data]                # .npy files: x [m, d], y [m]
/// kind = "npy"
/// x = "train_x.npy"
/// y = "train_y.npy"
/// test_fraction = 0.2   # or test_x / test_y
/// targets = "labels"
/// ```
///
/// ```toml
/// [data]                # a CSV file with a header row
/// kind = "csv"
/// path = "train.csv"
/// label = "y"           # default: the last column
/// test = "test.csv"     # or test_fraction
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataConfig {
    /// `kind = "synthetic"`: samples of a [`TaskConfig`], drawn as [`crate::Task::train_test`] does.
    Synthetic(SyntheticData),
    /// `kind = "npy"`: inputs and labels or targets from `.npy` files.
    Npy(NpyData),
    /// `kind = "csv"`: inputs and labels or targets from CSV files.
    Csv(CsvData),
    /// `kind = "given"`: datasets a program passed in memory ([`crate::LoadedData::given`]);
    /// a record names them, [`crate::load_data`] cannot load them.
    Given(GivenData),
}

/// Datasets given in memory: only their name is recorded (with a content hash of the arrays
/// in the record's data description).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GivenData {
    /// What the caller calls them.
    pub name: String,
}

impl Default for DataConfig {
    /// Synthetic with [`SyntheticData::default`].
    fn default() -> Self {
        Self::Synthetic(SyntheticData::default())
    }
}

/// A synthetic task's data: `d`, the sample sizes and the task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticData {
    /// Input width `d` (≥ 1). Default 16.
    pub d: usize,
    /// Training samples (≥ 1). Default 4096.
    pub m_train: usize,
    /// Test samples (≥ 1). Default 10 000.
    pub m_test: usize,
    /// The task; a table without `kind` means `mixture-of-linear`. Default
    /// [`TaskConfig::default`] (mixture-of-linear, 4 clusters, noise 0.05).
    #[serde(deserialize_with = "task_with_default_kind")]
    pub task: TaskConfig,
    /// Fresh training batches (default false). When true the trainer draws every epoch's
    /// `m_train` training samples afresh from the task (stream `("task-fresh", epoch)` of the
    /// run's seed; an epoch is still `m_train` samples in batches of `batch_size`), as Chung et
    /// al. train (THEORY.md §8.3). The `m_train` samples drawn once as usual stay the train
    /// split: "train" metrics are measured on that fixed sample (one more sample of the same
    /// distribution, never trained on in this mode) and the test set is fixed as always.
    /// Only synthetic data has it: a file source with `fresh_batches` is an error.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fresh_batches: bool,
}

impl Default for SyntheticData {
    fn default() -> Self {
        Self {
            d: 16,
            m_train: 4096,
            m_test: 10_000,
            task: TaskConfig::default(),
            fresh_batches: false,
        }
    }
}

/// `.npy` files: `x` of shape `[m, d]` and `y` of shape `[m]`, any dtype
/// [`crate::npy`] reads. The test set is either the files `test_x`/`test_y` or a seeded
/// `test_fraction` of the training files (exactly one of the two).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NpyData {
    /// The inputs, `[m, d]` (relative paths are resolved against the config's folder).
    pub x: PathBuf,
    /// The labels or targets, `[m]`.
    pub y: PathBuf,
    /// The test inputs, `[m_test, d]`; with `test_y`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_x: Option<PathBuf>,
    /// The test labels or targets, `[m_test]`; with `test_x`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_y: Option<PathBuf>,
    /// The share of the samples held out for testing, in `(0, 1)`, when there are no test
    /// files: see [`crate::split_indices`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_fraction: Option<f64>,
    /// What `y` holds: `"labels"` (each exactly −1 or +1, checked; the default) or `"real"`.
    #[serde(default)]
    pub targets: Targets,
}

/// CSV files with a header row: the feature columns are every column except the label
/// column, in file order; every cell must be a finite number. The test set is either the
/// file `test` (same header) or a seeded `test_fraction` of the training file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvData {
    /// The training file (relative paths are resolved against the config's folder).
    pub path: PathBuf,
    /// The label or target column's name. Default: the last column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The test file, with the same header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<PathBuf>,
    /// The share of the samples held out for testing, in `(0, 1)`, when there is no test
    /// file: see [`crate::split_indices`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_fraction: Option<f64>,
    /// What the label column holds: `"labels"` (each exactly −1 or +1, checked; the
    /// default) or `"real"`.
    #[serde(default)]
    pub targets: Targets,
}

/// Reads a [`DataConfig`] whose `kind` may be left out (meaning `"synthetic"`). Use it on
/// the parent's field: `#[serde(default, deserialize_with = "smoe_tasks::deserialize_data_config")]`.
///
/// # Errors
/// The config's own errors (unknown kind, unknown or mistyped fields); `fresh_batches` on a
/// source other than synthetic data.
pub fn deserialize_data_config<'de, D>(d: D) -> std::result::Result<DataConfig, D::Error>
where
    D: Deserializer<'de>,
{
    use serde::de::Error;
    let v = serde_json::Value::deserialize(d)?;
    if let Some(m) = v.as_object()
        && m.contains_key("fresh_batches")
        && let Some(kind) = m.get("kind").and_then(|k| k.as_str())
        && kind != "synthetic"
    {
        return Err(D::Error::custom(format!(
            "data.fresh_batches needs a synthetic task to draw from; a `{kind}` data source has a fixed training set"
        )));
    }
    smoe_nn::with_default_kind(v, "synthetic").map_err(D::Error::custom)
}

fn task_with_default_kind<'de, D>(d: D) -> std::result::Result<TaskConfig, D::Error>
where
    D: Deserializer<'de>,
{
    smoe_nn::with_default_kind(d, "mixture-of-linear")
}

impl DataConfig {
    /// `"synthetic"`, `"npy"` or `"csv"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Synthetic(_) => "synthetic",
            Self::Npy(_) => "npy",
            Self::Csv(_) => "csv",
            Self::Given(_) => "given",
        }
    }

    /// The input width d when the config fixes it (a synthetic task); `None` for files and
    /// given data, whose d is read from the data.
    pub fn dim(&self) -> Option<usize> {
        match self {
            Self::Synthetic(s) => Some(s.d),
            _ => None,
        }
    }

    /// Whether training batches are drawn fresh from the task (`fresh_batches` of synthetic
    /// data; false for every other source).
    pub fn fresh_batches(&self) -> bool {
        matches!(self, Self::Synthetic(s) if s.fresh_batches)
    }

    /// One example config of every synthetic task (d = 6, small sizes): the catalogue the
    /// shared tests iterate.
    pub fn examples() -> Vec<DataConfig> {
        TaskConfig::examples()
            .into_iter()
            .map(|task| {
                DataConfig::Synthetic(SyntheticData {
                    d: 6,
                    m_train: 64,
                    m_test: 64,
                    task,
                    fresh_batches: false,
                })
            })
            .collect()
    }

    /// Checks the config without reading any file.
    ///
    /// # Errors
    /// [`TaskError::InvalidDataConfig`] naming the field: `d`, `m_train` or `m_test` of 0;
    /// `test_x` without `test_y` (or the reverse); neither or both of test files and
    /// `test_fraction`; `test_fraction` outside `(0, 1)`; an empty `label`. For synthetic
    /// data, the errors of [`TaskConfig::validate`] for `d`.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Synthetic(s) => {
                for (field, v) in [("d", s.d), ("m_train", s.m_train), ("m_test", s.m_test)] {
                    if v == 0 {
                        return Err(bad(field, "must be at least 1"));
                    }
                }
                for (what, m) in [
                    ("the training inputs (m_train × d)", s.m_train),
                    ("the test inputs (m_test × d)", s.m_test),
                ] {
                    smoe_nn::check_elements(what, m.checked_mul(s.d))?;
                }
                s.task.validate(s.d)
            }
            Self::Npy(n) => {
                if n.test_x.is_some() != n.test_y.is_some() {
                    return Err(bad(
                        "test_x",
                        "test_x and test_y go together: give both or neither",
                    ));
                }
                check_test_choice(n.test_x.is_some(), n.test_fraction, "test_x/test_y")
            }
            Self::Csv(c) => {
                if c.label.as_deref() == Some("") {
                    return Err(bad(
                        "label",
                        "must name a column (omit it for the last column)",
                    ));
                }
                check_test_choice(c.test.is_some(), c.test_fraction, "test")
            }
            Self::Given(_) => Ok(()),
        }
    }
}

pub(crate) fn bad(field: &'static str, reason: impl Into<String>) -> TaskError {
    TaskError::InvalidDataConfig {
        field,
        reason: reason.into(),
    }
}

/// Exactly one of test files and a test fraction, the fraction in `(0, 1)`.
fn check_test_choice(files: bool, fraction: Option<f64>, files_name: &str) -> Result<()> {
    match (files, fraction) {
        (true, Some(_)) => Err(bad(
            "test_fraction",
            format!("give either {files_name} or test_fraction, not both"),
        )),
        (false, None) => Err(bad(
            "test_fraction",
            format!("give a test set: {files_name}, or test_fraction to split the training data"),
        )),
        (false, Some(f)) => check_fraction(f),
        (true, None) => Ok(()),
    }
}

pub(crate) fn check_fraction(f: f64) -> Result<()> {
    if f > 0.0 && f < 1.0 {
        Ok(())
    } else {
        Err(bad("test_fraction", format!("must be in (0, 1), got {f}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Run {
        #[serde(default, deserialize_with = "deserialize_data_config")]
        data: DataConfig,
    }

    fn run(text: &str) -> std::result::Result<DataConfig, String> {
        toml::from_str::<Run>(text)
            .map(|r| r.data)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn kind_defaults_to_synthetic_and_fields_to_their_defaults() {
        assert_eq!(run("").unwrap(), DataConfig::default());
        assert_eq!(run("[data]\n").unwrap(), DataConfig::default());
        let DataConfig::Synthetic(s) = run("[data]\nd = 3\n[data.task]\nnoise = 0.1\n").unwrap()
        else {
            panic!("not synthetic")
        };
        assert_eq!((s.d, s.m_train, s.m_test), (3, 4096, 10_000));
        assert_eq!(
            s.task,
            TaskConfig::MixtureOfLinear {
                clusters: 4,
                noise: 0.1
            }
        );
        let DataConfig::Synthetic(s) = run("[data.task]\nkind = \"norm-regression\"\n").unwrap()
        else {
            panic!("not synthetic")
        };
        assert_eq!(s.task, TaskConfig::NormRegression {});
        let npy = run("[data]\nkind = \"npy\"\nx = \"a.npy\"\ny = \"b.npy\"\ntest_fraction = 0.25\ntargets = \"real\"\n").unwrap();
        assert_eq!(
            npy,
            DataConfig::Npy(NpyData {
                x: "a.npy".into(),
                y: "b.npy".into(),
                test_x: None,
                test_y: None,
                test_fraction: Some(0.25),
                targets: Targets::Real,
            })
        );
        let csv = run("[data]\nkind = \"csv\"\npath = \"t.csv\"\ntest = \"u.csv\"\n").unwrap();
        assert_eq!(
            csv,
            DataConfig::Csv(CsvData {
                path: "t.csv".into(),
                label: None,
                test: Some("u.csv".into()),
                test_fraction: None,
                targets: Targets::Labels,
            })
        );
        // the resolved config reads back
        for cfg in [DataConfig::default(), npy, csv] {
            let text = toml::to_string(&Run2 { data: cfg.clone() }).unwrap();
            assert_eq!(run(&text).unwrap(), cfg, "{text}");
        }
    }

    #[derive(Serialize)]
    struct Run2 {
        data: DataConfig,
    }

    #[test]
    fn unknown_keys_and_kinds_are_rejected() {
        for (text, word) in [
            ("[data]\nd = 3\nm_tran = 5\n", "m_tran"),
            (
                "[data]\nkind = \"npy\"\nx = \"a\"\ny = \"b\"\ntest_fration = 0.2\n",
                "test_fration",
            ),
            (
                "[data]\nkind = \"csv\"\npath = \"a\"\nlabels = \"y\"\n",
                "labels",
            ),
            ("[data]\nkind = \"parquet\"\n", "parquet"),
            ("[data.task]\nkind = \"spiral\"\n", "spiral"),
            (
                "[data]\nkind = \"npy\"\nx = \"a\"\ny = \"b\"\ntargets = \"binary\"\n",
                "binary",
            ),
            ("[data]\nkind = \"npy\"\nx = \"a\"\n", "y"),
        ] {
            let e = run(text).unwrap_err();
            assert!(e.contains(word), "{text}: {e}");
        }
    }

    #[test]
    fn validation_names_the_field() {
        let field = |cfg: DataConfig| match cfg.validate() {
            Err(TaskError::InvalidDataConfig { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let syn = |d, m_train, m_test| {
            DataConfig::Synthetic(SyntheticData {
                d,
                m_train,
                m_test,
                ..SyntheticData::default()
            })
        };
        assert_eq!(field(syn(0, 1, 1)), "d");
        assert_eq!(field(syn(1, 0, 1)), "m_train");
        assert_eq!(field(syn(1, 1, 0)), "m_test");
        assert!(matches!(
            DataConfig::Synthetic(SyntheticData {
                task: TaskConfig::SparseParity { support: 5 },
                d: 4,
                ..SyntheticData::default()
            })
            .validate(),
            Err(TaskError::InvalidParameter {
                name: "support",
                ..
            })
        ));
        let npy = |test_x: Option<&str>, test_y: Option<&str>, f: Option<f64>| {
            DataConfig::Npy(NpyData {
                x: "x".into(),
                y: "y".into(),
                test_x: test_x.map(PathBuf::from),
                test_y: test_y.map(PathBuf::from),
                test_fraction: f,
                targets: Targets::Labels,
            })
        };
        assert_eq!(npy(Some("a"), Some("b"), None).validate(), Ok(()));
        assert_eq!(npy(None, None, Some(0.5)).validate(), Ok(()));
        assert_eq!(field(npy(Some("a"), None, None)), "test_x");
        assert_eq!(field(npy(Some("a"), Some("b"), Some(0.2))), "test_fraction");
        assert_eq!(field(npy(None, None, None)), "test_fraction");
        for f in [0.0, 1.0, -0.1, f64::NAN] {
            assert_eq!(field(npy(None, None, Some(f))), "test_fraction");
        }
        let csv = DataConfig::Csv(CsvData {
            path: "t".into(),
            label: Some(String::new()),
            test: None,
            test_fraction: Some(0.5),
            targets: Targets::Labels,
        });
        assert_eq!(field(csv), "label");
    }
}
