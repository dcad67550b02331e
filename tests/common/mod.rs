//! Shared by the tests that build and run C/C++ programs against the library.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub mod family;

/// The crate's root folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where cargo put this test's build of the library (`target/<profile>/deps`):
/// `cargo test` builds `libngc_cells.a` and `libngc_cells.so` there.
pub fn deps_dir() -> PathBuf {
    std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A scratch folder of the calling test's own, under `target/tmp/<test binary>/<test>/<name>`.
///
/// Tests of one binary run in parallel, so two tests never share a folder: a
/// file written by one (a probe program being rebuilt, say) must not be read
/// or run by another at the same time. The test is the calling thread's name,
/// which the harness sets to the test's path. Only what is built once for the
/// whole binary, inside a `OnceLock`, goes to [`scratch_shared`].
pub fn scratch(name: &str) -> PathBuf {
    let test = std::thread::current()
        .name()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{:?}", std::thread::current().id()));
    scratch_in(&test.replace("::", "."), name)
}

/// A scratch folder shared by the tests of this binary: only for what a
/// `OnceLock` builds once (the shared library's copy, rustc's link line).
pub fn scratch_shared(name: &str) -> PathBuf {
    scratch_in("shared", name)
}

fn scratch_in(group: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let stem = exe.file_stem().unwrap().to_string_lossy().into_owned();
    // `sanitizers-0123abcd` -> `sanitizers`: the same folder across rebuilds.
    let binary = stem.rsplit_once('-').map_or(stem.as_str(), |(b, _)| b);
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(binary)
        .join(group)
        .join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The static library built for this test run.
pub fn static_lib() -> PathBuf {
    let p = deps_dir().join("libngc_cells.a");
    assert!(
        p.exists(),
        "{} is missing: cargo test should have built it",
        p.display()
    );
    p
}

/// A folder holding only the shared library, under its file name and its soname
/// (so `-L dir -lngc_cells` picks it and the loader finds it with an rpath).
pub fn shared_lib_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let so = deps_dir().join("libngc_cells.so");
        assert!(
            so.exists(),
            "{} is missing: cargo test should have built it",
            so.display()
        );
        let dir = scratch_shared("shared-lib");
        let dst = dir.join("libngc_cells.so");
        std::fs::copy(&so, &dst).unwrap();
        if let Some(soname) = soname(&dst) {
            if soname != "libngc_cells.so" {
                std::fs::copy(&so, dir.join(&soname)).unwrap();
            }
        }
        dir
    })
    .clone()
}

fn soname(lib: &Path) -> Option<String> {
    let out = Command::new("readelf").arg("-d").arg(lib).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains("(SONAME)"))?;
    let start = line.find('[')? + 1;
    let end = line.rfind(']')?;
    Some(line[start..end].to_string())
}

/// What a program linked with the static library also needs, as rustc reports it
/// (`--print native-static-libs` on a staticlib of the same toolchain).
pub fn native_static_libs() -> Vec<String> {
    static LIBS: OnceLock<Vec<String>> = OnceLock::new();
    LIBS.get_or_init(|| {
        let dir = scratch_shared("native-static-libs");
        let src = dir.join("empty.rs");
        std::fs::write(&src, "").unwrap();
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        let out = Command::new(rustc)
            .args([
                "--crate-type",
                "staticlib",
                "--print",
                "native-static-libs",
                "-o",
            ])
            .arg(dir.join("libempty.a"))
            .arg(&src)
            .output()
            .expect("rustc runs");
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        let line = text
            .lines()
            .find_map(|l| l.split("native-static-libs:").nth(1))
            .unwrap_or_else(|| panic!("no native-static-libs in rustc's output: {text}"));
        line.split_whitespace().map(String::from).collect()
    })
    .clone()
}

/// How to link a test program.
#[derive(Clone, Copy, Debug)]
pub enum Link {
    Static,
    Shared,
}

