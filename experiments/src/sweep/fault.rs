//! Fault injection at the write points of a sweep folder, so tests can kill the real binary
//! between any two steps of a write and check that nothing finished is lost.
//!
//! Every step that changes a sweep folder calls [`point`] with its name once it is done
//! (`runs.tmp_created`, `runs.tmp_written`, `runs.tmp_synced`, `runs.renamed`,
//! `runs.dir_synced`, `append.written`, `append.synced`, the same for `config.*` and
//! `merge.*`, `aside.runs`, `aside.config`). With the environment variable
//! `SMOE_FAULT_AT` set to a number N the process aborts at the N-th write point it reaches
//! (counting from 1); set to a name, at the first point of that name. Before aborting it
//! prints `smoe: fault injected at write point N (NAME)` on stderr. Unset (the normal case)
//! a point costs one atomic increment.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable naming the write point to abort at.
pub const FAULT_ENV: &str = "SMOE_FAULT_AT";

enum Target {
    Nth(usize),
    Named(String),
}

fn target() -> Option<&'static Target> {
    static TARGET: OnceLock<Option<Target>> = OnceLock::new();
    TARGET
        .get_or_init(|| {
            let v = std::env::var(FAULT_ENV).ok()?;
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            Some(match v.parse::<usize>() {
                Ok(n) => Target::Nth(n),
                Err(_) => Target::Named(v.to_string()),
            })
        })
        .as_ref()
}

/// Marks the write point `name` as reached; aborts the process if `SMOE_FAULT_AT` names it.
pub fn point(name: &str) {
    static REACHED: AtomicUsize = AtomicUsize::new(0);
    let n = REACHED.fetch_add(1, Ordering::SeqCst) + 1;
    let hit = match target() {
        None => false,
        Some(Target::Nth(k)) => *k == n,
        Some(Target::Named(s)) => s == name,
    };
    if hit {
        eprintln!("smoe: fault injected at write point {n} ({name})");
        std::process::abort();
    }
}
