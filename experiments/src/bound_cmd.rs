//! `smoe bound`: every term of every bound for given (k, T, m, d), for what-if questions
//! without training — or, with `--checkpoint` and `--data`, for a trained model.

use std::path::PathBuf;

use anyhow::{Context, Result};
use ndarray::Array2;
use smoe_model::SparseMoe;
use smoe_theory::{
    BoundSettings, D1Inputs, ExpertStat, VcInputs, ZhaoInputs, arrangement_log_count, bound_report,
    d1_bound, kratsios_vc_shape, linear_router_natarajan_dim, mlp_router_natarajan_shape,
    natarajan_log_count, zhao_restated,
};

/// Arguments of `smoe bound`.
#[derive(Debug, Clone, clap::Args)]
pub struct BoundArgs {
    /// k: experts selected per input (1 <= k <= T).
    #[arg(long)]
    pub k: usize,
    /// T: experts in total.
    #[arg(long = "T")]
    pub t: usize,
    /// m: training samples.
    #[arg(long)]
    pub m: usize,
    /// d: input width.
    #[arg(long)]
    pub d: usize,
    /// δ: failure probability, in (0, 1).
    #[arg(long, default_value_t = 0.05)]
    pub delta: f64,
    /// γ: ramp-loss margin; the loss is 1/γ-Lipschitz (C = 1/γ).
    #[arg(long, default_value_t = 1.0)]
    pub gamma: f64,
    /// Router hidden width; 0 means a linear router (d_N = (d+1)(T−1), or d(T−1) with
    /// --no-bias); > 0 an MLP router (parameter-count d_N, shape only).
    #[arg(long, default_value_t = 0)]
    pub router_hidden: usize,
    /// The linear router has no bias (as in THEORY.md's worked examples).
    #[arg(long)]
    pub no_bias: bool,
    /// R_m(H), one expert's Rademacher complexity at sample size m. Default 1/sqrt(m): linear
    /// experts with ||w|| ||x|| <= 1 (THEORY.md §1.7). D1 takes inputs of unit norm and
    /// balanced loads m_j = k m / T, each expert at R sqrt(m / m_j).
    #[arg(long)]
    pub expert_complexity: Option<f64>,
    /// Expert depth (hidden layers) for the Kratsios VC shape.
    #[arg(long, default_value_t = 1)]
    pub depth: usize,
    /// Expert width for the Kratsios VC shape.
    #[arg(long, default_value_t = 64)]
    pub width: usize,
    /// A trained checkpoint: evaluate every bound for it on --data instead of the what-if
    /// inputs (k, T, d then come from the checkpoint and must agree).
    #[arg(long, value_name = "FILE", requires = "data")]
    pub checkpoint: Option<PathBuf>,
    /// Training inputs for --checkpoint, .npy f32 or f64 `[m, d]`.
    #[arg(long, value_name = "FILE", requires = "checkpoint")]
    pub data: Option<PathBuf>,
}

fn table(rows: &[(&str, String, f64)]) -> String {
    let mut s = String::from("| bound | term | value |\n|---|---|---|\n");
    for (b, t, v) in rows {
        s.push_str(&format!("| {b} | {t} | {v:.6} |\n"));
    }
    s
}

