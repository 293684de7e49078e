//! Training on `.npy` files and on CSV files written from a synthetic task's samples gives
//! the same record as training on the task directly: the same data bit for bit, hence the
//! same losses, metrics, routing statistics and bounds. Only what the synthetic source
//! alone knows (the Bayes error, the ground-truth groups behind `group_nmi`) and the
//! description of the source differ.

use std::fmt::Write as _;
use std::path::Path;

use ndarray::Axis;
use smoe_experts::ExpertConfig;
use smoe_model::{ModelConfig, SparseConfig};
use smoe_tasks::{
    CsvData, DataConfig, Dataset, NpyData, SyntheticData, Targets, Task, TaskConfig, content_hash,
    data_content_hash, load_data, npy, split_indices,
};
use smoe_train::{EvalMetrics, RunRecord, Timings, TrainConfig, TrainOutcome, train, train_in};

const SEED: u64 = 11;
const D: usize = 5;
const M_TRAIN: usize = 300;
const M_TEST: usize = 200;

/// Scalars that depend on the clock, or that only a synthetic source can know.
const NOT_COMPARED: [&str; 4] = [
    "train_secs",
    "total_secs",
    "train_samples_per_sec",
    "bayes_error",
];

fn task() -> TaskConfig {
    TaskConfig::MixtureOfLinear {
        clusters: 4,
        noise: 0.05,
    }
}

fn synthetic() -> DataConfig {
    DataConfig::Synthetic(SyntheticData {
        d: D,
        m_train: M_TRAIN,
        m_test: M_TEST,
        task: task(),
        fresh_batches: false,
    })
}

fn config(data: DataConfig) -> TrainConfig {
    let mut c = TrainConfig {
        seed: SEED,
        data,
        ..Default::default()
    };
    c.model = ModelConfig::Sparse(SparseConfig {
        experts: 4,
        k: 2,
        expert: ExpertConfig {
            width: 8,
            ..Default::default()
        },
        ..Default::default()
    });
    c.train.epochs = 3;
    c.train.batch_size = 64;
    c.train.eval_every = 1;
    c.aux.balance = 0.01;
    c
}

/// The samples exactly as the synthetic source draws them.
fn draw() -> (Dataset<f32>, Dataset<f32>) {
    Task::new(&task(), D, SEED)
        .expect("task")
        .train_test::<f32>(M_TRAIN, M_TEST, SEED)
        .expect("samples")
}

/// One f32 as CSV text that reads back (as the CSV source does: `f64`, then `f32`) to the
/// same bits.
fn cell(v: f32) -> String {
    let s = format!("{v:?}");
    let back = s.parse::<f64>().expect("parses") as f32;
    assert_eq!(
        back.to_bits(),
        v.to_bits(),
        "{v:?} printed as {s} reads back as {back:?}"
    );
    s
}

fn write_csv(path: &Path, set: &Dataset<f32>) {
    let mut text: String = (0..set.dim()).map(|j| format!("x{j},")).collect();
    text.push_str("y\n");
    for (row, y) in set.x.rows().into_iter().zip(&set.y) {
        for &v in row {
            write!(text, "{},", cell(v)).expect("write");
        }
        writeln!(text, "{}", cell(*y)).expect("write");
    }
    std::fs::write(path, text).expect("write csv");
}

