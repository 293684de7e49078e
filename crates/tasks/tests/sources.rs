//! Data sources against the public API: files written from a synthetic task load back
//! exactly; the `.npy` reader on hand-made bytes; CSV errors; the split; the content hash.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, array};
use smoe_tasks::npy::{
    decode_array1_f64, decode_array2_f64, read_array1_f64, read_array2_f64, write_array1,
    write_array2,
};
use smoe_tasks::{
    CsvData, DataConfig, Dataset, LoadedData, NpyData, SyntheticData, Targets, Task, TaskConfig,
    TaskError, load_data, split_indices,
};

const SEED: u64 = 3;

fn synthetic(task: TaskConfig) -> DataConfig {
    DataConfig::Synthetic(SyntheticData {
        d: 5,
        m_train: 120,
        m_test: 40,
        task,
        fresh_batches: false,
    })
}

fn npy_cfg(x: &str, y: &str, test: Option<(&str, &str)>, f: Option<f64>, t: Targets) -> DataConfig {
    DataConfig::Npy(NpyData {
        x: x.into(),
        y: y.into(),
        test_x: test.map(|t| t.0.into()),
        test_y: test.map(|t| t.1.into()),
        test_fraction: f,
        targets: t,
    })
}

fn csv_cfg(path: &str, label: Option<&str>, test: Option<&str>, f: Option<f64>) -> DataConfig {
    DataConfig::Csv(CsvData {
        path: path.into(),
        label: label.map(str::to_string),
        test: test.map(PathBuf::from),
        test_fraction: f,
        targets: Targets::Labels,
    })
}

/// Writes the four `.npy` files of `data` into `dir` (inputs as `f32`, targets as `f64`).
fn write_npy(dir: &Path, data: &LoadedData) {
    write_array2(dir.join("x.npy"), &data.train.x).unwrap();
    write_array1(dir.join("y.npy"), &data.train.y.mapv(f64::from)).unwrap();
    write_array2(dir.join("tx.npy"), &data.test.x.mapv(f64::from)).unwrap();
    write_array1(dir.join("ty.npy"), &data.test.y).unwrap();
}

/// The CSV text of `data`, with the label column `y` second (the f32 values written as the
/// exact f64 decimal, so they parse back to the same f32).
fn csv_text(data: &Dataset<f32>) -> String {
    let mut s = String::from("f0,y");
    for j in 1..data.dim() {
        write!(s, ",f{j}").unwrap();
    }
    s.push('\n');
    for (row, y) in data.x.rows().into_iter().zip(&data.y) {
        write!(s, "{},{}", f64::from(row[0]), y).unwrap();
        for v in row.iter().skip(1) {
            write!(s, ",{}", f64::from(*v)).unwrap();
        }
        s.push('\n');
    }
    s
}

fn same_data(got: &Dataset<f32>, want: &Dataset<f32>) {
    assert_eq!(got.x, want.x);
    assert_eq!(got.y, want.y);
    assert_eq!(got.targets, want.targets);
    assert!(got.x.is_standard_layout());
    assert_eq!(got.groups, None);
}

#[test]
fn synthetic_source_is_exactly_todays_training_data() {
    for task in [
        TaskConfig::default(),
        TaskConfig::teacher_moe(),
        TaskConfig::norm_regression(),
    ] {
        let cfg = synthetic(task.clone());
        let got = load_data(&cfg, SEED, None).unwrap();
        let t = Task::new(&task, 5, SEED).unwrap();
        let (train, test) = t.train_test::<f32>(120, 40, SEED).unwrap();
        let bits = |d: &Dataset<f32>| -> Vec<u32> {
            d.x.iter().chain(&d.y).map(|v| v.to_bits()).collect()
        };
        assert_eq!(bits(&got.train), bits(&train));
        assert_eq!(bits(&got.test), bits(&test));
        assert_eq!((&got.train, &got.test), (&train, &test));
        assert_eq!(got.bayes_error, t.bayes_error());
        let desc = &got.description;
        assert_eq!(
            (desc.kind.as_str(), desc.d, desc.m_train, desc.m_test),
            ("synthetic", 5, 120, 40)
        );
        assert_eq!((desc.paths.len(), desc.content_hash.as_ref()), (0, None));
        assert_eq!(desc.targets, task.targets());
    }
    assert_eq!(
        load_data(&DataConfig::default(), 0, None)
            .unwrap()
            .description
            .m_test,
        10_000
    );
}

