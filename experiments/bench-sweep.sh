#!/usr/bin/env bash
# Wall time and runs/s of the quick sweep (`cargo run --release -- sweep`) with --jobs 1 and
# --jobs 2, median of 3 runs each; writes results/bench/sweep.md.
# Usage: bash experiments/bench-sweep.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=target/release/smoe
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
runs=$(grep -c . <("$bin" sweep --out "$tmp/probe" --quiet --no-report >/dev/null && cat "$tmp/probe/runs.jsonl"))
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A wall
for jobs in 1 2; do
  times=()
  for rep in 1 2 3; do
    start=$(date +%s.%N)
    "$bin" sweep --out "$tmp/j$jobs-$rep" --jobs "$jobs" --quiet --no-report >/dev/null
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
  done
  wall[$jobs]=$(printf '%s\n' "${times[@]}" | median)
done
model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
{
  echo "# Sweep throughput: the quick sweep"
  echo
  echo "Command: \`bash experiments/bench-sweep.sh\` (runs \`target/release/smoe sweep --jobs J --no-report\`, the README's main command without the report, 3 times per J; median wall time)."
  echo
  echo "Machine: \`$model\` ($(nproc) cores)."
  echo
  echo "Sweep: experiments/configs/kt-quick.toml, $runs runs (k ∈ {1, 2, 4} × T ∈ {4, 8, 16} × m ∈ {1000, 4000} × 5 seeds), each run single-threaded."
  echo
  echo "| --jobs | wall time (s) | runs/s | speed-up |"
  echo "|---|---|---|---|"
  for jobs in 1 2; do
    printf '| %s | %.1f | %.2f | %.2f× |\n' "$jobs" "${wall[$jobs]}" "$(echo "$runs / ${wall[$jobs]}" | bc -l)" "$(echo "${wall[1]} / ${wall[$jobs]}" | bc -l)"
  done
} > results/bench/sweep.md
cat results/bench/sweep.md
