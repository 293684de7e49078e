//! `smoe claims` on the command line.

use std::path::PathBuf;

use anyhow::Result;

use crate::claims::{self, ClaimsOptions, DEFAULT_OUT, QUICK_OUT};
use crate::sweep::parse_shard;

/// Arguments of `smoe claims`.
///
/// Every arm of a claim is a sweep of a committed config (`experiments/claims/<arm>.toml`)
/// recorded under `OUT/runs/<arm>/`; a second call resumes (only missing runs run). After the
/// runs, every claim whose records are in OUT is analysed and `OUT/REPORT.md`,
/// `OUT/claims.json` and `OUT/plots/` are written.
#[derive(Debug, Clone, clap::Args)]
pub struct ClaimsArgs {
    /// Tiny settings (each config's `[quick]` table): every claim in a few minutes, same code
    /// path; the verdicts then say nothing about the claims.
    #[arg(long)]
    pub quick: bool,
    /// Run only these claims (comma-separated, e.g. C3 or C1,C2); the report still covers
    /// every claim recorded in OUT.
    #[arg(long, value_delimiter = ',', value_name = "CLAIMS")]
    pub only: Option<Vec<String>>,
    /// Runs in parallel, each single-threaded [default: the number of cores].
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Output folder [default: results/claims, with --quick results/claims-quick].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run only the I-th of N slices of every arm (for a Slurm array), into
    /// OUT/shards/I-of-N/; a later call without --shard merges the shards and writes the
    /// report.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `smoe claims`.
///
/// # Errors
/// Bad options or configs (before anything runs), unwritable output, a failing analysis.
pub fn run(args: &ClaimsArgs) -> Result<()> {
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(if args.quick { QUICK_OUT } else { DEFAULT_OUT }));
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let start = std::time::Instant::now();
    let o = claims::run_claims(&ClaimsOptions {
        out,
        quick: args.quick,
        only: args.only.clone(),
        jobs,
        shard,
        quiet: args.quiet,
    })?;
    println!(
        "claims: {} runs ({} failed), {} already recorded, in {:.1} s with {jobs} jobs",
        o.ran,
        o.failed,
        o.resumed,
        start.elapsed().as_secs_f64()
    );
    match &o.report {
        Some(p) => println!("report: {}", p.display()),
        None => println!(
            "shard done; run the same command without --shard to merge the shards and write the report"
        ),
    }
    Ok(())
}
