//! The Monte Carlo step: networks drawn from Q, each evaluated with the model's own hard
//! top-k routing (every input re-routed), and their mean 0-1 error.

use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use smoe_model::Model;
use smoe_nn::{set_param_vector, stream_rng};
use smoe_tasks::Dataset;

use super::posterior::Posterior;
use crate::error::{Result, TheoryError};

/// Misclassified rows of `data` (prediction +1 iff f ≥ 0).
///
/// # Errors
/// The model fails on the data.
pub fn count_errors(model: &dyn Model<f32>, data: &Dataset<f32>) -> Result<u64> {
    let out = model
        .infer(data.x.view())
        .map_err(|e| TheoryError::Certify {
            what: e.to_string(),
        })?;
    Ok(out
        .f
        .iter()
        .zip(&data.y)
        .filter(|(f, y)| (if **f >= 0.0 { 1.0 } else { -1.0 }) != **y)
        .count() as u64)
}

/// The total number of errors of `samples` networks drawn from `q` (draw i from the stream
/// `(seed, stream, i)`, so the result does not depend on the thread count), each on every
/// row of `data`. `tick(done)` is called as draws finish (in completion order).
///
/// # Errors
/// A sampled network fails on the data.
pub fn sampled_errors(
    q: &Posterior,
    model: &dyn Model<f32>,
    data: &Dataset<f32>,
    samples: usize,
    seed: u64,
    stream: &str,
    tick: &(dyn Fn() + Sync),
) -> Result<u64> {
    let n = q.len();
    let per_draw: Vec<Result<u64>> = (0..samples)
        .into_par_iter()
        .map_init(
            || (model.boxed_clone(), vec![0.0; n], vec![0.0; n]),
            |(net, eps, theta), i| {
                let mut rng = stream_rng(seed, stream, i as u64);
                for e in eps.iter_mut() {
                    *e = StandardNormal.sample(&mut rng);
                }
                q.draw(eps, theta);
                set_param_vector(&mut net.params_mut(), theta).map_err(|e| {
                    TheoryError::Certify {
                        what: e.to_string(),
                    }
                })?;
                let errors = count_errors(net.as_ref(), data)?;
                tick();
                Ok(errors)
            },
        )
        .collect();
    per_draw.into_iter().sum()
}
