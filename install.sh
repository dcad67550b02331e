#!/usr/bin/env bash
# shellcheck disable=SC2016 # ${prefix} and ${_ngc_cells_prefix} are written literally, for pkg-config and CMake
# install.sh -- build ngc-cells and install it like a C library.
#
#   ./install.sh --prefix /usr/local
#
# Installs, under the prefix:
#   lib/libngc_cells.so.X.Y.Z          the shared library, soname from build.rs
#   lib/libngc_cells.so.<soname suffix> -> libngc_cells.so.X.Y.Z   (run-time link)
#   lib/libngc_cells.so                -> the soname                (link-time link)
#   lib/libngc_cells.a                 the static library
#   include/ngc_cells.h (and every other include/*.h, include/*.hpp, e.g. ngc_cells.hpp)
#   lib/pkgconfig/ngc_cells.pc         Libs.private from rustc's native-static-libs
#   lib/cmake/ngc_cells/ngc_cellsConfig.cmake, ngc_cellsConfigVersion.cmake
#
# Needs: cargo (the crate's rust-version or newer), readelf (binutils). Linux (ELF) only
# for now. See README.md, "Installing". The build is staged in target/ngc-cells-install/.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: ./install.sh [options]

Builds ngc-cells with cargo (release) and installs the shared and static
libraries, the headers, a pkg-config file and CMake package files.

Options:
  --prefix DIR      installation prefix (default: /usr/local)
  --libdir DIR      libraries, pkgconfig/ and cmake/ (default: PREFIX/lib)
  --includedir DIR  headers (default: PREFIX/include)
  --destdir DIR     stage the files under DIR, for packagers; the files still name
                    PREFIX (default: $DESTDIR, or none)
  --build-only      build, and install nothing
  --no-build        do not run cargo: install what --build-only (or the last
                    install) built, e.g. as root, whose PATH may have no cargo:
                      ./install.sh --build-only && sudo ./install.sh --no-build
  -h, --help        this text

Environment: CARGO (default: cargo), CARGO_TARGET_DIR and the other cargo variables.
EOF
}

die() {
    echo "install.sh: error: $*" >&2
    exit 1
}

prefix=/usr/local
libdir=
includedir=
destdir=${DESTDIR:-}
build=1
install=1
while [ $# -gt 0 ]; do
    case "$1" in
    --prefix) [ $# -ge 2 ] || die "$1 needs a value"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --libdir) [ $# -ge 2 ] || die "$1 needs a value"; libdir=$2; shift 2 ;;
    --libdir=*) libdir=${1#*=}; shift ;;
    --includedir) [ $# -ge 2 ] || die "$1 needs a value"; includedir=$2; shift 2 ;;
    --includedir=*) includedir=${1#*=}; shift ;;
    --destdir) [ $# -ge 2 ] || die "$1 needs a value"; destdir=$2; shift 2 ;;
    --destdir=*) destdir=${1#*=}; shift ;;
    --build-only) install=0; shift ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
    esac
done
[ "$build" = 1 ] || [ "$install" = 1 ] || die "--build-only and --no-build together do nothing"

[ "$(uname -s)" = Linux ] || die "only Linux (ELF shared libraries) is supported for now, not $(uname -s)"

# Absolute paths: they are written into the .pc and CMake files.
absolute() {
    case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}
[ -n "$prefix" ] || die "--prefix must not be empty"
prefix=$(absolute "$prefix")
prefix=${prefix%/}
libdir=$(absolute "${libdir:-$prefix/lib}")
includedir=$(absolute "${includedir:-$prefix/include}")
[ -n "$prefix" ] || prefix=/
[ -z "$destdir" ] || destdir=$(absolute "$destdir")

