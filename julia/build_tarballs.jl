# BinaryBuilder recipe for ngc_cells_jll, in Yggdrasil's format (it goes to
# Yggdrasil as N/ngc_cells/build_tarballs.jl). It builds the shared library of a tagged
# release with cargo, for every platform BinaryBuilder's Rust toolchain supports, and
# packs it with the headers and the license.
#
# To release: tag vX.Y.Z, set `version` to it and the GitSource to the public repository
# and the tag's full commit hash (this tree has no public repository yet, so both are
# left to the release), then open the pull request on Yggdrasil. Locally, for one
# platform: `julia build_tarballs.jl --verbose --debug x86_64-linux-gnu`.
#
# Julia cannot be installed where ngc-cells is developed: this recipe was never run
# there. tests/julia_ccall.rs checks it against the build instead: the version is
# Cargo.toml's, the products are the library cargo builds and the committed headers,
# the cargo command builds that library, and the license file is installed.
using BinaryBuilder, Pkg

name = "ngc_cells"
version = v"0.2.0"

sources = [
    GitSource("https://github.com/OWNER/ngc-cells.git",
              "0000000000000000000000000000000000000000"),
]

# The library of `cargo build --release --lib` (crate-type cdylib in Cargo.toml): named
# libngc_cells.<dlext>, ngc_cells.dll on Windows. build.rs gives it its soname on ELF
# targets (libngc_cells.so.0.1 for 0.1.z); BinaryBuilder's audit links that name to it.
script = raw"""
cd ${WORKSPACE}/srcdir/ngc-cells
if [[ "${target}" == *-musl* ]]; then
    # musl targets link statically by default, and then build no cdylib.
    export RUSTFLAGS="${RUSTFLAGS} -C target-feature=-crt-static"
fi
cargo build --release --locked --lib
install -Dvm 755 target/${rust_target}/release/*ngc_cells.${dlext} -t "${libdir}"
install -Dvm 644 include/ngc_cells.h include/ngc_cells.hpp -t "${includedir}"
install_license LICENSE
"""

# Every platform with a Rust toolchain. The kernels pick AVX-512 or AVX2 code at run time
# on x86_64 (with #[target_feature], no -march flags), NEON on aarch64, portable code
# elsewhere.
platforms = supported_platforms()
# BinaryBuilder's Rust toolchain does not work for 32-bit Windows, and has no shard for
# riscv64 Linux or aarch64 FreeBSD at 1.94.
filter!(p -> !(Sys.iswindows(p) && arch(p) == "i686"), platforms)
filter!(p -> !(triplet(p) in ("riscv64-linux-gnu", "aarch64-unknown-freebsd")), platforms)

products = [
    LibraryProduct(["libngc_cells", "ngc_cells"], :libngc_cells),
    FileProduct("include/ngc_cells.h", :ngc_cells_h),
    FileProduct("include/ngc_cells.hpp", :ngc_cells_hpp),
]

dependencies = Dependency[]

# A toolchain at least as new as rust-version in Cargo.toml (1.89).
build_tarballs(ARGS, name, version, sources, script, platforms, products, dependencies;
               compilers = [:c, :rust], preferred_rust_version = v"1.94.0",
               julia_compat = "1.9")
