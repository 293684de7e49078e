//! [`load_data`]: the one entry point from a [`DataConfig`] to a run's train and test sets.

use std::path::Path;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::csv_file::parse_csv;
use crate::npy::{decode_array1_f64, decode_array2_f64, read_bytes};
use crate::source::bad;
use crate::{
    ContentHasher, DataConfig, Dataset, Result, Targets, Task, TaskError, train_test_split,
};

/// What was loaded: for records and reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataDescription {
    /// The source's kind: `"synthetic"`, `"npy"` or `"csv"`.
    pub kind: String,
    /// The files read, in the order hashed (resolved against the base folder); empty for
    /// synthetic data.
    pub paths: Vec<String>,
    /// The [`ContentHasher`] digest (SHA-256, 64 hex digits) of the files' bytes in the order
    /// of `paths`; `None` for synthetic data.
    pub content_hash: Option<String>,
    /// The input width `d`.
    pub d: usize,
    /// Training samples.
    pub m_train: usize,
    /// Test samples.
    pub m_test: usize,
    /// Labels or real targets.
    pub targets: Targets,
}

/// A run's data: the two sets in `f32`, their description and the Bayes error where known.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedData {
    /// The training set.
    pub train: Dataset<f32>,
    /// The test set.
    pub test: Dataset<f32>,
    /// Kind, files, content hash, sizes.
    pub description: DataDescription,
    /// The exact Bayes error of a synthetic task ([`Task::bayes_error`]); `None` for files.
    pub bayes_error: Option<f64>,
    /// The config it was loaded from (what a run record stores).
    pub config: DataConfig,
    /// The synthetic task the sets were drawn from (its hidden structure: fresh batches, the
    /// teacher's parameters); `None` for files and given data.
    pub task: Option<Task>,
}

impl LoadedData {
    /// Wraps datasets a program built itself (its own arrays): the description has kind
    /// `given`, no paths, and the SHA-256 content hash of the arrays' little-endian bytes
    /// (train x, train y, test x, test y).
    ///
    /// # Errors
    /// [`TaskError::Shape`] if the two sets have different widths;
    /// [`TaskError::InvalidDataConfig`] if one holds labels and the other real targets.
    pub fn given(name: &str, train: Dataset<f32>, test: Dataset<f32>) -> Result<Self> {
        if train.dim() != test.dim() {
            return Err(TaskError::from(smoe_nn::ShapeError::new(
                "LoadedData::given (test width)",
                vec![train.dim()],
                vec![test.dim()],
            )));
        }
        if train.targets != test.targets {
            return Err(bad(
                "targets",
                "the training and test sets must both hold labels or both real targets",
            ));
        }
        let mut hash = ContentHasher::new();
        for set in [&train, &test] {
            let mut xb = Vec::with_capacity(set.x.len() * 4);
            set.x
                .iter()
                .for_each(|v| xb.extend_from_slice(&v.to_le_bytes()));
            hash.update(&xb);
            let mut yb = Vec::with_capacity(set.y.len() * 4);
            set.y
                .iter()
                .for_each(|v| yb.extend_from_slice(&v.to_le_bytes()));
            hash.update(&yb);
        }
        let config = DataConfig::Given(crate::GivenData {
            name: name.to_string(),
        });
        let description = DataDescription {
            kind: "given".into(),
            paths: Vec::new(),
            content_hash: Some(hash.finish()),
            d: train.dim(),
            m_train: train.len(),
            m_test: test.len(),
            targets: train.targets,
        };
        Ok(Self {
            train,
            test,
            description,
            bayes_error: None,
            config,
            task: None,
        })
    }
}

