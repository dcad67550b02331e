//! The header-only C++17 wrapper (`include/ngc_cells.hpp`) and the C++ examples,
//! compiled with strict warnings, linked against the static and shared library, run,
//! their values asserted (including the exception path), every cell type's factory
//! (ngc-learn's Gaussian lesson, a per-unit Sigma, Laplacian counts, Reward's rpe and
//! evolve), `set_shaped` and `evolve`.

mod common;

use common::*;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn cpp_wrapper_tests_pass_linked_static_and_shared() {
    for link in [Link::Static, Link::Shared] {
        let exe = scratch("cpp").join(format!("test_hpp_{link:?}"));
        build(
            "c++",
            CXX17_FLAGS,
            &[
                root().join("tests/cpp/test_hpp.cpp"),
                root().join("tests/cpp/second_tu.cpp"),
            ],
            &exe,
            link,
        );
        let out = stdout(&run(&exe, &[]));
        let last = out.lines().last().unwrap_or("");
        assert!(last.ends_with(", 0 failed"), "{link:?}: {out}");
        let passed: usize = last
            .split_whitespace()
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or(0);
        assert!(passed >= 150, "{link:?}: only {passed} checks ran: {out}");
    }
}

#[test]
fn cpp_quickstart_matches_ngc_learn_and_throws() {
    let exe = scratch("cpp").join("quickstart");
    build(
        "c++",
        CXX17_FLAGS,
        &[root().join("examples/cpp/quickstart.cpp")],
        &exe,
        Link::Shared,
    );
    let out = stdout(&run(&exe, &[]));
    assert_eq!(out.matches("  ok").count(), 10, "{out}");
    assert!(
        out.contains("caught NGC_ERR_DTYPE_MISMATCH (6): ngc_cell_bind_f64"),
        "{out}"
    );
    assert!(out.contains("all 10 steps match ngc-learn"), "{out}");
}

#[test]
fn cpp_wiring_example_shares_a_buffer() {
    let exe = scratch("cpp").join("wiring");
    build(
        "c++",
        CXX17_FLAGS,
        &[root().join("examples/cpp/wiring.cpp")],
        &exe,
        Link::Static,
    );
    let out = stdout(&run(&exe, &[]));
    assert_eq!(out.matches("  ok").count(), 8, "{out}");
    assert!(out.contains("refused: NGC_ERR_OVERLAP: "), "{out}");
    assert!(out.contains("wiring ok"), "{out}");
}

#[test]
fn readme_cpp_snippet_compiles_and_runs() {
    let readme = std::fs::read_to_string(root().join("docs/bindings/cpp.md")).unwrap();
    let section = readme
        .split("# C++\n")
        .nth(1)
        .expect("README has a C++ section");
    let code = section
        .split("```cpp\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a C++ block");
    let dir = scratch("readme-cpp");
    let src = dir.join("quick.cpp");
    std::fs::write(&src, code).unwrap();
    let exe = dir.join("quick");
    build("c++", CXX17_FLAGS, &[src], &exe, Link::Shared);
    let out = stdout(&run(&exe, &[]));
    assert!(out.contains("NGC_ERR_UNKNOWN_COMPARTMENT"), "{out}");
    // p = 0.25, target = 1: dp = (1/0.25) * sigmoid'(0.25).
    let s = 1.0 / (1.0 + (-0.25f64).exp());
    let dp: f64 = out
        .split("dp=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no dp= in {out}"));
    assert!((dp - 4.0 * s * (1.0 - s)).abs() < 1e-5, "{out}");
}

/// The cell types of the C header: each `ngc_<type>_cell_new` constructor's `<type>`
/// (`bernoulli_error`, `gaussian_error`, ...).
fn header_cell_types() -> Vec<String> {
    let header = std::fs::read_to_string(root().join("include/ngc_cells.h")).unwrap();
    let types: Vec<String> = header
        .split("NgcStatus ngc_")
        .skip(1)
        .filter_map(|rest| rest.split_once("_cell_new(").map(|(t, _)| t))
        .filter(|t| t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .map(str::to_owned)
        .collect();
    assert!(
        types.contains(&"bernoulli_error".to_string()),
        "no constructors found in the header: {types:?}"
    );
    types
}

#[test]
fn the_wrapper_has_a_tested_factory_for_every_cell_type_of_the_header() {
    let hpp = std::fs::read_to_string(root().join("include/ngc_cells.hpp")).unwrap();
    let tests = std::fs::read_to_string(root().join("tests/cpp/test_hpp.cpp")).unwrap();
    let mut missing = Vec::new();
    for t in header_cell_types() {
        if !hpp.contains(&format!("static Cell {t}("))
            || !hpp.contains(&format!("ngc_{t}_cell_new("))
        {
            missing.push(format!(
                "ngc::Cell::{t} (calling ngc_{t}_cell_new) in include/ngc_cells.hpp"
            ));
        }
        if !tests.contains(&format!("ngc::Cell::{t}(")) {
            missing.push(format!(
                "a test of ngc::Cell::{t} in tests/cpp/test_hpp.cpp"
            ));
        }
    }
    assert!(missing.is_empty(), "missing: {missing:#?}");
}
