//! Shared by the tests that build and run C/C++ programs against the library.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

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

/// A scratch folder for this test binary's outputs, under `target/tmp`.
pub fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
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
        let dir = scratch("shared-lib");
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
        let dir = scratch("native-static-libs");
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

/// Whether this run is CI's (`CI=true`), where every tool the tests need is installed.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A test that needs a tool this machine lacks: a loud SKIPPED on a developer's
/// machine, a failure in CI (where `.ci/run` installs everything).
pub fn skip_or_fail(why: &str) {
    if in_ci() {
        panic!("CI=true but {why}: .ci/apt-packages should have installed it");
    }
    eprintln!();
    eprintln!("*** SKIPPED: {why} (this fails when CI=true) ***");
    eprintln!();
}

/// Whether `program` runs (`program --version` exits 0).
pub fn tool_runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}
