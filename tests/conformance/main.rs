//! Conformance with ngc-learn 3.2.3: every fixture case, replayed through the C ABI.
//!
//! The fixtures (`tests/reference/fixtures/<cell>_f32.json`, `<cell>_f64.json`) were
//! written by `tests/reference/generate.py` from ngc-learn's own cells running on JAX
//! (float32 by default, float64 with `jax_enable_x64`). CI does not install JAX: it
//! checks these committed files. Regenerate them with `bash tests/reference/generate.sh`.
//!
//! [`engine`] replays any case with the exported `extern "C"` functions only (the
//! constructors, `ngc_cell_set_f32/f64`, `ngc_cell_set_shaped`, `ngc_cell_advance`,
//! `ngc_cell_evolve`, `ngc_cell_reset`, `ngc_cell_batched_reset`, `ngc_cell_get_f32/f64`,
//! `ngc_cell_loss`, `ngc_cell_compartment_dims`) and compares every compartment after
//! every op; one module per cell type derives its tolerances from the inputs
//! (`bernoulli`, ...). The figures of docs/fidelity.md's results table are this test's
//! own output ([`table`]); `NGC_UPDATE_DOCS=1 cargo test --test conformance` rewrites it.
//!
//! Run with `-- --nocapture` for the error report.

use std::sync::OnceLock;

#[path = "../common/mod.rs"]
mod common;

mod bernoulli;
mod engine;
mod family;
mod gaussian;
mod laplacian;
mod rate;
mod reward;
mod table;

use bernoulli::Bernoulli;
use engine::{replay, CellModule, Elem, Report};
use gaussian::Gaussian;
use laplacian::Laplacian;
use rate::Rate;
use reward::Reward;

/// One cell type of the replay: its reports per dtype (each computed once per run and
/// shared by the tests that need it).
pub struct Entry {
    pub key: &'static str,
    pub class: &'static str,
    pub f32: fn() -> &'static Report,
    pub f64: fn() -> &'static Report,
    /// `ngc_cell_metadata_json` of a float32 cell made as the first case makes it.
    pub metadata: fn() -> serde_json::Value,
}

fn cached<M: CellModule, T: Elem>(slot: &'static OnceLock<Report>) -> &'static Report {
    slot.get_or_init(replay::<M, T>)
}

macro_rules! entry {
    ($m:ty, $class:expr) => {{
        fn f32_report() -> &'static Report {
            static SLOT: OnceLock<Report> = OnceLock::new();
            cached::<$m, f32>(&SLOT)
        }
        fn f64_report() -> &'static Report {
            static SLOT: OnceLock<Report> = OnceLock::new();
            cached::<$m, f64>(&SLOT)
        }
        fn metadata() -> serde_json::Value {
            let fx = engine::load(&format!("{}_f32.json", <$m as CellModule>::KEY));
            let cell = <$m as CellModule>::create::<f32>(&fx["cases"][0]);
            bernoulli::metadata(&cell)
        }
        Entry {
            key: <$m as CellModule>::KEY,
            class: $class,
            f32: f32_report,
            f64: f64_report,
            metadata,
        }
    }};
}

/// Every cell type with fixtures, in the order of the results table.
pub fn cells() -> Vec<Entry> {
    vec![
        entry!(Bernoulli, "BernoulliErrorCell"),
        entry!(Gaussian, "GaussianErrorCell"),
        entry!(Laplacian, "LaplacianErrorCell"),
        entry!(Reward, "RewardErrorCell"),
        entry!(Rate, "RateCell"),
    ]
}

fn entry(key: &str) -> Entry {
    cells().into_iter().find(|e| e.key == key).unwrap()
}

fn assert_clean(r: &Report) {
    assert!(
        r.failures.is_empty(),
        "{} {} vs ngc-learn:\n{}",
        r.cell,
        r.dtype,
        r.failures.join("\n")
    );
}

#[test]
fn bernoulli_f32_matches_the_float32_reference() {
    assert_clean((entry("bernoulli").f32)());
}

#[test]
fn bernoulli_f64_matches_the_float64_reference() {
    assert_clean((entry("bernoulli").f64)());
}

