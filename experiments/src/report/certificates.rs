//! The report's certificate section: every certified run's PAC-Bayes certificate beside its
//! test error and the hold-out bound, with the KL per parameter.

use std::fmt::Write;

use crate::sweep::SweepLine;

fn f4(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.4}"))
}

/// The section (a heading, one sentence and one row per certified run, grid order), or
/// `None` when no run of the sweep was certified.
pub fn section(lines: &[SweepLine]) -> Option<String> {
    let mut rows: Vec<(&SweepLine, &smoe_theory::certify::CertificateRecord)> = lines
        .iter()
        .filter_map(|l| {
            let c = l.record.as_ref()?.certificate.as_ref()?;
            Some((l, c))
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    rows.sort_by_key(|(l, _)| (l.cell, l.record.as_ref().map_or(0, |r| r.seed)));
    let conf = rows[0].1.confidence;
    let below = rows.iter().filter(|(_, c)| c.bound < 0.5).count();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## PAC-Bayes certificates\n\nEach certified run's bound on its stochastic model's 0-1 error (THEORY §5: Q = N(w, diag σ²) over every weight, router included, optimised from the trained weights; M networks sampled from Q, each re-routed with hard top-k; confidence {conf:.3}), beside the trained model's test error, the stochastic model's test error and the hold-out bound (binomial tail on the test set). {below} of {} certificates are below 0.5 (non-vacuous). KL/N is the KL per parameter; the prior's mean is the run's initialisation (`init`) or a model trained the run's way on held-out training rows (`data_dependent`; m is then the rest, and with \"Q from the prior\" Q's mean starts at the prior's, so the test error and hold-out bound are the prior model's).\n",
        rows.len()
    );
    md.push_str("| run | seed | prior | N | m | KL | KL/N | test error | stochastic test error | hold-out bound | certificate |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (l, c) in rows {
        let coords: Vec<String> = l
            .coords
            .iter()
            .filter(|(k, _)| k.as_str() != "seed")
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        let seed = l.record.as_ref().map_or(0, |r| r.seed);
        let _ = writeln!(
            md,
            "| {} | {seed} | {} | {} | {} | {:.0} | {:.4} | {} | {} | {} | **{:.4}** |",
            coords.join(", ").replace('"', ""),
            if c.prior.start == "prior" {
                format!("{} (Q from the prior)", c.prior.kind)
            } else {
                c.prior.kind.clone()
            },
            c.params,
            c.m,
            c.kl,
            c.kl_per_param,
            f4(c.test_error),
            f4(c.stochastic_test_error),
            f4(c.holdout_bound),
            c.bound
        );
    }
    md.push('\n');
    Some(md)
}
