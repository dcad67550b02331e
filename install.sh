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
# for now. See README.md, "Installing".
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: ./install.sh [options]

Builds ngc-cells (cargo build --release) and installs the shared and static
libraries, the headers, a pkg-config file and CMake package files.

Options:
  --prefix DIR      installation prefix (default: /usr/local)
  --libdir DIR      libraries, pkgconfig/ and cmake/ (default: PREFIX/lib)
  --includedir DIR  headers (default: PREFIX/include)
  --destdir DIR     stage the files under DIR, for packagers; the files still name
                    PREFIX (default: $DESTDIR, or none)
  --no-build        do not run cargo; install what the last build left in the
                    target directory (fails if that is missing or older than the sources)
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
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
    esac
done

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
cargo=${CARGO:-cargo}
command -v "$cargo" >/dev/null || die "cargo not found (install Rust: rustup.rs)"
command -v readelf >/dev/null || die "readelf not found (install binutils)"

# --- What the crate says about itself -------------------------------------------------
metadata=$("$cargo" metadata --no-deps --format-version 1 --manifest-path "$src/Cargo.toml")
target_dir=$(printf '%s' "$metadata" | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[ -n "$target_dir" ] || die "cannot read the target directory from cargo metadata"
# The package's own version (the first "version" after "name":"ngc-cells").
version=$(printf '%s' "$metadata" | sed -n 's/.*"name":"ngc-cells","version":"\([^"]*\)".*/\1/p')
[ -n "$version" ] || die "cannot read the package version from cargo metadata"
case "$version" in
[0-9]*.[0-9]*.[0-9]*) ;;
*) die "unexpected version '$version'" ;;
esac
IFS=. read -r v_major v_minor v_patch <<<"${version%%[-+]*}"

release=$target_dir/release
probe_dir=$target_dir/native-static-libs
shared_built=$release/libngc_cells.so
static_built=$release/libngc_cells.a
nsl_file=$probe_dir/native-static-libs.txt

# --- Build ------------------------------------------------------------------------------
if [ "$build" = 1 ]; then
    echo "install.sh: building ngc-cells $version (cargo build --release)" >&2
    "$cargo" build --release --lib --manifest-path "$src/Cargo.toml"
    # The static library's link line, from rustc itself. rustc prints it only when it
    # links, and for the target features of that link, so it is asked of a build of the
    # staticlib with +crt-static: the list then names libgcc_eh (the static unwinder)
    # where a default build names libgcc_s, which has no .a, so `cc -static` works too.
    # That build is a quick unoptimised one in its own target directory, so the release
    # artifacts above are not touched; the object code does not change what it needs.
    echo "install.sh: asking rustc for the static library's native-static-libs" >&2
    probe() { # cargo subcommand, then its arguments
        local sub=$1
        shift
        CARGO_TARGET_DIR=$probe_dir CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_DEV_INCREMENTAL=false \
            "$cargo" "$sub" --manifest-path "$src/Cargo.toml" "$@"
    }
    mkdir -p "$probe_dir"
    rm -f "$nsl_file.new"
    probe rustc --lib --crate-type staticlib \
        -- -C target-feature=+crt-static --print "native-static-libs=$nsl_file.new"
    if [ ! -s "$nsl_file.new" ] && [ ! -s "$nsl_file" ]; then
        # Up to date, so rustc did not run, but its answer is gone: run it again.
        probe clean -p ngc-cells
        probe rustc --lib --crate-type staticlib \
            -- -C target-feature=+crt-static --print "native-static-libs=$nsl_file.new"
    fi
    if [ -s "$nsl_file.new" ]; then
        mv "$nsl_file.new" "$nsl_file"
    fi
    [ -s "$nsl_file" ] || die "rustc printed no native-static-libs"
fi

for f in "$shared_built" "$static_built" "$nsl_file"; do
    [ -s "$f" ] || die "$f is missing: run without --no-build"
done
if [ "$build" = 0 ]; then
    newest_src=$(find "$src/src" "$src/build.rs" "$src/Cargo.toml" "$src/Cargo.lock" -newer "$shared_built" -print -quit)
    [ -z "$newest_src" ] || die "$newest_src is newer than $shared_built: run without --no-build"
fi

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
