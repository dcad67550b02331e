//! Generates `include/ngc_cells.h` with cbindgen.
//!
//! The header is written to `$OUT_DIR/include/ngc_cells.h` on every build (and
//! exported to dependents as `DEP_NGC_CELLS_INCLUDE`). The committed copy in
//! `include/` is only rewritten when `NGC_CELLS_UPDATE_HEADER=1` is set, so a
//! plain build never edits the source tree; the `header_is_current` test fails
//! when the committed copy differs from what this build generates.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/abi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=NGC_CELLS_UPDATE_HEADER");

    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let version = env::var("CARGO_PKG_VERSION").unwrap();
    let major: u32 = env::var("CARGO_PKG_VERSION_MAJOR")
        .unwrap()
        .parse()
        .unwrap();
    let minor: u32 = env::var("CARGO_PKG_VERSION_MINOR")
        .unwrap()
        .parse()
        .unwrap();
    let patch: u32 = env::var("CARGO_PKG_VERSION_PATCH")
        .unwrap()
        .parse()
        .unwrap();

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    let macros = format!(
        "/** The version of this header: MAJOR.MINOR.PATCH (ngc_version() gives the library's). */\n\
         #define NGC_CELLS_VERSION_MAJOR {major}\n\
         #define NGC_CELLS_VERSION_MINOR {minor}\n\
         #define NGC_CELLS_VERSION_PATCH {patch}\n\
         /** \"MAJOR.MINOR.PATCH\". */\n\
         #define NGC_CELLS_VERSION_STRING \"{version}\"\n\
         /** (MAJOR << 16) | (MINOR << 8) | PATCH, for #if comparisons. */\n\
         #define NGC_CELLS_VERSION_NUMBER {number}\n",
        number = (major << 16) | (minor << 8) | patch
    );
    config.after_includes = config
        .after_includes
        .map(|s| s.replace("@VERSION_MACROS@", macros.trim_end()));

    let include_dir = out_dir.join("include");
    fs::create_dir_all(&include_dir).unwrap();
    let generated = include_dir.join("ngc_cells.h");
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header")
        .write_to_file(&generated);
    println!("cargo:include={}", include_dir.display());

    if env::var("NGC_CELLS_UPDATE_HEADER").as_deref() == Ok("1") {
        fs::copy(&generated, crate_dir.join("include/ngc_cells.h")).unwrap();
    }

    set_soname(&out_dir, major, minor, patch);
}

/// The shared library's soname, per the ABI policy in README.md ("ABI and soname").
///
/// The soname changes exactly when the ABI may break: on a MAJOR bump for versions
/// >= 1, on a MINOR bump for 0.y, and on every release for 0.0.z (cargo-c's rule).
fn soname(major: u32, minor: u32, patch: u32) -> String {
    match (major, minor) {
        (0, 0) => format!("libngc_cells.so.0.0.{patch}"),
        (0, _) => format!("libngc_cells.so.0.{minor}"),
        _ => format!("libngc_cells.so.{major}"),
    }
}

/// Gives the cdylib its versioned soname (ELF targets), so that even a plain
/// `cargo build` library is the one `install.sh` installs.
fn set_soname(out_dir: &std::path::Path, major: u32, minor: u32, patch: u32) {
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if !matches!(
        os.as_str(),
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly"
    ) {
        return;
    }
    let soname = soname(major, minor, patch);
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");

    // A program linked against target/<profile>/libngc_cells.so records the soname
    // and looks for that file at run time. Put the soname link next to the library
    // so such programs run from the target directory too (LD_LIBRARY_PATH or rpath).
    // OUT_DIR is <target>/[<triple>/]<profile>/build/<pkg>-<hash>/out; a dangling
    // link is fine until the library is built. Best effort: never fail the build.
    #[cfg(unix)]
    if let Some(artifact_dir) = out_dir.ancestors().nth(3) {
        if out_dir.ancestors().nth(2).and_then(|b| b.file_name()) == Some("build".as_ref()) {
            let link = artifact_dir.join(&soname);
            if fs::symlink_metadata(&link).is_err() {
                let _ = std::os::unix::fs::symlink("libngc_cells.so", &link);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = out_dir;
}
