//! Each input is a sequence of calls in the language of `tests/calls` (one byte
//! per choice) over cells of every row of the family table
//! (`tests/common/family.rs`) and every randomized kind; every call's status and
//! every output is checked against the model, and a mismatch panics (libFuzzer
//! reports it as a crash).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/calls/mod.rs"]
mod calls;

/// The family table; what it uses of `tests/common` (whose other helpers need
/// cargo's test environment) is below, at the crate root (its `super`).
#[path = "../../tests/common/family.rs"]
mod family;

fn cstr(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s).unwrap()
}

fn last_error() -> String {
    let mut buf = [0 as std::ffi::c_char; 1100];
    // SAFETY: buf is writable for its length.
    unsafe { ngc_cells::ngc_last_error_message(buf.as_mut_ptr(), buf.len()) };
    // SAFETY: NUL-terminated by the call.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn kinds() -> Vec<calls::Kind> {
    let mut v: Vec<calls::Kind> = family::FAMILY
        .iter()
        .map(|row| {
            calls::Kind::of_row(row.label, row.takes_shape, row.new)
                .unwrap_or_else(|| panic!("family row {} has no model", row.label))
        })
        .collect();
    v.extend(calls::model::randomized());
    v
}

fuzz_target!(|data: &[u8]| {
    let kinds = kinds();
    let mut driver = calls::Driver::new("fuzz input", &kinds);
    let mut entropy = calls::Bytes(data);
    while driver.step(&mut entropy) {}
});
