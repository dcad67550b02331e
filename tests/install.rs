//! Installs the library with `install.sh` into fresh prefixes under
//! `target/tmp/install-tests/` and checks it the way C users meet it:
//!
//! - the installed layout, the soname (docs/install.md, "ABI and soname") and its links;
//! - the shared library's dynamic symbol table: nothing but the header's `ngc_*`;
//! - three real consumers (`tests/consumer/`): a C program built with
//!   `pkg-config --cflags --libs`, one built with `pkg-config --static` and linked
//!   fully static (`cc -static`), and a CMake project using `find_package`.
//!   Each runs and checks one step of ngc-learn's BernoulliErrorCell test.
//!
//! They need a C compiler, binutils, pkg-config and CMake. Where one is missing a
//! test says so loudly on the terminal and skips, except in CI (`CI=true`), where
//! it fails. The first install builds the release library (`cargo build --release`);
//! the others reuse it.

mod common;

use common::strip_c_comments;
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Serialises the installs: the first one builds, the others find it up to date.
static INSTALL: Mutex<()> = Mutex::new(());

fn source_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The soname the README's policy gives this version, computed independently of
/// build.rs: `.so.MAJOR` from 1.0 on, `.so.0.MINOR` for 0.y, `.so.0.0.PATCH` for 0.0.z.
fn expected_soname() -> String {
    let [major, minor, patch]: [u32; 3] = VERSION
        .split(['.', '-', '+'])
        .take(3)
        .map(|p| p.parse().unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    match (major, minor) {
        (0, 0) => format!("libngc_cells.so.0.0.{patch}"),
        (0, _) => format!("libngc_cells.so.0.{minor}"),
        _ => format!("libngc_cells.so.{major}"),
    }
}

/// The version `find_package` asks for: this version's ABI series.
fn abi_series() -> String {
    expected_soname()["libngc_cells.so.".len()..].to_string()
}

fn cc() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_string())
}

/// Whether all `tools` run. When one does not: a failure in CI, a loud skip
/// elsewhere (`common::skip_or_fail`).
fn have_tools(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| !common::tool_runs(t))
        .collect();
    if missing.is_empty() {
        return true;
    }
    common::skip_or_fail(&format!(
        "{missing:?} not found on this machine (Debian: the packages in .ci/apt-packages)"
    ));
    false
}

/// Runs `cmd`, fails the test with its output unless it succeeds, returns its stdout.
fn run(cmd: &mut Command) -> String {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// An empty directory of its own for `name`.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("install-tests")
        .join(name);
    if dir.exists() {
        fs::remove_dir_all(&dir).unwrap();
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// `./install.sh --prefix <prefix> <args>`.
fn install(prefix: &Path, args: &[&str]) {
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    run(Command::new("bash")
        .arg(source_dir().join("install.sh"))
        .arg("--prefix")
        .arg(prefix)
        .args(args));
}

/// `readelf -d` of a file.
fn dynamic_section(file: &Path) -> String {
    run(Command::new("readelf").arg("-d").arg(file))
}

fn needed(file: &Path) -> Vec<String> {
    dynamic_section(file)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split('[').nth(1)?.trim_end_matches(']').to_string()))
        .collect()
}

fn check_consumer_output(stdout: &str, how: &str) {
    assert!(
        stdout.contains(&format!("consumer ok ({how}): ngc-cells/{VERSION} ")),
        "unexpected consumer output: {stdout}"
    );
}

fn consumer_source() -> PathBuf {
    source_dir().join("tests/consumer/consumer.c")
}

fn pkg_config(prefix: &Path, args: &[&str]) -> Vec<String> {
    run(Command::new("pkg-config")
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
        .args(args)
        .arg("ngc_cells"))
    .split_whitespace()
    .map(str::to_string)
    .collect()
}

