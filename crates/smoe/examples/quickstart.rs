//! Build a sparse MoE, run a batch, take one optimiser step, save it and load it back.
//!
//! Run with `cargo run --release -p smoe --example quickstart`.

use ndarray::Array2;
use smoe::{Adam, AdamConfig, ExpertConfig, Optimizer, SparseConfig, SparseMoe};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 16 experts, 2 selected per input, one hidden layer of 64 ReLU units each
    let cfg = SparseConfig {
        experts: 16,
        k: 2,
        expert: ExpertConfig {
            depth: 1,
            width: 64,
            ..Default::default()
        },
        ..Default::default()
    };
    // inputs of width d = 32, initial weights from seed 0
    let mut model = SparseMoe::<f32>::new(&cfg, 32, 0)?;
    println!("{} parameters", model.num_params());

    // a batch of 256 rows with labels y = sign(x_0)
    let x =
        Array2::<f32>::from_shape_fn((256, 32), |(i, j)| ((i * 31 + j * 7) as f32 * 0.37).sin());
    let y = x.column(0).mapv(|v| if v >= 0.0 { 1.0f32 } else { -1.0 });

    let out = model.forward(x.view(), true)?;
    let loss = |f: &ndarray::Array1<f32>| {
        f.iter()
            .zip(&y)
            .map(|(f, y)| (1.0 + (-y * f).exp()).ln())
            .sum::<f32>()
            / 256.0
    };
    println!(
        "loss before: {:.4}; rows per expert: {:?}",
        loss(&out.f),
        out.counts
    );

    // logistic loss gradient dL/df = -y sigmoid(-y f) / b
    let df = ndarray::Zip::from(&out.f)
        .and(&y)
        .map_collect(|f, y| -y / (1.0 + (y * f).exp()) / 256.0);
    model.zero_grad();
    model.backward(df.view())?;
    let mut opt = Adam::new(AdamConfig {
        lr: 1e-2,
        ..Default::default()
    })?;
    opt.step(&mut model.params_mut())?;
    let after = model.infer(x.view())?;
    println!("loss after one step: {:.4}", loss(&after.f));

    let dir = std::env::temp_dir().join("smoe-quickstart");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("model.safetensors");
    model.save(&path)?;
    let loaded = SparseMoe::<f32>::load(&path)?;
    assert_eq!(loaded.infer(x.view())?.f, after.f);
    println!(
        "saved to {} and reloaded: identical outputs",
        path.display()
    );
    Ok(())
}