#[test]
fn npy_files_of_a_synthetic_task_load_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let want = load_data(&synthetic(TaskConfig::default()), SEED, None).unwrap();
    write_npy(dir.path(), &want);
    let cfg = npy_cfg(
        "x.npy",
        "y.npy",
        Some(("tx.npy", "ty.npy")),
        None,
        Targets::Labels,
    );
    let got = load_data(&cfg, SEED, Some(dir.path())).unwrap();
    same_data(&got.train, &want.train);
    same_data(&got.test, &want.test);
    assert_eq!(got.bayes_error, None);
    let desc = &got.description;
    assert_eq!(
        (
            desc.kind.as_str(),
            desc.d,
            desc.m_train,
            desc.m_test,
            desc.targets
        ),
        ("npy", 5, 120, 40, Targets::Labels)
    );
    let names: Vec<String> = ["x", "y", "tx", "ty"]
        .iter()
        .map(|n| dir.path().join(format!("{n}.npy")).display().to_string())
        .collect();
    assert_eq!(desc.paths, names);
    let hash = desc.content_hash.clone().unwrap();
    assert_eq!(hash.len(), 64);
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    // absolute paths ignore base_dir; the description round-trips through JSON
    let abs = npy_cfg(
        &names[0],
        &names[1],
        Some((&names[2], &names[3])),
        None,
        Targets::Labels,
    );
    let again = load_data(&abs, SEED, Some(Path::new("/nonexistent"))).unwrap();
    assert_eq!(again.description, got.description);
    let json = serde_json::to_string(&got.description).unwrap();
    assert!(json.contains("\"targets\":\"labels\""), "{json}");
    assert_eq!(
        serde_json::from_str::<smoe_tasks::DataDescription>(&json).unwrap(),
        got.description
    );
}

#[test]
fn real_targets_load_from_npy_and_labels_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let want = load_data(&synthetic(TaskConfig::norm_regression()), SEED, None).unwrap();
    write_npy(dir.path(), &want);
    let real = npy_cfg(
        "x.npy",
        "y.npy",
        Some(("tx.npy", "ty.npy")),
        None,
        Targets::Real,
    );
    let got = load_data(&real, SEED, Some(dir.path())).unwrap();
    same_data(&got.train, &want.train);
    same_data(&got.test, &want.test);
    assert_eq!(got.description.targets, Targets::Real);
    // the norms are not labels
    let labels = npy_cfg(
        "x.npy",
        "y.npy",
        Some(("tx.npy", "ty.npy")),
        None,
        Targets::Labels,
    );
    let e = load_data(&labels, SEED, Some(dir.path())).unwrap_err();
    let TaskError::InFile { path, source } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(path, &dir.path().join("y.npy").display().to_string());
    assert!(
        matches!(**source, TaskError::InvalidLabel { index: 0, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("labels must be -1 or +1"), "{e}");
}

#[test]
fn csv_of_a_synthetic_task_loads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let want = load_data(&synthetic(TaskConfig::teacher_moe()), SEED, None).unwrap();
    std::fs::write(dir.path().join("train.csv"), csv_text(&want.train)).unwrap();
    std::fs::write(dir.path().join("test.csv"), csv_text(&want.test)).unwrap();
    let cfg = csv_cfg("train.csv", Some("y"), Some("test.csv"), None);
    let got = load_data(&cfg, SEED, Some(dir.path())).unwrap();
    same_data(&got.train, &want.train);
    same_data(&got.test, &want.test);
    assert_eq!(
        (
            got.description.kind.as_str(),
            got.description.d,
            got.description.paths.len()
        ),
        ("csv", 5, 2)
    );
    // without `label` the last column (f4) would be the label: its values are not ±1
    let e = load_data(
        &csv_cfg("train.csv", None, Some("test.csv"), None),
        SEED,
        Some(dir.path()),
    )
    .unwrap_err();
    assert!(e.to_string().contains("column \"f4\""), "{e}");
}

