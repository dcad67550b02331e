//! Each input is a sequence of calls in the language of `tests/calls` (one byte
//! per choice) over cells of every row of the family table (the rows the models
//! know, which `tests/random_calls.rs` checks are exactly those of
//! `tests/common/family.rs`) and every randomized kind; every call's status and
//! every output is checked against the model, and a mismatch panics (libFuzzer
//! reports it as a crash).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/calls/mod.rs"]
mod calls;

fn kinds() -> Vec<calls::Kind> {
    let mut v = calls::model::rows();
    v.extend(calls::model::randomized());
    v
}

fuzz_target!(|data: &[u8]| {
    let kinds = kinds();
    let mut driver = calls::Driver::new("fuzz input", &kinds);
    let mut entropy = calls::Bytes(data);
    while driver.step(&mut entropy) {}
});
