//! The cell's self-description as JSON: ngc-learn's `help()`, corrected.
//!
//! ngc-learn 3.2.3's `BernoulliErrorCell.help()` calls the cell "GaussianErrorcell"
//! and lists a `sigma` hyper-parameter the cell does not have. This description
//! names the Bernoulli cell and its real hyper-parameters (`input_logits`, `shape`).

use super::layout::{Layout, UnitShape};
use super::spec::CellKind;

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

/// The metadata JSON of a cell (one line, UTF-8, no trailing newline).
pub fn metadata_json(kind: &CellKind, name: &str, dtype: &str, layout: &Layout) -> String {
    let mut o = String::with_capacity(2048);
    o.push_str("{\"cell_type\":");
    push_json_str(&mut o, kind.type_name());
    o.push_str(",\"name\":");
    push_json_str(&mut o, name);
    o.push_str(",\"dtype\":");
    push_json_str(&mut o, dtype);
    let CellKind::Bernoulli { input_logits } = *kind;
    o.push_str(",\"description\":");
    push_json_str(
        &mut o,
        "BernoulliErrorCell - computes mismatch/error signals at each time step t between a \
         binary/probabilistic `target` and a predicted Bernoulli parameter `p` (a probability, \
         or a logit when input_logits is set)",
    );
    o.push_str(",\"dynamics\":");
    push_json_str(
        &mut o,
        "L = sum(x*ln(q) + (1-x)*ln(1-q)) with q = clip(p or sigmoid(p), 1e-4, 1-1e-4), \
         x = target; dp = dL/dp * modulator * mask; dtarget = (ln(q) - ln(1-q)) * modulator * mask; \
         mask is reset to ones after each step",
    );
    o.push_str(",\"hyperparameters\":{");
    push_hyper(
        &mut o,
        "n_units",
        &layout.n_units().to_string(),
        "Number of neuronal cells to model in this layer",
        true,
    );
    push_hyper(
        &mut o,
        "batch_size",
        &layout.batch_size().to_string(),
        "Batch size dimension of this component (current; reset() restores the constructor's)",
        false,
    );
    push_hyper(
        &mut o,
        "input_logits",
        if input_logits { "true" } else { "false" },
        "If true, p holds logits and the cell applies a sigmoid link to obtain the Bernoulli parameter",
        false,
    );
    let shape = match layout.unit() {
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
    o.push_str("},\"compartments\":[");
    let dims = layout.dims();
    for (i, c) in kind.compartments().iter().enumerate() {
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
        push_dims(&mut o, if c.scalar { &[] } else { &dims });
        o.push_str(",\"rest_value\":");
        o.push_str(&format!("{:?}", c.rest));
        o.push_str(",\"description\":");
        push_json_str(&mut o, c.description);
        o.push('}');
    }
    o.push_str("]}");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_the_bernoulli_cell_not_the_gaussian_one() {
        let l = Layout::new(3, 2, None).unwrap();
        let j = metadata_json(
            &CellKind::Bernoulli { input_logits: true },
            "z\"0\n",
            "float32",
            &l,
        );
        assert!(j.starts_with("{\"cell_type\":\"BernoulliErrorCell\",\"name\":\"z\\\"0\\n\""));
        assert!(!j.contains("Gaussian"));
        assert!(!j.contains("sigma"));
        assert!(j.contains("\"input_logits\":{\"value\":true"));
        assert!(j.contains(
            "{\"name\":\"L\",\"role\":\"output\",\"display_name\":\"Bernoulli Log likelihood\",\"units\":\"nats\",\"shape\":[]"
        ));
        assert!(j.contains("{\"name\":\"mask\",\"role\":\"input\",\"display_name\":null,\"units\":null,\"shape\":[2,3],\"rest_value\":1.0"));
    }
}
