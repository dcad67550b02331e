//! The C and C++ test programs under AddressSanitizer + UndefinedBehaviorSanitizer
//! (gcc) and under valgrind memcheck: zero errors, zero leaks.
//!
//! The programs are instrumented; the Rust library is linked as cargo built it (it
//! cannot be instrumented on stable Rust), but ASan's allocator and LeakSanitizer
//! see its allocations too, and memcheck sees everything. The checkers themselves
//! are checked first on small programs that must fail, so a run that proves nothing
//! cannot pass. Without gcc's sanitizer runtime or valgrind the tests print a loud
//! SKIPPED, except with `CI=true`, where they fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

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

/// Whether gcc can build and run an ASan + UBSan program here.
fn sanitizers_work() -> bool {
    let dir = scratch("san-probe");
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
