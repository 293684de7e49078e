//! `smoe train`: one run from a config, with a progress bar, a JSON record and a summary.
//!
//! The outputs are checked and opened before training ([`outputs::TrainOutputs`]): a run
//! whose record or checkpoint could not be written, or would overwrite another output or the
//! config, is refused before it starts. The checkpoint is saved before the record is
//! appended, so a record always stands for a run whose outputs are all on disk.

pub mod outputs;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use smoe_train::{EvalMetrics, RunRecord, TrainConfig};

use crate::config_io;
use crate::run::run_one;

/// Arguments of `smoe train`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// TOML config; without it the built-in defaults run (they are written out in
    /// experiments/configs/train-default.toml). Unknown keys are errors.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seed of the run (overrides the config's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override one config value, e.g. `--set model.k=4 --set train.lr=0.003`
    /// (dotted path = TOML value); repeatable, applied in order after the file.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// File the run record is appended to, as one JSON line.
    #[arg(long, value_name = "FILE", default_value = "runs/train.jsonl")]
    pub out: PathBuf,
    /// Also save the trained model here (safetensors, with its JSON config beside it).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Reads and validates the config of `args` (nothing is written).
///
/// # Errors
/// Unreadable or invalid config, unknown keys, invalid values.
pub fn resolve_config(args: &TrainArgs) -> Result<TrainConfig> {
    let mut cfg: TrainConfig = config_io::load(args.config.as_deref(), &args.sets)?;
    if let Some(seed) = args.seed {
        cfg.seed = seed;
    }
    cfg.validate()?;
    Ok(cfg)
}

/// Appends `line` and a newline to `path` (creating its folder), flushed and synced to disk.
///
/// # Errors
/// If the file cannot be opened or written.
pub fn append_line(path: &Path, line: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    writeln!(f, "{line}").with_context(|| format!("cannot write {}", path.display()))?;
    f.sync_all()
        .with_context(|| format!("cannot sync {}", path.display()))
}

fn progress(epochs: usize, unit: &str, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(epochs as u64);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{bar:30}} {unit} {{pos}}/{{len}} {{msg}} [{{elapsed}} < {{eta}}]"
    )) {
        bar.set_style(style);
    }
    bar
}

/// Runs `smoe train`: checks and opens the outputs, trains, saves the checkpoint if asked,
/// appends the record to `--out`, prints the summary table. Returns the record.
///
/// # Errors
/// Config errors and unusable or colliding output paths (before training; nothing is left
/// behind), training errors (nothing written), I/O errors (no record appended if the
/// checkpoint could not be saved).
pub fn run(args: &TrainArgs) -> Result<RunRecord> {
    let cfg = resolve_config(args)?;
    if let Some(n) = args.threads {
        anyhow::ensure!(n > 0, "--threads must be at least 1");
    }
    let inputs: Vec<&Path> = args.config.as_deref().into_iter().collect();
    let outputs = outputs::TrainOutputs::prepare(&args.out, args.checkpoint.as_deref(), &inputs)?;
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = args.threads {
        builder = builder.num_threads(n);
    }
    let pool = builder.build().context("cannot start the thread pool")?;
    // a full-batch run reports one tick per restart
    let unit = if cfg.train.full_batch.is_some() {
        "restart"
    } else {
        "epoch"
    };
    // a step budget's epochs depend on m: known here for synthetic data (the fit set's size
    // with early stopping), otherwise the bar grows as epochs arrive
    let m_train = match &cfg.data {
        smoe_tasks::DataConfig::Synthetic(s) => Some(s.m_train),
        _ => None,
    }
    .map(|m| match &cfg.train.early_stopping {
        Some(es) => m - smoe_train::stopping::validation_size(m, es.fraction),
        None => m,
    });
    let bar = progress(
        m_train.map_or(0, |m| cfg.train.reported_epochs(m)),
        unit,
        args.quiet,
    );
    let outcome = pool.install(|| {
        run_one(
            &cfg,
            args.config.as_deref().and_then(Path::parent),
            &mut |e| {
                bar.set_message(match e.running_error {
                    Some(err) => format!("loss {:.4} err {err:.3}", e.running_loss),
                    None => format!("loss {:.4}", e.running_loss),
                });
                if bar.length().is_some_and(|l| l < e.epoch as u64) {
                    bar.set_length(e.epoch as u64);
                }
                bar.inc(1);
            },
        )
    })?;
    bar.finish_and_clear();
    let record = outcome.record;
    outputs.commit(&record.to_json_line(), outcome.model.as_ref())?;
    print!("{}", summary(&record));
    println!("record appended to {}", args.out.display());
    Ok(record)
}

