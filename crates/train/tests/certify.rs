//! PAC-Bayes certificates of trained runs (THEORY §5): vacuous on random labels, non-vacuous
//! on a learnable task of the same size, internally consistent, deterministic across thread
//! counts, and with a data-dependent prior on the held-out split.

use smoe_tasks::{DataConfig, SyntheticData, TaskConfig};
use smoe_theory::certify::{CertificateRecord, CertifyConfig, PriorMean};
use smoe_theory::{PriorGrid, b_re, certificate};
use smoe_train::{TrainConfig, train};

fn config(noise: f64, m: usize) -> TrainConfig {
    let mut cfg = TrainConfig {
        data: DataConfig::Synthetic(SyntheticData {
            d: 8,
            m_train: m,
            m_test: 2000,
            task: TaskConfig::MixtureOfLinear { clusters: 2, noise },
            ..Default::default()
        }),
        certify: Some(CertifyConfig {
            steps: 3000,
            samples: 200,
            test_samples: 20,
            ..Default::default()
        }),
        ..Default::default()
    };
    if let smoe_model::ModelConfig::Sparse(s) = &mut cfg.model {
        s.experts = 4;
        s.k = 2;
        s.expert.width = 16;
    }
    cfg.train.epochs = 40;
    cfg.train.batch_size = 64;
    cfg.eval.bounds = false;
    cfg
}

fn certified(cfg: &TrainConfig) -> CertificateRecord {
    let out = train(cfg, &mut |_| {}).expect("trains and certifies");
    out.record.certificate.expect("a certificate")
}

#[test]
fn random_labels_get_a_vacuous_certificate_and_real_labels_do_not() {
    // noise 0.5 flips every label with probability 1/2: labels independent of x
    let random = certified(&config(0.5, 2000));
    assert!(
        random.bound >= 0.5,
        "random labels certified at {}",
        random.bound
    );
    let test = random.test_error.expect("a test set");
    assert!(
        (test - 0.5).abs() < 0.06,
        "random labels, test error {test}"
    );
    let real = certified(&config(0.0, 2000));
    assert!(
        real.bound < 0.5,
        "a learnable task certified at {}",
        real.bound
    );
    assert!(real.bound < random.bound);
    // the certificate bounds the stochastic model's error: it lies above its test error
    assert!(real.bound > real.stochastic_test_error.unwrap());
}

#[test]
fn a_certificate_is_consistent_with_its_parts() {
    let c = certified(&config(0.05, 1500));
    assert_eq!(c.m, 1500);
    assert_eq!(c.blocks.len(), 1);
    let b = &c.blocks[0];
    assert_eq!(b.params, c.params);
    let grid = PriorGrid::default();
    assert_eq!(b.lambda, grid.lambda(b.grid_j), "λ is a grid point");
    assert!((c.kl - b.kl).abs() < 1e-9);
    assert!((c.kl_per_param * c.params as f64 - c.kl).abs() < 1e-6);
    let want = b_re(c.kl, &[b.grid_j], c.m, c.delta).unwrap();
    assert!((c.b_re - want).abs() < 1e-12);
    let again = certificate(c.mc_error, c.samples, c.delta_mc, c.b_re).unwrap();
    assert_eq!(again.bound, c.bound);
    assert!(c.mc_error <= c.mc_bound && c.mc_bound <= c.bound && c.bound <= 1.0);
    assert!((c.confidence - 0.965).abs() < 1e-12);
    assert!(
        c.objective_end < c.objective_start,
        "the optimisation lowered its objective"
    );
    let holdout = c.holdout_bound.unwrap();
    assert!(holdout > c.test_error.unwrap() && holdout < 1.0);
}

#[test]
fn certificates_do_not_depend_on_the_thread_count() {
    let mut cfg = config(0.05, 800);
    if let Some(c) = &mut cfg.certify {
        c.steps = 300;
        c.samples = 40;
        c.separate_router_prior = true;
    }
    let on = |n: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap();
        let mut c = pool.install(|| certified(&cfg));
        (c.optimise_secs, c.sample_secs, c.total_secs) = (0.0, 0.0, 0.0);
        c
    };
    let one = on(1);
    assert_eq!(one, on(2));
    let names: Vec<&str> = one.blocks.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["router", "experts"]);
    assert_eq!(
        one.blocks.iter().map(|b| b.params).sum::<usize>(),
        one.params
    );
}

#[test]
fn a_data_dependent_prior_certifies_on_the_held_out_rows() {
    let mut cfg = config(0.05, 1200);
    if let Some(c) = &mut cfg.certify {
        c.prior = PriorMean::DataDependent {
            fraction: 0.25,
            from_prior: true,
        };
        c.steps = 500;
        c.samples = 50;
    }
    let c = certified(&cfg);
    assert_eq!(c.prior.kind, "data_dependent");
    assert_eq!((c.prior.m_prior, c.m), (300, 900));
    assert_eq!(c.prior.start, "prior");
    let e = c.prior.prior_error.expect("the prior's error");
    assert!((0.0..=1.0).contains(&e));
    assert!(c.bound.is_finite() && c.bound <= 1.0);
}

#[test]
fn bad_certify_settings_are_config_errors() {
    let mut cfg = config(0.05, 500);
    cfg.certify.as_mut().unwrap().delta = 1.5;
    let e = cfg.validate().unwrap_err().to_string();
    assert!(e.contains("certify.delta"), "{e}");
    let mut cfg = config(0.05, 500);
    cfg.loss = smoe_train::LossConfig::Squared;
    assert!(cfg.validate().is_err());
}
