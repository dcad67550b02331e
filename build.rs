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
}