fn same_arrays(a: &Dataset<f32>, b: &Dataset<f32>, what: &str) {
    assert_eq!(a.x.dim(), b.x.dim(), "{what}: x shape");
    let bits = |s: &Dataset<f32>| -> Vec<u32> { s.x.iter().map(|v| v.to_bits()).collect() };
    assert!(bits(a) == bits(b), "{what}: x differs");
    let ybits = |s: &Dataset<f32>| -> Vec<u32> { s.y.iter().map(|v| v.to_bits()).collect() };
    assert!(ybits(a) == ybits(b), "{what}: y differs");
    assert_eq!(a.targets, b.targets, "{what}: targets");
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Every `group_nmi` of the record (init, every epoch's evaluations, final).
fn group_nmis(r: &RunRecord) -> Vec<Option<f64>> {
    let mut out = vec![r.init_test.group_nmi];
    for e in r.epochs.iter().filter_map(|e| e.eval.as_ref()) {
        out.extend([e.train.group_nmi, e.test.group_nmi]);
    }
    if let Some(f) = &r.final_eval {
        out.extend([f.train.group_nmi, f.test.group_nmi]);
    }
    out
}

/// The record with what only the source can know, and the clock, cleared.
fn source_free(r: &RunRecord) -> RunRecord {
    let mut r = r.clone();
    let clear = |m: &mut EvalMetrics| m.group_nmi = None;
    clear(&mut r.init_test);
    for e in r.epochs.iter_mut().filter_map(|e| e.eval.as_mut()) {
        clear(&mut e.train);
        clear(&mut e.test);
    }
    if let Some(f) = r.final_eval.as_mut() {
        clear(&mut f.train);
        clear(&mut f.test);
    }
    r.bayes_error = None;
    r.timings = Timings::default();
    r.config.data = DataConfig::default();
    r.data.kind.clear();
    r.data.paths.clear();
    r.data.content_hash = None;
    r
}

/// The compared scalars: every named scalar but the clock's and the Bayes error, and with
/// `group_nmi` (which needs the synthetic task's groups) checked separately.
fn compared_scalars(r: &RunRecord) -> Vec<(String, Option<f64>)> {
    r.scalars()
        .into_iter()
        .filter(|(k, _)| !NOT_COMPARED.contains(&k.as_str()) && !k.ends_with(".group_nmi"))
        .collect()
}

/// Asserts that `file` (trained on files holding `synth`'s samples) has the same record.
fn assert_same_run(synth: &TrainOutcome, file: &TrainOutcome, what: &str) {
    let (a, b) = (&synth.record, &file.record);
    same_arrays(
        &synth.train_set,
        &file.train_set,
        &format!("{what}: training set"),
    );
    same_arrays(
        &synth.test_set,
        &file.test_set,
        &format!("{what}: test set"),
    );
    assert!(file.train_set.groups.is_none() && file.test_set.groups.is_none());

    // every named scalar, by name and value, exactly
    let (sa, sb) = (compared_scalars(a), compared_scalars(b));
    let names = |s: &[(String, Option<f64>)]| s.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(names(&sa), names(&sb), "{what}: scalar names");
    for ((name, va), (_, vb)) in sa.iter().zip(&sb) {
        assert_eq!(va, vb, "{what}: scalar {name}");
    }
    for key in [
        "train.error",
        "test.error",
        "train.loss",
        "test.loss",
        "gap_ramp",
        "params",
    ] {
        let v = sa.iter().find(|(k, _)| k == key).and_then(|(_, v)| *v);
        assert!(
            v.is_some_and(f64::is_finite),
            "{what}: scalar {key} missing"
        );
    }

    // what only the synthetic source knows
    assert_eq!(a.bayes_error, Some(0.05));
    assert_eq!(b.bayes_error, None, "{what}");
    assert!(group_nmis(a).iter().all(Option::is_some));
    assert!(group_nmis(b).iter().all(Option::is_none), "{what}");

    // every epoch's running loss and error, then everything else of each epoch
    assert_eq!(a.epochs.len(), 3);
    assert_eq!(b.epochs.len(), 3, "{what}");
    for (ea, eb) in a.epochs.iter().zip(&b.epochs) {
        assert!(ea.running_loss.is_finite() && ea.running_loss > 0.0);
        assert_eq!(
            ea.running_loss.to_bits(),
            eb.running_loss.to_bits(),
            "{what}: running loss of epoch {}",
            ea.epoch
        );
        assert_eq!(
            ea.running_error, eb.running_error,
            "{what}: epoch {}",
            ea.epoch
        );
        assert_eq!(
            ea.balance_loss, eb.balance_loss,
            "{what}: epoch {}",
            ea.epoch
        );
        assert!(ea.eval.is_some(), "eval_every = 1 evaluates every epoch");
    }

    // the bounds
    let (ba, bb) = (a.bounds.as_ref().expect("bounds"), b.bounds.as_ref());
    let bb = bb.unwrap_or_else(|| panic!("{what}: no bounds"));
    let (bsa, bsb) = (ba.scalars(), bb.scalars());
    assert!(!bsa.is_empty());
    assert_eq!(bsa.len(), bsb.len(), "{what}: bound scalars");
    for ((ka, va), (kb, vb)) in bsa.iter().zip(&bsb) {
        assert_eq!(ka, kb, "{what}: bound scalar names");
        assert_eq!(va.to_bits(), vb.to_bits(), "{what}: bound scalar {ka}");
    }
    assert_eq!(ba, bb, "{what}: bound report");

    // and the rest of the record, structurally
    assert_eq!(source_free(a), source_free(b), "{what}: record");
}

#[test]
fn npy_and_csv_files_of_a_synthetic_task_train_exactly_as_the_task() {
    let start = std::time::Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let (train_set, test_set) = draw();
    assert_eq!(train_set.targets, Targets::Labels);

    // A: the synthetic source, which must draw exactly these samples
    let a = train(&config(synthetic()), &mut |_| {}).expect("synthetic run");
    same_arrays(
        &a.train_set,
        &train_set,
        "synthetic source vs Task::train_test",
    );
    same_arrays(
        &a.test_set,
        &test_set,
        "synthetic source vs Task::train_test",
    );
    assert!(a.train_set.groups.is_some());
    let fin = a.record.final_eval.as_ref().expect("final");
    assert!(
        fin.test.get("error").expect("error") < 0.45,
        "the model learns something"
    );
    let da = &a.record.data;
    assert_eq!(da.kind, "synthetic");
    assert!(da.paths.is_empty());
    assert_eq!(da.content_hash, None);
    assert_eq!((da.d, da.m_train, da.m_test), (D, M_TRAIN, M_TEST));

    // B: .npy files (x in f32, y in f64), absolute paths, no base folder
    let p = |name: &str| dir.join(name);
    npy::write_array2(p("train_x.npy"), &train_set.x).expect("write");
    npy::write_array1(p("train_y.npy"), &train_set.y.mapv(f64::from)).expect("write");
    npy::write_array2(p("test_x.npy"), &test_set.x).expect("write");
    npy::write_array1(p("test_y.npy"), &test_set.y.mapv(f64::from)).expect("write");
    let npy_cfg = DataConfig::Npy(NpyData {
        x: p("train_x.npy"),
        y: p("train_y.npy"),
        test_x: Some(p("test_x.npy")),
        test_y: Some(p("test_y.npy")),
        test_fraction: None,
        targets: Targets::Labels,
    });
    let b = train(&config(npy_cfg.clone()), &mut |_| {}).expect("npy run");
    assert_same_run(&a, &b, "npy");
    let db = &b.record.data;
    assert_eq!(db.kind, "npy");
    let npy_files = ["train_x.npy", "train_y.npy", "test_x.npy", "test_y.npy"];
    let expected: Vec<String> = npy_files
        .iter()
        .map(|f| p(f).display().to_string())
        .collect();
    assert_eq!(db.paths, expected);
    let hash = db.content_hash.as_deref().expect("npy hash");
    assert!(is_hex64(hash), "{hash}");
    let bytes: Vec<Vec<u8>> = npy_files
        .iter()
        .map(|f| std::fs::read(p(f)).expect("read"))
        .collect();
    assert_eq!(hash, content_hash(bytes.iter().map(Vec::as_slice)));
    assert_eq!(
        data_content_hash(&npy_cfg, None).expect("hash").as_deref(),
        Some(hash)
    );
    assert_eq!((db.d, db.m_train, db.m_test), (D, M_TRAIN, M_TEST));
    assert_eq!(b.record.config.data, npy_cfg);

    // C: CSV files, relative paths resolved against the base folder
    write_csv(&p("train.csv"), &train_set);
    write_csv(&p("test.csv"), &test_set);
    let csv_cfg = DataConfig::Csv(CsvData {
        path: "train.csv".into(),
        label: None,
        test: Some("test.csv".into()),
        test_fraction: None,
        targets: Targets::Labels,
    });
    assert!(
        train(&config(csv_cfg.clone()), &mut |_| {}).is_err(),
        "relative paths are not found without the base folder"
    );
    let c = train_in(&config(csv_cfg.clone()), Some(dir), &mut |_| {}).expect("csv run");
    assert_same_run(&a, &c, "csv");
    let dc = &c.record.data;
    assert_eq!(dc.kind, "csv");
    let expected: Vec<String> = ["train.csv", "test.csv"]
        .iter()
        .map(|f| p(f).display().to_string())
        .collect();
    assert_eq!(dc.paths, expected);
    let chash = dc.content_hash.as_deref().expect("csv hash");
    assert!(is_hex64(chash), "{chash}");
    assert_ne!(chash, hash);
    let bytes = [
        std::fs::read(p("train.csv")).expect("read"),
        std::fs::read(p("test.csv")).expect("read"),
    ];
    assert_eq!(chash, content_hash(bytes.iter().map(Vec::as_slice)));
    assert_eq!(
        data_content_hash(&csv_cfg, Some(dir))
            .expect("hash")
            .as_deref(),
        Some(chash)
    );
    assert_eq!((dc.d, dc.m_train, dc.m_test), (D, M_TRAIN, M_TEST));
    assert_eq!(c.record.config.data, csv_cfg);

    eprintln!("three runs in {:.2?}", start.elapsed());
}

#[test]
fn a_csv_split_by_test_fraction_is_deterministic_and_hashed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let (all, _) = draw();
    write_csv(&dir.join("train.csv"), &all);
    let csv_cfg = |path: &str| {
        DataConfig::Csv(CsvData {
            path: path.into(),
            label: Some("y".into()),
            test: None,
            test_fraction: Some(0.25),
            targets: Targets::Labels,
        })
    };
    let run = || train_in(&config(csv_cfg("train.csv")), Some(dir), &mut |_| {}).expect("run");
    let (r1, r2) = (run(), run());
    assert_eq!(r1.record.without_timings(), r2.record.without_timings());
    let d = &r1.record.data;
    assert_eq!(d.m_train + d.m_test, M_TRAIN);
    assert_eq!((d.m_train, d.m_test), (225, 75));
    assert_eq!((r1.train_set.len(), r1.test_set.len()), (225, 75));

    // the split is split_indices' with the run's seed, rows in their file order
    let (tr, te) = split_indices(M_TRAIN, 0.25, SEED).expect("split");
    let rows = |set: &Dataset<f32>, idx: &[usize]| {
        let mut s = set.select(idx);
        s.groups = None;
        s
    };
    same_arrays(&r1.train_set, &rows(&all, &tr), "split training set");
    same_arrays(&r1.test_set, &rows(&all, &te), "split test set");
    assert!(
        r1.record
            .final_eval
            .as_ref()
            .and_then(|f| f.test.get("error"))
            .is_some()
    );

    // one byte changed: another content hash, one cell changed
    let hash = d.content_hash.clone().expect("hash");
    assert!(is_hex64(&hash));
    let mut bytes = std::fs::read(dir.join("train.csv")).expect("read");
    let first_row = bytes.iter().position(|&b| b == b'\n').expect("header") + 1;
    let first_comma = first_row
        + bytes[first_row..]
            .iter()
            .position(|&b| b == b',')
            .expect(",");
    let pos = (first_row..first_comma)
        .find(|&i| (b'1'..=b'8').contains(&bytes[i]))
        .expect("a digit 1-8 in the first cell");
    bytes[pos] += 1;
    std::fs::write(dir.join("changed.csv"), &bytes).expect("write");
    let changed = load_data(&csv_cfg("changed.csv"), SEED, Some(dir)).expect("load");
    let ch = changed.description.content_hash.clone().expect("hash");
    assert!(is_hex64(&ch));
    assert_ne!(ch, hash);
    assert_eq!(
        (changed.description.m_train, changed.description.m_test),
        (225, 75)
    );
    let old = r1.train_set.x.iter().chain(&r1.test_set.x);
    let new = changed.train.x.iter().chain(&changed.test.x);
    assert_eq!(old.zip(new).filter(|(a, b)| a != b).count(), 1);
    // the changed cell is x0 of the file's first row
    let first = |s: &Dataset<f32>| s.x.index_axis(Axis(0), 0).to_owned();
    let which = if tr[0] == 0 {
        (first(&r1.train_set), first(&changed.train))
    } else {
        (first(&r1.test_set), first(&changed.test))
    };
    assert_ne!(which.0[0], which.1[0]);
}
