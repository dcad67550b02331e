//! MATLAB and GNU Octave: the C MEX gateway (`examples/matlab/ngc_mex.c`) and the
//! classdefs (`NgcCell` and one subclass per cell type), built with Octave's
//! `mkoctfile --mex` and run by `octave-cli`: ngc-learn's test sequence, every cell
//! type's values (the Gaussian lesson, per-unit and full Sigma through `set_shaped`,
//! Laplacian counts, Reward's rpe and evolve), the error paths with the library's
//! statuses, stale and double frees, and the unloading of the gateway. Also: every `.m`
//! file parses, every cell type of the header has its gateway row and classdef, and the
//! header has nothing MATLAB's `loadlibrary` parser is known to reject.
//!
//! Octave comes from Debian's `octave` and `liboctave-dev` (`.ci/apt-packages`; `.ci/run`
//! installs them). Without them a developer's `cargo test` skips these tests and says so
//! loudly; with `CI=true` their absence is a failure.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Output};

/// Whether `octave-cli` and `mkoctfile` are here. If not: a failure under CI, a loud
/// skip elsewhere.
fn have_octave(_test: &str) -> bool {
    let runs = |p: &str| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if runs("octave-cli") && runs("mkoctfile") {
        return true;
    }
    skip_or_fail(
        "GNU Octave (octave-cli, mkoctfile) is not installed, so the MATLAB/Octave MEX gateway \
         was NOT tested (apt-get install octave liboctave-dev)",
    );
    false
}

/// An Octave string literal.
fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "''"))
}

/// Runs `script` in octave-cli from `dir`, with the gateway's exit report on.
fn octave(dir: &Path, script: &str) -> Output {
    Command::new("octave-cli")
        .args([
            "--norc",
            "--no-history",
            "--no-window-system",
            "--quiet",
            "--eval",
            script,
        ])
        .current_dir(dir)
        .env("NGC_MEX_VERBOSE", "1")
        .output()
        .expect("octave-cli runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn matlab_dir() -> std::path::PathBuf {
    root().join("examples/matlab")
}

/// The gateway linked against the static library (a self-contained .mex file: no
/// library path to set), with strict C99 warnings.
fn build_static_mex(dir: &Path) {
    let mut cmd = Command::new("mkoctfile");
    cmd.current_dir(dir)
        .env(
            "CFLAGS",
            "-std=c99 -Wall -Wextra -Werror -pedantic -O1 -g -fPIC",
        )
        .arg("--mex")
        .arg(format!("-I{}", root().join("include").display()))
        .arg(matlab_dir().join("ngc_mex.c"))
        .arg(static_lib())
        .args(native_static_libs())
        .arg("-o")
        .arg(dir.join("ngc_mex.mex"));
    let out = cmd.output().expect("mkoctfile runs");
    let (so, se) = text(&out);
    assert!(out.status.success(), "{cmd:?} failed:\n{so}{se}");
}

#[test]
fn octave_mex_gateway_passes_its_tests() {
    if !have_octave("octave_mex_gateway_passes_its_tests") {
        return;
    }
    let dir = scratch("octave-static");
    build_static_mex(&dir);
    let script = format!(
        "addpath({}); addpath({}); test_ngc_cells",
        quote(&matlab_dir()),
        quote(&dir)
    );
    let out = octave(&dir, &script);
    let (so, se) = text(&out);
    assert!(out.status.success(), "octave failed:\n{so}\n{se}");
    let last = so.lines().last().unwrap_or("");
    assert!(last.ends_with(" passed, 0 failed"), "{so}\n{se}");
    let passed: usize = last
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 120, "only {passed} checks: {so}");
    // Unloading the gateway in the middle of the script freed the two live cells;
    // at exit none was left.
    assert!(se.contains("ngc_mex: freed 2 live cell(s) at exit"), "{se}");
    assert!(se.contains("ngc_mex: freed 0 live cell(s) at exit"), "{se}");
}

#[test]
fn octave_build_script_and_quickstart_with_the_shared_library() {
    if !have_octave("octave_build_script_and_quickstart_with_the_shared_library") {
        return;
    }
    let dir = scratch("octave-shared");
    let script = format!(
        "addpath({m}); build_ngc_mex({lib}, {out}); addpath({out}); quickstart",
        m = quote(&matlab_dir()),
        lib = quote(&shared_lib_dir()),
        out = quote(&dir)
    );
    let out = octave(&dir, &script);
    let (so, se) = text(&out);
    assert!(out.status.success(), "octave failed:\n{so}\n{se}");
    assert_eq!(so.matches("  ok").count(), 10, "{so}");
    assert!(
        so.contains("caught ngc:NGC_ERR_UNKNOWN_COMPARTMENT: "),
        "{so}"
    );
    assert!(so.contains("all 10 steps match ngc-learn"), "{so}");
}

