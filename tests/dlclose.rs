//! The library unloads: after `ngc_cell_free`, `dlclose` really unmaps it, even
//! though the calling thread ran `advance` with worker threads, for every row of
//! the family table (`tests/common/family.rs`). A thread-local destructor
//! registered by the library in the calling thread (as `std::thread::spawn`
//! would) makes glibc keep it loaded, which would break MATLAB's `clear mex` and
//! similar reload-in-process hosts.
//!
//! The host is a C program (`tests/c/dlclose_cell.c`) built per row, not linked
//! with the library: every call goes through `dlsym`, as in MATLAB.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::family::{self, Row, FAMILY};
use common::*;

/// The shared library cargo built for this test run.
fn cdylib() -> Option<PathBuf> {
    let p = deps_dir().join("libngc_cells.so");
    p.exists().then_some(p)
}

/// `tests/c/dlclose_cell.c` for `row`: its constructor called through `dlsym`.
fn build_host(row: &Row, exe: &Path) {
    let f = family::c_function(row);
    let call = row.c_new.replacen(f, "(*row_fn)", 1);
    let out = Command::new("cc")
        .args(C_FLAGS)
        .arg(format!("-DROW_FN={f}"))
        .arg(format!(
            "-DROW_NEW(name,n_units,batch_size,shape,dtype,out)={call}"
        ))
        .arg(format!("-DROW_LABEL=\"{}\"", row.label))
        .arg("-I")
        .arg(root().join("include"))
        .arg(root().join("tests/c/dlclose_cell.c"))
        .arg("-o")
        .arg(exe)
        .arg("-ldl")
        .output()
        .expect("cc runs");
    assert!(
        out.status.success(),
        "{}: building the dlclose host failed:\n{}",
        row.label,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_library_unloads_after_use_with_threads() {
    let Some(lib) = cdylib() else {
        skip_or_fail("libngc_cells.so was not found next to the test binary");
        return;
    };
    let dir = scratch("hosts");
    for row in FAMILY {
        let exe = dir.join(format!("dlclose_{}", row.label));
        build_host(row, &exe);
        let out = run(&exe, &[lib.to_str().unwrap()]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("dlclose {}: unloaded", row.label)
        );
    }
}

/// The check can fail: a planted library whose constructor registers a
/// thread-local destructor in the calling thread (a C++ `thread_local` object)
/// stays loaded, and the host says so.
#[test]
fn the_check_catches_a_library_that_stays_loaded() {
    let dir = scratch("planted");
    let src = dir.join("planted.cpp");
    std::fs::write(
        &src,
        r#"#include "ngc_cells.h"
struct Keep { int n = 0; ~Keep() { n = -1; } };
static thread_local Keep keep;
extern "C" {
NgcStatus ngc_bernoulli_error_cell_new(const char *, size_t, size_t, bool, const size_t *,
                                       NgcDtype, NgcCell **out) {
    keep.n++;
    *out = reinterpret_cast<NgcCell *>(&keep);
    return NGC_OK;
}
NgcStatus ngc_cell_set_threads(NgcCell *, size_t) { return NGC_OK; }
NgcStatus ngc_cell_advance(NgcCell *, double, double) { return NGC_OK; }
void ngc_cell_free(NgcCell *) {}
}
"#,
    )
    .unwrap();
    let lib = dir.join("libplanted.so");
    let out = Command::new("c++")
        .args(["-shared", "-fPIC", "-std=c++11", "-I"])
        .arg(root().join("include"))
        .arg(&src)
        .arg("-o")
        .arg(&lib)
        .output()
        .expect("c++ runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = family::row("bernoulli_prob");
    let exe = dir.join("host");
    build_host(row, &exe);
    let out = Command::new(&exe).arg(&lib).output().unwrap();
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("still loaded after dlclose"),
        "the host did not notice a library that stays loaded: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
