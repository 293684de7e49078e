//! `smoe`: the experiment runner. Parses the command line and dispatches; the work lives in
//! the library crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Train sparse Mixture-of-Experts models on the CPU and test learning theory.
#[derive(Debug, Parser)]
#[command(name = "smoe", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the model's parameter count for a config (a smoke check of the installation).
    Info {
        /// Input width d.
        #[arg(long, default_value_t = 32)]
        d: usize,
        /// Number of experts T.
        #[arg(long = "T", default_value_t = 16)]
        t: usize,
        /// Experts per input k.
        #[arg(long, default_value_t = 2)]
        k: usize,
    },
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Info { d, t, k } => {
            let cfg = smoe::MoeConfig {
                d,
                experts: t,
                k,
                ..Default::default()
            };
            let model = smoe::SparseMoe::<f32>::new(&cfg)?;
            println!(
                "d = {d}, T = {t}, k = {k}: {} parameters",
                model.num_params()
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let _ = e.print();
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
            eprintln!("smoe: error: {e}");
            ExitCode::from(2)
        }
    }
}
