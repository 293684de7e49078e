//! `smoe`: the experiment runner. Parses the command line and dispatches; the work lives in
//! the `smoe_experiments` library and the smoe crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use smoe_experiments::{
    bound_cmd, certify_cmd, claims_cmd, inspect, one_line, sweep_cmd, train_cmd,
};

/// Train sparse Mixture-of-Experts models on the CPU and test learning theory.
#[derive(Debug, Parser)]
#[command(name = "smoe", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Every subcommand reads `--k -1` as the value -1 (then rejected as a value), not as a flag.
#[derive(Debug, Subcommand)]
enum Command {
    /// Train one model from a config; append its record (one JSON line) to --out.
    #[command(allow_negative_numbers = true)]
    Train(train_cmd::TrainArgs),
    /// Run a k × T × m × seed grid in parallel (resumable, shardable) and write its report.
    #[command(allow_negative_numbers = true)]
    Sweep(sweep_cmd::SweepArgs),
    /// Combine the runs.jsonl of sweep shards into one folder.
    Merge(sweep_cmd::MergeArgs),
    /// Write summary.csv, the plots and report.md of a sweep folder.
    Report(sweep_cmd::ReportArgs),
    /// Print every term of every generalization bound for given k, T, m, d (or a checkpoint).
    #[command(allow_negative_numbers = true)]
    Bound(bound_cmd::BoundArgs),
    /// A PAC-Bayes certificate for a trained run (config, record or checkpoint).
    #[command(allow_negative_numbers = true)]
    Certify(certify_cmd::CertifyArgs),
    /// Test each claim of the papers with its committed configs and write results/claims/REPORT.md.
    Claims(claims_cmd::ClaimsArgs),
    /// Evaluate a checkpoint in f64 on given data: outputs, losses, gradients, routing.
    #[command(allow_negative_numbers = true)]
    Inspect(inspect::InspectArgs),
}

/// The one-line message for a command-line error (clap's message without its usage block;
/// a missing subcommand names the subcommands instead of printing the description).
fn usage_error(e: &clap::Error) -> String {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return "smoe: error: a subcommand is required: train, sweep, merge, report, claims, certify, bound or inspect (see smoe --help)".into();
    }
    let text = e.to_string();
    let msg: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    format!("smoe: {} (see smoe --help)", msg.join(" "))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) => train_cmd::run(&args).map(|_| ()),
        Command::Inspect(args) => inspect::run(&args),
        Command::Bound(args) => bound_cmd::run(&args),
        Command::Sweep(args) => sweep_cmd::run(&args),
        Command::Merge(args) => sweep_cmd::merge(&args),
        Command::Report(args) => sweep_cmd::report(&args),
        Command::Claims(args) => claims_cmd::run(&args),
        Command::Certify(args) => certify_cmd::run(&args).map(|_| ()),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if e.use_stderr()
                || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            eprintln!("{}", usage_error(&e));
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smoe: error: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}
