//! The model demo (issue 12) and its twins: sparse coding of 8x8 bars with every
//! neuron an ngc-cell (RateCell latents, a stateless RateCell for the data, a
//! GaussianErrorCell), the host doing only matrix products and Hebbian updates.
//!
//! - C (`examples/c/bars.c`, what `make demo` runs): built with strict warnings, run;
//!   its energy falls by at least `FALL` and the PNG of its dictionary is valid (our
//!   own reading below, chunk by chunk, and libpng's through Octave's `imread`) and
//!   shows the bars.
//! - C++ (`examples/cpp/pc_demo.cpp`): built with the strict C++17 flags, run, learns.
//! - MATLAB/Octave (`examples/matlab/pc_demo.m`): run under Octave, learns.
//! - Julia (`examples/julia/pc_demo.jl`): cannot run here; every name it calls is
//!   checked against what the package exports (its `@ccall`s, none, are
//!   `tests/julia_ccall.rs`' business).

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The least factor by which each demo's energy (0.5|x - W z|^2 per image) falls
/// from its first epoch to its last. (Measured: about 10x in C, see the report.)
const FALL: f64 = 5.0;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The `epoch energy` table a demo prints: the energies in epoch order (epochs 1..).
fn energies(out: &str) -> Vec<f64> {
    let rows: Vec<(usize, f64)> = out
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let epoch = w.next()?.parse().ok()?;
            let e = w.next()?.parse().ok()?;
            w.next().is_none().then_some((epoch, e))
        })
        .collect();
    for (i, (epoch, _)) in rows.iter().enumerate() {
        assert_eq!(*epoch, i + 1, "epochs out of order in:\n{out}");
    }
    rows.into_iter().map(|(_, e)| e).collect()
}

/// The energies fell by at least `FALL`, and the later epochs stayed down.
fn assert_learns(what: &str, e: &[f64], epochs: usize, out: &str) {
    assert_eq!(e.len(), epochs, "{what}: {out}");
    assert!(e.iter().all(|v| v.is_finite() && *v > 0.0), "{what}: {e:?}");
    let (first, last) = (e[0], e[e.len() - 1]);
    assert!(
        first / last >= FALL,
        "{what}: the energy fell only {:.2}x ({first} -> {last}): {e:?}",
        first / last
    );
    // No relapse: the second half of the run stays at most half the first epoch.
    assert!(
        e[e.len() / 2..].iter().all(|v| *v < first / 2.0),
        "{what}: {e:?}"
    );
}

