//! Every integration test of this crate in one test binary (one link instead of one
//! per file; `autotests = false` in Cargo.toml). Run one file's tests with
//! `cargo test -p <crate> --test all <file>::`.

mod determinism;
mod errors;
mod generators;
mod proptest;
mod regression_tasks;
mod sources;
