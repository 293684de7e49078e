//! Every integration test of this crate in one test binary (one link instead of one
//! per file; `autotests = false` in Cargo.toml). Run one file's tests with
//! `cargo test -p <crate> --test all <file>::`.

mod claims_quick;
mod cli_bound;
mod cli_certify;
mod cli_full_batch;
mod cli_messages;
mod cli_protocol;
mod cli_train;
mod common;
mod custom_components;
mod docs;
mod fuzz_readers;
mod huge_sizes;
mod inspect;
mod inspect_soft;
mod overrides;
mod plot;
mod regression;
mod regression_configs;
mod report_axes;
mod report_stats;
mod resume_keys;
mod shipped_configs;
mod stats_fixture;
mod sweep;
mod sweep_safety;
mod sweep_soft;
mod train_outputs;
