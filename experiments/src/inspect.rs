//! `smoe inspect` (being written).

use std::path::PathBuf;

/// Arguments of `smoe inspect`.
#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// Checkpoint (.safetensors, with its .json config beside it).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: PathBuf,
    /// Inputs, .npy of f32 or f64, shape [n, d].
    #[arg(long, value_name = "FILE")]
    pub x: PathBuf,
    /// Labels in {-1, +1}, .npy of f32, f64 or integers, shape [n].
    #[arg(long, value_name = "FILE")]
    pub y: PathBuf,
    /// Output folder (created).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Coefficient of the load-balancing loss added to the mean logistic loss.
    #[arg(long, default_value_t = 0.0)]
    pub alpha: f64,
}

/// Runs `smoe inspect`.
///
/// # Errors
/// Not written yet.
pub fn run(_args: &InspectArgs) -> anyhow::Result<()> {
    anyhow::bail!("smoe inspect is not available yet")
}
