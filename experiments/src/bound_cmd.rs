//! `smoe bound`: every term of every bound for given (k, T, m, d), for what-if questions
//! without training — or, with `--checkpoint` and `--data`, for a trained model. Both modes
//! evaluate the same registry of bounds (`smoe_theory::bounds`) and print the same table.

use std::path::PathBuf;

use anyhow::Result;
use smoe::router::RouterConfig;
use smoe_model::checkpoint;
use smoe_theory::{
    BoundInputs, BoundSettings, BoundValue, GateWeights, RouterComplexity, WhatIf, bound_report,
};

/// Arguments of `smoe bound`. Numeric flags take negative numbers as values (`--k -1` is an
/// invalid value, not an unknown flag), so every bad number gets its own message.
#[derive(Debug, Clone, clap::Args)]
pub struct BoundArgs {
    /// k: experts selected per input (1 <= k <= T).
    #[arg(long, allow_negative_numbers = true)]
    pub k: usize,
    /// T: experts in total.
    #[arg(long = "T", allow_negative_numbers = true)]
    pub t: usize,
    /// m: training samples (with --checkpoint: the rows of --data).
    #[arg(long, allow_negative_numbers = true)]
    pub m: usize,
    /// d: input width.
    #[arg(long, allow_negative_numbers = true)]
    pub d: usize,
    /// δ: failure probability, in (0, 1).
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
    pub delta: f64,
    /// γ: ramp-loss margin; the loss is 1/γ-Lipschitz (C = 1/γ).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub gamma: f64,
    /// Router hidden width; 0 means a linear router (d_N = (d+1)(T−1), or d(T−1) with
    /// --no-bias); > 0 an MLP router (parameter-count d_N, shape only).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub router_hidden: usize,
    /// The linear router has no bias (as in THEORY.md's worked examples).
    #[arg(long)]
    pub no_bias: bool,
    /// R_m(H), one expert's Rademacher complexity at sample size m. Default 1/sqrt(m): linear
    /// experts with ||w|| ||x|| <= 1 (THEORY.md §1.7). D1 takes inputs of unit norm and
    /// balanced loads m_j = k m / T, each expert at R sqrt(m / m_j).
    #[arg(long, allow_negative_numbers = true)]
    pub expert_complexity: Option<f64>,
    /// Expert depth (hidden layers) for the Kratsios VC shape.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub depth: usize,
    /// Expert width for the Kratsios VC shape.
    #[arg(long, default_value_t = 64, allow_negative_numbers = true)]
    pub width: usize,
    /// A trained checkpoint: evaluate every bound for it on --data instead of the what-if
    /// inputs (k, T, d then come from the checkpoint and must agree).
    #[arg(long, value_name = "FILE", requires = "data")]
    pub checkpoint: Option<PathBuf>,
    /// Training inputs for --checkpoint, .npy `[m, d]` of floats, integers or bool (read as
    /// f64 by `smoe_tasks::npy`).
    #[arg(long, value_name = "FILE", requires = "checkpoint")]
    pub data: Option<PathBuf>,
}

impl BoundArgs {
    /// The what-if question these arguments ask (`--router-hidden 0`: a linear router).
    pub fn what_if_question(&self) -> WhatIf {
        WhatIf {
            k: self.k,
            t: self.t,
            m: self.m,
            d: self.d,
            delta: self.delta,
            gamma: self.gamma,
            router: if self.router_hidden == 0 {
                RouterConfig::Linear
            } else {
                RouterConfig::Mlp {
                    hidden: self.router_hidden,
                }
            },
            router_bias: !self.no_bias,
            expert_complexity: self.expert_complexity,
            expert_depth: self.depth,
            expert_width: self.width,
            // idealised: the uniform gate (case A1) of THEORY.md §1.7's worked examples
            gate: GateWeights::Uniform,
        }
    }
}

/// The table both modes print: the router's complexity (grouped under its d_N validity), C and
/// R_m(H), then every bound under `name (validity)` with each term and its total, and the
/// bounds' notes below.
pub fn table(
    router: &RouterComplexity,
    lipschitz: f64,
    rademacher_m: f64,
    bounds: &[BoundValue],
) -> String {
    let mut s = String::from("| bound | term | value |\n|---|---|---|\n");
    let mut row = |group: &str, term: &str, v: f64| {
        s.push_str(&format!("| {group} | {term} | {v:.6} |\n"));
    };
    let group = format!("router ({})", router.d_n_validity);
    for (name, v) in router.scalars() {
        row(&group, &name, v);
    }
    row("inputs", "lipschitz", lipschitz);
    row("inputs", "rademacher_m", rademacher_m);
    for b in bounds {
        let group = format!("{} ({})", b.name, b.validity);
        for (name, v) in &b.terms {
            row(&group, name, *v);
        }
        row(&group, "total", b.total);
    }
    let notes: Vec<String> = bounds
        .iter()
        .filter_map(|b| b.note.as_ref().map(|n| format!("- {}: {n}\n", b.name)))
        .collect();
    if !notes.is_empty() {
        s.push('\n');
        s.extend(notes);
    }
    s
}

/// The what-if table: [`BoundInputs::what_if`] (unit-norm inputs, balanced loads) evaluated by
/// every bound of the registry.
///
/// # Errors
/// Invalid inputs (δ ∉ (0,1), γ <= 0, m = 0, k > T, …) as the theory crate reports them.
pub fn what_if(a: &BoundArgs) -> Result<String> {
    let inputs = BoundInputs::what_if(&a.what_if_question())?;
    let bounds = inputs.evaluate()?;
    Ok(format!(
        "k = {}, T = {}, m = {}, d = {}, δ = {}, γ = {} (C = {}), R_m(H) = {:.6}\n\n{}",
        a.k,
        a.t,
        a.m,
        a.d,
        a.delta,
        a.gamma,
        inputs.lipschitz,
        inputs.rademacher_m,
        table(
            &inputs.router,
            inputs.lipschitz,
            inputs.rademacher_m,
            &bounds
        )
    ))
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
    let settings = BoundSettings {
        delta: a.delta,
        gamma: a.gamma,
        mc_draws: 200,
        seed: 0,
        margin_log_count: 0.0,
    };
    // bad δ or γ: said before the checkpoint and the data are read
    settings.validate()?;
    let model = checkpoint::load::<f64>(ckpt)?;
    let cfg = model.config();
    let (k, t, d) = (cfg.k(), cfg.experts(), model.input_dim());
    anyhow::ensure!(
        (k, t, d) == (a.k, a.t, a.d),
        "the checkpoint has k = {k}, T = {t}, d = {d}, but --k {} --T {} --d {} were given",
        a.k,
        a.t,
        a.d
    );
    let x = smoe_tasks::npy::read_array2_f64(data)?;
    anyhow::ensure!(
        x.dim() == (a.m, d),
        "{} holds [{}, {}] inputs, but --m {} --d {d} were given",
        data.display(),
        x.nrows(),
        x.ncols(),
        a.m
    );
    let report = bound_report(model.as_ref(), x.view(), &settings)?;
    print!(
        "checkpoint {} on {} ({} rows): δ = {}, γ = {}\n\n{}",
        ckpt.display(),
        data.display(),
        report.m,
        a.delta,
        a.gamma,
        table(
            &report.router,
            report.lipschitz,
            report.rademacher_m,
            &report.bounds
        )
    );
    Ok(())
}