#[test]
fn split_is_deterministic_disjoint_and_follows_split_indices() {
    let dir = tempfile::tempdir().unwrap();
    let want = load_data(&synthetic(TaskConfig::default()), SEED, None).unwrap();
    write_npy(dir.path(), &want);
    let cfg = npy_cfg("x.npy", "y.npy", None, Some(0.2), Targets::Labels);
    let a = load_data(&cfg, 11, Some(dir.path())).unwrap();
    assert_eq!((a.train.len(), a.test.len()), (96, 24));
    assert_eq!(a, load_data(&cfg, 11, Some(dir.path())).unwrap());
    let (tr, te) = split_indices(120, 0.2, 11).unwrap();
    assert_eq!(
        a.train,
        want.train
            .select(&tr)
            .cast::<f32>()
            .unwrap()
            .without_groups()
    );
    assert_eq!(a.test.x, want.train.select(&te).x);
    assert!(tr.iter().all(|i| !te.contains(i)));
    // the test rows are rows of the file that are not training rows
    for row in a.test.x.rows() {
        assert!(!a.train.x.rows().into_iter().any(|r| r == row));
    }
    let b = load_data(&cfg, 12, Some(dir.path())).unwrap();
    assert_ne!(a.test.x, b.test.x);
    assert_eq!(a.description.content_hash, b.description.content_hash);
    // the CSV split uses the same indices
    std::fs::write(dir.path().join("train.csv"), csv_text(&want.train)).unwrap();
    let c = load_data(
        &csv_cfg("train.csv", Some("y"), None, Some(0.2)),
        11,
        Some(dir.path()),
    )
    .unwrap();
    assert_eq!((c.train.x, c.test.y), (a.train.x, a.test.y));
    // one sample cannot be split
    write_array2(dir.path().join("x1.npy"), &array![[1.0f32, 2.0]]).unwrap();
    write_array1(dir.path().join("y1.npy"), &array![1.0f32]).unwrap();
    let one = npy_cfg("x1.npy", "y1.npy", None, Some(0.5), Targets::Labels);
    assert!(matches!(
        load_data(&one, 0, Some(dir.path())),
        Err(TaskError::TooFewSamples { got: 1, .. })
    ));
}

/// Helper on the test side: the same dataset without its groups (files carry none).
trait WithoutGroups {
    fn without_groups(self) -> Self;
}

impl WithoutGroups for Dataset<f32> {
    fn without_groups(mut self) -> Self {
        self.groups = None;
        self
    }
}

#[test]
fn content_hash_follows_bytes_not_paths() {
    let dir = tempfile::tempdir().unwrap();
    let want = load_data(&synthetic(TaskConfig::default()), SEED, None).unwrap();
    write_npy(dir.path(), &want);
    let cfg = npy_cfg(
        "x.npy",
        "y.npy",
        Some(("tx.npy", "ty.npy")),
        None,
        Targets::Labels,
    );
    let hash = |dir: &Path| {
        load_data(&cfg, SEED, Some(dir))
            .unwrap()
            .description
            .content_hash
    };
    let h0 = hash(dir.path());
    // the same files elsewhere, under other names
    let other = tempfile::tempdir().unwrap();
    for (from, to) in [("x", "a"), ("y", "b"), ("tx", "c"), ("ty", "d")] {
        std::fs::copy(
            dir.path().join(format!("{from}.npy")),
            other.path().join(format!("{to}.npy")),
        )
        .unwrap();
    }
    let renamed = npy_cfg(
        "a.npy",
        "b.npy",
        Some(("c.npy", "d.npy")),
        None,
        Targets::Labels,
    );
    let moved = load_data(&renamed, SEED, Some(other.path())).unwrap();
    assert_eq!(moved.description.content_hash, h0);
    assert_ne!(
        moved.description.paths,
        load_data(&cfg, SEED, Some(dir.path()))
            .unwrap()
            .description
            .paths
    );
    // one byte of one value changes: still a valid file, another hash
    let path = dir.path().join("tx.npy");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    assert_ne!(hash(dir.path()), h0);
}

