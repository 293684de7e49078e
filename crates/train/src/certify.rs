//! The PAC-Bayes certificate of a trained run (`[certify]`): the prior's mean — the run's
//! initialisation, re-created from its seed, or a model fitted on a held-out part of the
//! training set — then [`smoe_theory::certify::certify`].

use rand::seq::SliceRandom;
use smoe_model::{Model, build_model};
use smoe_nn::{param_vector, stream_rng};
use smoe_tasks::{Dataset, LoadedData};
use smoe_theory::certify::{
    CertificateRecord, CertifyConfig, CertifyData, PriorMean, PriorRecord, Stage, certify,
    count_errors,
};

use crate::loss::build_loss;
use crate::{Result, TrainConfig, TrainError, fit};

/// The rows of a training set of `m` rows the data-dependent prior is fitted on and the rows
/// the certificate uses, split by the seeded stream `certify-prior-split`: the prior gets
/// `round(fraction · m)` rows, at least 1, and leaves at least 2.
///
/// # Errors
/// [`TrainError::InvalidConfig`] for fewer than 3 rows.
pub fn prior_split(m: usize, fraction: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    if m < 3 {
        return Err(TrainError::InvalidConfig {
            field: "certify.prior",
            value: "data_dependent".into(),
            reason: "needs at least 3 training rows (1 for the prior, 2 for the certificate)",
        });
    }
    let mut order: Vec<usize> = (0..m).collect();
    order.shuffle(&mut stream_rng(seed, "certify-prior-split", 0));
    let n = ((fraction * m as f64).round() as usize).clamp(1, m - 2);
    let rest = order.split_off(n);
    Ok((order, rest))
}

/// Certifies `model`, trained by `cfg` on `train` (the rows it was fitted on), with the test
/// set of `data` beside it. `data` supplies the description and config a data-dependent
/// prior's fit needs. `progress(stage, done, total)` reports the certificate's stages.
///
/// # Errors
/// Invalid settings, a data-dependent prior with fresh batches, the prior's fit failing,
/// and the certificate's own errors.
pub fn certify_run(
    cfg: &TrainConfig,
    certify_cfg: &CertifyConfig,
    model: &dyn Model<f32>,
    train: &Dataset<f32>,
    data: &LoadedData,
    progress: &(dyn Fn(Stage, usize, usize) + Sync),
) -> Result<CertificateRecord> {
    certify_cfg.validate()?;
    let init = build_model::<f32>(&cfg.model, model.input_dim(), cfg.seed)?;
    let init_mean = param_vector(&init.params());
    match certify_cfg.prior {
        PriorMean::Init => Ok(certify(
            model,
            &init_mean,
            PriorRecord::init(),
            CertifyData {
                train,
                test: Some(&data.test),
            },
            certify_cfg,
            cfg.seed,
            progress,
        )?),
        PriorMean::DataDependent {
            fraction,
            from_prior,
        } => {
            if data.config.fresh_batches() {
                return Err(TrainError::InvalidConfig {
                    field: "certify.prior",
                    value: "data_dependent".into(),
                    reason: "fits the prior on part of one fixed training set; fresh batches \
                             train on new samples each epoch",
                });
            }
            let (prior_rows, rest) = prior_split(train.len(), fraction, cfg.seed)?;
            let prior_set = train.select(&prior_rows);
            let bound_set = train.select(&rest);
            let mut prior_cfg = cfg.clone();
            prior_cfg.certify = None;
            prior_cfg.eval.bounds = false;
            prior_cfg.train.early_stopping = None;
            let loaded = LoadedData {
                train: prior_set,
                test: data.test.clone(),
                description: data.description.clone(),
                bayes_error: data.bayes_error,
                config: data.config.clone(),
                task: None,
            };
            let mut prior_model = init;
            let loss = build_loss(&cfg.loss, cfg.eval.gamma.initial())?;
            fit(
                &prior_cfg,
                prior_model.as_mut(),
                loss.as_ref(),
                &loaded,
                &mut |_| {},
            )?;
            let prior_error =
                count_errors(prior_model.as_ref(), &bound_set)? as f64 / bound_set.len() as f64;
            let prior_mean = param_vector(&prior_model.params());
            // Q starts at the prior's mean (its weights are the prior model's) or the run's
            let start: &dyn Model<f32> = if from_prior {
                prior_model.as_ref()
            } else {
                model
            };
            Ok(certify(
                start,
                &prior_mean,
                PriorRecord {
                    kind: "data_dependent".into(),
                    m_prior: prior_rows.len(),
                    prior_error: Some(prior_error),
                    start: if from_prior { "prior" } else { "trained" }.into(),
                },
                CertifyData {
                    train: &bound_set,
                    test: Some(&data.test),
                },
                certify_cfg,
                cfg.seed,
                progress,
            )?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prior_split_is_a_seeded_partition() {
        let (a, b) = prior_split(100, 0.3, 7).unwrap();
        assert_eq!((a.len(), b.len()), (30, 70));
        let mut all: Vec<usize> = a.iter().chain(&b).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(prior_split(100, 0.3, 7).unwrap(), (a.clone(), b));
        assert_ne!(prior_split(100, 0.3, 8).unwrap().0, a);
        assert_eq!(prior_split(3, 0.99, 0).unwrap().1.len(), 2);
        assert!(prior_split(2, 0.5, 0).is_err());
    }
}
