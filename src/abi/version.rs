//! The library's version.

use std::ffi::c_char;

/// The library's version as a static NUL-terminated string, `"ngc-cells/MAJOR.MINOR.PATCH"`.
///
/// Compare with the `NGC_CELLS_VERSION_*` macros to check that the library
/// loaded at run time is the one compiled against. Never NULL; never free it.
#[no_mangle]
pub extern "C" fn ngc_version() -> *const c_char {
    const V: &str = concat!("ngc-cells/", env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr().cast()
}