#[test]
fn installs_the_layout_with_the_policy_soname() {
    let test = "installs_the_layout_with_the_policy_soname";
    if !have_tools(&["readelf"]) {
        return;
    }
    let dir = fresh_dir(test);
    let prefix = dir.join("prefix");
    install(&prefix, &[]);
    let lib = prefix.join("lib");
    let soname = expected_soname();
    let real = format!("libngc_cells.so.{VERSION}");

    // The real file, the run-time link (the soname), the link-time link.
    assert!(fs::symlink_metadata(lib.join(&real)).unwrap().is_file());
    assert_eq!(fs::read_link(lib.join(&soname)).unwrap(), Path::new(&real));
    assert_eq!(
        fs::read_link(lib.join("libngc_cells.so")).unwrap(),
        Path::new(&soname)
    );
    let section = dynamic_section(&lib.join(&real));
    assert!(
        section.contains(&format!("Library soname: [{soname}]")),
        "the soname is not {soname}:\n{section}"
    );

    for f in [
        "lib/libngc_cells.a",
        "include/ngc_cells.h",
        "lib/pkgconfig/ngc_cells.pc",
        "lib/cmake/ngc_cells/ngc_cellsConfig.cmake",
        "lib/cmake/ngc_cells/ngc_cellsConfigVersion.cmake",
    ] {
        assert!(prefix.join(f).is_file(), "{f} is not installed");
    }
    // Every header of include/ (the C++ wrapper too, once it exists), byte for byte.
    for entry in fs::read_dir(source_dir().join("include")).unwrap() {
        let path = entry.unwrap().path();
        if matches!(path.extension().and_then(OsStr::to_str), Some("h" | "hpp")) {
            let name = path.file_name().unwrap();
            assert_eq!(
                fs::read(prefix.join("include").join(name)).unwrap(),
                fs::read(&path).unwrap(),
                "include/{} is not installed as it is",
                name.to_string_lossy()
            );
        }
    }

    let pc = fs::read_to_string(lib.join("pkgconfig/ngc_cells.pc")).unwrap();
    assert!(
        pc.contains(&format!("prefix={}\n", prefix.display())),
        "{pc}"
    );
    assert!(pc.contains(&format!("Version: {VERSION}\n")), "{pc}");
    let private = pc
        .lines()
        .find_map(|l| l.strip_prefix("Libs.private: "))
        .expect("no Libs.private");
    assert!(private.contains("-lc"), "Libs.private: {private}");
    assert!(!private.contains("-lgcc_s"), "Libs.private: {private}");

    // --destdir stages the same tree, still naming the real prefix inside; and
    // --no-build installs the last build without cargo (as root would, with sudo).
    let stage = dir.join("stage");
    {
        let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
        run(Command::new("bash")
            .arg(source_dir().join("install.sh"))
            .args(["--no-build", "--prefix", "/opt/ngc-cells", "--destdir"])
            .arg(&stage)
            .env("CARGO", "/nonexistent/cargo"));
    }
    let staged_pc =
        fs::read_to_string(stage.join("opt/ngc-cells/lib/pkgconfig/ngc_cells.pc")).unwrap();
    assert!(staged_pc.contains("prefix=/opt/ngc-cells\n"), "{staged_pc}");
    assert!(stage.join("opt/ngc-cells/lib").join(&soname).is_symlink());
}

#[test]
fn shared_library_exports_only_the_headers_ngc_functions() {
    let test = "shared_library_exports_only_the_headers_ngc_functions";
    if !have_tools(&["nm"]) {
        return;
    }
    let prefix = fresh_dir(test).join("prefix");
    install(&prefix, &[]);
    let so = prefix.join(format!("lib/libngc_cells.so.{VERSION}"));
    let table = run(Command::new("nm")
        .args(["-D", "--defined-only", "--format=posix"])
        .arg(&so));
    let exported: BTreeSet<String> = table
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(|s| s.split('@').next().unwrap().to_string())
        .collect();
    let foreign: Vec<&String> = exported.iter().filter(|s| !s.starts_with("ngc_")).collect();
    assert!(
        foreign.is_empty(),
        "the shared library exports symbols that are not ngc_*: {foreign:?}\n{table}"
    );

    // And exactly the functions the header declares.
    let header = strip_c_comments(&fs::read_to_string(prefix.join("include/ngc_cells.h")).unwrap());
    let declared: BTreeSet<String> = header
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '('))
        .filter_map(|w| Some(w.split_once('(')?.0))
        .filter(|w| w.starts_with("ngc_"))
        .map(str::to_string)
        .collect();
    assert!(!declared.is_empty());
    assert_eq!(
        exported, declared,
        "exported (left) and declared in ngc_cells.h (right) differ"
    );
}

