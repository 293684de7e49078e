//! Every integration test of this crate in one test binary (one link instead of one
//! per file; `autotests = false` in Cargo.toml). Run one file's tests with
//! `cargo test -p <crate> --test all <file>::`.

mod checkpoint;
mod checkpoint_strict;
mod common;
mod config;
mod dense_to_sparse;
mod errors;
mod gradients;
mod oracle;
mod sizes;
mod soft;
