//! The C and C++ test programs under AddressSanitizer + UndefinedBehaviorSanitizer
//! (gcc) and under valgrind memcheck: zero errors, zero leaks.
//!
//! The programs are instrumented; the Rust library is linked as cargo built it (it
//! cannot be instrumented on stable Rust), but ASan's allocator and LeakSanitizer
//! see its allocations too, and memcheck sees everything. The checkers themselves
//! are checked first on small programs that must fail, so a run that proves nothing
//! cannot pass. Without gcc's sanitizer runtime or valgrind the tests print a loud
//! SKIPPED, except in CI (`CI=true`), where they fail (`common::skip_or_fail`).
//! `tests/c/family_cell.c` runs under both for every row of the family table.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

use common::family::{self, FAMILY};
use common::*;

const SAN_FLAGS: &[&str] = &[
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
];

/// ASan with leak checking. `allocator_may_return_null=1`: the tests ask for
/// impossible sizes on purpose (the library must answer NGC_ERR_ALLOCATION), and by
/// default ASan's allocator aborts on such a request instead of returning NULL.
const ASAN_OPTIONS: &str = "detect_leaks=1:allocator_may_return_null=1:\
     detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1:\
     halt_on_error=1:exitcode=86";
const UBSAN_OPTIONS: &str = "halt_on_error=1:print_stacktrace=1:exitcode=87";

/// A test program: name, compiler, flags, sources, arguments.
struct Program {
    name: &'static str,
    compiler: &'static str,
    flags: &'static [&'static str],
    sources: Vec<PathBuf>,
    args: Vec<String>,
}

fn program(
    name: &'static str,
    compiler: &'static str,
    flags: &'static [&'static str],
    sources: &[&str],
) -> Program {
    Program {
        name,
        compiler,
        flags,
        sources: sources.iter().map(|s| root().join(s)).collect(),
        args: Vec::new(),
    }
}

/// The C and C++ test programs and examples.
fn programs() -> Vec<Program> {
    vec![
        program("test_api", "cc", C_FLAGS, &["tests/c/test_api.c"]),
        program("header_cxx", "c++", CXX_FLAGS, &["tests/c/header_cxx.cpp"]),
        program("quickstart", "cc", C_FLAGS, &["examples/c/quickstart.c"]),
        program(
            "test_hpp",
            "c++",
            CXX17_FLAGS,
            &["tests/cpp/test_hpp.cpp", "tests/cpp/second_tu.cpp"],
        ),
        program(
            "cpp_quickstart",
            "c++",
            CXX17_FLAGS,
            &["examples/cpp/quickstart.cpp"],
        ),
        program(
            "cpp_wiring",
            "c++",
            CXX17_FLAGS,
            &["examples/cpp/wiring.cpp"],
        ),
    ]
}

/// The main demo too, under the sanitizers only: its own matrix loops take about
/// 30 s an epoch under memcheck, and it needs 2 epochs to check that it learns.
fn demo(out: &Path) -> Program {
    let mut p = program("bars", "cc", C_FLAGS, &["examples/c/bars.c"]);
    p.args = vec!["2".into(), out.display().to_string()];
    p
}

/// Whether gcc can build and run an ASan + UBSan program here: probed once per
/// test binary (the tests run in parallel; each asks, one builds).
fn sanitizers_work() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| probe_sanitizers(&scratch_shared("san-probe")))
}

/// Builds and runs an empty ASan + UBSan program in `dir`.
fn probe_sanitizers(dir: &Path) -> bool {
    let src = dir.join("probe.c");
    std::fs::write(&src, "int main(void) { return 0; }\n").unwrap();
    let exe = dir.join("probe");
    let built = Command::new("cc")
        .args(SAN_FLAGS)
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .is_ok_and(|o| o.status.success());
    built
        && Command::new(&exe)
            .output()
            .is_ok_and(|o| o.status.success())
}

fn run_sanitized(exe: &Path, args: &[String]) -> Output {
    Command::new(exe)
        .args(args)
        .env("ASAN_OPTIONS", ASAN_OPTIONS)
        .env("UBSAN_OPTIONS", UBSAN_OPTIONS)
        .output()
        .unwrap_or_else(|e| panic!("{} did not start: {e}", exe.display()))
}

/// What the sanitizers said, if anything.
fn sanitizer_report(out: &Output) -> Option<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Not the word "AddressSanitizer" alone: with allocator_may_return_null=1 an
    // impossible request prints "WARNING: AddressSanitizer failed to allocate ...",
    // which is the library being asked for one on purpose.
    let flagged = [
        "ERROR: AddressSanitizer",
        "ERROR: LeakSanitizer",
        "runtime error:",
        "SUMMARY: UndefinedBehaviorSanitizer",
    ]
    .iter()
    .any(|w| stderr.contains(w));
    (flagged || !out.status.success()).then(|| format!("exit {}:\n{stderr}", out.status))
}

