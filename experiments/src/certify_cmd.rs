//! `smoe certify`: a PAC-Bayes certificate (THEORY §5) for one trained run — from its config
//! (trained first), its record (retrained: training is deterministic, and the retrained run is
//! checked against the record) or its checkpoint (with the config its data comes from). It
//! prints the certificate with its parts and appends one JSON line to `--out`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use smoe_model::{Model, checkpoint};
use smoe_tasks::load_data;
use smoe_theory::certify::{CertificateRecord, CertifyConfig, Stage};
use smoe_train::{TrainConfig, certify::certify_run, train_in, validation_split};

use crate::{config_io, train_cmd};

/// The largest record file `smoe certify` reads.
pub const MAX_RECORD_BYTES: u64 = 1 << 30;

/// Arguments of `smoe certify`.
#[derive(Debug, Clone, clap::Args)]
pub struct CertifyArgs {
    /// What to certify: a run config (`.toml`: trained first), a run record file (`.jsonl`
    /// or `.json`, from `smoe train` or a sweep's runs.jsonl: the run of its last line, or
    /// of `--line`, retrained and checked against the record), or a checkpoint
    /// (`.safetensors`, with `--config` for its data).
    pub source: PathBuf,
    /// The run config a checkpoint was trained with (its data and seed).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Certify this checkpoint's weights (with a config or record source: instead of
    /// training).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// The record to certify in a record file, 1-based (default: the last).
    #[arg(long)]
    pub line: Option<usize>,
    /// Override a config value, e.g. `--set certify.steps=20000 --set
    /// certify.prior.kind=data_dependent`; repeatable. A run without `[certify]` gets the
    /// defaults.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// File the certificate is appended to, as one JSON line.
    #[arg(long, value_name = "FILE", default_value = "runs/certify.jsonl")]
    pub out: PathBuf,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// The JSON line `smoe certify` appends.
#[derive(Debug, Clone, Serialize)]
pub struct CertifyLine {
    /// What was certified (the source path, and the checkpoint when one was given).
    pub source: String,
    /// The run's config, `[certify]` included.
    pub config: TrainConfig,
    /// The run's test error as trained (`None` for a checkpoint source).
    pub run_test_error: Option<f64>,
    /// The certificate.
    pub certificate: CertificateRecord,
}

enum Kind {
    Config,
    Record,
    Checkpoint,
}

fn kind(path: &Path) -> Result<Kind> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => Ok(Kind::Config),
        Some("jsonl" | "json") => Ok(Kind::Record),
        Some("safetensors") => Ok(Kind::Checkpoint),
        _ => bail!(
            "{}: expected a run config (.toml), a run record file (.jsonl/.json) or a checkpoint (.safetensors)",
            path.display()
        ),
    }
}

/// The config of the record at `line` (1-based; default the last) of a record file: a line
/// of `smoe train` (a run record) or of a sweep (its `record`), and the run's test error.
fn record_config(path: &Path, line: Option<usize>) -> Result<(TrainConfig, Option<f64>)> {
    let bytes = smoe_nn::read_capped(path, MAX_RECORD_BYTES).map_err(|e| match e {
        smoe_nn::ReadCapped::Io(e) => {
            anyhow::Error::new(e).context(format!("cannot read {}", path.display()))
        }
        smoe_nn::ReadCapped::TooLarge { .. } => {
            anyhow::anyhow!("{} is larger than {MAX_RECORD_BYTES} bytes", path.display())
        }
    })?;
    let text =
        String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", path.display()))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    ensure!(!lines.is_empty(), "{} holds no record", path.display());
    let n = line.unwrap_or(lines.len());
    ensure!(
        n >= 1 && n <= lines.len(),
        "--line {n}: {} holds {} records",
        path.display(),
        lines.len()
    );
    let v: serde_json::Value = serde_json::from_str(lines[n - 1])
        .with_context(|| format!("{} line {n} is not JSON", path.display()))?;
    let rec = v.get("record").filter(|r| !r.is_null()).unwrap_or(&v);
    let cfg = rec.get("config").with_context(|| {
        format!(
            "{} line {n} is not a run record (no config)",
            path.display()
        )
    })?;
    let cfg: TrainConfig = serde_json::from_value(cfg.clone())
        .with_context(|| format!("{} line {n}: its config", path.display()))?;
    let test_error = rec
        .pointer("/final/test/error")
        .and_then(serde_json::Value::as_f64);
    Ok((cfg, test_error))
}