/// The content hash [`load_data`] would record for `cfg` (the files' bytes, in the same
/// order), without parsing them; `None` for synthetic and given data. Resume keys use it, so
/// moving the files does not redo a run and changing them does.
///
/// # Errors
/// [`TaskError::Io`] for an unreadable file.
pub fn data_content_hash(cfg: &DataConfig, base_dir: Option<&Path>) -> Result<Option<String>> {
    let resolve = |p: &Path| match base_dir {
        Some(base) if p.is_relative() => base.join(p),
        _ => p.to_path_buf(),
    };
    let paths: Vec<&Path> = match cfg {
        DataConfig::Synthetic(_) | DataConfig::Given(_) => return Ok(None),
        DataConfig::Npy(n) => [Some(&n.x), Some(&n.y), n.test_x.as_ref(), n.test_y.as_ref()]
            .into_iter()
            .flatten()
            .map(|p| p.as_path())
            .collect(),
        DataConfig::Csv(c) => [Some(&c.path), c.test.as_ref()]
            .into_iter()
            .flatten()
            .map(|p| p.as_path())
            .collect(),
    };
    let mut hash = ContentHasher::new();
    for p in paths {
        hash.update(&read_bytes(resolve(p))?);
    }
    Ok(Some(hash.finish()))
}

/// Loads the train and test sets of `cfg`.
///
/// - synthetic: exactly `Task::new(&task, d, seed)?.train_test::<f32>(m_train, m_test,
///   seed)` (so the data are bit-identical to a run that builds the task itself);
/// - `npy` / `csv`: the files are read (relative paths resolved against `base_dir` when
///   given, else against the working directory), checked (finite inputs and targets, labels
///   exactly ±1, matching shapes, values within `f32` range) and converted to `f32`; without
///   test files the test set is the seeded split of [`train_test_split`] with `seed`.
///   `d` is the inputs' column count. Groups are `None`.
///
/// # Errors
/// Those of [`DataConfig::validate`]; [`TaskError::Io`] for an unreadable file; the `.npy`
/// and CSV errors of [`crate::npy`] ([`TaskError::Npy`], [`TaskError::NpyLength`],
/// [`TaskError::Csv`], [`TaskError::CsvCell`], [`TaskError::CsvRagged`],
/// [`TaskError::CsvEmpty`], [`TaskError::CsvMissingColumn`],
/// [`TaskError::CsvHeaderMismatch`]); bad values or shapes wrapped in [`TaskError::InFile`]
/// naming the file; [`TaskError::TooFewSamples`] when a split has fewer than 2 samples.
pub fn load_data(cfg: &DataConfig, seed: u64, base_dir: Option<&Path>) -> Result<LoadedData> {
    cfg.validate()?;
    let resolve = |p: &Path| match base_dir {
        Some(base) if p.is_relative() => base.join(p),
        _ => p.to_path_buf(),
    };
    let mut files = Files::default();
    let (train, test) = match cfg {
        DataConfig::Synthetic(s) => {
            let task = Task::new(&s.task, s.d, seed)?;
            let (train, test) = task.train_test::<f32>(s.m_train, s.m_test, seed)?;
            let description = describe(cfg, &train, &test, files);
            return Ok(LoadedData {
                train,
                test,
                description,
                bayes_error: task.bayes_error(),
                config: cfg.clone(),
                task: Some(task),
            });
        }
        DataConfig::Npy(n) => {
            let train = files.npy_pair(&resolve(&n.x), &resolve(&n.y), n.targets)?;
            let test = match (&n.test_x, &n.test_y) {
                (Some(tx), Some(ty)) => {
                    let (tx, ty) = (resolve(tx), resolve(ty));
                    let test = files.npy_pair(&tx, &ty, n.targets)?;
                    check_width(&train, &test, &tx)?;
                    Some(test)
                }
                _ => None,
            };
            (train, test)
        }
        DataConfig::Csv(c) => {
            let label = c.label.as_deref();
            let (header, train) = files.csv(&resolve(&c.path), label, c.targets, None)?;
            let test = match &c.test {
                Some(t) => Some(files.csv(&resolve(t), label, c.targets, Some(&header))?.1),
                None => None,
            };
            (train, test)
        }
        DataConfig::Given(g) => {
            return Err(bad(
                "kind",
                format!(
                    "the data {:?} were given in memory and cannot be loaded from a config; pass them to fit (LoadedData::given)",
                    g.name
                ),
            ));
        }
    };
    let fraction = match cfg {
        DataConfig::Npy(n) => n.test_fraction,
        DataConfig::Csv(c) => c.test_fraction,
        DataConfig::Synthetic(_) | DataConfig::Given(_) => None,
    };
    let (train, test) = match (test, fraction) {
        (Some(test), _) => (to_f32(train)?, to_f32(test)?),
        (None, Some(f)) => {
            let all = to_f32(train)?;
            train_test_split(&all, f, seed)?
        }
        (None, None) => return Err(bad("test_fraction", "no test set")),
    };
    let description = describe(cfg, &train, &test, files);
    Ok(LoadedData {
        train,
        test,
        description,
        bayes_error: None,
        config: cfg.clone(),
        task: None,
    })
}