src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$src"
command -v readelf >/dev/null || die "readelf not found (install binutils)"
cargo=${CARGO:-cargo}
if command -v "$cargo" >/dev/null; then
    metadata=$("$cargo" metadata --no-deps --format-version 1 --manifest-path "$src/Cargo.toml")
    target_dir=$(printf '%s' "$metadata" | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    [ -n "$target_dir" ] || die "cannot read the target directory from cargo metadata"
elif [ "$build" = 1 ]; then
    die "cargo not found (install Rust: rustup.rs; or build first and use --no-build)"
else
    target_dir=${CARGO_TARGET_DIR:-$src/target}
fi
# What the build hands to the install: the two libraries, rustc's native-static-libs
# for the static one, the version.
stage=$target_dir/ngc-cells-install

# --- Build --------------------------------------------------------------------------------
if [ "$build" = 1 ]; then
    # The package's own version (the "version" right after "name":"ngc-cells").
    version=$(printf '%s' "$metadata" | sed -n 's/.*"name":"ngc-cells","version":"\([^"]*\)".*/\1/p')
    [ -n "$version" ] || die "cannot read the package version from cargo metadata"
    release=$target_dir/release
    mkdir -p "$stage"
    cargo_release() { # cargo subcommand, then its arguments
        local sub=$1
        shift
        "$cargo" "$sub" --release --lib --manifest-path "$src/Cargo.toml" "$@"
    }

    build_and_stage() {
        echo "install.sh: building ngc-cells $version (cargo build --release)" >&2
        cargo_release build
        cp -f "$release/libngc_cells.so" "$stage/libngc_cells.so.tmp"

        # The static library and its link line, from one rustc run. rustc prints the
        # native libraries a static library needs only when it links one, and for the
        # target features of that link, so the staticlib is built on its own with
        # +crt-static: the list then names libgcc_eh (the static unwinder) where a
        # default build names libgcc_s, which has no .a, and `cc -static` works too.
        # This archive is what gets installed, so the list is rustc's for it exactly.
        echo "install.sh: building the static library (+crt-static, native-static-libs)" >&2
        rm -f "$stage/native-static-libs.txt.new"
        local artifacts archive
        artifacts=$(cargo_release rustc --crate-type staticlib \
            --message-format=json-render-diagnostics \
            -- -C target-feature=+crt-static \
            --print "native-static-libs=$stage/native-static-libs.txt.new")
        archive=$(printf '%s\n' "$artifacts" | grep '"reason":"compiler-artifact"' |
            grep -o '"filenames":\["[^"]*libngc_cells[^"]*\.a"' | sed 's/.*\["//; s/"$//' | tail -n 1)
        if [ -z "$archive" ] || [ ! -s "$archive" ]; then die "cargo reported no static library"; fi
        cp -f "$archive" "$stage/libngc_cells.a.tmp"
        # Both builds write target/release/libngc_cells.a; leave the plain build's there.
        cargo_release build --quiet
    }
    build_and_stage
    if [ ! -s "$stage/native-static-libs.txt.new" ] && [ ! -s "$stage/native-static-libs.txt" ]; then
        # Up to date, so rustc did not run, but its answer is gone: run it again.
        "$cargo" clean --release -p ngc-cells --manifest-path "$src/Cargo.toml"
        build_and_stage
    fi
    [ ! -s "$stage/native-static-libs.txt.new" ] ||
        mv -f "$stage/native-static-libs.txt.new" "$stage/native-static-libs.txt"
    [ -s "$stage/native-static-libs.txt" ] || die "rustc printed no native-static-libs"
    mv -f "$stage/libngc_cells.so.tmp" "$stage/libngc_cells.so"
    mv -f "$stage/libngc_cells.a.tmp" "$stage/libngc_cells.a"
    printf '%s\n' "$version" >"$stage/version"
    if [ "$install" = 0 ]; then
        echo "install.sh: built into $stage; install with ./install.sh --no-build --prefix DIR" >&2
        exit 0
    fi
fi

for f in libngc_cells.so libngc_cells.a native-static-libs.txt version; do
    [ -s "$stage/$f" ] || die "$stage/$f is missing: build first (./install.sh --build-only)"
done
version=$(cat "$stage/version")
case "$version" in
[0-9]*.[0-9]*.[0-9]*) ;;
*) die "unexpected version '$version'" ;;
esac
IFS=. read -r v_major v_minor v_patch <<<"${version%%[-+]*}"
if [ "$build" = 0 ]; then
    newer=$(find "$src/src" "$src/include" "$src/build.rs" "$src/Cargo.toml" "$src/Cargo.lock" \
        -newer "$stage/version" -print -quit)
    [ -z "$newer" ] || die "$newer changed after the last build: build again (./install.sh --build-only)"
fi
# The committed header must be the one this library was built with.
grep -q "^#define NGC_CELLS_VERSION_STRING \"$version\"\$" "$src/include/ngc_cells.h" ||
    die "include/ngc_cells.h is not the header of version $version (see README: NGC_CELLS_UPDATE_HEADER)"

shared_built=$stage/libngc_cells.so
static_built=$stage/libngc_cells.a
nsl_file=$stage/native-static-libs.txt

soname=$(readelf -d "$shared_built" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
case "$soname" in
libngc_cells.so.*) ;;
*) die "$shared_built has no versioned soname (got '$soname'); build.rs should set it" ;;
esac
shared_file=libngc_cells.so.$version
libs_private=$(tr -s ' \n' '  ' <"$nsl_file" | sed 's/^ *//; s/ *$//')
case " $libs_private " in
*" -lgcc_s "*) die "native-static-libs names -lgcc_s, which no fully static link can use: '$libs_private'" ;;
esac
case "$(readelf -h "$shared_built" | sed -n 's/^ *Class: *//p')" in
ELF64) pointer_bytes=8 ;;
ELF32) pointer_bytes=4 ;;
*) die "cannot read the ELF class of $shared_built" ;;
esac