#[test]
fn readme_matlab_snippet_runs_in_octave() {
    if !have_octave("readme_matlab_snippet_runs_in_octave") {
        return;
    }
    let readme = std::fs::read_to_string(root().join("docs/bindings/matlab.md")).unwrap();
    let section = readme
        .split("# MATLAB and GNU Octave\n")
        .nth(1)
        .expect("README has a MATLAB and GNU Octave section");
    let code = section
        .split("```matlab\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a MATLAB block");
    let dir = scratch("octave-readme");
    build_static_mex(&dir);
    std::fs::write(dir.join("readme_snippet.m"), code).unwrap();
    let script = format!(
        "addpath({}); addpath({}); readme_snippet",
        quote(&matlab_dir()),
        quote(&dir)
    );
    let out = octave(&dir, &script);
    let (so, se) = text(&out);
    assert!(out.status.success(), "octave failed:\n{so}\n{se}");
    assert!(so.contains("ngc:NGC_ERR_UNKNOWN_COMPARTMENT"), "{so}");
    // p = 0.25, target = 1: dp = (1/0.25) * sigmoid'(0.25).
    let s = 1.0 / (1.0 + (-0.25f64).exp());
    let dp: f64 = so
        .split("dp = ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no `dp = ` in {so}"));
    assert!((dp - 4.0 * s * (1.0 - s)).abs() < 1e-4, "{so}");
}

#[test]
fn every_matlab_file_parses() {
    if !have_octave("every_matlab_file_parses") {
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(matlab_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "m"))
        .collect();
    // NgcCell.m last: Octave 7's __parse_file__ of the base class makes a later
    // subclass's parse fail with "class not found: NgcCell" (loading the classes does not).
    files.sort_by_key(|f| (f.ends_with("NgcCell.m"), f.clone()));
    assert!(files.len() >= 9, "{files:?}");
    // loadlibrary_example.m cannot run in Octave (no loadlibrary); parsing it at least
    // catches syntax errors.
    let script: String = files
        .iter()
        .map(|f| format!("__parse_file__({});", quote(f)))
        .collect();
    // A subclass's file parses only when its superclass (NgcCell) is on the path.
    let out = octave(
        &matlab_dir(),
        &format!(
            "addpath({}); {script} disp('all parsed')",
            quote(&matlab_dir())
        ),
    );
    let (so, se) = text(&out);
    assert!(
        out.status.success() && so.contains("all parsed"),
        "{so}\n{se}"
    );
}

/// MATLAB's `loadlibrary` preprocesses the header as C with the user's compiler and
/// then parses the declarations with its own (Perl) parser, which rejects `extern "C"`
/// and does not support bit-fields, unions, function pointers, varargs or arrays of
/// structs. Checked on the header's own lines after preprocessing as C.
#[test]
fn header_has_nothing_loadlibrary_rejects() {
    let out = Command::new("cc")
        .args(["-E", "-x", "c", "-std=c99"])
        .arg(root().join("include/ngc_cells.h"))
        .output()
        .expect("cc runs");
    assert!(out.status.success());
    let pre = String::from_utf8_lossy(&out.stdout);
    // Keep the lines that come from ngc_cells.h itself (line markers `# 12 "file"`).
    let mut ours = String::new();
    let mut in_header = false;
    for line in pre.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            in_header = rest.contains("ngc_cells.h\"");
            continue;
        }
        if in_header {
            ours.push_str(line);
            ours.push('\n');
        }
    }
    assert!(
        ours.contains("ngc_cell_advance"),
        "no prototypes found:\n{ours}"
    );
    for bad in [
        "extern \"C\"",
        "__attribute__",
        "__declspec",
        "...",
        "union ",
        "(*",
        "inline",
        "static ",
        "[",
        "{",
        "enum ",
        "#pragma",
    ] {
        assert!(
            !ours.contains(bad),
            "the preprocessed header contains `{bad}`, which MATLAB's loadlibrary may reject:\n{ours}"
        );
    }
}

/// `gaussian_error` -> `GaussianErrorCell`: ngc-learn's class name of a constructor's type.
fn class_name(t: &str) -> String {
    let mut name: String = t
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    name.push_str("Cell");
    name
}

#[test]
fn every_cell_type_of_the_header_has_a_gateway_row_a_classdef_and_a_test() {
    let header = std::fs::read_to_string(root().join("include/ngc_cells.h")).unwrap();
    let types: Vec<&str> = header
        .split("NgcStatus ngc_")
        .skip(1)
        .filter_map(|rest| rest.split_once("_cell_new(").map(|(t, _)| t))
        .filter(|t| t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .collect();
    assert!(types.contains(&"bernoulli_error"), "{types:?}");
    let gateway = std::fs::read_to_string(matlab_dir().join("ngc_mex.c")).unwrap();
    let tests = std::fs::read_to_string(matlab_dir().join("test_ngc_cells.m")).unwrap();
    let mut missing = Vec::new();
    for t in types {
        let class = class_name(t);
        if !gateway.contains(&format!("ngc_{t}_cell_new("))
            || !gateway.contains(&format!("{{\"{class}\", "))
        {
            missing.push(format!(
                "a FAMILY row for {class} (calling ngc_{t}_cell_new) in ngc_mex.c"
            ));
        }
        let classdef =
            std::fs::read_to_string(matlab_dir().join(format!("{class}.m"))).unwrap_or_default();
        if !classdef.contains(&format!("classdef {class} < NgcCell"))
            || !classdef.contains(&format!("ngc_mex('new', '{class}', "))
        {
            missing.push(format!("examples/matlab/{class}.m, a subclass of NgcCell"));
        }
        if !tests.contains(&format!("{class}(")) {
            missing.push(format!("a test of {class} in test_ngc_cells.m"));
        }
    }
    assert!(missing.is_empty(), "missing: {missing:#?}");
}
