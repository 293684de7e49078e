//! Forward + backward of one batch: 256 rows, d = 32, experts of depth 1 and width 64.
//!
//! `cargo bench -p smoe-model` runs criterion over T ∈ {4, 16, 64} at k = 1 and
//! k ∈ {1, 2, 4, 8} at T = 16, then times each case again (median of 15 runs of 50 steps) and
//! writes `results/bench/model.md` with the time and the useful GFLOP/s: router plus the k
//! selected experts, forward and backward, counted from the shapes.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use ndarray::{Array1, Array2};
use smoe_experts::ExpertConfig;
use smoe_model::{SparseConfig, SparseMoe};

const B: usize = 256;
const D: usize = 32;
const WIDTH: usize = 64;

fn cases() -> Vec<(usize, usize)> {
    vec![(4, 1), (16, 1), (64, 1), (16, 2), (16, 4), (16, 8)]
}

/// Useful flops of one forward + backward: the router (forward, weight and input gradients,
/// 3 × 2dT per row) plus k experts (3 × 2(d·w + w) per row and expert).
fn useful_flops(t: usize, k: usize) -> f64 {
    let router = 6 * D * t;
    let expert = 6 * (D * WIDTH + WIDTH);
    (B * (router + k * expert)) as f64
}

fn setup(t: usize, k: usize) -> (SparseMoe<f32>, Array2<f32>, Array1<f32>) {
    let cfg = SparseConfig {
        experts: t,
        k,
        expert: ExpertConfig {
            depth: 1,
            width: WIDTH,
            ..Default::default()
        },
        ..Default::default()
    };
    let model = SparseMoe::<f32>::new(&cfg, D, 1).expect("model");
    let x = Array2::from_shape_fn((B, D), |(i, j)| ((i * 131 + j * 17) as f32 * 0.013).sin());
    let df = Array1::from_shape_fn(B, |i| ((i * 7) as f32 * 0.1).cos() / B as f32);
    (model, x, df)
}

fn step(model: &mut SparseMoe<f32>, x: &Array2<f32>, df: &Array1<f32>) {
    model.zero_grad();
    let out = model.forward(x.view(), true).expect("forward");
    black_box(out.f[0]);
    black_box(model.backward(df.view()).expect("backward"));
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("fwd_bwd_256x32_w64_1thread");
    for (t, k) in cases() {
        let (mut model, x, df) = setup(t, k);
        group.throughput(Throughput::Elements(useful_flops(t, k) as u64));
        group.bench_function(format!("T{t}_k{k}"), |b| {
            b.iter(|| step(&mut model, &x, &df))
        });
    }
    group.finish();
}

/// Median step time (seconds) of every case: `reps` rounds, each timing `iters` steps of
/// every case in turn, so slow drift of a shared machine hits all cases alike.
fn median_step_times(reps: usize, iters: usize) -> Vec<f64> {
    let mut setups: Vec<_> = cases().into_iter().map(|(t, k)| setup(t, k)).collect();
    for (model, x, df) in setups.iter_mut() {
        for _ in 0..iters {
            step(model, x, df);
        }
    }
    let mut times = vec![Vec::with_capacity(reps); setups.len()];
    for _ in 0..reps {
        for ((model, x, df), out) in setups.iter_mut().zip(times.iter_mut()) {
            let start = Instant::now();
            for _ in 0..iters {
                step(model, x, df);
            }
            out.push(start.elapsed().as_secs_f64() / iters as f64);
        }
    }
    times
        .into_iter()
        .map(|mut v| {
            v.sort_by(f64::total_cmp);
            v[reps / 2]
        })
        .collect()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
        .install(f)
}

fn write_report() {
    let one = in_pool(1, || median_step_times(21, 50));
    let two = in_pool(2, || median_step_times(21, 50));
    let rows: Vec<_> = cases()
        .into_iter()
        .zip(one.into_iter().zip(two))
        .map(|((t, k), (secs, secs2))| (t, k, secs, useful_flops(t, k) / secs / 1e9, secs2))
        .collect();
    let base = rows.iter().find(|r| r.0 == 4).map_or(1.0, |r| r.3);
    let t64 = rows.iter().find(|r| r.0 == 64).map_or(0.0, |r| r.3);
    let mut md = String::new();
    md.push_str("# Model benchmark: forward + backward of one batch\n\n");
    md.push_str("Command: `cargo bench -p smoe-model` (criterion, then this table: median of 21 interleaved rounds of 50 steps per case).\n\n");
    md.push_str(&format!(
        "Machine: `{}` ({} threads available). The sparsity check uses one thread (a rayon pool of 1: experts run one after the other, as in a sweep); the last column runs the experts of a batch in parallel on 2 threads.\n\n",
        cpu_model(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    ));
    md.push_str("Batch 256 rows, d = 32, experts of depth 1 and width 64 (ReLU), linear router, top-k softmax gate, f32, dropless. Useful flops = router (forward, dW, dx) + the k selected experts (forward, dW, dx), counted from the shapes: 256 · (6·32·T + k · 6·(32·64 + 64)).\n\n");
    md.push_str("| T | k | time per step, 1 thread (µs) | useful GFLOP/s, 1 thread | time per step, 2 threads (µs) |\n|---|---|---|---|---|\n");
    for (t, k, secs, g, secs2) in &rows {
        md.push_str(&format!(
            "| {t} | {k} | {:.1} | {:.1} | {:.1} |\n",
            secs * 1e6,
            g,
            secs2 * 1e6
        ));
    }
    md.push_str(&format!(
        "\nSparsity check: useful GFLOP/s at T = 64 is {:.2} × that at T = 4 (target ≥ 0.5).\n",
        t64 / base
    ));
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/bench/model.md");
    if let Err(e) = std::fs::write(&path, md) {
        eprintln!("could not write {}: {e}", path.display());
    } else {
        println!("wrote {}", path.display());
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    // criterion times one thread: the global pool has one (the 2-thread column uses its own)
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global();
    bench(&mut c);
    c.final_summary();
    if std::env::args().any(|a| a == "--bench") {
        write_report();
    }
}
