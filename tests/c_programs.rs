//! C and C++ programs compiled against `include/ngc_cells.h` with strict warnings,
//! linked against the static and the shared library, run, asserting values.

mod common;

use common::family::{self, FAMILY};
use common::*;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn c_api_tests_pass_linked_static_and_shared() {
    for link in [Link::Static, Link::Shared] {
        let exe = scratch("c").join(format!("test_api_{link:?}"));
        build(
            "cc",
            C_FLAGS,
            &[root().join("tests/c/test_api.c")],
            &exe,
            link,
        );
        let out = stdout(&run(&exe, &[]));
        let last = out.lines().last().unwrap_or("");
        assert!(
            last.ends_with(" failed") && last.contains(", 0 failed"),
            "{link:?}: {out}"
        );
        let passed: usize = last
            .split_whitespace()
            .find_map(|w| w.parse().ok())
            .unwrap_or(0);
        assert!(passed >= 80, "{link:?}: only {passed} checks ran: {out}");
    }
}

/// `tests/c/family_cell.c`, built for each row of the family table: the generic
/// C API holds for every cell configuration. Linked shared here (test_api covers
/// both links; tests/sanitizers.rs builds it static under ASan).
#[test]
fn family_c_program_passes_for_every_row() {
    for row in FAMILY {
        let exe = scratch("c").join(format!("family_cell_{}", row.label));
        family::build_family_cell(row, C_FLAGS, &exe, Link::Shared);
        let out = stdout(&run(&exe, &[]));
        let passed = family::family_cell_passed(row, &out);
        // Two dtypes, 2-D and (when taken) 4-D: several hundred checks each.
        assert!(passed >= 200, "{}: only {passed} checks ran", row.label);
    }
}

#[test]
fn header_compiles_as_cxx_and_links() {
    for link in [Link::Static, Link::Shared] {
        let exe = scratch("c").join(format!("header_cxx_{link:?}"));
        build(
            "c++",
            CXX_FLAGS,
            &[root().join("tests/c/header_cxx.cpp")],
            &exe,
            link,
        );
        assert!(stdout(&run(&exe, &[])).contains("1 passed, 0 failed"));
    }
}

#[test]
fn quickstart_example_matches_ngc_learn() {
    let exe = scratch("c").join("quickstart");
    build(
        "cc",
        C_FLAGS,
        &[root().join("examples/c/quickstart.c")],
        &exe,
        Link::Shared,
    );
    let out = stdout(&run(&exe, &[]));
    assert_eq!(out.matches("  ok").count(), 10, "{out}");
    assert!(out.contains("all 10 steps match ngc-learn"));
}

#[test]
fn readme_quick_start_compiles_and_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split("## Quick start (C)")
        .nth(1)
        .expect("README has a quick start");
    let code = section
        .split("```c\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a C block");
    assert!(
        code.lines().count() <= 30,
        "the quick start should stay short"
    );
    let dir = scratch("readme");
    let src = dir.join("quick.c");
    std::fs::write(&src, code).unwrap();
    let exe = dir.join("quick");
    build("cc", C_FLAGS, &[src], &exe, Link::Shared);
    let out = stdout(&run(&exe, &[]));
    // p = 0.25, target = 1: dp = (1/0.25) * sigmoid'(0.25); L = ln(0.25).
    let s = 1.0 / (1.0 + (-0.25f64).exp());
    let first = out.lines().next().unwrap();
    let dp: f64 = first
        .split("dp=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((dp - 4.0 * s * (1.0 - s)).abs() < 1e-5, "{out}");
    assert!(
        first.contains(&format!("L={}", 0.25f32.ln())) || first.contains("L=-1.38629"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 3, "{out}");
}
