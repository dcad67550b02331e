//! Builds ngc-cells from source inside CMake projects, the way C and C++ projects
//! vendor it (the top-level `CMakeLists.txt`):
//!
//! - `tests/cmake_source/add_subdirectory/` (`add_subdirectory(<ngc-cells>)`) and
//!   `tests/cmake_source/fetchcontent/` (`FetchContent_Declare(... SOURCE_DIR ...)`),
//!   each building tests/consumer's C and C++ programs against the shared and the
//!   static library; all of them run and check ngc-learn's dp (-2.8193381);
//! - the rebuild: touching a Rust source reruns cargo and relinks the programs, and a
//!   build with nothing changed relinks nothing;
//! - the imported targets and variables are those of the installed package file, and
//!   the CMake code downloads nothing (the builds also run with cargo --offline and the
//!   proxies pointing at a closed port).
//!
//! The vendored tree is a copy of the crate's build inputs under
//! `target/tmp/cmake-source/ngc-cells` (rewritten only where the sources differ, so
//! touching it never dirties the real tree), built into its own cargo target directory
//! `target/tmp/cmake-source/cargo`, away from `cargo test`'s own build. One release
//! build is shared by every project here; the rebuild check recompiles the crate once.
//!
//! Needs cmake, a C and a C++ compiler and readelf: a loud skip without them, a
//! failure in CI (`CI=true`).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::SystemTime;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One vendored tree and one cargo target directory: one build at a time.
static BUILD: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    BUILD.lock().unwrap_or_else(|e| e.into_inner())
}

fn base() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("cmake-source")
}

fn cargo_target_dir() -> PathBuf {
    base().join("cargo")
}

/// The soname of this version (docs/install.md, "ABI and soname"), computed independently.
fn expected_soname() -> String {
    let v: Vec<u32> = VERSION
        .split(['.', '-', '+'])
        .take(3)
        .map(|p| p.parse().unwrap())
        .collect();
    match (v[0], v[1]) {
        (0, 0) => format!("libngc_cells.so.0.0.{}", v[2]),
        (0, _) => format!("libngc_cells.so.0.{}", v[1]),
        _ => format!("libngc_cells.so.{}", v[0]),
    }
}

fn cc() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".into())
}

fn cxx() -> String {
    std::env::var("CXX").unwrap_or_else(|_| "c++".into())
}

/// Whether cmake, the compilers and readelf run; if not, a loud skip (a failure in CI).
fn have_tools() -> bool {
    let missing: Vec<String> = ["cmake".to_string(), cc(), cxx(), "readelf".to_string()]
        .into_iter()
        .filter(|t| !common::tool_runs(t))
        .collect();
    if missing.is_empty() {
        return true;
    }
    common::skip_or_fail(&format!("{missing:?} not found"));
    false
}

// ---------------------------------------------------------------------------------------
// The vendored copy

/// What a vendored source tree needs for `cargo build --lib` and CMake.
const TREE_FILES: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "build.rs",
    "cbindgen.toml",
    "CMakeLists.txt",
];
const TREE_DIRS: &[&str] = &["src", "include", "benches", "cmake"];

/// Makes `dst` a copy of `src`, writing only files whose contents differ (so cargo
/// sees an unchanged copy as unchanged) and removing files `src` does not have.
fn sync_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(dst).unwrap() {
        let entry = entry.unwrap();
        let theirs = src.join(entry.file_name());
        let is_dir = entry.file_type().unwrap().is_dir();
        if !theirs.exists() || theirs.is_dir() != is_dir {
            if is_dir {
                fs::remove_dir_all(entry.path()).unwrap();
            } else {
                fs::remove_file(entry.path()).unwrap();
            }
        }
    }
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            sync_dir(&entry.path(), &to);
        } else {
            sync_file(&entry.path(), &to);
        }
    }
}

fn sync_file(src: &Path, dst: &Path) {
    let new = fs::read(src).unwrap();
    if fs::read(dst).ok().as_deref() != Some(new.as_slice()) {
        fs::write(dst, new).unwrap();
    }
}