/// An `.npy` version 1.0 file around `data` (header not padded: readers must not care).
fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let f = if fortran { "True" } else { "False" };
    let header = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}\n");
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn f8(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn npy_reader_on_hand_made_bytes() {
    let want = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]];
    let c = npy("<f8", false, "(2, 3)", &f8(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]));
    assert_eq!(decode_array2_f64(&c, "c.npy").unwrap(), want);
    let f = npy("<f8", true, "(2, 3)", &f8(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.5]));
    let got = decode_array2_f64(&f, "f.npy").unwrap();
    assert_eq!(got, want);
    assert!(got.is_standard_layout());
    let labels: Vec<u8> = [-1i64, 1, 1, -1]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let y = decode_array1_f64(&npy("<i8", false, "(4,)", &labels), "y.npy").unwrap();
    assert_eq!(y, array![-1.0, 1.0, 1.0, -1.0]);
    let f4: Vec<u8> = [0.5f32, -0.25]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    assert_eq!(
        decode_array2_f64(&npy("<f4", false, "(2, 1)", &f4), "a").unwrap(),
        array![[0.5], [-0.25]]
    );

    // truncated: one value short
    let e = decode_array2_f64(&c[..c.len() - 8], "c.npy").unwrap_err();
    assert_eq!(
        e,
        TaskError::NpyLength {
            path: "c.npy".into(),
            shape: vec![2, 3],
            item_bytes: 8,
            expected: 48,
            got: 40
        }
    );
    assert_eq!(
        e.to_string(),
        "invalid .npy file c.npy: shape [2, 3] of 8-byte values needs 48 data bytes, the file has 40"
    );
    // a header claiming 10^12 elements over 48 bytes: an error, no allocation
    let huge = npy("<f8", false, "(1000000, 1000000)", &f8(&[0.0; 6]));
    assert!(matches!(
        decode_array2_f64(&huge, "huge.npy"),
        Err(TaskError::NpyLength {
            expected: 8_000_000_000_000,
            got: 48,
            ..
        })
    ));
    // 2^64 · 2^64 values of 8 bytes overflow even u128: reported as u128::MAX
    let overflow = npy(
        "<f8",
        false,
        "(18446744073709551615, 18446744073709551615, 4)",
        &[],
    );
    assert!(matches!(
        decode_array2_f64(&overflow, "o.npy"),
        Err(TaskError::Npy { .. })
    ));
    let overflow = npy(
        "<f8",
        false,
        "(18446744073709551615, 18446744073709551615)",
        &[],
    );
    assert!(matches!(
        decode_array2_f64(&overflow, "o.npy"),
        Err(TaskError::NpyLength {
            expected: u128::MAX,
            got: 0,
            ..
        })
    ));
    // the header's length runs past the end of the file
    let mut cut = c[..20].to_vec();
    cut.truncate(20);
    assert!(matches!(
        decode_array2_f64(&cut, "cut.npy"),
        Err(TaskError::Npy { .. })
    ));
    // every prefix of a valid file is an error, never a panic
    for n in 0..c.len() {
        assert!(decode_array2_f64(&c[..n], "p.npy").is_err(), "prefix {n}");
    }
    let bad_magic = [b"\x93NUMPZ".as_slice(), &c[6..]].concat();
    assert!(
        decode_array2_f64(&bad_magic, "m.npy")
            .unwrap_err()
            .to_string()
            .contains("magic")
    );
    // dimensions are strict
    let e = decode_array2_f64(&npy("<i8", false, "(4,)", &labels), "y.npy").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid .npy file y.npy: expected a 2-D [rows, cols] array, got shape [4] (1-D)"
    );
    assert!(matches!(
        decode_array1_f64(&c, "c.npy"),
        Err(TaskError::Npy { .. })
    ));
    let e = decode_array1_f64(&npy("<c16", false, "(1,)", &[0; 16]), "z.npy").unwrap_err();
    assert!(e.to_string().contains("unsupported dtype \"<c16\""), "{e}");
}

