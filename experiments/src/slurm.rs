//! Slurm: the job-array batch script of a sweep (`smoe sweep --print-sbatch`).
//!
//! Each array task runs one shard with `--resume` into its own folder, so resubmitting the
//! same script after a task died (or was pre-empted) only redoes the runs that are missing.
//! A follow-up job submitted with `--dependency=afterok:<array job>` merges the shards and
//! writes the report.

use std::path::Path;

/// The command the follow-up job runs: merge the shard folders into `out`, then report.
pub fn merge_command(smoe: &Path, out: &Path) -> String {
    let (s, o) = (
        shell_quote(&smoe.display().to_string()),
        shell_quote(&out.display().to_string()),
    );
    format!("{s} merge {o}/shard-* --out {o} && {s} report {o}")
}

/// Quotes `s` for a POSIX shell when it holds anything but safe characters.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The batch script of a job array of `shards` tasks, each running shard
/// `$SLURM_ARRAY_TASK_ID/shards` of the sweep `config` into `out/shard-$SLURM_ARRAY_TASK_ID`
/// with `jobs` runs in parallel. `smoe` is the binary every task runs (an absolute path).
pub fn sbatch_script(
    smoe: &Path,
    config: &Path,
    out: &Path,
    name: &str,
    shards: usize,
    jobs: usize,
) -> String {
    let s = shell_quote(&smoe.display().to_string());
    let c = shell_quote(&config.display().to_string());
    let o = shell_quote(&out.display().to_string());
    let merge = merge_command(smoe, out);
    let job = name
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                ch
            } else {
                '_'
            }
        })
        .collect::<String>();
    format!(
        r#"#!/bin/bash
# smoe sweep "{name}" as a Slurm job array: {shards} shards, {jobs} run(s) in parallel per task.
# Written by `smoe sweep --print-sbatch`. Submit, then merge and report when every task is done:
#   jid=$(sbatch --parsable THIS_FILE)
#   sbatch --dependency=afterok:$jid --wrap "{merge_escaped}"
# Resubmitting THIS_FILE after a task died (or was pre-empted) redoes only the missing runs.
#SBATCH --job-name=smoe-{job}
#SBATCH --array=1-{shards}
#SBATCH --cpus-per-task={jobs}
#SBATCH --output={out_log}/slurm-%A_%a.out
set -euo pipefail
exec {s} sweep {c} --shard "${{SLURM_ARRAY_TASK_ID}}/{shards}" --out {o}/shard-"${{SLURM_ARRAY_TASK_ID}}" --resume --jobs {jobs} --quiet
"#,
        merge_escaped = merge.replace('"', "\\\""),
        out_log = out.display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_runs_each_shard_with_resume() {
        let s = sbatch_script(
            Path::new("/opt/smoe"),
            Path::new("/c/kt.toml"),
            Path::new("/scratch/kt"),
            "kt paper",
            8,
            2,
        );
        assert!(s.starts_with("#!/bin/bash\n"));
        assert!(s.contains("#SBATCH --array=1-8\n"));
        assert!(s.contains("#SBATCH --cpus-per-task=2\n"));
        assert!(s.contains("#SBATCH --job-name=smoe-kt_paper\n"));
        assert!(s.contains(
            "exec /opt/smoe sweep /c/kt.toml --shard \"${SLURM_ARRAY_TASK_ID}/8\" --out /scratch/kt/shard-\"${SLURM_ARRAY_TASK_ID}\" --resume --jobs 2 --quiet"
        ));
        assert_eq!(shell_quote("a b'c"), r"'a b'\''c'");
        assert_eq!(
            merge_command(Path::new("/opt/smoe"), Path::new("/s")),
            "/opt/smoe merge /s/shard-* --out /s && /opt/smoe report /s"
        );
    }
}
