//! Randomized call sequences through the C ABI, checked against a model of the
//! cell after every call (see `tests/calls/mod.rs` for the call language).
//!
//! `NGC_FUZZ_CALLS` sets how many calls the main test makes (default: 1,000,000
//! when `CI=true`, about 15 s in a debug build; 50,000 otherwise); `NGC_FUZZ_SEED` the first seed. A failure
//! prints the seed, the call number and the last 40 calls.

mod calls;
mod common;

use std::time::Instant;

use ngc_cells::*;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim().replace('_', "");
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

fn calls_to_run() -> u64 {
    env_u64("NGC_FUZZ_CALLS").unwrap_or(if common::in_ci() { 1_000_000 } else { 50_000 })
}

/// Every status the generator can provoke, so a run that stops reaching one fails.
const REACHABLE: &[NgcStatus] = &[
    NGC_OK,
    NGC_ERR_NULL_POINTER,
    NGC_ERR_MISALIGNED_POINTER,
    NGC_ERR_INVALID_HANDLE,
    NGC_ERR_INVALID_ARGUMENT,
    NGC_ERR_INVALID_DTYPE,
    NGC_ERR_DTYPE_MISMATCH,
    NGC_ERR_UNKNOWN_COMPARTMENT,
    NGC_ERR_ZERO_SIZE,
    NGC_ERR_SIZE_OVERFLOW,
    NGC_ERR_CAPACITY_TOO_SMALL,
    NGC_ERR_LENGTH_MISMATCH,
    NGC_ERR_OVERLAP,
    NGC_ERR_NOT_BOUND,
    NGC_ERR_ALLOCATION,
];

#[test]
fn random_call_sequences_match_the_model() {
    let total = calls_to_run();
    let first_seed = env_u64("NGC_FUZZ_SEED").unwrap_or(0x5EED_0007);
    let t = Instant::now();
    // Several seeds, so that one run is many independent sequences.
    let seeds = 8;
    let mut calls = 0;
    let mut checks = 0;
    let mut inexact = 0;
    let mut max_dev = 0.0f64;
    let mut created = 0;
    let mut statuses = std::collections::BTreeMap::new();
    for k in 0..seeds {
        let s = calls::run_seeded(first_seed.wrapping_add(k), total.div_ceil(seeds));
        calls += s.calls;
        checks += s.check_calls;
        inexact += s.inexact;
        max_dev = max_dev.max(s.max_rel_dev);
        created += s.cells_created;
        for (st, n) in s.statuses {
            *statuses.entry(st).or_insert(0u64) += n;
        }
    }
    let names: Vec<String> = statuses
        .iter()
        .map(|(st, n)| {
            // SAFETY: static string.
            let name = unsafe { std::ffi::CStr::from_ptr(ngc_status_str(*st)) };
            format!("{}={n}", name.to_string_lossy())
        })
        .collect();
    eprintln!(
        "random calls: {calls} calls from seeds {first_seed:#x}..+{seeds} ({created} cells created), \
         {checks} checking calls, {:.1} s; computed values not bit-identical to the model: {inexact} \
         (max relative deviation {max_dev:e}); statuses: {}",
        t.elapsed().as_secs_f64(),
        names.join(" ")
    );
    assert!(calls >= total);
    if total >= 10_000 {
        for st in REACHABLE {
            assert!(
                statuses.contains_key(st),
                "no call returned status {st} in {calls} calls: the generator lost coverage"
            );
        }
    }
}

#[test]
fn a_seed_gives_the_same_sequence() {
    let a = calls::run_seeded(42, 3_000);
    let b = calls::run_seeded(42, 3_000);
    assert_eq!(a.statuses, b.statuses);
    assert_eq!(a.cells_created, b.cells_created);
}

/// A shorter run, which `random_calls_run_clean_under_valgrind` repeats under memcheck.
#[test]
fn short_random_run() {
    let n = if std::env::var_os("NGC_UNDER_VALGRIND").is_some() {
        env_u64("NGC_VALGRIND_CALLS").unwrap_or(4_000)
    } else {
        4_000
    };
    let s = calls::run_seeded(0xABCD, n);
    eprintln!(
        "short random run: {} calls, {} cells created",
        s.calls, s.cells_created
    );
}

#[test]
fn random_calls_run_clean_under_valgrind() {
    common::run_self_under_valgrind("short_random_run");
}
