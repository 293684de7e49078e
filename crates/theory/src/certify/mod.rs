//! A non-vacuous PAC-Bayes certificate for a trained model (THEORY §5, Dziugaite & Roy 2017):
//! the stochastic model Q = N(w, diag(σ²)) over every weight, router included, is optimised
//! from the trained weights against the prior P = N(w₀, λ I), then certified by sampling
//! networks that each re-route with hard top-k.
//!
//! - [`CertifyConfig`]: budget, surrogate routing ([`Surrogate`]), prior ([`PriorMean`]),
//!   confidence levels;
//! - [`certify`]: the whole pipeline for a model, its prior mean and its sample, into a
//!   [`CertificateRecord`] (KL, λ per block, ê, the MC bound, the final bound, the budget,
//!   and beside it the test error and the hold-out bound);
//! - pieces: [`Posterior`] and its prior [`Block`]s, [`optimise`], [`sampled_errors`],
//!   [`surrogate_model`].

mod config;
mod optimise;
mod posterior;
mod record;
mod sample;
mod surrogate;

pub use config::{CertifyConfig, MAX_SAMPLES, MAX_STEPS, PriorMean, Surrogate};
pub use optimise::{OptimiseTrace, b_re_continuous, optimise};
pub use posterior::{Block, Posterior, blocks};
pub use record::{BlockRecord, CertificateRecord, PriorRecord};
pub use sample::{count_errors, sampled_errors};
pub use surrogate::surrogate_model;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use smoe_model::Model;
use smoe_nn::param_vector;
use smoe_tasks::{Dataset, Targets};

use crate::error::{Result, TheoryError};
use crate::kl::binomial_tail_bound;
use crate::pac_bayes::{PriorGrid, b_re, certificate};

/// A stage of [`certify`], for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Posterior optimisation, in steps.
    Optimise,
    /// Sampling networks on the training sample, in draws.
    Sample,
    /// Sampling networks on the test set, in draws.
    TestSample,
}

/// The sample a certificate is computed on and the test set shown beside it.
#[derive(Debug, Clone, Copy)]
pub struct CertifyData<'a> {
    /// The training rows the bound holds for (with a data-dependent prior: the rows the
    /// prior did not see). Labels ±1.
    pub train: &'a Dataset<f32>,
    /// The test set, for the test error, the stochastic model's test error and the hold-out
    /// bound (optional).
    pub test: Option<&'a Dataset<f32>>,
}

fn fail(what: impl Into<String>) -> TheoryError {
    TheoryError::Certify { what: what.into() }
}

fn check_labels(name: &str, d: &Dataset<f32>) -> Result<()> {
    if d.targets != Targets::Labels {
        return Err(fail(format!(
            "needs labels ±1 (the 0-1 error); the {name} set has real targets"
        )));
    }
    Ok(())
}

