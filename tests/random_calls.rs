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
    NGC_ERR_BUFFER_TOO_SMALL,
    NGC_ERR_NOT_SUPPORTED,
    NGC_ERR_SHAPE_MISMATCH,
];

/// One kind per family row (each must have a model), then the kinds with random
/// hyper-parameters.
fn kinds() -> Vec<calls::Kind> {
    let mut v: Vec<calls::Kind> = common::family::FAMILY
        .iter()
        .map(|row| {
            calls::Kind::of_row(row.label, row.takes_shape, row.new).unwrap_or_else(|| {
                panic!(
                    "family row {} has no model in tests/calls/model/ (add it there)",
                    row.label
                )
            })
        })
        .collect();
    v.extend(calls::model::randomized());
    v
}

#[test]
fn every_family_row_has_a_model() {
    // The fuzz target runs the models' rows (it cannot use tests/common): they
    // must cover the family. A row's hyper-parameters that differ from its
    // model's fail the random run, which calls the row's own constructor.
    let models: Vec<&str> = calls::model::rows().iter().map(|k| k.label).collect();
    for row in common::family::FAMILY {
        assert!(
            models.contains(&row.label),
            "family row {} has no model in tests/calls/model/",
            row.label
        );
    }
}

#[test]
fn random_call_sequences_match_the_model() {
    let total = calls_to_run();
    let first_seed = env_u64("NGC_FUZZ_SEED").unwrap_or(0x5EED_0007);
    let kinds = kinds();
    let t = Instant::now();
    // Half the calls on each cell type alone, half on all of them mixed (buffers
    // shared between cells of different types); several seeds each, so that one
    // run is many independent sequences.
    let seeds = 4;
    let mut runs: Vec<(String, Vec<calls::Kind>, u64)> = kinds
        .iter()
        .map(|k| {
            let share = total.div_ceil(2 * kinds.len() as u64);
            (k.label.to_string(), vec![*k], share)
        })
        .collect();
    runs.push(("all types".into(), kinds.clone(), total.div_ceil(2)));
    let mut all = calls::Stats::default();
    let mut seed = first_seed;
    for (label, ks, share) in &runs {
        let mut run = calls::Stats::default();
        for _ in 0..seeds {
            run.add(calls::run_seeded(ks, seed, share.div_ceil(seeds)));
            seed = seed.wrapping_add(1);
        }
        eprintln!(
            "random calls, {label}: {} calls, {} cells created, {} inexact (max relative deviation {:e})",
            run.calls, run.cells_created, run.inexact, run.max_rel_dev
        );
        all.add(run);
    }
    let names: Vec<String> = all
        .statuses
        .iter()
        .map(|(st, n)| {
            // SAFETY: static string.
            let name = unsafe { std::ffi::CStr::from_ptr(ngc_status_str(*st)) };
            format!("{}={n}", name.to_string_lossy())
        })
        .collect();
    let funcs: Vec<String> = all
        .functions
        .iter()
        .map(|(f, n)| format!("{f}={n}"))
        .collect();
    eprintln!(
        "random calls: {} calls from seeds {first_seed:#x}..{seed:#x} ({} cells created), \
         {} checking calls, {:.1} s; computed values not bit-identical to the model: {} \
         (max relative deviation {:e}); statuses: {}; functions: {}",
        all.calls,
        all.cells_created,
        all.check_calls,
        t.elapsed().as_secs_f64(),
        all.inexact,
        all.max_rel_dev,
        names.join(" "),
        funcs.join(" ")
    );
    assert!(all.calls >= total);
    if total >= 10_000 {
        for st in REACHABLE {
            assert!(
                all.statuses.contains_key(st),
                "no call returned status {st} in {} calls: the generator lost coverage",
                all.calls
            );
        }
        for k in &kinds {
            let s = &all.kinds[k.label];
            assert!(
                s.created > 0 && s.advances > 0,
                "{}: {s:?}: the generator lost coverage",
                k.label
            );
        }
    }
}

#[test]
fn a_seed_gives_the_same_sequence() {
    let kinds = kinds();
    let a = calls::run_seeded(&kinds, 42, 3_000);
    let b = calls::run_seeded(&kinds, 42, 3_000);
    assert_eq!(a.statuses, b.statuses);
    assert_eq!(a.functions, b.functions);
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
    let s = calls::run_seeded(&kinds(), 0xABCD, n);
    eprintln!(
        "short random run: {} calls, {} cells created; compares with NaN misjudged by this CPU: {} \
         ({} computed NaN values not compared)",
        s.calls,
        s.cells_created,
        calls::nan_compares_misjudged(),
        s.nan_unchecked
    );
}

/// The hardware evaluates AVX compares with a NaN operand as specified, so the
/// random runs on hardware compare every computed value: the exemption for a
/// CPU that misjudges them (valgrind's emulation, see
/// `calls::nan_compares_misjudged`) never applies there.
#[test]
fn hardware_orders_nan_compares_right() {
    if std::env::var_os("NGC_UNDER_VALGRIND").is_some() {
        return; // the emulated CPU is the one that misjudges them
    }
    assert!(
        !calls::nan_compares_misjudged(),
        "this CPU evaluates vcmppd EQ_UQ/NEQ_OQ with a NaN operand wrongly: the random \
         runs would leave computed NaN values unchecked"
    );
}

#[test]
fn random_calls_run_clean_under_valgrind() {
    if let Some(out) = common::run_self_under_valgrind("short_random_run") {
        // The inner run's summary: how many computed NaN values the emulated
        // CPU kept from comparison (`calls::nan_compares_misjudged`).
        let err = String::from_utf8_lossy(&out.stderr);
        let summary = err.lines().find(|l| l.starts_with("short random run:"));
        eprintln!("under valgrind: {}", summary.unwrap_or("(no summary)"));
    }
}
