//! The sweep statistics against scipy: paired t (`ttest_rel`, `t.ppf` for the interval), Welch
//! (`ttest_ind(equal_var=False)`), Holm (by hand in the script), the t CDF and quantile. The
//! fixture `fixtures/stats/paired_t_holm.json` was made once by `make_fixture.py` next to it.

use serde_json::Value;
use smoe_experiments::stats::{holm, paired_t, t_cdf, t_quantile, welch_contrast};

fn fixture() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/stats/paired_t_holm.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn close(what: &str, got: f64, want: f64, abs: f64) {
    assert!((got - want).abs() <= abs, "{what}: {got} vs scipy {want}");
}

fn close_rel(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1e-300),
        "{what}: {got} vs scipy {want}"
    );
}

#[test]
fn paired_t_matches_scipy() {
    let f = fixture();
    let cases = f["paired"].as_array().expect("cases");
    assert_eq!(cases.len(), 5);
    for c in cases {
        let d: Vec<f64> = nums(&c["a"])
            .iter()
            .zip(nums(&c["b"]))
            .map(|(a, b)| a - b)
            .collect();
        let r = paired_t(&d).expect("paired t");
        close("mean", r.mean, c["mean"].as_f64().unwrap(), 1e-10);
        close("sd", r.sd.unwrap(), c["sd"].as_f64().unwrap(), 1e-10);
        close("t", r.t, c["t"].as_f64().unwrap(), 1e-10);
        assert_eq!(r.df, c["df"].as_f64().unwrap());
        close_rel("p", r.p, c["p"].as_f64().unwrap(), 1e-9);
        close("ci_low", r.ci_low, c["ci_low"].as_f64().unwrap(), 1e-10);
        close("ci_high", r.ci_high, c["ci_high"].as_f64().unwrap(), 1e-10);
    }
}

#[test]
fn welch_matches_scipy() {
    let f = fixture();
    for c in f["welch"].as_array().expect("cases") {
        let (a, b) = (nums(&c["a"]), nums(&c["b"]));
        let r = welch_contrast(&[(&a, &b)]).expect("welch");
        close("mean", r.mean, c["mean"].as_f64().unwrap(), 1e-10);
        close("t", r.t, c["t"].as_f64().unwrap(), 1e-10);
        close("df", r.df, c["df"].as_f64().unwrap(), 1e-10);
        close_rel("p", r.p, c["p"].as_f64().unwrap(), 1e-9);
        close("ci_low", r.ci_low, c["ci_low"].as_f64().unwrap(), 1e-10);
        close("ci_high", r.ci_high, c["ci_high"].as_f64().unwrap(), 1e-10);
    }
}

#[test]
fn holm_matches_the_scripts_hand_computation() {
    let f = fixture();
    for c in f["holm"].as_array().expect("cases") {
        let got = holm(&nums(&c["p"])).expect("holm");
        let want = nums(&c["adjusted"]);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            close("holm", *g, *w, 1e-15);
        }
    }
}

#[test]
fn t_cdf_and_quantile_match_scipy() {
    let f = fixture();
    for c in f["t_cdf"].as_array().expect("cases") {
        let (t, df) = (c["t"].as_f64().unwrap(), c["df"].as_f64().unwrap());
        close_rel(
            &format!("cdf({t}, {df})"),
            t_cdf(t, df).unwrap(),
            c["cdf"].as_f64().unwrap(),
            1e-12,
        );
    }
    for c in f["t_quantile"].as_array().expect("cases") {
        let (q, df) = (c["q"].as_f64().unwrap(), c["df"].as_f64().unwrap());
        close(
            &format!("ppf({q}, {df})"),
            t_quantile(q, df).unwrap(),
            c["t"].as_f64().unwrap(),
            1e-10,
        );
    }
}