/// Certifies `model` (its trained weights are Q's starting mean) against the prior centred at
/// `prior_mean` (the initialisation, or a data-dependent mean — `prior` says which, for the
/// record), on `data`, with the run's `seed` for every random stream. `progress(stage, done,
/// total)` reports each stage.
///
/// # Errors
/// Real targets, a prior mean of the wrong length, fewer than 2 training rows, invalid
/// settings, a model that fails on the data or a non-finite posterior.
pub fn certify(
    model: &dyn Model<f32>,
    prior_mean: &[f64],
    prior: PriorRecord,
    data: CertifyData<'_>,
    cfg: &CertifyConfig,
    seed: u64,
    progress: &(dyn Fn(Stage, usize, usize) + Sync),
) -> Result<CertificateRecord> {
    cfg.validate()?;
    check_labels("training", data.train)?;
    if let Some(t) = data.test {
        check_labels("test", t)?;
    }
    let m = data.train.len();
    if m < 2 {
        return Err(TheoryError::TooFew { need: 2, got: m });
    }
    let grid = PriorGrid {
        c: cfg.grid_c,
        b: cfg.grid_b,
    };
    let params = model.params();
    let names: Vec<(String, usize)> = params
        .iter()
        .map(|p| (p.name.clone(), p.value.len()))
        .collect();
    let mean = param_vector(&params);
    drop(params);
    if prior_mean.len() != mean.len() {
        return Err(fail(format!(
            "the prior mean has {} values, the model {} parameters",
            prior_mean.len(),
            mean.len()
        )));
    }
    let mut q = Posterior::new(
        mean,
        prior_mean.to_vec(),
        blocks(&names, cfg.separate_router_prior),
        cfg.sigma_init,
    )?;

    let t0 = Instant::now();
    let (mut surrogate, used) = surrogate_model(model, cfg.surrogate)?;
    let trace = optimise(
        &mut q,
        surrogate.as_mut(),
        data.train,
        cfg,
        m,
        seed,
        &mut |done| progress(Stage::Optimise, done, cfg.steps),
    )?;
    let optimise_secs = t0.elapsed().as_secs_f64();

    // λ of each block rounded to the better grid neighbour (KL and price are separable)
    let best = q.best_lambdas(&grid);
    let mut block_records = Vec::new();
    let mut js = Vec::new();
    let mut kl = 0.0;
    for (i, b) in q.blocks.iter().enumerate() {
        let (lo, hi) = grid.neighbours(best[i])?;
        let mut pick = None;
        for j in [lo, hi] {
            let mut lambdas = best.clone();
            lambdas[i] = grid.lambda(j);
            let one = Posterior {
                blocks: vec![b.clone()],
                ..q.clone()
            };
            let kl_b = one.kl(&lambdas[i..=i])?;
            let cost = kl_b + PriorGrid::log_price(j);
            if pick.is_none_or(|(_, _, c)| cost < c) {
                pick = Some((j, kl_b, cost));
            }
        }
        let (j, kl_b, _) = pick.ok_or_else(|| fail("no grid point"))?;
        js.push(j);
        kl += kl_b;
        block_records.push(BlockRecord {
            name: b.name.to_string(),
            params: b.len(),
            lambda: grid.lambda(j),
            grid_j: j,
            kl: kl_b,
        });
    }
    let b_re = b_re(kl, &js, m, cfg.delta)?;

    // the Monte Carlo step on the training sample, with hard top-k routing
    let t1 = Instant::now();
    let done = AtomicUsize::new(0);
    let tick = |stage, total| {
        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
        if d.is_multiple_of(10) || d == total {
            progress(stage, d, total);
        }
    };
    let errors = sampled_errors(
        &q,
        model,
        data.train,
        cfg.samples,
        seed,
        "certify-sample",
        &|| tick(Stage::Sample, cfg.samples),
    )?;
    let mc_error = errors as f64 / (cfg.samples as f64 * m as f64);
    let cert = certificate(mc_error, cfg.samples, cfg.delta_mc, b_re)?;
    let sample_secs = t1.elapsed().as_secs_f64();

    let train_error = count_errors(model, data.train)? as f64 / m as f64;
    let (mut test_error, mut holdout_bound, mut stochastic_test_error, mut m_test) =
        (None, None, None, None);
    if let Some(test) = data.test.filter(|t| !t.is_empty()) {
        let n = test.len();
        let e = count_errors(model, test)?;
        test_error = Some(e as f64 / n as f64);
        holdout_bound = Some(binomial_tail_bound(e, n as u64, cfg.delta_holdout)?);
        m_test = Some(n);
        if cfg.test_samples > 0 {
            done.store(0, Ordering::Relaxed);
            let e = sampled_errors(
                &q,
                model,
                test,
                cfg.test_samples,
                seed,
                "certify-test-sample",
                &|| tick(Stage::TestSample, cfg.test_samples),
            )?;
            stochastic_test_error = Some(e as f64 / (cfg.test_samples as f64 * n as f64));
        }
    }
    let n = q.len();
    let log_sigma_mean = q.log_sigma.iter().sum::<f64>() / n as f64;
    Ok(CertificateRecord {
        bound: cert.bound,
        mc_error,
        mc_bound: cert.mc_bound,
        samples: cfg.samples,
        b_re,
        kl,
        params: n,
        kl_per_param: kl / n as f64,
        m,
        delta: cfg.delta,
        delta_mc: cfg.delta_mc,
        confidence: 1.0 - cfg.delta - cfg.delta_mc,
        blocks: block_records,
        prior,
        surrogate: used.name().to_string(),
        surrogate_requested: cfg.surrogate.name().to_string(),
        steps: trace.steps,
        batch_size: cfg.batch_size,
        surrogate_loss_start: trace.loss_start,
        surrogate_loss_end: trace.loss_end,
        objective_start: trace.objective_start,
        objective_end: trace.objective_end,
        sigma_geometric_mean: log_sigma_mean.exp(),
        mean_shift: dist(&q.mean, model)?,
        train_error,
        test_error,
        stochastic_test_error,
        holdout_bound,
        delta_holdout: cfg.delta_holdout,
        m_test,
        optimise_secs,
        sample_secs,
        total_secs: t0.elapsed().as_secs_f64(),
    })
}

/// ‖w_Q − w_start‖₂: how far the optimisation moved the mean.
fn dist(mean: &[f64], model: &dyn Model<f32>) -> Result<f64> {
    let w = param_vector(&model.params());
    Ok(mean
        .iter()
        .zip(&w)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt())
}