// --- Reading a PNG (independently of the demo's encoder) ---------------------------

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// An 8-bit greyscale, non-interlaced PNG whose zlib stream holds only stored
/// deflate blocks (what the demo writes): every chunk's CRC, the zlib header, each
/// block's LEN/NLEN, the Adler-32 and the filter bytes checked. (width, height, pixels).
fn read_grey_png(png: &[u8]) -> (usize, usize, Vec<u8>) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "signature");
    let (mut at, mut ihdr, mut idat, mut types) = (8, None, Vec::new(), Vec::new());
    while at < png.len() {
        let len = be32(&png[at..]) as usize;
        let kind = &png[at + 4..at + 8];
        let data = &png[at + 8..at + 8 + len];
        let crc = be32(&png[at + 8 + len..]);
        assert_eq!(crc32(&png[at + 4..at + 8 + len]), crc, "CRC of {kind:?}");
        types.push(String::from_utf8_lossy(kind).into_owned());
        match kind {
            b"IHDR" => ihdr = Some(data.to_vec()),
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        at += 12 + len;
    }
    assert_eq!(at, png.len(), "trailing bytes");
    assert_eq!(types.first().map(String::as_str), Some("IHDR"), "{types:?}");
    assert_eq!(types.last().map(String::as_str), Some("IEND"), "{types:?}");
    let h = ihdr.unwrap();
    let (w, ht) = (be32(&h[0..]) as usize, be32(&h[4..]) as usize);
    assert_eq!(
        &h[8..13],
        &[8, 0, 0, 0, 0],
        "8-bit grey, deflate, filter 0, no interlace"
    );
    // zlib: CMF/FLG, stored blocks, Adler-32.
    assert_eq!(idat[0] & 0x0f, 8, "deflate");
    assert_eq!(
        (u16::from(idat[0]) << 8 | u16::from(idat[1])) % 31,
        0,
        "FCHECK"
    );
    assert_eq!(idat[1] & 0x20, 0, "no preset dictionary");
    let (mut raw, mut p) = (Vec::new(), 2);
    loop {
        let header = idat[p];
        assert_eq!(header & 0b110, 0, "only stored blocks expected");
        let n = usize::from(u16::from_le_bytes([idat[p + 1], idat[p + 2]]));
        let nn = u16::from_le_bytes([idat[p + 3], idat[p + 4]]);
        assert_eq!(nn, !(n as u16), "NLEN");
        raw.extend_from_slice(&idat[p + 5..p + 5 + n]);
        p += 5 + n;
        if header & 1 == 1 {
            break;
        }
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    assert_eq!(be32(&idat[p..]), b << 16 | a, "Adler-32");
    assert_eq!(p + 4, idat.len(), "bytes after the zlib stream");
    assert_eq!(raw.len(), (w + 1) * ht, "image size");
    let mut pixels = Vec::with_capacity(w * ht);
    for row in raw.chunks(w + 1) {
        assert_eq!(row[0], 0, "filter type none");
        pixels.extend_from_slice(&row[1..]);
    }
    (w, ht, pixels)
}

/// The bar (0..8: a row, 8..16: a column) whose 8 cells are exactly `on`, if any.
fn bar_of(on: &[(usize, usize)]) -> Option<usize> {
    if on.len() != 8 {
        None
    } else if on.iter().all(|&(r, _)| r == on[0].0) {
        Some(on[0].0)
    } else if on.iter().all(|&(_, c)| c == on[0].1) {
        Some(8 + on[0].1)
    } else {
        None
    }
}

/// The demo's picture: 4x4 tiles of 8x8 weights, 1-cell gaps, each cell `zoom`
/// pixels, a weight w shown as 127.5 + 127.5 w / max|W|. The distinct bars the
/// tiles show (a tile shows a bar when its cells above half the peak are that
/// bar's 8).
fn bars_in_png(w: usize, h: usize, px: &[u8]) -> BTreeSet<usize> {
    let zoom = w / 37;
    assert!(w == h && w == 37 * zoom && zoom >= 1, "{w}x{h}");
    let cell = |y: usize, x: usize| px[(y * zoom + zoom / 2) * w + x * zoom + zoom / 2];
    (0..16)
        .filter_map(|k| {
            let (ty, tx) = (1 + 9 * (k / 4), 1 + 9 * (k % 4));
            let on: Vec<(usize, usize)> = (0..64)
                .map(|i| (i / 8, i % 8))
                .filter(|&(r, c)| cell(ty + r, tx + c) > 191)
                .collect();
            bar_of(&on)
        })
        .collect()
}

/// The same for the twins' text picture: 4 bands of 8 lines, each line 4 tiles of 8
/// characters (`#` above half a bar's weight, else `.`) separated by spaces.
fn bars_in_text(out: &str) -> BTreeSet<usize> {
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.len() == 35 && l.chars().all(|c| "#. ".contains(c)))
        .collect();
    assert_eq!(lines.len(), 32, "no 4x4 tiles of 8x8 in:\n{out}");
    (0..16)
        .filter_map(|k| {
            let on: Vec<(usize, usize)> = (0..64)
                .map(|i| (i / 8, i % 8))
                .filter(|&(r, c)| lines[8 * (k / 4) + r].as_bytes()[9 * (k % 4) + c] == b'#')
                .collect();
            bar_of(&on)
        })
        .collect()
}

/// At least 14 of the 16 causes are distinct bars (every run so far finds all 16).
fn assert_bars(what: &str, found: &BTreeSet<usize>, out: &str) {
    assert!(
        found.len() >= 14,
        "{what}: only {} distinct bars among the 16 causes: {found:?}\n{out}",
        found.len()
    );
}

// --- C ------------------------------------------------------------------------------

/// Epochs the tests run of each demo (the library is a debug build here): by 12 the
/// energy has fallen about ninefold and the dictionary holds the 16 bars.
const EPOCHS: usize = 12;

/// The C demo, built and run once (`EPOCHS` epochs) for the tests below:
/// its folder (holding `bars_dictionary.png`) and its output.
fn c_demo() -> &'static (PathBuf, String) {
    static RUN: OnceLock<(PathBuf, String)> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = scratch_shared("bars");
        let exe = dir.join("bars");
        build(
            "cc",
            C_FLAGS,
            &[root().join("examples/c/bars.c")],
            &exe,
            Link::Static,
        );
        let out = stdout(&run(&exe, &[&EPOCHS.to_string(), dir.to_str().unwrap()]));
        (dir, out)
    })
}