/// The vendored copy of the crate (made up to date once per test run). Call it with
/// the lock held.
fn vendored_tree() -> PathBuf {
    static TREE: OnceLock<PathBuf> = OnceLock::new();
    TREE.get_or_init(|| {
        let root = common::root();
        let tree = base().join("ngc-cells");
        fs::create_dir_all(&tree).unwrap();
        for f in TREE_FILES {
            sync_file(&root.join(f), &tree.join(f));
        }
        for d in TREE_DIRS {
            if root.join(d).is_dir() {
                sync_dir(&root.join(d), &tree.join(d));
            } else if tree.join(d).exists() {
                fs::remove_dir_all(tree.join(d)).unwrap();
            }
        }
        tree
    })
    .clone()
}

// ---------------------------------------------------------------------------------------
// Running CMake

/// A command with the network out of reach: any download would fail.
fn offline(program: &str) -> Command {
    let mut cmd = Command::new(program);
    for v in [
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(v, "http://127.0.0.1:9");
    }
    cmd.env_remove("no_proxy").env_remove("NO_PROXY");
    cmd
}

/// Runs `cmd`; fails the test with its output unless it succeeds; returns its stdout.
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

/// `cmake -S tests/cmake_source/<project> -B <build>` with the vendored tree; returns
/// the configure output.
fn configure(project: &str, build: &Path, extra: &[&str]) -> String {
    let tree = vendored_tree();
    run(offline("cmake")
        .arg("-S")
        .arg(common::root().join("tests/cmake_source").join(project))
        .arg("-B")
        .arg(build)
        .arg(format!("-DNGC_CELLS_SOURCE_DIR={}", tree.display()))
        .arg(format!(
            "-DNGC_CELLS_CARGO_TARGET_DIR={}",
            cargo_target_dir().display()
        ))
        .arg("-DNGC_CELLS_CARGO_OFFLINE=ON")
        .arg(format!("-DCMAKE_C_COMPILER={}", cc()))
        .arg(format!("-DCMAKE_CXX_COMPILER={}", cxx()))
        .args(extra))
}

/// `cmake --build <build>`; returns the build output (cargo's messages included).
fn build(build: &Path) -> String {
    let out = offline("cmake")
        .arg("--build")
        .arg(build)
        .output()
        .expect("cmake runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "cmake --build {} failed:\n{text}",
        build.display()
    );
    text
}

fn fresh_build_dir(name: &str) -> PathBuf {
    let dir = base().join(name);
    if dir.exists() {
        fs::remove_dir_all(&dir).unwrap();
    }
    dir
}

fn needed(file: &Path) -> Vec<String> {
    run(Command::new("readelf").arg("-d").arg(file))
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split('[').nth(1)?.trim_end_matches(']').to_string()))
        .collect()
}

/// The four programs of tests/cmake_source/consumers.cmake: name, linked statically.
const PROGRAMS: &[(&str, bool)] = &[
    ("consumer_shared", false),
    ("consumer_static", true),
    ("consumer_cxx_shared", false),
    ("consumer_cxx_static", true),
];

/// Runs every program of a built consumer project and checks what it links and says.
fn check_programs(build: &Path, project: &str) {
    let soname = expected_soname();
    let release = cargo_target_dir().join("release");
    for &(exe, is_static) in PROGRAMS {
        let path = build.join(exe);
        let libs = needed(&path);
        if is_static {
            assert!(
                !libs.iter().any(|l| l.contains("ngc_cells")),
                "{exe} should carry the static library, but needs {libs:?}"
            );
        } else {
            assert!(
                libs.contains(&soname),
                "{exe} should need {soname}: {libs:?}"
            );
            // The library of this build: CMake's build-tree rpath names cargo's folder.
            let dynamic = run(Command::new("readelf").arg("-d").arg(&path));
            assert!(
                dynamic.contains(&release.display().to_string()),
                "{exe}'s run path does not name {}:\n{dynamic}",
                release.display()
            );
        }
        let how = format!("{project} {exe}");
        // No LD_LIBRARY_PATH: the shared ones find the library through the rpath and
        // the soname link build.rs puts next to it.
        let out = run(Command::new(&path).arg(&how).env_remove("LD_LIBRARY_PATH"));
        assert!(
            out.contains(&format!(
                "consumer ok ({how}): ngc-cells/{VERSION} dp=-2.8193381"
            )),
            "unexpected output of {exe}: {out}"
        );
    }
}