#[test]
fn npy_files_round_trip_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let a: Array2<f64> = array![[0.1, -2.0], [1e300, 5e-324]];
    write_array2(dir.path().join("a.npy"), &a).unwrap();
    assert_eq!(read_array2_f64(dir.path().join("a.npy")).unwrap(), a);
    let v: Array1<f32> = array![0.1, 7.0, -0.0];
    write_array1(dir.path().join("v.npy"), &v).unwrap();
    assert_eq!(
        read_array1_f64(dir.path().join("v.npy")).unwrap(),
        v.mapv(f64::from)
    );
    let missing = dir.path().join("missing.npy");
    let e = read_array2_f64(&missing).unwrap_err();
    assert!(
        matches!(&e, TaskError::Io { action: "read", path, .. } if *path == missing.display().to_string()),
        "{e:?}"
    );
    let e = write_array1(dir.path().join("no/such/dir.npy"), &v).unwrap_err();
    assert!(
        matches!(
            e,
            TaskError::Io {
                action: "write",
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn npy_source_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    write_array2(p("x.npy"), &array![[1.0f64, 2.0], [3.0, 4.0], [5.0, 6.0]]).unwrap();
    write_array1(p("y.npy"), &array![1.0f64, -1.0]).unwrap();
    write_array1(p("y3.npy"), &array![1.0f64, -1.0, 1.0]).unwrap();
    write_array2(p("tx.npy"), &array![[1.0f64, 2.0, 3.0]]).unwrap();
    write_array1(p("ty.npy"), &array![1.0f64]).unwrap();
    write_array2(
        p("big.npy"),
        &array![[1.0f64, 2.0], [3.0, 1e39], [0.0, 0.0]],
    )
    .unwrap();
    write_array2(
        p("nan.npy"),
        &array![[1.0f64, 2.0], [f64::NAN, 0.0], [0.0, 0.0]],
    )
    .unwrap();
    let load = |cfg: DataConfig| load_data(&cfg, 0, Some(dir.path())).unwrap_err();
    let name = |n: &str| p(n).display().to_string();

    let e = load(npy_cfg("x.npy", "y.npy", None, Some(0.5), Targets::Labels));
    let TaskError::InFile { path, source } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(path, &format!("{} + {}", name("x.npy"), name("y.npy")));
    assert!(matches!(**source, TaskError::Shape(_)));

    let e = load(npy_cfg(
        "x.npy",
        "y3.npy",
        Some(("tx.npy", "ty.npy")),
        None,
        Targets::Labels,
    ));
    let TaskError::InFile { path, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(path, &name("tx.npy"));

    let e = load(npy_cfg(
        "big.npy",
        "y3.npy",
        None,
        Some(0.5),
        Targets::Labels,
    ));
    assert_eq!(
        e,
        TaskError::InFile {
            path: name("big.npy"),
            source: Box::new(TaskError::NonFiniteInput {
                row: 1,
                col: 1,
                value: 1e39,
                ty: "f32"
            })
        }
    );
    let e = load(npy_cfg(
        "nan.npy",
        "y3.npy",
        None,
        Some(0.5),
        Targets::Labels,
    ));
    assert!(
        e.to_string()
            .starts_with(&format!("{}: input x[1, 0] is NaN", name("nan.npy"))),
        "{e}"
    );

    let e = load(npy_cfg(
        "x.npy",
        "nope.npy",
        None,
        Some(0.5),
        Targets::Labels,
    ));
    assert!(
        matches!(e, TaskError::Io { .. }) && e.to_string().contains("nope.npy"),
        "{e}"
    );

    // y given where x is expected, and the reverse
    let e = load(npy_cfg(
        "y3.npy",
        "y3.npy",
        None,
        Some(0.5),
        Targets::Labels,
    ));
    assert!(
        matches!(e, TaskError::Npy { .. }) && e.to_string().contains("y3.npy"),
        "{e}"
    );
    let e = load(npy_cfg("x.npy", "x.npy", None, Some(0.5), Targets::Labels));
    assert!(matches!(e, TaskError::Npy { .. }), "{e}");
    // an invalid config fails before any file is read
    let e = load(npy_cfg("nope.npy", "nope.npy", None, None, Targets::Labels));
    assert!(
        matches!(
            e,
            TaskError::InvalidDataConfig {
                field: "test_fraction",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn csv_source_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |n: &str, text: &str| std::fs::write(dir.path().join(n), text).unwrap();
    let name = |n: &str| dir.path().join(n).display().to_string();
    let load = |path: &str, label: Option<&str>, test: Option<&str>| {
        let f = if test.is_some() { None } else { Some(0.5) };
        load_data(&csv_cfg(path, label, test, f), 0, Some(dir.path())).unwrap_err()
    };
    write("cell.csv", "a,b,y\n1,2,1\n3,x4,-1\n");
    assert_eq!(
        load("cell.csv", None, None),
        TaskError::CsvCell {
            path: name("cell.csv"),
            line: 3,
            column: "b".into(),
            value: "x4".into()
        }
    );
    write("ragged.csv", "a,b,y\n1,2,1\n3,4\n");
    assert_eq!(
        load("ragged.csv", None, None),
        TaskError::CsvRagged {
            path: name("ragged.csv"),
            line: 3,
            expected: 3,
            got: 2
        }
    );
    write("ok.csv", "a,b,y\n1,2,1\n3,4,-1\n");
    assert_eq!(
        load("ok.csv", Some("label"), None),
        TaskError::CsvMissingColumn {
            path: name("ok.csv"),
            column: "label".into(),
            available: vec!["a".into(), "b".into(), "y".into()]
        }
    );
    write("zero_one.csv", "a,b,y\n1,2,1\n3,4,0\n");
    let e = load("zero_one.csv", None, None);
    assert_eq!(
        e.to_string(),
        format!(
            "{}, line 3, column \"y\": label 1 is 0: labels must be -1 or +1",
            name("zero_one.csv")
        )
    );
    write("empty.csv", "");
    assert!(matches!(
        load("empty.csv", None, None),
        TaskError::CsvEmpty { .. }
    ));
    write("header_only.csv", "a,b,y\n");
    assert!(matches!(
        load("header_only.csv", None, None),
        TaskError::CsvEmpty {
            what: "no data rows",
            ..
        }
    ));
    write("other.csv", "a,c,y\n1,2,1\n");
    assert!(matches!(
        load("ok.csv", None, Some("other.csv")),
        TaskError::CsvHeaderMismatch { .. }
    ));
    // real targets accept any finite value
    let cfg = DataConfig::Csv(CsvData {
        path: "zero_one.csv".into(),
        label: None,
        test: Some("ok.csv".into()),
        test_fraction: None,
        targets: Targets::Real,
    });
    let data = load_data(&cfg, 0, Some(dir.path())).unwrap();
    assert_eq!(data.train.y, array![1.0f32, 0.0]);
    assert_eq!(data.train.x, array![[1.0f32, 2.0], [3.0, 4.0]]);
    assert_eq!(data.train.targets, Targets::Real);
}