#[test]
fn pkg_config_shared_consumer() {
    let test = "pkg_config_shared_consumer";
    let cc = cc();
    if !have_tools(&[&cc, "pkg-config", "readelf"]) {
        return;
    }
    let dir = fresh_dir(test);
    let prefix = dir.join("prefix");
    install(&prefix, &[]);
    assert_eq!(pkg_config(&prefix, &["--modversion"]), [VERSION]);

    let exe = dir.join("consumer");
    run(Command::new(&cc)
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg(consumer_source())
        .args(pkg_config(&prefix, &["--cflags", "--libs"]))
        .arg("-lm")
        .arg("-o")
        .arg(&exe));
    assert!(
        needed(&exe).contains(&expected_soname()),
        "{} does not need {}: {:?}",
        exe.display(),
        expected_soname(),
        needed(&exe)
    );
    // A prefix outside the loader's paths: found through LD_LIBRARY_PATH, by soname.
    let out = run(Command::new(&exe)
        .arg("pkg-config")
        .env("LD_LIBRARY_PATH", prefix.join("lib")));
    check_consumer_output(&out, "pkg-config");
}

#[test]
fn pkg_config_static_consumer_links_fully_static() {
    let test = "pkg_config_static_consumer_links_fully_static";
    let cc = cc();
    if !have_tools(&[&cc, "pkg-config", "readelf"]) {
        return;
    }
    let dir = fresh_dir(test);
    let prefix = dir.join("prefix");
    install(&prefix, &[]);

    let exe = dir.join("consumer-static");
    run(Command::new(&cc)
        .args([
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-static",
        ])
        .arg(consumer_source())
        .args(pkg_config(&prefix, &["--static", "--cflags", "--libs"]))
        .arg("-lm")
        .arg("-o")
        .arg(&exe));
    let section = dynamic_section(&exe);
    assert!(
        section.contains("There is no dynamic section"),
        "{} is not fully static:\n{section}",
        exe.display()
    );
    // The install is gone: the program carries everything it needs.
    fs::remove_dir_all(&prefix).unwrap();
    let out = run(Command::new(&exe)
        .arg("static")
        .env_remove("LD_LIBRARY_PATH"));
    check_consumer_output(&out, "static");
}

#[test]
fn cmake_find_package_consumer() {
    let test = "cmake_find_package_consumer";
    let cc = cc();
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
    if !have_tools(&[&cc, &cxx, "cmake", "readelf"]) {
        return;
    }
    let dir = fresh_dir(test);
    // Installed in one place, then moved: the CMake files find it where it is.
    let installed = dir.join("prefix");
    install(&installed, &[]);
    let prefix = dir.join("moved prefix");
    fs::rename(&installed, &prefix).unwrap();

    let configure = |build: &Path, want: &str| {
        Command::new("cmake")
            .arg("-S")
            .arg(source_dir().join("tests/consumer"))
            .arg("-B")
            .arg(build)
            .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
            .arg(format!("-DNGC_CELLS_WANT={want}"))
            .arg(format!("-DCMAKE_C_COMPILER={cc}"))
            .arg(format!("-DCMAKE_CXX_COMPILER={cxx}"))
            .arg("-DCMAKE_BUILD_TYPE=Release")
            .output()
            .unwrap()
    };
    let build = dir.join("build");
    let out = configure(&build, &abi_series());
    assert!(
        out.status.success(),
        "cmake configure failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    run(Command::new("cmake").arg("--build").arg(&build));

    let shared = build.join("consumer_shared");
    let static_ = build.join("consumer_static");
    assert!(
        needed(&shared).contains(&expected_soname()),
        "{:?}",
        needed(&shared)
    );
    assert!(
        !needed(&static_).iter().any(|n| n.contains("ngc_cells")),
        "{:?}",
        needed(&static_)
    );
    // No LD_LIBRARY_PATH: CMake gives the shared consumer an rpath to the install.
    let out = run(Command::new(&shared)
        .arg("cmake shared")
        .env_remove("LD_LIBRARY_PATH"));
    check_consumer_output(&out, "cmake shared");
    let out = run(Command::new(&static_).arg("cmake static"));
    check_consumer_output(&out, "cmake static");
    // The C++ wrapper from the install, both ways.
    for (exe, how) in [
        ("consumer_cxx_shared", "cmake c++ shared"),
        ("consumer_cxx_static", "cmake c++ static"),
    ] {
        let out = run(Command::new(build.join(exe))
            .arg(how)
            .env_remove("LD_LIBRARY_PATH"));
        check_consumer_output(&out, how);
    }

    // A request for another ABI series is refused by ngc_cellsConfigVersion.cmake.
    let other = if VERSION.starts_with("0.") {
        "99.0"
    } else {
        "0.1"
    };
    let out = configure(&dir.join("build-other"), other);
    assert!(
        !out.status.success(),
        "find_package(ngc_cells {other}) accepted {VERSION}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ngc_cellsConfigVersion.cmake") || stderr.contains(VERSION),
        "unexpected refusal:\n{stderr}"
    );
}