/// Configures, builds and runs one consumer project; returns the configure output.
fn consumer_project(project: &str) -> String {
    let dir = fresh_build_dir(&format!("{project}-build"));
    let configured = configure(project, &dir, &["-DCMAKE_BUILD_TYPE=Release"]);
    // The package file's variables reached the consumer project.
    assert!(
        configured.contains(&format!(
            "consumer sees ngc_cells {VERSION}, soname {}, headers {}",
            expected_soname(),
            vendored_tree().join("include").display()
        )),
        "{configured}"
    );
    let static_libs = configured
        .lines()
        .find_map(|l| l.split("static: ").nth(1))
        .unwrap_or_default();
    assert!(
        static_libs.split(';').any(|l| l == "-lc"),
        "the static library's system libraries: {static_libs:?}"
    );
    build(&dir);
    check_programs(&dir, project);
    configured
}

// ---------------------------------------------------------------------------------------
// The tests

#[test]
fn add_subdirectory_consumer() {
    if !have_tools() {
        return;
    }
    let _guard = lock();
    let configured = consumer_project("add_subdirectory");
    assert!(
        configured.contains(&format!(
            "ngc_cells {VERSION} from source: cargo profile release, {}",
            cargo_target_dir().join("release").display()
        )),
        "{configured}"
    );
}

#[test]
fn fetchcontent_consumer() {
    if !have_tools() {
        return;
    }
    let _guard = lock();
    consumer_project("fetchcontent");
}

#[test]
fn touching_a_rust_source_reruns_cargo_and_relinks() {
    if !have_tools() {
        return;
    }
    let _guard = lock();
    let dir = fresh_build_dir("rebuild-build");
    configure("add_subdirectory", &dir, &["-DCMAKE_BUILD_TYPE=Release"]);
    build(&dir);
    let exe = dir.join("consumer_shared");
    let library = cargo_target_dir().join("release/libngc_cells.so");
    let mtime = |p: &Path| fs::metadata(p).unwrap().modified().unwrap();

    // Nothing changed: cargo runs (and does nothing), nothing is relinked.
    let (lib_before, exe_before) = (mtime(&library), mtime(&exe));
    let again = build(&dir);
    assert!(again.contains("Finished"), "cargo did not run:\n{again}");
    assert!(
        !again.contains("Compiling ngc-cells") && !again.contains("Linking"),
        "a build with nothing changed rebuilt something:\n{again}"
    );
    assert_eq!(mtime(&library), lib_before);
    assert_eq!(mtime(&exe), exe_before);

    // A Rust source touched: cargo recompiles the crate, every program is relinked.
    let source = vendored_tree().join("src/lib.rs");
    fs::File::options()
        .append(true)
        .open(&source)
        .unwrap()
        .set_modified(SystemTime::now())
        .unwrap();
    let rebuilt = build(&dir);
    assert!(
        rebuilt.contains("Compiling ngc-cells"),
        "cargo did not recompile the crate after {} changed:\n{rebuilt}",
        source.display()
    );
    for &(program, _) in PROGRAMS {
        assert!(
            rebuilt
                .lines()
                .any(|l| l.contains("Linking") && l.ends_with(&format!("executable {program}"))),
            "{program} was not relinked:\n{rebuilt}"
        );
    }
    assert!(mtime(&library) > lib_before);
    assert!(mtime(&exe) > exe_before);
    check_programs(&dir, "rebuild");
}

#[test]
fn cargo_profile_follows_cmake_build_type() {
    if !have_tools() {
        return;
    }
    let _guard = lock();
    let target = cargo_target_dir();
    for (args, profile, folder) in [
        (&["-DCMAKE_BUILD_TYPE=Debug"][..], "dev", "debug"),
        (
            &["-DCMAKE_BUILD_TYPE=RelWithDebInfo"][..],
            "release",
            "release",
        ),
        (&[][..], "release", "release"),
        (
            &[
                "-DCMAKE_BUILD_TYPE=Debug",
                "-DNGC_CELLS_CARGO_PROFILE=release",
            ][..],
            "release",
            "release",
        ),
    ] {
        // Configure only: the cargo command and the imported library's file.
        let dir = fresh_build_dir("profile-build");
        let configured = configure("add_subdirectory", &dir, args);
        let want = format!("cargo profile {profile}, {}", target.join(folder).display());
        assert!(configured.contains(&want), "{args:?}: {configured}");
        let commands = fs::read_dir(dir.join("ngc-cells/CMakeFiles/ngc_cells_cargo.dir"))
            .unwrap()
            .map(|e| fs::read_to_string(e.unwrap().path()).unwrap_or_default())
            .collect::<String>();
        assert!(
            commands.contains(&format!("build --lib --profile {profile} ")),
            "{args:?}: no `cargo build --profile {profile}` in the generated build:\n{commands}"
        );
    }
    // CARGO overrides the cargo that runs.
    let dir = fresh_build_dir("profile-build");
    configure(
        "add_subdirectory",
        &dir,
        &["-DCARGO=/opt/elsewhere/bin/cargo"],
    );
    let build_make =
        fs::read_to_string(dir.join("ngc-cells/CMakeFiles/ngc_cells_cargo.dir/build.make"))
            .unwrap();
    assert!(
        build_make.contains("/opt/elsewhere/bin/cargo build --lib"),
        "{build_make}"
    );
}