#[test]
fn c_demo_learns_the_bars_and_writes_a_valid_png() {
    let (dir, out) = c_demo();
    assert_learns("C demo", &energies(out), EPOCHS, out);
    assert!(
        out.contains("wrote ") && out.contains("bars_dictionary.png"),
        "{out}"
    );
    let png = std::fs::read(dir.join("bars_dictionary.png")).unwrap();
    let (w, h, px) = read_grey_png(&png);
    assert_eq!((w, h), (222, 222));
    assert_eq!(px[0], 0, "the gaps are black");
    assert_bars("C demo", &bars_in_png(w, h, &px), out);
}

/// The same PNG, decoded by libpng (Octave's `imread`, through GraphicsMagick): the
/// decoder browsers build on. Every pixel must be the one read above.
#[test]
fn c_demo_png_decodes_with_libpng() {
    if !(tool_runs("octave-cli")) {
        skip_or_fail(
            "GNU Octave (octave-cli) is not installed, so the PNG was not decoded by libpng",
        );
        return;
    }
    let dir = scratch("libpng");
    let png = c_demo().0.join("bars_dictionary.png");
    let (w, h, px) = read_grey_png(&std::fs::read(&png).unwrap());
    let script = format!(
        "x = imread('{}'); printf('%s %d %d %d\\n', class(x), size(x, 1), size(x, 2), size(x, 3)); \
         fid = fopen('decoded.bin', 'w'); fwrite(fid, x', 'uint8'); fclose(fid);",
        png.display()
    );
    let o = octave_cli(&dir, &script);
    let so = stdout(&o);
    assert!(
        o.status.success(),
        "{so}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(so.contains(&format!("uint8 {h} {w} 1")), "{so}");
    let decoded = std::fs::read(dir.join("decoded.bin")).unwrap();
    assert_eq!(decoded.len(), px.len());
    assert!(decoded == px, "libpng decoded other pixel values");
}

// --- C++ ------------------------------------------------------------------------------

#[test]
fn cpp_demo_learns_the_bars() {
    let exe = scratch("cpp").join("pc_demo");
    build(
        "c++",
        CXX17_FLAGS,
        &[root().join("examples/cpp/pc_demo.cpp")],
        &exe,
        Link::Shared,
    );
    let out = stdout(&run(&exe, &[&EPOCHS.to_string()]));
    assert_learns("C++ demo", &energies(&out), EPOCHS, &out);
    assert_bars("C++ demo", &bars_in_text(&out), &out);
}

// --- MATLAB / Octave -----------------------------------------------------------------

fn octave_cli(dir: &Path, script: &str) -> std::process::Output {
    Command::new("octave-cli")
        .args(["--norc", "--no-history", "--no-window-system", "--quiet"])
        .arg("--eval")
        .arg(script)
        .current_dir(dir)
        .output()
        .expect("octave-cli runs")
}

#[test]
fn octave_demo_learns_the_bars() {
    if !(tool_runs("octave-cli") && tool_runs("mkoctfile")) {
        skip_or_fail(
            "GNU Octave (octave-cli, mkoctfile) is not installed, so the Octave demo did NOT run",
        );
        return;
    }
    let dir = scratch("octave");
    let matlab = root().join("examples/matlab");
    let mex = Command::new("mkoctfile")
        .current_dir(&dir)
        .arg("--mex")
        .arg(format!("-I{}", root().join("include").display()))
        .arg(matlab.join("ngc_mex.c"))
        .arg(static_lib())
        .args(native_static_libs())
        .arg("-o")
        .arg(dir.join("ngc_mex.mex"))
        .output()
        .expect("mkoctfile runs");
    assert!(
        mex.status.success(),
        "{}",
        String::from_utf8_lossy(&mex.stderr)
    );
    let script = format!(
        "addpath('{}'); addpath('{}'); pc_demo",
        matlab.display(),
        dir.display()
    );
    let o = octave_cli(&dir, &script);
    let out = stdout(&o);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_learns("Octave demo", &energies(&out), EPOCHS, &out); // its own count
    assert_bars("Octave demo", &bars_in_text(&out), &out);
}

// --- Julia (checked, not run) --------------------------------------------------------

/// Julia source without its comments (`#= ... =#` blocks, nested, and `#` to the end of
/// the line; a `'#'` character literal is kept). Strings are not special-cased: the
/// files checked here have no `#` inside strings.
fn julia_uncommented(src: &str) -> String {
    let (mut out, mut depth, mut rest) = (String::new(), 0usize, src);
    while !rest.is_empty() {
        if rest.starts_with("#=") {
            depth += 1;
            rest = &rest[2..];
        } else if depth > 0 && rest.starts_with("=#") {
            depth -= 1;
            rest = &rest[2..];
        } else if depth == 0 && rest.starts_with("'#'") {
            out.push_str("'#'");
            rest = &rest[3..];
        } else if depth == 0 && rest.starts_with('#') {
            rest = &rest[rest.find('\n').unwrap_or(rest.len())..];
        } else {
            let c = rest.chars().next().unwrap();
            if depth == 0 || c == '\n' {
                out.push(c);
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The names an (uncommented) Julia source defines at top level, as
/// `function name(` or `name(args) = ...`.
fn julia_defined(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in code.lines() {
        let name = if let Some(rest) = line.strip_prefix("function ") {
            ident(rest)
        } else if line.contains(") =") && !line.starts_with(' ') {
            let name = ident(line);
            if !line[name.len()..].starts_with('(') {
                continue;
            }
            name
        } else {
            continue;
        };
        if !name.is_empty() {
            names.insert(name);
        }
    }
    names
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '!'
}

fn ident(s: &str) -> String {
    s.chars().take_while(|&c| is_ident_char(c)).collect()
}

/// The package's export list.
fn julia_exports(src: &str) -> BTreeSet<String> {
    let start = src.find("\nexport ").expect("an export list") + 8;
    let mut list = String::new();
    for line in src[start..].lines() {
        list.push_str(line);
        if !line.trim_end().ends_with(',') {
            break;
        }
    }
    list.split(',').map(|s| s.trim().to_string()).collect()
}

#[test]
fn julia_demo_calls_only_what_the_package_exports() {
    let module = julia_uncommented(
        &std::fs::read_to_string(root().join("julia/NgcCells/src/NgcCells.jl")).unwrap(),
    );
    let demo = julia_uncommented(
        &std::fs::read_to_string(root().join("examples/julia/pc_demo.jl")).unwrap(),
    );
    assert!(
        demo.contains("using NgcCells\n"),
        "the demo loads the package"
    );
    let exported = julia_exports(&module);
    let defined = julia_defined(&module);
    // The package's names the demo calls: each exported and defined by the package
    // (outside comments: a constructor still commented out does not count).
    let package = [
        "RateCell",
        "GaussianErrorCell",
        "bind!",
        "advance!",
        "reset!",
        "loss",
    ];
    for name in package {
        assert!(
            demo.contains(&format!("{name}(")),
            "the demo does not call {name}"
        );
        assert!(
            exported.contains(name) && defined.contains(name),
            "the demo calls {name}, which NgcCells does not define and export \
             (exports: {exported:?})"
        );
    }
    // Every other call is the demo's own or a Base / stdlib function it is known to
    // use: a typo or a name the package lacks fails here.
    let base = [
        "zeros",
        "fill!",
        "rand",
        "reshape",
        "view",
        "sqrt",
        "sum",
        "println",
        "push!",
        "lpad",
        "round",
        "foreach",
        "join",
        "error",
        "mul!",
        "MersenneTwister",
    ];
    let own = julia_defined(&demo);
    let chars: Vec<char> = demo.chars().collect();
    let mut calls = BTreeSet::new();
    for (i, &c) in chars.iter().enumerate() {
        // `name(` and the broadcast `name.(`
        let end = match c {
            '(' if i > 0 && chars[i - 1] == '.' => i - 1,
            '(' => i,
            _ => continue,
        };
        let mut s = end;
        while s > 0 && is_ident_char(chars[s - 1]) {
            s -= 1;
        }
        let name: String = chars[s..end].iter().collect();
        // `4row(`-like products and `a.b(` qualified calls are not plain calls.
        if name.is_empty()
            || name.starts_with(|c: char| c.is_ascii_digit())
            || (s > 0 && chars[s - 1] == '.')
        {
            continue;
        }
        calls.insert(name);
    }
    let unknown: Vec<&String> = calls
        .iter()
        .filter(|n| {
            !(package.contains(&n.as_str()) || base.contains(&n.as_str()) || own.contains(*n))
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "the Julia demo calls unknown names: {unknown:?}"
    );
    assert!(
        calls.len() >= 20,
        "only {} calls found: {calls:?}",
        calls.len()
    );
}
