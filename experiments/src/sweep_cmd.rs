//! `smoe sweep`, `smoe merge` and `smoe report` on the command line.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::sweep::{self, QUICK_CONFIG, QUICK_OUT, SweepConfig, SweepOptions, parse_shard};

/// Arguments of `smoe sweep`.
///
/// The output folder is locked while the sweep writes it (a second sweep or merge into it
/// fails naming the holder's pid) and belongs to one sweep: if its `sweep.toml` parses to a
/// different config (or it has records but no `sweep.toml`) the sweep fails, with or
/// without `--resume`, unless `--fresh` is given. No sweep deletes earlier records: without
/// `--resume` (and with `--fresh`) the folder's `runs.jsonl` and `sweep.toml` are first
/// kept as `runs.N.jsonl` and `sweep.N.toml`, N the first number free for both.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepArgs {
    /// Sweep config (TOML: name, description, `[base]` run config, `[grid]` of dotted fields).
    /// Without it, the quick k × T sweep (experiments/configs/kt-quick.toml) runs.
    pub config: Option<PathBuf>,
    /// Output folder [default: `results/NAME`, NAME from the config].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Runs in parallel, each single-threaded [default: the number of cores].
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Skip every cell already recorded in DIR/runs.jsonl (keyed by a hash of the resolved
    /// config and seed). Without it an existing runs.jsonl is kept as runs.N.jsonl (the
    /// first free N) and every cell runs again.
    #[arg(long)]
    pub resume: bool,
    /// Start over in a folder that holds another sweep (a different sweep.toml, or records
    /// without one): its runs.jsonl and sweep.toml are kept as runs.N.jsonl and
    /// sweep.N.toml, then every cell runs.
    #[arg(long, conflicts_with = "resume")]
    pub fresh: bool,
    /// Run only the I-th of N deterministic slices of the grid (1-based), e.g. 2/4.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Do not write the report at the end (it is skipped anyway for a shard).
    #[arg(long)]
    pub no_report: bool,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// Print a Slurm batch script running this sweep as a job array of --shards tasks (each
    /// `--shard $SLURM_ARRAY_TASK_ID/N --out DIR/shard-$SLURM_ARRAY_TASK_ID --resume`) and
    /// exit; creates DIR for the task logs. Needs --out.
    #[arg(long, requires = "out")]
    pub print_sbatch: bool,
    /// Tasks of the job array for --print-sbatch.
    #[arg(long, default_value_t = 4)]
    pub shards: usize,
}

/// Arguments of `smoe merge`.
///
/// Refuses (one line, nothing written) shards of different sweeps (their `sweep.toml`
/// differ, or only some have one), a run recorded differently in two shards, and an output
/// folder holding another sweep. Each merged line is byte-identical to its shard's line.
#[derive(Debug, Clone, clap::Args)]
pub struct MergeArgs {
    /// Shard output folders to combine.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Folder for the merged runs.jsonl (and sweep.toml).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Arguments of `smoe report`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// A sweep folder holding runs.jsonl (and sweep.toml).
    pub dir: PathBuf,
}

/// Reads the sweep config of `args` (or the quick one) with its text.
///
/// # Errors
/// Unreadable file or invalid config.
pub fn load_config(path: Option<&std::path::Path>) -> Result<(SweepConfig, String)> {
    let text = match path {
        Some(p) => crate::config_io::read_text(p)?,
        None => QUICK_CONFIG.to_string(),
    };
    let cfg = SweepConfig::parse(&text).with_context(|| {
        path.map_or("the built-in quick sweep".into(), |p| {
            p.display().to_string()
        })
    })?;
    Ok((cfg, text))
}