/// The what-if table.
///
/// # Errors
/// Invalid inputs (δ ∉ (0,1), m = 0, k > T, …) as the theory crate reports them.
pub fn what_if(a: &BoundArgs) -> Result<String> {
    anyhow::ensure!(
        a.gamma.is_finite() && a.gamma > 0.0,
        "--gamma must be finite and > 0, got {}",
        a.gamma
    );
    let c = 1.0 / a.gamma;
    let r = a
        .expert_complexity
        .unwrap_or(1.0 / (a.m.max(1) as f64).sqrt());
    let (d_n, d_n_note) = if a.router_hidden == 0 {
        (
            linear_router_natarajan_dim(a.d, a.t, !a.no_bias)? as f64,
            "valid",
        )
    } else {
        (
            mlp_router_natarajan_shape(&[a.d, a.router_hidden, a.t], true)?.value,
            "shape only",
        )
    };
    let nat = natarajan_log_count(d_n, a.m, a.t, a.k)?;
    let zhao = zhao_restated(&ZhaoInputs {
        lipschitz: c,
        rademacher: r,
        k: a.k,
        t: a.t,
        d_n,
        m: a.m,
        delta: a.delta,
    })?;
    // balanced loads m_j summing to k m
    let total = a.k * a.m;
    let experts: Vec<ExpertStat> = (0..a.t)
        .map(|j| {
            let load = total / a.t + usize::from(j < total % a.t);
            ExpertStat {
                load,
                complexity: if load > 0 {
                    r * (a.m as f64 / load as f64).sqrt()
                } else {
                    0.0
                },
                // A_j = R sqrt(m) with inputs of unit norm (Σ ||x||² = m): R̂ <= A_j sqrt(n)/n
                scale: r * (a.m as f64).sqrt(),
                floor: 0.0,
            }
        })
        .collect();
    let d1 = d1_bound(&D1Inputs {
        k: a.k,
        t: a.t,
        m: a.m,
        delta: a.delta,
        lipschitz: c,
        routing_log_count: nat.upper,
        experts: &experts,
        sum_sq_norms: a.m as f64,
    })?;
    let vc = kratsios_vc_shape(&VcInputs {
        experts: a.t,
        input_dim: a.d,
        expert_depth: a.depth + 1,
        expert_width: a.width.max(1),
        m: a.m,
        delta: a.delta,
    })?;
    let mut rows: Vec<(&str, String, f64)> = vec![
        ("router", format!("d_N ({d_n_note})"), d_n),
        (
            "router",
            "Natarajan log-count, exact ln C(T,k)".into(),
            nat.exact,
        ),
        (
            "router",
            "Natarajan log-count, k(1+ln(T/k)) form".into(),
            nat.upper,
        ),
    ];
    if a.router_hidden == 0 {
        let arr = arrangement_log_count(a.d, a.t, a.m, !a.no_bias)?;
        rows.push((
            "router",
            "hyperplane-arrangement log-count".into(),
            arr.log_count,
        ));
    }
    rows.extend([
        (
            "zhao (restated)",
            "expert term 4 C R_m(H)".into(),
            zhao.expert_term,
        ),
        (
            "zhao (restated)",
            "routing log-count inside the root".into(),
            zhao.routing_log_count,
        ),
        (
            "zhao (restated)",
            "routing term 2 sqrt((count + ln 4/δ)/2m)".into(),
            zhao.routing_term,
        ),
        ("zhao (restated)", "total".into(), zhao.total),
        (
            "D1, balanced loads (valid)",
            "expert term 2 C Σ (m_j/km) R̂_j".into(),
            d1.worst_case.expert_term,
        ),
        (
            "D1, balanced loads (valid)",
            "routing term 2 sqrt(log-count / 2m)".into(),
            d1.worst_case.routing_term,
        ),
        (
            "D1, balanced loads (valid)",
            "confidence term 3 sqrt(ln(2/δ)/2m)".into(),
            d1.worst_case.confidence_term,
        ),
        (
            "D1, balanced loads (valid)",
            "total (worst case over patterns)".into(),
            d1.worst_case.total,
        ),
        (
            "D1, balanced loads (valid)",
            "total at this pattern (heuristic)".into(),
            d1.learned_pattern.total,
        ),
        (
            "Kratsios VC (shape, constant 1)",
            "d_VC = T max{d T, J W}".into(),
            vc.vc_dim,
        ),
        (
            "Kratsios VC (shape, constant 1)",
            "complexity term".into(),
            vc.complexity_term,
        ),
        (
            "Kratsios VC (shape, constant 1)",
            "confidence term".into(),
            vc.confidence_term,
        ),
        ("Kratsios VC (shape, constant 1)", "total".into(), vc.total),
    ]);
    Ok(format!(
        "k = {}, T = {}, m = {}, d = {}, δ = {}, γ = {} (C = {c}), R_m(H) = {r:.6}\n\n{}",
        a.k,
        a.t,
        a.m,
        a.d,
        a.delta,
        a.gamma,
        table(&rows)
    ))
}

fn read_x(path: &std::path::Path) -> Result<Array2<f64>> {
    use ndarray_npy::read_npy;
    if let Ok(x) = read_npy::<_, Array2<f64>>(path) {
        return Ok(x);
    }
    let x: Array2<f32> = read_npy(path)
        .with_context(|| format!("cannot read {} as a 2-D f32/f64 .npy", path.display()))?;
    Ok(x.mapv(f64::from))
}

/// Runs `smoe bound`, printing the table.
///
/// # Errors
/// Invalid inputs, unreadable checkpoint or data.
pub fn run(a: &BoundArgs) -> Result<()> {
    let (Some(ckpt), Some(data)) = (&a.checkpoint, &a.data) else {
        print!("{}", what_if(a)?);
        return Ok(());
    };
    let model = SparseMoe::<f64>::load(ckpt)?;
    let cfg = model.config();
    anyhow::ensure!(
        (cfg.k, cfg.experts, cfg.d) == (a.k, a.t, a.d),
        "the checkpoint has k = {}, T = {}, d = {}, but --k {} --T {} --d {} were given",
        cfg.k,
        cfg.experts,
        cfg.d,
        a.k,
        a.t,
        a.d
    );
    let x = read_x(data)?;
    let report = bound_report(
        &model,
        x.view(),
        &BoundSettings {
            delta: a.delta,
            gamma: a.gamma,
            mc_draws: 200,
            seed: 0,
        },
    )?;
    let rows = vec![
        ("router", "d_N".to_string(), report.router.d_n),
        (
            "router",
            "Natarajan log-count (exact)".into(),
            report.router.natarajan.exact,
        ),
        ("zhao (restated)", "R_m(H)".into(), report.rademacher_m),
        (
            "zhao (restated)",
            "expert term".into(),
            report.zhao.expert_term,
        ),
        (
            "zhao (restated)",
            "routing term".into(),
            report.zhao.routing_term,
        ),
        ("zhao (restated)", "total".into(), report.zhao.total),
        (
            "D1 (learned pattern, heuristic)",
            "expert term".into(),
            report.d1.learned_pattern.expert_term,
        ),
        (
            "D1 (learned pattern, heuristic)",
            "total".into(),
            report.d1.learned_pattern.total,
        ),
        (
            "D1 (worst case, valid)",
            "expert term".into(),
            report.d1.worst_case.expert_term,
        ),
        (
            "D1 (worst case, valid)",
            "routing term".into(),
            report.d1.worst_case.routing_term,
        ),
        (
            "D1 (worst case, valid)",
            "confidence term".into(),
            report.d1.worst_case.confidence_term,
        ),
        (
            "D1 (worst case, valid)",
            "total".into(),
            report.d1.worst_case.total,
        ),
        ("Kratsios VC (shape)", "total".into(), report.kratsios.total),
    ];
    print!(
        "checkpoint {} on {} ({} rows): δ = {}, γ = {}\n\n{}",
        ckpt.display(),
        data.display(),
        report.m,
        a.delta,
        a.gamma,
        table(&rows)
    );
    Ok(())
}