/// A dataset read from files, in `f64`, with the files to blame for each kind of error:
/// `(dataset, inputs' file, targets' file)`.
type Read = (Dataset<f64>, String, String);

/// The files read so far and their running hash.
#[derive(Default)]
struct Files {
    paths: Vec<String>,
    hash: ContentHasher,
}

impl Files {
    fn read(&mut self, path: &Path) -> Result<(Vec<u8>, String)> {
        let bytes = read_bytes(path)?;
        let name = path.display().to_string();
        self.hash.update(&bytes);
        self.paths.push(name.clone());
        Ok((bytes, name))
    }

    fn npy_pair(&mut self, x: &Path, y: &Path, targets: Targets) -> Result<Read> {
        let (bytes, xn) = self.read(x)?;
        let xa = decode_array2_f64(&bytes, &xn)?;
        drop(bytes);
        let (bytes, yn) = self.read(y)?;
        let ya = decode_array1_f64(&bytes, &yn)?;
        let data = build(xa, ya, targets).map_err(|e| blame(e, &xn, &yn))?;
        Ok((data, xn, yn))
    }

    fn csv(
        &mut self,
        path: &Path,
        label: Option<&str>,
        targets: Targets,
        header: Option<&[String]>,
    ) -> Result<(Vec<String>, Read)> {
        let (bytes, name) = self.read(path)?;
        let t = parse_csv(&bytes, &name, label, targets, header)?;
        let data = build(t.x, t.y, targets).map_err(|e| blame(e, &name, &name))?;
        Ok((t.header, (data, name.clone(), name)))
    }
}

fn build(x: Array2<f64>, y: Array1<f64>, targets: Targets) -> Result<Dataset<f64>> {
    match targets {
        Targets::Labels => Dataset::new(x, y, None),
        Targets::Real => Dataset::regression(x, y, None),
    }
}

/// Wraps `e` in [`TaskError::InFile`] with the file it concerns.
fn blame(e: TaskError, x: &str, y: &str) -> TaskError {
    let path = match &e {
        TaskError::InvalidLabel { .. } | TaskError::NonFiniteTarget { .. } => y.to_string(),
        TaskError::Shape(_) if x != y => format!("{x} + {y}"),
        _ => x.to_string(),
    };
    TaskError::InFile {
        path,
        source: Box::new(e),
    }
}

fn to_f32((data, x, y): Read) -> Result<Dataset<f32>> {
    data.cast::<f32>().map_err(|e| blame(e, &x, &y))
}

fn check_width(train: &Read, test: &Read, test_x: &Path) -> Result<()> {
    if train.0.dim() == test.0.dim() {
        return Ok(());
    }
    Err(TaskError::InFile {
        path: test_x.display().to_string(),
        source: Box::new(TaskError::from(smoe_nn::ShapeError {
            op: "test inputs (columns d of the training inputs)",
            expected: vec![train.0.dim()],
            got: vec![test.0.dim()],
        })),
    })
}

fn describe(
    cfg: &DataConfig,
    train: &Dataset<f32>,
    test: &Dataset<f32>,
    files: Files,
) -> DataDescription {
    let synthetic = matches!(cfg, DataConfig::Synthetic(_));
    DataDescription {
        kind: cfg.kind().to_string(),
        content_hash: (!synthetic).then(|| files.hash.finish()),
        paths: files.paths,
        d: train.dim(),
        m_train: train.len(),
        m_test: test.len(),
        targets: train.targets,
    }
}
