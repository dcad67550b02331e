//! A cell's self-description as JSON: ngc-learn's `help()`, corrected, written
//! from the cell type's [`CellSpec`] and hyper-parameters (no cell names here).

use super::layout::{Layout, UnitShape};
use super::spec::{CellSpec, Hyper, Shapes};

/// Appends `s` to `out` as a JSON string literal.
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_json_str(out, s),
        None => out.push_str("null"),
    }
}

fn push_dims(out: &mut String, dims: &[usize]) {
    out.push('[');
    for (i, d) in dims.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&d.to_string());
    }
    out.push(']');
}

fn push_hyper(out: &mut String, name: &str, value: &str, description: &str, first: bool) {
    if !first {
        out.push(',');
    }
    push_json_str(out, name);
    out.push_str(":{\"value\":");
    out.push_str(value);
    out.push_str(",\"description\":");
    push_json_str(out, description);
    out.push('}');
}

/// What the metadata describes: a cell of some type, as it is now.
#[derive(Debug)]
pub struct Described<'a> {
    /// The cell type.
    pub spec: &'a CellSpec,
    /// Its hyper-parameters besides `n_units`, `batch_size` and `shape`.
    pub hyperparameters: &'a [Hyper],
    /// The cell's name.
    pub name: &'a str,
    /// `"float32"` or `"float64"`.
    pub dtype: &'a str,
    /// Its shape.
    pub layout: &'a Layout,
    /// Its compartments' shapes.
    pub shapes: &'a Shapes,
    /// Each compartment's rest (or initial) value.
    pub rests: &'a [f64],
}

/// The metadata JSON of a cell (one line, UTF-8, no trailing newline):
/// ngc-learn's `help()`, corrected, with the values of this cell.
pub fn metadata_json(d: &Described<'_>) -> String {
    let mut o = String::with_capacity(2048);
    o.push_str("{\"cell_type\":");
    push_json_str(&mut o, d.spec.type_name);
    o.push_str(",\"name\":");
    push_json_str(&mut o, d.name);
    o.push_str(",\"dtype\":");
    push_json_str(&mut o, d.dtype);
    o.push_str(",\"description\":");
    push_json_str(&mut o, d.spec.description);
    o.push_str(",\"dynamics\":");
    push_json_str(&mut o, d.spec.dynamics);
    o.push_str(",\"hyperparameters\":{");
    push_hyper(
        &mut o,
        "n_units",
        &d.layout.n_units().to_string(),
        "Number of neuronal cells to model in this layer",
        true,
    );
    push_hyper(
        &mut o,
        "batch_size",
        &d.layout.batch_size().to_string(),
        "Batch size dimension of this component (current; reset() restores the constructor's)",
        false,
    );
    for h in d.hyperparameters {
        push_hyper(&mut o, h.name, &h.json, h.description, false);
    }
    if d.spec.takes_shape {
        let shape = match d.layout.unit() {
            UnitShape::Flat(_) => "null".to_string(),
            UnitShape::Image(s) => {
                let mut t = String::new();
                push_dims(&mut t, &s);
                t
            }
        };
        push_hyper(
            &mut o,
            "shape",
            &shape,
            "Optional (H, W, C) sample shape; when set, array compartments are (batch, H, W, C)",
            false,
        );
    }
    o.push_str("},\"compartments\":[");
    for (i, c) in d.spec.compartments.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str("{\"name\":");
        push_json_str(&mut o, c.name);
        o.push_str(",\"role\":");
        push_json_str(&mut o, c.role.as_str());
        o.push_str(",\"display_name\":");
        push_opt_str(&mut o, c.display_name);
        o.push_str(",\"units\":");
        push_opt_str(&mut o, c.units);
        o.push_str(",\"shape\":");
        push_dims(&mut o, &d.shapes.dims(c.extent));
        o.push_str(",\"rest_value\":");
        o.push_str(&json_number(d.rests[i]));
        o.push_str(",\"description\":");
        push_json_str(&mut o, c.description);
        o.push('}');
    }
    o.push_str("]}");
    o
}

/// A double as a JSON value: `1.0`, `-0.5`; `null` for NaN and infinities
/// (JSON has no such numbers).
pub fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else {
        "null".to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn non_finite_numbers_are_null() {
        assert_eq!(super::json_number(1.0), "1.0");
        assert_eq!(super::json_number(f64::NAN), "null");
        assert_eq!(super::json_number(-0.5), "-0.5");
    }
}