# --- Install ------------------------------------------------------------------------------
d_libdir=$destdir$libdir
d_includedir=$destdir$includedir
install -d "$d_libdir" "$d_includedir" "$d_libdir/pkgconfig" "$d_libdir/cmake/ngc_cells"

install -m 0755 "$shared_built" "$d_libdir/$shared_file"
ln -sfn "$shared_file" "$d_libdir/$soname"
ln -sfn "$soname" "$d_libdir/libngc_cells.so"
install -m 0644 "$static_built" "$d_libdir/libngc_cells.a"

headers=()
for h in "$src"/include/*.h "$src"/include/*.hpp; do
    [ -f "$h" ] && headers+=("$h")
done
[ -f "$src/include/ngc_cells.h" ] || die "include/ngc_cells.h is missing"
install -m 0644 "${headers[@]}" "$d_includedir/"

# Templates: @NAME@ placeholders, values with no '|' or newline.
subst() { # template output NAME=value...
    local template=$1 output=$2 script=()
    shift 2
    for kv in "$@"; do
        local k=${kv%%=*} v=${kv#*=}
        v=${v//\\/\\\\}
        v=${v//&/\\&}
        script+=(-e "s|@$k@|$v|g")
    done
    sed "${script[@]}" "$template" >"$output.tmp"
    if grep -q '@[A-Z_]*@' "$output.tmp"; then
        rm -f "$output.tmp"
        die "unfilled placeholder in $template"
    fi
    chmod 0644 "$output.tmp"
    mv "$output.tmp" "$output"
}

# pkg-config: paths under the prefix are written relative to ${prefix}.
pc_path() {
    case "$1" in
    "$prefix") printf '%s\n' '${prefix}' ;;
    "$prefix"/*) printf '%s\n' "\${prefix}${1#"$prefix"}" ;;
    *) printf '%s\n' "$1" ;;
    esac
}
subst "$src/packaging/ngc_cells.pc.in" "$d_libdir/pkgconfig/ngc_cells.pc" \
    "PREFIX=$prefix" "LIBDIR=$(pc_path "$libdir")" "INCLUDEDIR=$(pc_path "$includedir")" \
    "VERSION=$version" "LIBS_PRIVATE=$libs_private"

# CMake: paths relative to the package file, so the tree stays relocatable.
cmake_dir=$libdir/cmake/ngc_cells
rel_prefix=$(realpath -m --relative-to="$cmake_dir" "$prefix")
cmake_path() {
    case "$1" in
    "$prefix") printf '%s\n' '${_ngc_cells_prefix}' ;;
    "$prefix"/*) printf '%s\n' "\${_ngc_cells_prefix}${1#"$prefix"}" ;;
    *) printf '%s\n' "$1" ;;
    esac
}
if [ "$v_major" = 0 ] && [ "$v_minor" = 0 ]; then
    abi_series=0.0.$v_patch
elif [ "$v_major" = 0 ]; then
    abi_series=0.$v_minor
else
    abi_series=$v_major
fi
subst "$src/packaging/ngc_cellsConfig.cmake.in" "$destdir$cmake_dir/ngc_cellsConfig.cmake" \
    "VERSION=$version" "SONAME=$soname" "SHARED_FILE=$shared_file" \
    "CMAKE_REL_PREFIX=$rel_prefix" "CMAKE_LIBDIR=$(cmake_path "$libdir")" \
    "CMAKE_INCLUDEDIR=$(cmake_path "$includedir")" \
    "CMAKE_LIBS_PRIVATE=$(printf '%s' "$libs_private" | tr ' ' ';')"
subst "$src/packaging/ngc_cellsConfigVersion.cmake.in" "$destdir$cmake_dir/ngc_cellsConfigVersion.cmake" \
    "VERSION=$version" "VERSION_MAJOR=$v_major" "VERSION_MINOR=$v_minor" \
    "ABI_SERIES=$abi_series" "SIZEOF_VOID_P=$pointer_bytes"

echo "install.sh: installed ngc-cells $version (soname $soname) into ${destdir}${prefix}" >&2
echo "  $d_libdir/$shared_file, $soname, libngc_cells.so, libngc_cells.a" >&2
echo "  $d_includedir/: $(for h in "${headers[@]}"; do printf '%s ' "${h##*/}"; done)" >&2
echo "  $d_libdir/pkgconfig/ngc_cells.pc (Libs.private: $libs_private)" >&2
echo "  $destdir$cmake_dir/ngc_cellsConfig.cmake, ngc_cellsConfigVersion.cmake" >&2