/// `cfg` with `sets` applied, and `[certify]` added with its defaults if absent.
fn with_sets(cfg: &TrainConfig, sets: &[String]) -> Result<TrainConfig> {
    let mut table = toml::Table::try_from(cfg).context("cannot re-serialise the run's config")?;
    for s in sets {
        config_io::apply_set(&mut table, s)?;
    }
    let mut out: TrainConfig =
        serde::Deserialize::deserialize(toml::Value::Table(table)).context("config")?;
    if out.certify.is_none() {
        out.certify = Some(CertifyConfig::default());
    }
    out.validate()?;
    Ok(out)
}

fn bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>22} {bar:30} {pos}/{len} [{elapsed} < {eta}]")
    {
        bar.set_style(style);
    }
    bar
}

fn stage_name(s: Stage) -> &'static str {
    match s {
        Stage::Optimise => "optimising Q (steps)",
        Stage::Sample => "sampling nets (train)",
        Stage::TestSample => "sampling nets (test)",
    }
}

/// Runs `smoe certify`: resolves the run, trains it or loads its checkpoint, certifies it,
/// appends the line to `--out` and prints the certificate. Returns the line.
///
/// # Errors
/// Bad sources or options, config errors, a retrained run that does not match its record, a
/// checkpoint whose model or seed is not the config's, training and certificate errors,
/// I/O errors.
pub fn run(args: &CertifyArgs) -> Result<CertifyLine> {
    if let Some(n) = args.threads {
        ensure!(n > 0, "--threads must be at least 1");
    }
    let source_kind = kind(&args.source)?;
    ensure!(
        args.line.is_none() || matches!(source_kind, Kind::Record),
        "--line needs a run record file"
    );
    let (cfg, base_dir, recorded, ckpt) = match source_kind {
        Kind::Config => {
            ensure!(args.config.is_none(), "--config is for a checkpoint source");
            let cfg: TrainConfig = config_io::load(Some(&args.source), &[])?;
            (cfg, args.source.parent(), None, args.checkpoint.clone())
        }
        Kind::Record => {
            ensure!(args.config.is_none(), "--config is for a checkpoint source");
            let (cfg, err) = record_config(&args.source, args.line)?;
            (cfg, None, err, args.checkpoint.clone())
        }
        Kind::Checkpoint => {
            ensure!(
                args.checkpoint.is_none(),
                "the source is already a checkpoint"
            );
            let path = args.config.as_deref().context(
                "a checkpoint source needs --config, the run config its data comes from",
            )?;
            let cfg: TrainConfig = config_io::load(Some(path), &[])?;
            (cfg, path.parent(), None, Some(args.source.clone()))
        }
    };
    let cfg = with_sets(&cfg, &args.sets)?;
    let certify_cfg = cfg.certify.clone().unwrap_or_default();
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = args.threads {
        builder = builder.num_threads(n);
    }
    let pool = builder.build().context("cannot start the thread pool")?;
    let bar = bar(args.quiet);
    let progress = |s: Stage, done: usize, total: usize| {
        bar.set_message(stage_name(s));
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let (certificate, run_test_error) = pool.install(|| -> Result<_> {
        let mut train_cfg = cfg.clone();
        train_cfg.certify = None;
        let (model, train_set, data, test_error): (Box<dyn Model<f32>>, _, _, _) = match &ckpt {
            Some(path) => {
                let model = checkpoint::load::<f32>(path)?;
                ensure!(
                    model.seed() == cfg.seed,
                    "checkpoint {} was initialised from seed {}, the config says seed {}",
                    path.display(),
                    model.seed(),
                    cfg.seed
                );
                ensure!(
                    model.config() == cfg.model,
                    "checkpoint {}'s model is not the config's [model]",
                    path.display()
                );
                let data = load_data(&cfg.data, cfg.seed, base_dir)?;
                let train = match &cfg.train.early_stopping {
                    Some(es) => validation_split(&data.train, es, cfg.seed)?.0,
                    None => data.train.clone(),
                };
                (model, train, data, None)
            }
            None => {
                bar.set_message("training the run");
                let out = train_in(&train_cfg, base_dir, &mut |_| {})?;
                let err = out
                    .record
                    .final_eval
                    .as_ref()
                    .and_then(|f| f.test.get("error"));
                if let (Some(want), Some(got)) = (recorded, err) {
                    ensure!(
                        want == got,
                        "the retrained run does not reproduce the record (test error {got} vs {want}); certify its checkpoint with --checkpoint"
                    );
                }
                let data = load_data(&cfg.data, cfg.seed, base_dir)?;
                (out.model, out.train_set, data, err)
            }
        };
        let cert = certify_run(&cfg, &certify_cfg, model.as_ref(), &train_set, &data, &progress)?;
        Ok((cert, test_error))
    })?;
    bar.finish_and_clear();
    let mut source = args.source.display().to_string();
    if let (Some(c), false) = (&ckpt, matches!(source_kind, Kind::Checkpoint)) {
        source = format!("{source} (weights {})", c.display());
    }
    let line = CertifyLine {
        source,
        config: cfg,
        run_test_error,
        certificate,
    };
    let json = serde_json::to_string(&line).context("cannot serialise the certificate")?;
    train_cmd::append_line(&args.out, &json)?;
    print!("{}", table(&line.certificate));
    println!("certificate appended to {}", args.out.display());
    Ok(line)
}

fn opt(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.4}"))
}

