//! Every integration test of this crate in one test binary (one link instead of one
//! per file; `autotests = false` in Cargo.toml). Run one file's tests with
//! `cargo test -p <crate> --test all <file>::`.

mod gradients;
mod invariants;
