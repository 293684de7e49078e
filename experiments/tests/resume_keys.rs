//! A sweep's resume key hashes the data files' content, not their paths: the same files in
//! another folder give the same keys (a moved dataset does not redo a sweep), one changed
//! byte gives new keys.

use ndarray::{Array1, Array2};
use smoe_experiments::sweep::{SweepConfig, expand};

fn keys(dir: &std::path::Path) -> Vec<String> {
    let text = format!(
        "name = \"k\"\n[base.data]\nkind = \"npy\"\nx = \"{}\"\ny = \"{}\"\ntest_fraction = 0.25\n[grid]\nseed = [0, 1]\n",
        dir.join("x.npy").display(),
        dir.join("y.npy").display()
    );
    let cfg = SweepConfig::parse(&text).expect("config");
    let (cells, _) = expand(&cfg, None).expect("expand");
    cells.into_iter().map(|c| c.key).collect()
}

#[test]
fn keys_follow_the_files_content_not_their_paths() {
    let (a, b) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let x = Array2::<f32>::from_shape_fn((20, 3), |(i, j)| (i * 3 + j) as f32 * 0.1);
    let y = Array1::<f32>::from_shape_fn(20, |i| if i % 2 == 0 { 1.0 } else { -1.0 });
    for d in [a.path(), b.path()] {
        smoe_tasks::npy::write_array2(d.join("x.npy"), &x).expect("x");
        smoe_tasks::npy::write_array1(d.join("y.npy"), &y).expect("y");
    }
    let (ka, kb) = (keys(a.path()), keys(b.path()));
    assert_eq!(ka.len(), 2);
    assert_ne!(ka[0], ka[1], "the seed is part of the key");
    assert_eq!(ka, kb, "moving the files keeps the keys");
    let mut y2 = y.clone();
    y2[3] = 1.0;
    smoe_tasks::npy::write_array1(b.path().join("y.npy"), &y2).expect("y");
    let kc = keys(b.path());
    assert!(
        ka.iter().zip(&kc).all(|(p, q)| p != q),
        "changed content, new keys"
    );
    // a missing file is an error before anything runs, naming the file
    std::fs::remove_file(b.path().join("x.npy")).expect("rm");
    let text = format!(
        "name = \"k\"\n[base.data]\nkind = \"npy\"\nx = \"{}\"\ny = \"y.npy\"\ntest_fraction = 0.25\n[grid]\nseed = [0]\n",
        b.path().join("x.npy").display()
    );
    let err = expand(&SweepConfig::parse(&text).expect("config"), Some(b.path()))
        .expect_err("missing file")
        .to_string();
    assert!(err.contains("x.npy"), "{err}");
}
