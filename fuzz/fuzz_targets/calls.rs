//! Each input is a sequence of calls in the language of `tests/calls` (one byte
//! per choice); every call's status and every output is checked against the
//! model, and a mismatch panics (libFuzzer reports it as a crash).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/calls/mod.rs"]
mod calls;

fuzz_target!(|data: &[u8]| {
    let mut driver = calls::Driver::new("fuzz input");
    let mut entropy = calls::Bytes(data);
    while driver.step(&mut entropy) {}
});