/// The certificate and its parts as a Markdown table.
pub fn table(c: &CertificateRecord) -> String {
    let mut s = format!(
        "\nPAC-Bayes certificate (THEORY §5), confidence {:.3}: the stochastic model's error is at most {:.4}\n\n| part | value |\n|---|---|\n",
        c.confidence, c.bound
    );
    let mut row = |k: &str, v: String| s.push_str(&format!("| {k} | {v} |\n"));
    row(
        "certificate (kl⁻¹ of the MC bound with B_RE)",
        format!("{:.4}", c.bound),
    );
    row(
        &format!("MC bound on ê(Q) (M = {}, δ′ = {})", c.samples, c.delta_mc),
        format!("{:.4}", c.mc_bound),
    );
    row(
        "ê_M: sampled networks' training error",
        format!("{:.4}", c.mc_error),
    );
    row(
        &format!("B_RE (m = {}, δ = {})", c.m, c.delta),
        format!("{:.4}", c.b_re),
    );
    row(
        &format!("KL(Q‖P) (N = {} parameters)", c.params),
        format!("{:.1}", c.kl),
    );
    row("KL per parameter", format!("{:.4}", c.kl_per_param));
    for b in &c.blocks {
        row(
            &format!(
                "λ of {} ({} params, grid j = {})",
                b.name, b.params, b.grid_j
            ),
            format!("{:.4e}", b.lambda),
        );
    }
    row(
        &format!("prior mean: {}", c.prior.kind),
        format!("{} rows held out", c.prior.m_prior),
    );
    row(
        "deterministic training error",
        format!("{:.4}", c.train_error),
    );
    row("deterministic test error", opt(c.test_error));
    row("stochastic test error", opt(c.stochastic_test_error));
    row(
        &format!("hold-out bound (δ = {})", c.delta_holdout),
        opt(c.holdout_bound),
    );
    row(
        &format!(
            "budget: {} steps, batch {}, surrogate {}",
            c.steps, c.batch_size, c.surrogate
        ),
        format!("{:.1} s ({:.1} s sampling)", c.total_secs, c.sample_secs),
    );
    s
}