#[test]
fn bernoulli_fixtures_parse_and_cover_the_case_list() {
    bernoulli::fixtures_parse_and_cover_the_case_list();
}

#[test]
fn bernoulli_metadata_keeps_the_references_labels_and_fixes_its_help() {
    bernoulli::metadata_keeps_the_references_labels_and_fixes_its_help();
}

#[test]
fn bernoulli_clip_bounds_are_the_references() {
    bernoulli::clip_bounds_are_the_references();
}

#[test]
fn bernoulli_f32_ill_conditioned_dp_against_exact_values() {
    let (n, worst) = bernoulli::ill_conditioned_dp();
    println!("probability-mode dp at raw p > 9: {n} float32 elements within one resolution step of the exact value (largest error / bound {worst:.3})");
}

#[test]
fn gaussian_f32_matches_the_float32_reference() {
    assert_clean((entry("gaussian").f32)());
}

#[test]
fn gaussian_f64_matches_the_float64_reference() {
    assert_clean((entry("gaussian").f64)());
}

#[test]
fn gaussian_fixtures_cover_what_family_md_lists() {
    gaussian::fixtures_cover_what_family_md_lists();
}

#[test]
fn laplacian_f32_matches_the_float32_reference() {
    assert_clean((entry("laplacian").f32)());
}

#[test]
fn laplacian_f64_matches_the_float64_reference() {
    assert_clean((entry("laplacian").f64)());
}

#[test]
fn laplacian_fixtures_cover_what_family_md_lists() {
    laplacian::fixtures_cover_what_family_md_lists();
}

#[test]
fn reward_f32_matches_the_float32_reference() {
    assert_clean((entry("reward").f32)());
}

#[test]
fn reward_f64_matches_the_float64_reference() {
    assert_clean((entry("reward").f64)());
}

#[test]
fn reward_fixtures_cover_what_family_md_lists() {
    reward::fixtures_cover_what_family_md_lists();
}

#[test]
fn rate_f32_matches_the_float32_reference() {
    assert_clean((entry("rate").f32)());
}

#[test]
fn rate_f64_matches_the_float64_reference() {
    assert_clean((entry("rate").f64)());
}

#[test]
fn rate_fixtures_cover_what_family_md_lists() {
    rate::fixtures_cover_what_family_md_lists();
}

/// Every cell type's metadata names ngc-learn's class and compartments, with
/// ngc-learn's display names and units (recorded verbatim by the generator) wherever
/// ngc-learn gives one.
#[test]
fn metadata_keeps_the_references_labels() {
    for e in cells() {
        let fx = engine::load(&format!("{}_f32.json", e.key));
        let reference = &fx["reference_cell"];
        let meta = (e.metadata)();
        assert_eq!(meta["cell_type"], reference["class"], "{}", e.key);
        assert_eq!(reference["class"], e.class, "{}", e.key);
        let comps = meta["compartments"].as_array().unwrap();
        let mut ours: Vec<&str> = comps.iter().map(|c| c["name"].as_str().unwrap()).collect();
        let mut theirs: Vec<&str> = reference["compartments"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs, "{}: compartments", e.key);
        for c in comps {
            let r = &reference["compartments"][c["name"].as_str().unwrap()];
            for label in ["display_name", "units"] {
                if !r[label].is_null() {
                    assert_eq!(c[label], r[label], "{} {} {label}", e.key, c["name"]);
                }
            }
        }
    }
}

/// Float32 cells' values (`L`: issue 15) against the float64 reference run on the same
/// inputs, within bounds of ngc-cells' own float32 evaluation (no allowance for a
/// float32 sum: the reference's own float32 rounding does not enter).
#[test]
fn f32_against_the_float64_reference_on_the_same_inputs() {
    for e in cells() {
        let r = (e.f32)();
        let n = table::check_x64(e.key, r);
        println!(
            "{}: {n} float32 values checked against the float64 reference",
            e.key
        );
    }
}

/// The results table of docs/fidelity.md is this run's.
#[test]
fn fidelity_table_is_this_runs() {
    table::check_docs(&cells());
}
