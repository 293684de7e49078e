//! Every integration test of this crate in one test binary (one link instead of one
//! per file; `autotests = false` in Cargo.toml). Run one file's tests with
//! `cargo test -p <crate> --test all <file>::`.

mod catalogue;
mod certify;
mod data_files;
mod determinism;
mod divergence;
mod fresh_batches;
mod full_batch;
mod learning;
mod margin;
mod recovery;
mod router_k1;
mod soft;
mod stopping;