#[test]
fn c_programs_run_clean_under_asan_and_ubsan() {
    if !sanitizers_work() {
        skip_or_fail("gcc cannot build AddressSanitizer/UBSan programs (libasan, libubsan)");
        return;
    }
    let dir = scratch("asan");
    let mut ran = 0;
    let t = Instant::now();
    let progs: Vec<Program> = programs().into_iter().chain([demo(&dir)]).collect();
    for p in &progs {
        for link in [Link::Static, Link::Shared] {
            let exe = dir.join(format!("{}_{link:?}", p.name));
            let all: Vec<&str> = p.flags.iter().chain(SAN_FLAGS).copied().collect();
            build(p.compiler, &all, &p.sources, &exe, link);
            let out = run_sanitized(&exe, &p.args);
            if let Some(report) = sanitizer_report(&out) {
                panic!("{} ({link:?}) under ASan + UBSan: {report}", p.name);
            }
            ran += 1;
        }
    }
    eprintln!(
        "ASan + UBSan (gcc): {ran} program runs ({} programs, static and shared), 0 errors, 0 leaks, {:.1} s",
        progs.len(),
        t.elapsed().as_secs_f64()
    );
}

#[test]
fn c_programs_run_clean_under_valgrind() {
    if !tool_runs("valgrind") {
        skip_or_fail("valgrind is not installed");
        return;
    }
    let dir = scratch("valgrind");
    let mut ran = 0;
    let t = Instant::now();
    let progs = programs();
    for p in &progs {
        for link in [Link::Static, Link::Shared] {
            let exe = dir.join(format!("{}_{link:?}", p.name));
            build(p.compiler, p.flags, &p.sources, &exe, link);
            let args: Vec<&str> = p.args.iter().map(String::as_str).collect();
            run_under_valgrind(&exe, &args, &[]);
            ran += 1;
        }
    }
    eprintln!(
        "valgrind memcheck: {ran} program runs ({} programs, static and shared), 0 errors, 0 leaks, {:.1} s",
        progs.len(),
        t.elapsed().as_secs_f64()
    );
}

/// `tests/c/family_cell.c` for every row of the family table under ASan + UBSan,
/// big enough for the cell's worker threads (2 x 33,000 elements).
#[test]
fn family_program_runs_clean_under_asan_and_ubsan_for_every_row() {
    if !sanitizers_work() {
        skip_or_fail("gcc cannot build AddressSanitizer/UBSan programs (libasan, libubsan)");
        return;
    }
    let dir = scratch("asan");
    let t = Instant::now();
    let flags: Vec<&str> = C_FLAGS.iter().chain(SAN_FLAGS).copied().collect();
    for row in FAMILY {
        let exe = dir.join(format!("family_cell_{}", row.label));
        family::build_family_cell(row, &flags, &exe, Link::Static);
        let out = run_sanitized(&exe, &["33000".into(), "2".into()]);
        if let Some(report) = sanitizer_report(&out) {
            panic!("family_cell {} under ASan + UBSan: {report}", row.label);
        }
        family::family_cell_passed(row, &String::from_utf8_lossy(&out.stdout));
    }
    eprintln!(
        "ASan + UBSan (gcc): family_cell for {} rows, 0 errors, 0 leaks, {:.1} s",
        FAMILY.len(),
        t.elapsed().as_secs_f64()
    );
}

/// The same under valgrind memcheck, small (memcheck runs the debug kernel about
/// 50 times slower; the threads are the engine's, covered by the other programs).
#[test]
fn family_program_runs_clean_under_valgrind_for_every_row() {
    if !tool_runs("valgrind") {
        skip_or_fail("valgrind is not installed");
        return;
    }
    let dir = scratch("valgrind");
    let t = Instant::now();
    for row in FAMILY {
        let exe = dir.join(format!("family_cell_{}", row.label));
        family::build_family_cell(row, C_FLAGS, &exe, Link::Shared);
        let out = run_under_valgrind(&exe, &["500", "3"], &[]);
        family::family_cell_passed(row, &String::from_utf8_lossy(&out.stdout));
    }
    eprintln!(
        "valgrind memcheck: family_cell for {} rows, 0 errors, 0 leaks, {:.1} s",
        FAMILY.len(),
        t.elapsed().as_secs_f64()
    );
}