/// Runs `smoe sweep`.
///
/// # Errors
/// Invalid config or options (before anything runs), unwritable output, report errors.
pub fn run(args: &SweepArgs) -> Result<()> {
    let (cfg, text) = load_config(args.config.as_deref())?;
    if args.print_sbatch {
        return print_sbatch(args, &cfg, &text);
    }
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let out = match (&args.out, &args.config) {
        (Some(o), _) => o.clone(),
        (None, None) => PathBuf::from(QUICK_OUT),
        (None, Some(_)) => cfg.default_out()?,
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let start = std::time::Instant::now();
    let outcome = sweep::run_sweep(
        &cfg,
        &text,
        &SweepOptions {
            out: out.clone(),
            jobs,
            resume: args.resume,
            fresh: args.fresh,
            shard,
            quiet: args.quiet,
            base_dir: args
                .config
                .as_deref()
                .and_then(std::path::Path::parent)
                .map(PathBuf::from),
        },
    )?;
    let secs = start.elapsed().as_secs_f64();
    if let Some(p) = &outcome.kept_as {
        eprintln!(
            "note: the folder's earlier records are kept as {}",
            p.display()
        );
    }
    for n in outcome.notes.iter().take(3) {
        eprintln!("note: {n}");
    }
    if outcome.notes.len() > 3 {
        eprintln!(
            "note: … and {} more runs skipped for k > T",
            outcome.notes.len() - 3
        );
    }
    println!(
        "sweep {}: {} runs in the grid{}, {} already recorded, {} run ({} failed) in {:.1} s ({:.2} runs/s, {} jobs) -> {}",
        cfg.name,
        outcome.cells,
        shard.map_or(String::new(), |(i, n)| format!(
            ", shard {i}/{n} has {}",
            outcome.in_shard
        )),
        outcome.resumed,
        outcome.ran,
        outcome.failed,
        secs,
        outcome.ran as f64 / secs.max(1e-9),
        jobs,
        out.join(sweep::store::RUNS).display()
    );
    if shard.is_none() && !args.no_report {
        let path = crate::report::write_report(&out)?;
        println!("report: {}", path.display());
    } else if shard.is_some() {
        println!(
            "shard done; combine shards with `smoe merge DIR... --out DIR` then `smoe report DIR`"
        );
    }
    Ok(())
}

/// Prints the Slurm batch script of the sweep (see [`crate::slurm`]).
///
/// # Errors
/// An invalid sweep (checked before printing), --shards 0, an unwritable DIR.
fn print_sbatch(args: &SweepArgs, cfg: &SweepConfig, text: &str) -> Result<()> {
    anyhow::ensure!(args.shards >= 1, "--shards must be at least 1");
    anyhow::ensure!(
        args.shard.is_none(),
        "--print-sbatch and --shard do not go together"
    );
    let base = args.config.as_deref().and_then(std::path::Path::parent);
    let (cells, _) = sweep::expand(cfg, base)?;
    let out = args
        .out
        .clone()
        .context("--print-sbatch needs --out (the shared folder every task writes to)")?;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let out = std::fs::canonicalize(&out)?;
    // the config the tasks read: the given file, or the built-in quick sweep written out
    let config = match &args.config {
        Some(p) => {
            std::fs::canonicalize(p).with_context(|| format!("cannot find {}", p.display()))?
        }
        None => {
            let p = out.join("kt-quick.toml");
            std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
            p
        }
    };
    let smoe = std::env::current_exe().context("cannot locate the smoe binary")?;
    let jobs = args.jobs.unwrap_or(1);
    print!(
        "{}",
        crate::slurm::sbatch_script(
            &smoe,
            &config,
            &out,
            &cfg.name,
            args.shards.min(cells.len().max(1)),
            jobs
        )
    );
    Ok(())
}

/// Runs `smoe merge`.
///
/// # Errors
/// Shards of different sweeps, a run recorded differently twice, an output folder holding
/// another sweep or locked, unreadable shards or unwritable output (see [`sweep::merge()`]).
pub fn merge(args: &MergeArgs) -> Result<()> {
    let m = sweep::merge(&args.dirs, &args.out)?;
    if let Some(p) = &m.kept_as {
        eprintln!(
            "note: the output folder's earlier records are kept as {}",
            p.display()
        );
    }
    println!(
        "merged {} runs into {}{}",
        m.runs,
        args.out.join(sweep::store::RUNS).display(),
        if m.duplicates > 0 {
            format!(
                " ({} duplicate lines of the same runs dropped)",
                m.duplicates
            )
        } else {
            String::new()
        }
    );
    Ok(())
}

/// Runs `smoe report`.
///
/// # Errors
/// Unreadable records or unwritable report.
pub fn report(args: &ReportArgs) -> Result<()> {
    let path = crate::report::write_report(&args.dir)?;
    println!("report: {}", path.display());
    Ok(())
}
