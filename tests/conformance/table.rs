//! The summary of a conformance run, as docs/fidelity.md shows it, and the check of
//! float32 results against the float64 reference.

use serde_json::Value;

use crate::common;
use crate::engine::{array, expectation, load, Elem, Report};
use crate::Entry;

const BEGIN: &str = "<!-- conformance-table:begin -->";
const END: &str = "<!-- conformance-table:end -->";

/// `12345` as `12,345`.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn sci(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else {
        format!("{v:.1e}")
    }
}

/// The results table (Markdown): per cell, dtype and output compared with a tolerance,
/// the elements compared, how many were bit-exact, how many differed only by XLA's
/// flushing of subnormals (cases marked denormal), the share of the others that was not
/// bit-exact, the largest absolute and relative errors and the largest error /
/// tolerance (after what earlier differences in the state explain).
pub fn markdown(cells: &[Entry]) -> String {
    let mut s = String::new();
    s.push_str(
        "| cell | dtype | cases | output | elements | bit-exact | flushed | inexact | max abs error | max rel error | max error / tolerance |\n",
    );
    s.push_str("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for e in cells {
        for r in [(e.f32)(), (e.f64)()] {
            for (out, st) in &r.stats {
                if !st.toleranced {
                    continue;
                }
                let inexact = st.elements - st.bit_exact - st.ftz;
                s.push_str(&format!(
                    "| {} | {} | {} | `{out}` | {} | {} | {} | {:.1}% | {} | {} | {:.3} |\n",
                    e.class,
                    r.dtype,
                    r.cases,
                    thousands(st.elements),
                    thousands(st.bit_exact),
                    thousands(st.ftz),
                    100.0 * inexact as f64 / st.elements as f64,
                    sci(st.max_abs),
                    sci(st.max_rel),
                    st.max_ratio,
                ));
            }
        }
    }
    s
}

/// Compares the table between the markers of docs/fidelity.md with this run's (or, with
/// `NGC_UPDATE_DOCS=1`, writes it there).
pub fn check_docs(cells: &[Entry]) {
    let path = common::root().join("docs/fidelity.md");
    let table = markdown(cells);
    println!("{table}");
    let Ok(text) = std::fs::read_to_string(&path) else {
        common::skip_or_fail(&format!("{} is missing", path.display()));
        return;
    };
    let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else {
        panic!("{}: no {BEGIN} ... {END} markers", path.display());
    };
    assert!(b < e, "{}: markers out of order", path.display());
    let inner = &text[b + BEGIN.len()..e];
    let want = format!("\n{table}");
    if inner == want {
        return;
    }
    if std::env::var("NGC_UPDATE_DOCS").as_deref() == Ok("1") {
        let new = format!("{}{BEGIN}{want}{}", &text[..b], &text[e..]);
        std::fs::write(&path, new).unwrap();
        println!("rewrote the table in {}", path.display());
        return;
    }
    if fma_missing() {
        // The figures are those of the kernels with fused multiply-adds (every x86-64
        // CPU since 2013, and the portable code); the no-FMA copy rounds differently.
        common::skip_or_fail(
            "this x86-64 CPU has no FMA, and the documented figures are those of the FMA kernels",
        );
        return;
    }
    panic!(
        "the conformance table in {} is not this run's; run `NGC_UPDATE_DOCS=1 cargo test --test conformance` and commit the change.\nThis run's:\n{table}\nThe page's:{inner}",
        path.display()
    );
}

fn fma_missing() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        !std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The float32 values a cell module asked for (`Budget::x64`) against the float64
/// reference of the same case, where that case gave both dtypes the same inputs
/// (float32 values, widened exactly). Returns how many were checked.
pub fn check_x64(key: &str, r: &Report) -> usize {
    if r.x64.is_empty() {
        return 0;
    }
    let f32x = load(&format!("{key}_f32.json"));
    let f64x = load(&format!("{key}_f64.json"));
    let format = f64x["format"].as_u64().unwrap();
    let case = |fx: &Value, name: &str| -> Value {
        fx["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    let mut checked = 0;
    let mut worst: (f64, String) = (0.0, String::new());
    let mut failures = vec![];
    for x in &r.x64 {
        let (c32, c64) = (case(&f32x, &x.case), case(&f64x, &x.case));
        if !same_inputs(&c32, &c64, x.op) {
            continue;
        }
        let op = &c64["ops"][x.op];
        let (dims, values) = expectation(format, &op["expect"], x.comp);
        let len = dims.iter().product::<usize>();
        let Some(want) = array::<f64>(values, len, None).get(x.idx).copied() else {
            continue;
        };
        if !want.is_finite() || !x.bound.is_finite() {
            continue;
        }
        // ours was rounded to float32 once at the end; the float64 reference is within
        // n*eps64 (< 1e-9 relative for any n here) of the exact value.
        let bound = x.bound + 0.5 * f32::EPS * x.ours.abs() + 1e-9 * want.abs();
        let err = (x.ours - want).abs();
        let at = format!("{}: op {} {}[{}]", x.case, x.op, x.comp, x.idx);
        if x.case.contains("32x784") || x.case.contains("16x100") {
            eprintln!(
                "DBG {at} ours {} ref {want} err {:e} bound {bound:e}",
                x.ours,
                (x.ours - want).abs()
            );
        }
        if err > bound || err.is_nan() {
            failures.push(format!(
                "{at}: float32 {} vs float64 reference {want}: error {err:e} > bound {bound:e}",
                x.ours
            ));
        } else if err / bound > worst.0 {
            worst = (err / bound, at);
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{key} float32 vs the float64 reference:\n{}",
        failures.join("\n")
    );
    println!(
        "{key}: float32 vs float64 reference: largest error / bound {:.3} at {}",
        worst.0, worst.1
    );
    assert!(
        checked > 0,
        "{key}: no case gives both dtypes the same inputs"
    );
    checked
}

/// Whether every set before op `upto` gives the float64 case the float32 case's values.
fn same_inputs(c32: &Value, c64: &Value, upto: usize) -> bool {
    let (o32, o64) = (
        c32["ops"].as_array().unwrap(),
        c64["ops"].as_array().unwrap(),
    );
    if o32.len() != o64.len() {
        return false;
    }
    for (a, b) in o32[..upto].iter().zip(&o64[..upto]) {
        if a["op"] != b["op"] || a.get("dims") != b.get("dims") {
            return false;
        }
        if a["op"] == "set" || a["op"] == "set_shaped" {
            let n = match &a["values"] {
                Value::Array(v) => v.len(),
                _ => 1,
            };
            let va = array::<f32>(&a["values"], n, None);
            let vb = array::<f64>(&b["values"], n, None);
            if va
                .iter()
                .zip(&vb)
                .any(|(x, y)| f64::from(*x).to_bits() != y.to_bits() && !(x.is_nan() && y.is_nan()))
            {
                return false;
            }
        }
    }
    c32["constructor"] == c64["constructor"] && c32.get("input_logits") == c64.get("input_logits")
}