/// Static: the same imported targets and variables as the installed package file, and
/// no CMake code that downloads.
#[test]
fn same_targets_as_the_installed_package_and_no_downloads() {
    let root = common::root();
    let source = fs::read_to_string(root.join("CMakeLists.txt")).unwrap();
    let installed = fs::read_to_string(root.join("packaging/ngc_cellsConfig.cmake.in")).unwrap();
    // Code only: CMake comments start with '#'.
    let code = |s: &str| -> String {
        s.lines()
            .map(|l| l.split('#').next().unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (source, installed) = (code(&source), code(&installed));

    // `add_library(ngc_cells::NAME KIND IMPORTED`.
    let targets = |s: &str| -> Vec<(String, String)> {
        let mut t: Vec<(String, String)> = s
            .split("add_library(")
            .skip(1)
            .map(|rest| {
                let words: Vec<&str> = rest
                    .split_whitespace()
                    .take(3)
                    .map(|w| w.trim_end_matches(')'))
                    .collect();
                assert_eq!(words.get(2), Some(&"IMPORTED"), "add_library({rest}");
                (words[0].to_string(), words[1].to_string())
            })
            .collect();
        t.sort();
        t
    };
    let want = targets(&installed);
    assert_eq!(
        want.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        [
            "ngc_cells::ngc_cells",
            "ngc_cells::ngc_cells_shared",
            "ngc_cells::ngc_cells_static"
        ]
    );
    assert_eq!(
        targets(&source),
        want,
        "the source build's imported targets"
    );

    // The variables the package file documents, set by the source build too.
    for v in [
        "ngc_cells_INCLUDE_DIRS",
        "ngc_cells_SONAME",
        "ngc_cells_STATIC_LINK_LIBRARIES",
    ] {
        assert!(installed.contains(&format!("set({v} ")), "{v}");
        assert!(
            source.contains(&format!("set({v} ")),
            "CMakeLists.txt sets no {v}"
        );
    }
    assert!(source.contains("set(ngc_cells_VERSION "));
    assert!(source.contains("NGC_CELLS_USE_STATIC") && installed.contains("NGC_CELLS_USE_STATIC"));

    // Nothing in the CMake code downloads (no Corrosion, no ExternalProject).
    let lower = source.to_lowercase();
    for word in [
        "fetchcontent",
        "externalproject",
        "download",
        "git_repository",
        "url ",
    ] {
        assert!(!lower.contains(word), "CMakeLists.txt has `{word}`");
    }
}

/// docs/install.md shows both ways, with the two lines a project needs.
#[test]
fn install_page_shows_add_subdirectory_and_fetchcontent() {
    let page = fs::read_to_string(common::root().join("docs/install.md")).unwrap();
    let blocks: Vec<&str> = page
        .split("```cmake\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    let shows = |needles: &[&str]| blocks.iter().any(|b| needles.iter().all(|n| b.contains(n)));
    assert!(
        shows(&[
            "add_subdirectory(",
            "target_link_libraries(app PRIVATE ngc_cells::ngc_cells)"
        ]),
        "docs/install.md shows no add_subdirectory block"
    );
    assert!(
        shows(&[
            "FetchContent_Declare(ngc_cells SOURCE_DIR ",
            "FetchContent_MakeAvailable(ngc_cells)",
            "ngc_cells::ngc_cells"
        ]),
        "docs/install.md shows no FetchContent block"
    );
}