fn row(name: &str, tr: Option<f64>, te: Option<f64>) -> String {
    let cell = |v: Option<f64>| v.map_or(format!("{:>9}", "-"), |v| format!("{v:>9.4}"));
    let gap = match (tr, te) {
        (Some(a), Some(b)) => format!("{:>+9.4}", b - a),
        _ => format!("{:>9}", "-"),
    };
    format!("| {name:<18} | {} | {} | {gap} |\n", cell(tr), cell(te))
}

fn opt(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.3}"))
}

/// The label of a loss metric in the summary table; `gamma` is the ramp margin the run's
/// final evaluation used (`p10`: the one chosen from the training margins).
fn metric_label(name: &str, gamma: Option<f64>) -> String {
    match name {
        "loss" => "training loss".into(),
        "error" => "0-1 error".into(),
        "ramp" => gamma.map_or("ramp".into(), |g| format!("ramp (γ = {})", gamma_text(g))),
        "mse" => "MSE".into(),
        "r2" => "R²".into(),
        other => other.into(),
    }
}

/// A margin γ for the summary: a power of two of magnitude at least 16 or at most 1/16 (the
/// `p10` grid's points) as `2^j`, any other value as written.
pub fn gamma_text(g: f64) -> String {
    let j = g.log2();
    if j.is_finite() && j.fract() == 0.0 && j.abs() >= 4.0 {
        format!("2^{j}")
    } else {
        format!("{g}")
    }
}

/// The end-of-run summary table (Markdown): every metric of the run's loss, train and test.
pub fn summary(r: &RunRecord) -> String {
    let c = &r.config;
    let mut s = format!(
        "\nsmoe train: data {}, d = {}, m = {}, model {} T = {}, k = {}, loss {}, seed {} — {:?}{}\n\n",
        data_label(r),
        r.data.d,
        r.data.m_train,
        c.model.kind(),
        c.model.experts(),
        c.model.k(),
        c.loss.kind(),
        r.seed,
        r.status,
        r.failure
            .as_deref()
            .map(|f| format!(": {f}"))
            .unwrap_or_default()
    );
    let Some(fin) = &r.final_eval else {
        return s;
    };
    s.push_str("| metric             |     train |      test |       gap |\n");
    s.push_str("|--------------------|-----------|-----------|-----------|\n");
    for name in fin.test.metrics.keys() {
        s.push_str(&row(
            &metric_label(name, fin.gamma.or(r.margin.as_ref().map(|m| m.gamma))),
            fin.train.get(name),
            fin.test.get(name),
        ));
    }
    let t: &EvalMetrics = &fin.test;
    if let (Some(de), Some(ce)) = (t.dispatch_entropy, t.combine_entropy) {
        let mass = t.combine_mass.as_deref().unwrap_or(&[]);
        s.push_str(&format!(
            "\nrouting (test, soft): dispatch entropy {de:.3}; combine entropy {ce:.3}; combine mass per expert [{}]; group NMI {}\n",
            mass.iter().map(|m| format!("{m:.3}")).collect::<Vec<_>>().join(", "),
            opt(t.group_nmi),
        ));
        for sub in &r.subsets {
            s.push_str(&format!(
                "subset {} k = {}: {}\n",
                sub.rule.name(),
                sub.k,
                sub.test
                    .iter()
                    .map(|(m, v)| format!("{m} {}", opt(*v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    } else {
        s.push_str(&format!(
        "\nrouting (test): load entropy {:.3} of ln T = {:.3}; dead experts {}; distinct k-subsets {}; margin {}; group NMI {} (at init {}); dropped {:.3}\n",
        t.load_entropy,
        (c.model.experts() as f64).ln(),
        t.dead_experts,
        t.distinct_subsets,
        opt(t.routing_margin),
        opt(t.group_nmi),
        opt(r.init_test.group_nmi),
        t.dropped_fraction,
    ));
    }
    s.push_str(&format!(
        "Bayes error {}; {} parameters; {:.2} s training ({:.0} samples/s), {:.2} s evaluation\n",
        opt(r.bayes_error),
        r.params,
        r.timings.train_secs,
        r.timings.train_samples_per_sec,
        r.timings.eval_secs
    ));
    if let Some(c) = &r.certificate {
        s.push_str(&format!(
            "PAC-Bayes certificate {:.4} (confidence {:.3}; KL/N {:.4}, ê_M {:.4}, stochastic test error {}; {:.1} s) — `smoe certify` shows every part\n",
            c.bound,
            c.confidence,
            c.kl_per_param,
            c.mc_error,
            opt(c.stochastic_test_error),
            c.total_secs
        ));
    }
    s
}

/// The data source in a few words: the synthetic task's kind, or the files.
fn data_label(r: &RunRecord) -> String {
    match &r.config.data {
        smoe_tasks::DataConfig::Synthetic(sy) => format!("synthetic {}", sy.task.kind()),
        _ => format!("{} {}", r.data.kind, r.data.paths.join(", ")),
    }
}
