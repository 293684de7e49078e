//! Every integration test of this crate in one test binary (one link instead of one
//! per file; `autotests = false` in Cargo.toml). Run one file's tests with
//! `cargo test -p <crate> --test all <file>::`.

mod bound_fixture;
mod d1_patterns;
mod extremes;
mod gate_labels;
mod issue12_labels;
mod report_errors;
mod sigmoid_labels;
mod voronoi;