/// Tests run in parallel: ones that build the same probe at the same moment
/// each get their own folder (`common::scratch` is per test), so every build
/// and run succeeds. With one shared folder, as before, one test's compiler
/// rewrote the probe while another ran it (issue 15, item 1).
#[test]
fn tests_running_at_once_do_not_share_files() {
    let results: Vec<(PathBuf, bool)> = (0..6)
        .map(|i| {
            std::thread::Builder::new()
                .name(format!("probe_race_{i}"))
                .spawn(|| {
                    let dir = scratch("san-probe");
                    let ok = probe_sanitizers(&dir);
                    (dir, ok)
                })
                .unwrap()
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let mut dirs: Vec<&PathBuf> = results.iter().map(|(d, _)| d).collect();
    dirs.sort();
    dirs.dedup();
    assert_eq!(dirs.len(), results.len(), "tests share a scratch folder");
    let worked = results.iter().filter(|(_, ok)| *ok).count();
    if worked == 0 {
        skip_or_fail("gcc cannot build AddressSanitizer/UBSan programs (libasan, libubsan)");
        return;
    }
    assert_eq!(
        worked,
        results.len(),
        "some probes failed beside others: {results:?}"
    );
}

/// A skip is seen in a plain `cargo test` (the harness hides what a passing test
/// prints with `eprintln!`) and is a failure in CI, `CI=true` or `CI=1`: the
/// valgrind test run again as a child with a `valgrind` that fails first on PATH.
#[test]
fn a_skip_is_seen_in_a_plain_run_and_fails_in_ci() {
    let dir = scratch("fake-tools");
    let fake = dir.join("valgrind");
    std::fs::write(&fake, "#!/bin/sh\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(std::iter::once(dir.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let child = |ci: Option<&str>| {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["--exact", "c_programs_run_clean_under_valgrind"])
            .env("PATH", &path)
            .env_remove("CI");
        if let Some(v) = ci {
            cmd.env("CI", v);
        }
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (ok, text) = child(None);
    assert!(
        ok && text
            .contains("SKIPPED c_programs_run_clean_under_valgrind: valgrind is not installed")
            && text.contains("1 passed"),
        "a plain run does not show the skip:\n{text}"
    );
    for ci in ["true", "1"] {
        let (ok, text) = child(Some(ci));
        assert!(
            !ok && text.contains("CI=true but valgrind is not installed")
                && !text.contains("SKIPPED"),
            "CI={ci}: a missing tool did not fail the test:\n{text}"
        );
    }
}

/// CI mode does not depend on the runner: `.ci/run` exports `CI=true` before it
/// runs `cargo test`, and only `common::in_ci` reads `CI` (no test file has a
/// check of its own that could disagree with it).
#[test]
fn ci_mode_is_decided_in_one_place() {
    let run = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let code: Vec<&str> = run
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .collect();
    let export = code.iter().position(|l| *l == "export CI=true");
    let test = code.iter().position(|l| l.starts_with("cargo test"));
    assert!(
        matches!((export, test), (Some(e), Some(t)) if e < t),
        ".ci/run must `export CI=true` before `cargo test`"
    );
    let mut stack = vec![root().join("tests")];
    let mut readers = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains(&format!("var({:?})", "CI"))
                    || text.contains(&format!("var_os({:?})", "CI"))
                {
                    readers.push(path.strip_prefix(root()).unwrap().display().to_string());
                }
            }
        }
    }
    assert_eq!(
        readers,
        ["tests/common/mod.rs"],
        "only common::in_ci may read CI"
    );
}

/// The checkers catch what they must: a heap overflow, a leak, undefined behaviour
/// (ASan/LSan/UBSan), and an invalid read and a leak (memcheck).
#[test]
fn the_checkers_catch_planted_bugs() {
    let dir = scratch("planted");
    let bugs = [
        ("overflow", "#include <stdlib.h>\nint main(void) { volatile char *p = malloc(4); p[4] = 1; free((void *)p); return 0; }\n", "heap-buffer-overflow"),
        ("leak", "#include <stdlib.h>\nvoid *volatile keep;\nint main(void) { keep = malloc(40); keep = 0; return 0; }\n", "LeakSanitizer"),
        ("ub", "#include <limits.h>\nint main(void) { volatile int x = INT_MAX; int y = x + 1; return y == 0; }\n", "runtime error:"),
    ];
    let mut planted = Vec::new();
    for (name, code, _) in &bugs {
        let src = dir.join(format!("{name}.c"));
        std::fs::write(&src, code).unwrap();
        planted.push(src);
    }
    if sanitizers_work() {
        for ((name, _, says), src) in bugs.iter().zip(&planted) {
            let exe = dir.join(format!("{name}_san"));
            let out = Command::new("cc")
                .args(SAN_FLAGS)
                .args(["-g", "-O0"])
                .arg(src)
                .arg("-o")
                .arg(&exe)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let out = run_sanitized(&exe, &[]);
            let report = sanitizer_report(&out).unwrap_or_default();
            assert!(
                report.contains(says),
                "ASan/UBSan missed the planted {name}: {report}"
            );
        }
    } else {
        skip_or_fail("gcc cannot build AddressSanitizer/UBSan programs (libasan, libubsan)");
    }
    if tool_runs("valgrind") {
        for (name, src) in [("overflow", &planted[0]), ("leak", &planted[1])] {
            let exe = dir.join(format!("{name}_plain"));
            let out = Command::new("cc")
                .args(["-g", "-O0"])
                .arg(src)
                .arg("-o")
                .arg(&exe)
                .output()
                .unwrap();
            assert!(out.status.success());
            let (_, clean) = valgrind(&exe, &[], &[]);
            assert!(!clean, "valgrind missed the planted {name}");
        }
    } else {
        skip_or_fail("valgrind is not installed");
    }
}
