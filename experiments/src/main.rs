//! `smoe`: the experiment runner. Parses the command line and dispatches; the work lives in
//! the `smoe_experiments` library and the smoe crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use smoe_experiments::{bound_cmd, inspect, one_line, sweep_cmd, train_cmd};

/// Train sparse Mixture-of-Experts models on the CPU and test learning theory.
#[derive(Debug, Parser)]
#[command(name = "smoe", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train one model from a config; append its record (one JSON line) to --out.
    Train(train_cmd::TrainArgs),
    /// Run a k × T × m × seed grid in parallel (resumable, shardable) and write its report.
    Sweep(sweep_cmd::SweepArgs),
    /// Combine the runs.jsonl of sweep shards into one folder.
    Merge(sweep_cmd::MergeArgs),
    /// Write summary.csv, the plots and report.md of a sweep folder.
    Report(sweep_cmd::ReportArgs),
    /// Print every term of every generalization bound for given k, T, m, d (or a checkpoint).
    Bound(bound_cmd::BoundArgs),
    /// Evaluate a checkpoint in f64 on given data: outputs, losses, gradients, routing.
    Inspect(inspect::InspectArgs),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) => train_cmd::run(&args).map(|_| ()),
        Command::Inspect(args) => inspect::run(&args),
        Command::Bound(args) => bound_cmd::run(&args),
        Command::Sweep(args) => sweep_cmd::run(&args),
        Command::Merge(args) => sweep_cmd::merge(&args),
        Command::Report(args) => sweep_cmd::report(&args),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // one line: clap's message without its usage block
            let text = e.to_string();
            let msg: Vec<&str> = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            eprintln!("smoe: {} (see smoe --help)", msg.join(" "));
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