/// Compiles and links `sources` into `exe` with `compiler` (`cc` or `c++`), the
/// given flags, the repository's `include/` and the library linked as `link`.
/// Panics with the compiler's output on failure.
pub fn build(compiler: &str, flags: &[&str], sources: &[PathBuf], exe: &Path, link: Link) {
    let mut cmd = Command::new(compiler);
    cmd.args(flags)
        .arg("-I")
        .arg(root().join("include"))
        .args(sources)
        .arg("-o")
        .arg(exe);
    match link {
        Link::Static => {
            cmd.arg(static_lib()).args(native_static_libs());
        }
        Link::Shared => {
            let dir = shared_lib_dir();
            cmd.arg("-L")
                .arg(&dir)
                .arg(format!("-Wl,-rpath,{}", dir.display()))
                .arg("-lngc_cells");
        }
    }
    cmd.arg("-lm");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{compiler} did not start: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a program; panics with its output unless it exits 0.
pub fn run(exe: &Path, args: &[&str]) -> Output {
    let out = Command::new(exe)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{} did not start: {e}", exe.display()));
    assert!(
        out.status.success(),
        "{} {args:?} exited with {}:\n{}{}",
        exe.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The strict flags every C test program is built with.
pub const C_FLAGS: &[&str] = &[
    "-std=c99",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-O1",
    "-g",
];
/// The same for C++ (the header compiled as C++).
pub const CXX_FLAGS: &[&str] = &[
    "-std=c++11",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-O1",
    "-g",
];

/// Whether this run is CI's (`CI` is `true` or `1`; `.ci/run` exports
/// `CI=true`), where every tool the tests need is installed. The one place
/// that decides it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A test that cannot run here because this machine lacks a tool or a file
/// (`why` says which): a failure in CI, where `.ci/run` installs everything,
/// and a loud SKIPPED on a developer's machine. Every skip goes through here.
///
/// The message goes straight to the process's stderr: the test harness
/// captures `eprintln!` and shows it only for failing tests, so a skip
/// printed that way would not be seen.
pub fn skip_or_fail(why: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    if in_ci() {
        panic!(
            "{test}: CI=true but {why}: .ci/run installs what .ci/apt-packages lists, \
             so in CI this is a failure, not a skip"
        );
    }
    let bar = "*".repeat(78);
    let msg = format!(
        "\n{bar}\n*** SKIPPED {test}: {why}\n*** (not tested here; with CI=true this fails)\n{bar}\n"
    );
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(msg.as_bytes());
}

/// Whether `program` runs (`program --version` exits 0).
pub fn tool_runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A NUL-terminated copy of `s`.
pub fn cstr(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s).unwrap()
}

/// This thread's last error message (`ngc_last_error_message`).
pub fn last_error() -> String {
    let mut buf = [0 as std::ffi::c_char; 1100];
    // SAFETY: buf is writable for its length.
    unsafe { ngc_cells::ngc_last_error_message(buf.as_mut_ptr(), buf.len()) };
    // SAFETY: NUL-terminated by the call.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// A caller-owned buffer as C code has it: one raw allocation, read and written
/// only through its raw pointer (so the library's accesses through the same
/// pointer never race a Rust borrow). Freed on drop.
pub struct RawBuf<T: Copy> {
    pub ptr: *mut T,
    pub len: usize,
}

impl<T: Copy> RawBuf<T> {
    pub fn new(values: &[T]) -> RawBuf<T> {
        let b: Box<[T]> = values.into();
        let len = b.len();
        RawBuf {
            ptr: Box::into_raw(b).cast::<T>(),
            len,
        }
    }
    pub fn get(&self, i: usize) -> T {
        assert!(i < self.len);
        // SAFETY: in bounds of the live allocation.
        unsafe { self.ptr.add(i).read() }
    }
    pub fn set(&self, i: usize, v: T) {
        assert!(i < self.len);
        // SAFETY: in bounds of the live allocation.
        unsafe { self.ptr.add(i).write(v) }
    }
    pub fn to_vec(&self) -> Vec<T> {
        (0..self.len).map(|i| self.get(i)).collect()
    }
}

impl<T: Copy> Drop for RawBuf<T> {
    fn drop(&mut self) {
        // SAFETY: made by Box::into_raw of a boxed slice of `len` elements.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.ptr, self.len)) });
    }
}

/// valgrind memcheck as the tests run it: any error, and any definitely or
/// indirectly lost block, fails the run. "Still reachable" blocks (memory the
/// Rust runtime and libc keep until exit, reachable from globals) are reported
/// but not counted; "possibly lost" are counted too.
pub const VALGRIND_ARGS: &[&str] = &[
    "--error-exitcode=99",
    "--leak-check=full",
    "--show-leak-kinds=definite,indirect,possible",
    "--errors-for-leak-kinds=definite,indirect,possible",
    "--track-origins=yes",
    "--quiet",
];

/// Runs `exe args` under valgrind memcheck; returns the output and whether the
/// run was clean (exit 0, no error, no counted leak).
pub fn valgrind(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> (Output, bool) {
    let mut cmd = Command::new("valgrind");
    cmd.args(VALGRIND_ARGS)
        .arg(format!(
            "--suppressions={}",
            root().join("tests/valgrind.supp").display()
        ))
        .arg(exe)
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("valgrind runs");
    let clean =
        out.status.success() && valgrind_reports(&String::from_utf8_lossy(&out.stderr)) == 0;
    (out, clean)
}

/// Runs `exe args` under valgrind memcheck; panics with its report unless it
/// exits 0 with no error and no leak. Returns the program's output.
pub fn run_under_valgrind(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let (out, clean) = valgrind(exe, args, env);
    assert!(
        clean,
        "valgrind found errors or leaks in {} {args:?} (exit {}):\n{}{}",
        exe.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// How many lines of valgrind's own report (`==PID== ...`) `stderr` has; with
/// `--quiet`, a clean run has none.
pub fn valgrind_reports(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| {
            l.strip_prefix("==")
                .and_then(|r| r.split_once("=="))
                .is_some_and(|(pid, _)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        })
        .count()
}

/// Runs test `test` of the current test binary again, alone, under valgrind
/// (skipped loudly without valgrind, except in CI). The inner run sees
/// `NGC_UNDER_VALGRIND=1`. Returns its output (`None` when it did not run).
pub fn run_self_under_valgrind(test: &str) -> Option<Output> {
    if std::env::var_os("NGC_UNDER_VALGRIND").is_some() {
        return None;
    }
    if !tool_runs("valgrind") {
        skip_or_fail("valgrind is not installed");
        return None;
    }
    let exe = std::env::current_exe().unwrap();
    let t = std::time::Instant::now();
    let out = run_under_valgrind(
        &exe,
        &["--exact", test, "--test-threads=1", "--nocapture"],
        &[("NGC_UNDER_VALGRIND", "1")],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "the inner run did not run {test}:\n{stdout}"
    );
    eprintln!(
        "valgrind memcheck: {test}: 0 errors, 0 leaks ({:.1} s)",
        t.elapsed().as_secs_f64()
    );
    Some(out)
}

/// C++17 with every warning that a user's strict build might turn on.
pub const CXX17_FLAGS: &[&str] = &[
    "-std=c++17",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-Wconversion",
    "-Wsign-conversion",
    "-Wshadow",
    "-Wold-style-cast",
    "-Wnon-virtual-dtor",
    "-O1",
    "-g",
];

/// `/* ... */` and `// ...` removed (C source without string literals that hold them, such as the header).
pub fn strip_c_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    loop {
        let block = rest.find("/*");
        let line = rest.find("//");
        match (block, line) {
            (Some(b), l) if l.is_none_or(|l| b < l) => {
                out.push_str(&rest[..b]);
                let end = rest[b + 2..].find("*/").expect("unterminated comment") + b + 4;
                rest = &rest[end..];
            }
            (_, Some(l)) => {
                out.push_str(&rest[..l]);
                rest = &rest[l..];
                rest = &rest[rest.find('\n').unwrap_or(rest.len())..];
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}
