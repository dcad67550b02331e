//! Julia cannot be installed on these machines, so the Julia package
//! (`julia/NgcCells/`) and the JLL recipe (`julia/build_tarballs.jl`) are checked
//! against the C header and the build instead of run:
//!
//! - every `@ccall` of the Julia files must name a function of `include/ngc_cells.h`,
//!   through the library NgcCells found (`libngc().f(...)`), with the header's argument
//!   count, each argument's Julia type a faithful spelling of the C type, and the return
//!   type likewise. The mapping is strict (a `Ptr{Float64}` for a `float *`, an `Int64`
//!   for a `size_t`, a `Cstring` for a `char *` output buffer all fail), and
//!   `checker_rejects_wrong_ccalls` shows that it does;
//! - the module's constants are the header's `#define`s, all of them; it constructs
//!   every cell type the header has;
//! - `Project.toml` is parsed and checked (name, uuid, version = Cargo.toml's, compat,
//!   dependencies = what the code loads), and so is the recipe (version, source, the
//!   cargo command, the library and header products, the license);
//! - the examples use the package, and the Julia docs say what was run and what was not.

mod common;

use common::strip_c_comments;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------
// The header side

/// A C type as written in a prototype: `const char **` is
/// `{ is_const: true, base: "char", depth: 2 }`.
#[derive(Clone, Debug, PartialEq)]
struct CType {
    is_const: bool,
    base: String,
    depth: usize,
}

impl std::fmt::Display for CType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = if self.is_const { "const " } else { "" };
        write!(f, "{c}{}{}", self.base, " *".repeat(self.depth))
    }
}

#[derive(Debug)]
struct Proto {
    ret: CType,
    params: Vec<(CType, String)>,
}

/// Splits `const NgcCell *cell` (or a bare type, for the return) into type and name.
fn parse_c_decl(decl: &str, has_name: bool) -> (CType, String) {
    let spaced = decl.replace('*', " * ");
    let mut words: Vec<&str> = spaced.split_whitespace().collect();
    let name = if has_name {
        let n = words.pop().expect("a parameter name");
        assert!(
            n.chars().all(|c| c.is_alphanumeric() || c == '_'),
            "cannot parse C declaration `{decl}`"
        );
        n.to_string()
    } else {
        String::new()
    };
    let depth = words.iter().filter(|w| **w == "*").count();
    let is_const = words.first() == Some(&"const");
    let bases: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| *w != "*" && *w != "const")
        .collect();
    assert_eq!(bases.len(), 1, "cannot parse C declaration `{decl}`");
    (
        CType {
            is_const,
            base: bases[0].to_string(),
            depth,
        },
        name,
    )
}

/// Every function prototype of the header, by name.
fn parse_header(src: &str) -> BTreeMap<String, Proto> {
    let code: String = strip_c_comments(src)
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("extern \"C\" {", "");
    let mut protos = BTreeMap::new();
    for stmt in code.split(';') {
        let stmt = stmt.trim().trim_start_matches('}').trim();
        if stmt.is_empty() || stmt.starts_with("typedef") || !stmt.contains('(') {
            continue;
        }
        let open = stmt.find('(').unwrap();
        let close = stmt.rfind(')').expect("a closing parenthesis");
        let head = stmt[..open].trim();
        let name_at = head
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let name = head[name_at..].to_string();
        let (ret, _) = parse_c_decl(&head[..name_at], false);
        let inner = stmt[open + 1..close].trim();
        let params = if inner == "void" || inner.is_empty() {
            vec![]
        } else {
            inner.split(',').map(|p| parse_c_decl(p, true)).collect()
        };
        protos.insert(name, Proto { ret, params });
    }
    protos
}

/// `#define NGC_X 12` lines of the header.
fn header_defines(src: &str) -> BTreeMap<String, i64> {
    src.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next()? == "#define").then_some(())?;
            let name = w.next()?.to_string();
            let value = w.next()?.parse().ok()?;
            Some((name, value))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The mapping C type -> the Julia spellings accepted for it

fn scalar_spellings(base: &str) -> &'static [&'static str] {
    match base {
        "NgcStatus" | "NgcDtype" | "int32_t" => &["Cint", "Int32"],
        "size_t" => &["Csize_t"],
        "double" => &["Cdouble", "Float64"],
        "float" => &["Cfloat", "Float32"],
        "bool" => &["Bool", "Cuchar"],
        _ => &[],
    }
}

/// What a pointee of type `base` (depth 0 behind a `*`) may be spelled as.
fn pointee_spellings(base: &str) -> Vec<String> {
    let names: &[&str] = match base {
        "void" => &["Cvoid", "Nothing"],
        "NgcCell" => &["Cvoid", "NgcCell"],
        "char" => &["UInt8", "Cchar", "Cuchar"],
        other => scalar_spellings(other),
    };
    assert!(
        !names.is_empty(),
        "the checker does not know the C type `{base}`: add it to tests/julia_ccall.rs"
    );
    names.iter().map(|s| s.to_string()).collect()
}

/// The Julia types accepted for C type `t`; `Ref{T}` only as an argument's outer type.
fn julia_spellings(t: &CType, argument: bool) -> BTreeSet<String> {
    if t.depth == 0 {
        if t.base == "void" && !argument {
            return ["Cvoid", "Nothing"].iter().map(|s| s.to_string()).collect();
        }
        let names = scalar_spellings(&t.base);
        assert!(
            !names.is_empty(),
            "the checker does not know the C type `{t}`: add it to tests/julia_ccall.rs"
        );
        return names.iter().map(|s| s.to_string()).collect();
    }
    let inner: Vec<String> = if t.depth == 1 {
        pointee_spellings(&t.base)
    } else {
        let one_less = CType {
            depth: t.depth - 1,
            ..t.clone()
        };
        julia_spellings(&one_less, false).into_iter().collect()
    };
    let mut out = BTreeSet::new();
    for i in &inner {
        out.insert(format!("Ptr{{{i}}}"));
        if argument {
            out.insert(format!("Ref{{{i}}}"));
        }
    }
    // A NUL-terminated string the callee only reads (or hands out, static).
    if t.depth == 1 && t.base == "char" && t.is_const {
        out.insert("Cstring".into());
    }
    out
}

// ---------------------------------------------------------------------------------------
// The Julia side

#[derive(Debug)]
struct CCall {
    file: String,
    line: usize,
    lib: String,
    func: String,
    args: Vec<(String, String)>,
    ret: String,
}

/// The source with the contents of comments, strings and character literals blanked
/// (newlines kept), so that only code is searched. String interpolations `$(...)` stay
/// code. Enough of Julia's lexical rules for these files; anything it cannot follow
/// (an unterminated string or comment) is an error.
fn julia_code_only(src: &str) -> Result<String, String> {
    #[derive(Clone, Copy, PartialEq, Debug)]
    enum St {
        Code,
        Interp(usize), // inside $( ... ) of a string: paren depth
        Str { triple: bool },
        Block(usize), // #= ... =#, nesting depth
    }
    let b: Vec<char> = src.chars().collect();
    let mut out: Vec<char> = b.clone();
    let mut stack = vec![St::Code];
    let mut i = 0;
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        for c in out.iter_mut().take(to).skip(from) {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    let at = |i: usize, s: &str| b[i..].iter().take(s.len()).copied().eq(s.chars());
    while i < b.len() {
        let top = *stack.last().unwrap();
        match top {
            St::Code | St::Interp(_) => {
                if at(i, "#=") {
                    stack.push(St::Block(1));
                    blank(&mut out, i, i + 2);
                    i += 2;
                } else if b[i] == '#' {
                    let end = b[i..]
                        .iter()
                        .position(|&c| c == '\n')
                        .map_or(b.len(), |p| i + p);
                    blank(&mut out, i, end);
                    i = end;
                } else if at(i, "\"\"\"") {
                    stack.push(St::Str { triple: true });
                    i += 3;
                } else if b[i] == '"' {
                    stack.push(St::Str { triple: false });
                    i += 1;
                } else if b[i] == '\'' {
                    // Transpose after an identifier, a closing bracket, a number or a quote.
                    let prev = if i > 0 { b[i - 1] } else { ' ' };
                    if prev.is_alphanumeric() || "_)]}'.!".contains(prev) {
                        i += 1;
                    } else {
                        let mut j = i + 1;
                        if b.get(j) == Some(&'\\') {
                            j += 1;
                        }
                        j += 1;
                        while j < b.len() && b[j] != '\'' && b[j] != '\n' {
                            j += 1;
                        }
                        if b.get(j) != Some(&'\'') {
                            return Err(format!("unterminated character literal at char {i}"));
                        }
                        blank(&mut out, i + 1, j);
                        i = j + 1;
                    }
                } else if let St::Interp(d) = top {
                    if b[i] == '(' {
                        *stack.last_mut().unwrap() = St::Interp(d + 1);
                    } else if b[i] == ')' {
                        if d == 1 {
                            stack.pop();
                        } else {
                            *stack.last_mut().unwrap() = St::Interp(d - 1);
                        }
                    }
                    i += 1;
                } else {
                    i += 1;
                }
            }
            St::Str { triple } => {
                if b[i] == '\\' {
                    blank(&mut out, i, i + 2);
                    i += 2;
                } else if at(i, "$(") {
                    stack.push(St::Interp(1));
                    i += 2;
                } else if triple && at(i, "\"\"\"") {
                    stack.pop();
                    i += 3;
                } else if !triple && b[i] == '"' {
                    stack.pop();
                    i += 1;
                } else {
                    blank(&mut out, i, i + 1);
                    i += 1;
                }
            }
            St::Block(d) => {
                if at(i, "#=") {
                    *stack.last_mut().unwrap() = St::Block(d + 1);
                    blank(&mut out, i, i + 2);
                    i += 2;
                } else if at(i, "=#") {
                    blank(&mut out, i, i + 2);
                    i += 2;
                    if d == 1 {
                        stack.pop();
                    } else {
                        *stack.last_mut().unwrap() = St::Block(d - 1);
                    }
                } else {
                    blank(&mut out, i, i + 1);
                    i += 1;
                }
            }
        }
    }
    if stack != [St::Code] {
        return Err(format!(
            "unterminated string or comment: {:?}",
            stack.last()
        ));
    }
    Ok(out.into_iter().collect())
}

/// Splits `s` at top-level occurrences of `sep` (outside (), [] and {}).
fn split_top(s: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if c == sep && depth == 0 {
            parts.push(String::new());
        } else {
            parts.last_mut().unwrap().push(c);
        }
    }
    parts
}

/// The position of the last top-level `::` in `s`.
fn last_top_colons(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0i32;
    let mut found = None;
    for i in 0..b.len() {
        match b[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b':' if depth == 0 && b.get(i + 1) == Some(&b':') && (i == 0 || b[i - 1] != b':') => {
                found = Some(i)
            }
            _ => {}
        }
    }
    found
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Every `@ccall lib.f(args::T...)::R` in a Julia source (plain `ccall(` is refused:
/// it would escape the check).
fn find_ccalls(file: &str, src: &str) -> Result<Vec<CCall>, Vec<String>> {
    let code = julia_code_only(src).map_err(|e| vec![format!("{file}: {e}")])?;
    let line_of = |pos: usize| code[..pos].matches('\n').count() + 1;
    let mut calls = Vec::new();
    let mut errors = Vec::new();
    let bytes = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'!';
    for (pos, _) in code.match_indices("ccall") {
        let before = if pos > 0 { bytes[pos - 1] } else { b' ' };
        let after = bytes.get(pos + 5).copied().unwrap_or(b' ');
        if ident(after) || (ident(before) && before != b'@') {
            continue; // part of another name
        }
        let line = line_of(pos);
        if before != b'@' {
            errors.push(format!(
                "{file}:{line}: a plain `ccall`: use `@ccall` so that this test can check it"
            ));
            continue;
        }
        // `@ccall lib.f(...)::R`
        let rest = &code[pos + 5..];
        let rest = rest.trim_start();
        let Some(mut open) = rest.find('(') else {
            errors.push(format!("{file}:{line}: cannot read this @ccall"));
            continue;
        };
        // `libngc().f(...)`: the library is a call; the arguments open after the name.
        while rest[open..].starts_with("()") && rest[open + 2..].trim_start().starts_with('.') {
            match rest[open + 2..].find('(') {
                Some(k) => open += 2 + k,
                None => break,
            }
        }
        let target = squash(&rest[..open]);
        let Some((lib, func)) = target.rsplit_once('.') else {
            errors.push(format!(
                "{file}:{line}: @ccall `{target}`: write it as `lib.function(...)`"
            ));
            continue;
        };
        let mut depth = 0i32;
        let mut close = None;
        for (k, c) in rest[open..].char_indices() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(open + k);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else {
            errors.push(format!("{file}:{line}: unbalanced @ccall"));
            continue;
        };
        let inner = &rest[open + 1..close];
        if split_top(inner, ';').len() > 1 {
            errors.push(format!(
                "{file}:{line}: varargs `;` in @ccall {func}: the header has none"
            ));
            continue;
        }
        let mut args = Vec::new();
        for a in split_top(inner, ',') {
            if a.trim().is_empty() {
                continue;
            }
            match last_top_colons(&a) {
                Some(k) => args.push((squash(&a[..k]), squash(&a[k + 2..]))),
                None => errors.push(format!(
                    "{file}:{line}: @ccall {func}: argument `{}` has no `::Type`",
                    a.trim()
                )),
            }
        }
        // The return type: `::` then a type name with optional {...}.
        let after = rest[close + 1..].trim_start();
        let ret = if let Some(r) = after.strip_prefix("::") {
            let r = r.trim_start();
            let mut depth = 0i32;
            let mut end = r.len();
            for (k, c) in r.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    c if depth == 0 && !(c.is_alphanumeric() || c == '_' || c == '.') => {
                        end = k;
                        break;
                    }
                    _ => {}
                }
            }
            squash(&r[..end])
        } else {
            errors.push(format!(
                "{file}:{line}: @ccall {func} has no return type (`::T` after the call)"
            ));
            continue;
        };
        calls.push(CCall {
            file: file.to_string(),
            line,
            lib: lib.to_string(),
            func: func.to_string(),
            args,
            ret,
        });
    }
    if errors.is_empty() {
        Ok(calls)
    } else {
        Err(errors)
    }
}

/// Checks calls against the header; returns one message per mismatch.
fn check_calls(calls: &[CCall], header: &BTreeMap<String, Proto>) -> Vec<String> {
    let mut errors = Vec::new();
    for c in calls {
        let at = format!("{}:{}: @ccall {}", c.file, c.line, c.func);
        if c.lib != LIBRARY_CALL {
            errors.push(format!(
                "{at}: the library is `{}`: write `{LIBRARY_CALL}.{}(...)`, the library \
                 NgcCells found (NGC_CELLS_LIB, the preference, the system loader)",
                c.lib, c.func
            ));
        }
        let Some(proto) = header.get(&c.func) else {
            errors.push(format!("{at}: no such function in include/ngc_cells.h"));
            continue;
        };
        if c.args.len() != proto.params.len() {
            errors.push(format!(
                "{at}: {} argument(s), but the header's prototype has {}",
                c.args.len(),
                proto.params.len()
            ));
            continue;
        }
        for (k, ((expr, jt), (ct, pname))) in c.args.iter().zip(&proto.params).enumerate() {
            let ok = julia_spellings(ct, true);
            if !ok.contains(jt) {
                errors.push(format!(
                    "{at}: argument {} (`{expr}`) is `{jt}`, but `{pname}` is `{ct}` in C: use one of {ok:?}",
                    k + 1
                ));
            }
        }
        let ok = julia_spellings(&proto.ret, false);
        if !ok.contains(&c.ret) {
            errors.push(format!(
                "{at}: returns `{}`, but the header returns `{}`: use one of {ok:?}",
                c.ret, proto.ret
            ));
        }
    }
    errors
}

/// How every `@ccall` names its library: NgcCells' `libngc()`, the library it found.
const LIBRARY_CALL: &str = "libngc()";

/// The package's module.
const MODULE: &str = "julia/NgcCells/src/NgcCells.jl";

fn read(rel: &str) -> String {
    std::fs::read_to_string(common::root().join(rel))
        .unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

fn header() -> BTreeMap<String, Proto> {
    let src = std::fs::read_to_string(common::root().join("include/ngc_cells.h")).unwrap();
    parse_header(&src)
}

fn julia_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["julia", "examples/julia"] {
        let mut stack = vec![common::root().join(dir)];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "jl") {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    files
}

fn rel(p: &Path) -> String {
    p.strip_prefix(common::root())
        .unwrap_or(p)
        .display()
        .to_string()
}

/// Checks one Julia source text; every problem as a message.
fn check_source(file: &str, src: &str) -> Vec<String> {
    match find_ccalls(file, src) {
        Ok(calls) => check_calls(&calls, &header()),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------------------
// The tests

#[test]
fn header_prototypes_parse() {
    let h = header();
    assert!(h.len() >= 30, "only {} prototypes: {:?}", h.len(), h.keys());
    let bind = &h["ngc_cell_bind_f32"];
    assert_eq!(bind.ret.to_string(), "NgcStatus");
    let params: Vec<String> = bind.params.iter().map(|(t, _)| t.to_string()).collect();
    assert_eq!(
        params,
        ["NgcCell *", "const char *", "float *", "size_t"],
        "{bind:?}"
    );
    let new = &h["ngc_bernoulli_error_cell_new"];
    assert_eq!(new.params.len(), 7);
    assert_eq!(new.params[6].0.to_string(), "NgcCell * *");
    assert_eq!(new.params[3].0.to_string(), "bool");
    assert_eq!(h["ngc_version"].params.len(), 0);
    assert_eq!(h["ngc_version"].ret.to_string(), "const char *");
    assert_eq!(h["ngc_cell_free"].ret.to_string(), "void");
    assert_eq!(
        h["ngc_cell_compartment_name"].params[2].0.to_string(),
        "const char * *"
    );
    // Every type in the header is known to the mapping (this panics otherwise).
    for p in h.values() {
        julia_spellings(&p.ret, false);
        for (t, _) in &p.params {
            julia_spellings(t, true);
        }
    }
}

#[test]
fn julia_ccalls_match_the_header() {
    let h = header();
    let files = julia_files();
    assert!(
        files.iter().any(|f| f.ends_with(MODULE)),
        "no {MODULE} among {files:?}"
    );
    let mut calls = Vec::new();
    let mut errors = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        match find_ccalls(&rel(f), &src) {
            Ok(c) => calls.extend(c),
            Err(e) => errors.extend(e),
        }
    }
    errors.extend(check_calls(&calls, &h));
    assert!(
        errors.is_empty(),
        "{} problem(s):\n{}",
        errors.len(),
        errors.join("\n")
    );
    assert!(calls.len() >= 30, "only {} @ccall found", calls.len());
    let used: BTreeSet<&str> = calls.iter().map(|c| c.func.as_str()).collect();
    let unused: Vec<&str> = h
        .keys()
        .map(String::as_str)
        .filter(|f| !used.contains(f))
        .collect();
    eprintln!(
        "{} @ccall(s) checked in {} file(s), {} of {} header functions used; not wrapped: {unused:?}",
        calls.len(),
        files.len(),
        used.len(),
        h.len()
    );
    // The wrapper covers everything a Julia user needs (the untyped void* variants
    // are replaced by the _f32/_f64 ones).
    for f in [
        "ngc_bernoulli_error_cell_new",
        "ngc_cell_free",
        "ngc_cell_bind_f32",
        "ngc_cell_bind_f64",
        "ngc_cell_unbind",
        "ngc_cell_set_f32",
        "ngc_cell_get_f64",
        "ngc_cell_advance",
        "ngc_cell_reset",
        "ngc_cell_batched_reset",
        "ngc_cell_evolve",
        "ngc_cell_set_shaped",
        "ngc_cell_loss",
        "ngc_last_error_message",
        "ngc_status_str",
        "ngc_cell_metadata_json",
    ] {
        assert!(used.contains(f), "the Julia module does not call {f}");
    }
}

/// `const NGC_X = Cint(N)` lines of a Julia source, by name.
fn julia_constants(src: &str) -> Result<BTreeMap<String, i64>, String> {
    let mut out = BTreeMap::new();
    for line in src.lines() {
        let Some(rest) = line.strip_prefix("const NGC_") else {
            continue;
        };
        let (name, value) = rest
            .split_once('=')
            .ok_or(format!("cannot read `{line}`"))?;
        let name = format!("NGC_{}", name.trim());
        let value: i64 = value
            .trim()
            .strip_prefix("Cint(")
            .and_then(|v| v.strip_suffix(')'))
            .and_then(|v| v.parse().ok())
            .ok_or(format!("write `{name}` as Cint(N): {line}"))?;
        out.insert(name, value);
    }
    Ok(out)
}

/// The status and dtype constants of the header against a Julia source's: the same
/// names, the same numbers, none missing on either side.
fn check_constants(julia: &str, header_src: &str) -> Vec<String> {
    let wanted: BTreeMap<String, i64> = header_defines(header_src)
        .into_iter()
        .filter(|(n, _)| n == "NGC_OK" || n.starts_with("NGC_ERR_") || n.starts_with("NGC_DTYPE_"))
        .collect();
    let have = match julia_constants(julia) {
        Ok(h) => h,
        Err(e) => return vec![e],
    };
    let mut errors = Vec::new();
    for (name, value) in &have {
        match wanted.get(name) {
            None => errors.push(format!("{name} is not a #define of the header")),
            Some(v) if v != value => {
                errors.push(format!("{name} is {value} in Julia, {v} in the header"))
            }
            _ => {}
        }
    }
    for name in wanted.keys().filter(|n| !have.contains_key(*n)) {
        errors.push(format!(
            "the header's {name} is missing from the Julia module"
        ));
    }
    errors
}

#[test]
fn julia_constants_match_the_header() {
    let header_src = read("include/ngc_cells.h");
    let errors = check_constants(&read(MODULE), &header_src);
    assert!(errors.is_empty(), "{MODULE}:\n{}", errors.join("\n"));
    let n = julia_constants(&read(MODULE)).unwrap().len();
    assert!(n >= 20, "only {n} constants");

    // The check fails on a wrong number, an unknown name, a missing constant.
    let module = read(MODULE);
    for (from, to, want) in [
        (
            "NGC_ERR_OVERLAP = Cint(12)",
            "NGC_ERR_OVERLAP = Cint(13)",
            "is 13 in Julia",
        ),
        (
            "NGC_ERR_OVERLAP = Cint(12)",
            "NGC_ERR_OVERLAPS = Cint(12)",
            "not a #define",
        ),
        (
            "const NGC_ERR_PANIC = Cint(100)\n",
            "",
            "NGC_ERR_PANIC is missing",
        ),
        (
            "NGC_ERR_PANIC = Cint(100)",
            "NGC_ERR_PANIC = 100",
            "as Cint(N)",
        ),
    ] {
        assert!(module.contains(from), "{from}");
        let errors = check_constants(&module.replace(from, to), &header_src);
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "`{from}` -> `{to}` should fail with `{want}`: {errors:?}"
        );
    }
}

#[test]
fn julia_constructs_every_cell_type_of_the_header() {
    let constructors: Vec<String> = header()
        .into_keys()
        .filter(|f| f.ends_with("_cell_new"))
        .collect();
    assert!(
        constructors.contains(&"ngc_bernoulli_error_cell_new".to_string()),
        "{constructors:?}"
    );
    let calls = find_ccalls(MODULE, &read(MODULE)).expect("the module parses");
    let called: BTreeSet<&str> = calls.iter().map(|c| c.func.as_str()).collect();
    let missing: Vec<&String> = constructors
        .iter()
        .filter(|f| !called.contains(f.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{MODULE} does not construct {missing:?}: give each cell type its constructor \
         (the graded family's are written, in the block marked FAMILY: switch it on)"
    );
}

#[test]
fn checker_rejects_wrong_ccalls() {
    let good = r#"
        # a comment with @ccall nonsense(x::Foo)::Bar is ignored, as are strings:
        s = "@ccall libngc().nope()::Cint $(length(x))"
        y = X' * Y'   # transposes are not character literals
        c = 'a'
        @ccall libngc().ngc_cell_bind_f32(cell::Ptr{Cvoid}, "p"::Cstring, a::Ptr{Float32},
                                        length(a)::Csize_t)::Cint
        @ccall libngc().ngc_cell_loss(cell::Ptr{NgcCell}, out::Ref{Cdouble})::Int32
        @ccall libngc().ngc_cell_free(cell.ptr::Ptr{Cvoid})::Cvoid
        @ccall libngc().ngc_cell_compartment_name(c::Ptr{Cvoid}, i::Csize_t, o::Ptr{Cstring})::Cint
        @ccall libngc().ngc_version()::Cstring
    "#;
    let errors = check_source("good.jl", good);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(find_ccalls("good.jl", good).unwrap().len(), 5);

    let bad: &[(&str, &str)] = &[
        // float* given as Float64
        (
            "@ccall libngc().ngc_cell_bind_f32(c::Ptr{Cvoid}, n::Cstring, a::Ptr{Float64}, k::Csize_t)::Cint",
            "argument 3",
        ),
        // float* given as an untyped pointer
        (
            "@ccall libngc().ngc_cell_set_f32(c::Ptr{Cvoid}, n::Cstring, a::Ptr{Cvoid}, k::Csize_t)::Cint",
            "argument 3",
        ),
        // size_t given as Int64
        (
            "@ccall libngc().ngc_cell_batched_reset(c::Ptr{Cvoid}, b::Int64)::Cint",
            "argument 2",
        ),
        // size_t given as UInt32
        (
            "@ccall libngc().ngc_cell_set_threads(c::Ptr{Cvoid}, n::UInt32)::Cint",
            "argument 2",
        ),
        // a missing argument
        (
            "@ccall libngc().ngc_cell_bind_f64(c::Ptr{Cvoid}, n::Cstring, a::Ptr{Float64})::Cint",
            "3 argument(s), but the header's prototype has 4",
        ),
        // one too many
        (
            "@ccall libngc().ngc_cell_reset(c::Ptr{Cvoid}, 0::Cint)::Cint",
            "2 argument(s)",
        ),
        // a function the header does not have
        (
            "@ccall libngc().ngc_cell_step(c::Ptr{Cvoid})::Cint",
            "no such function",
        ),
        // NgcStatus returned as Int64
        ("@ccall libngc().ngc_cell_reset(c::Ptr{Cvoid})::Int64", "returns `Int64`"),
        // const char* returned as Cvoid
        ("@ccall libngc().ngc_version()::Cvoid", "returns `Cvoid`"),
        // a Ref is not a return type
        (
            "@ccall libngc().ngc_cell_loss(c::Ptr{Cvoid}, o::Ptr{Cdouble})::Ref{Cint}",
            "returns",
        ),
        // double* given as Float32
        (
            "@ccall libngc().ngc_cell_loss(c::Ptr{Cvoid}, o::Ref{Float32})::Cint",
            "argument 2",
        ),
        // an output char buffer is not a Cstring
        (
            "@ccall libngc().ngc_cell_name(c::Ptr{Cvoid}, b::Cstring, n::Csize_t, l::Ptr{Csize_t})::Cint",
            "argument 2",
        ),
        // NgcCell** given as a single pointer
        (
            "@ccall libngc().ngc_bernoulli_error_cell_new(n::Cstring, u::Csize_t, b::Csize_t, l::Bool, s::Ptr{Csize_t}, d::Cint, o::Ptr{Cvoid})::Cint",
            "argument 7",
        ),
        // bool given as Cint
        (
            "@ccall libngc().ngc_bernoulli_error_cell_new(n::Cstring, u::Csize_t, b::Csize_t, l::Cint, s::Ptr{Csize_t}, d::Cint, o::Ptr{Ptr{Cvoid}})::Cint",
            "argument 4",
        ),
        // the dtype given as Int64
        (
            "@ccall libngc().ngc_bernoulli_error_cell_new(n::Cstring, u::Csize_t, b::Csize_t, l::Bool, s::Ptr{Csize_t}, d::Int, o::Ptr{Ptr{Cvoid}})::Cint",
            "argument 6",
        ),
        // double given as Float32
        (
            "@ccall libngc().ngc_cell_advance(c::Ptr{Cvoid}, t::Float32, dt::Cdouble)::Cint",
            "argument 2",
        ),
        // an argument without a type
        ("@ccall libngc().ngc_cell_reset(c)::Cint", "has no `::Type`"),
        // no return type
        ("@ccall libngc().ngc_cell_reset(c::Ptr{Cvoid})", "no return type"),
        // a library other than the one NgcCells found
        (
            "@ccall libngc.ngc_cell_reset(c::Ptr{Cvoid})::Cint",
            "the library is `libngc`",
        ),
        (
            "@ccall \"libngc_cells\".ngc_cell_reset(c::Ptr{Cvoid})::Cint",
            "the library is",
        ),
        (
            "@ccall find_lib().ngc_cell_reset(c::Ptr{Cvoid})::Cint",
            "the library is `find_lib()`",
        ),
        // a plain ccall escapes the check
        (
            "ccall((:ngc_cell_reset, libngc), Cint, (Ptr{Cvoid},), c)",
            "plain `ccall`",
        ),
    ];
    for (snippet, want) in bad {
        let errors = check_source("bad.jl", snippet);
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "the checker should reject\n  {snippet}\nwith `{want}`, but said {errors:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Project.toml and the recipe

/// A TOML value of the kinds Project.toml uses here.
#[derive(Clone, Debug, PartialEq)]
enum Toml {
    Str(String),
    List(Vec<String>),
}

/// A TOML table per section ("" for the top level), for the subset Project.toml files
/// use: `[section]`, `key = "string"`, `key = ["a", "b"]`, comments. Anything else is
/// an error, so the parse never guesses.
fn parse_toml(src: &str) -> Result<BTreeMap<String, BTreeMap<String, Toml>>, String> {
    let string = |v: &str| -> Result<String, String> {
        let inner = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or(format!("not a string: {v}"))?;
        if inner.contains(['"', '\\']) {
            return Err(format!("escapes are not supported: {v}"));
        }
        Ok(inner.to_string())
    };
    let mut out: BTreeMap<String, BTreeMap<String, Toml>> = BTreeMap::new();
    let mut section = String::new();
    out.insert(section.clone(), BTreeMap::new());
    for (n, raw) in src.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            if out.insert(section.clone(), BTreeMap::new()).is_some() {
                return Err(format!("line {}: [{section}] twice", n + 1));
            }
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or(format!("line {}: cannot read `{line}`", n + 1))?;
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
        {
            return Err(format!("line {}: bad key `{key}`", n + 1));
        }
        let value = if let Some(items) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            Toml::List(
                items
                    .split(',')
                    .map(str::trim)
                    .filter(|i| !i.is_empty())
                    .map(string)
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("line {}: {e}", n + 1))?,
            )
        } else {
            Toml::Str(string(value).map_err(|e| format!("line {}: {e}", n + 1))?)
        };
        let table = out.get_mut(&section).unwrap();
        if table.insert(key.to_string(), value).is_some() {
            return Err(format!("line {}: `{key}` twice in [{section}]", n + 1));
        }
    }
    Ok(out)
}

fn toml_str<'a>(
    t: &'a BTreeMap<String, BTreeMap<String, Toml>>,
    section: &str,
    key: &str,
) -> Option<&'a str> {
    match t.get(section)?.get(key)? {
        Toml::Str(s) => Some(s),
        Toml::List(_) => None,
    }
}

/// 8-4-4-4-12 lowercase hexadecimal digits.
fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| {
            p.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        })
}

/// The UUIDs of the packages NgcCells may use: Julia's standard libraries (their
/// Project.toml files) and Preferences.jl (its Project.toml in the General registry).
const KNOWN_UUIDS: &[(&str, &str, bool)] = &[
    ("Libdl", "8f399da3-3557-5675-b5ff-fb832c97cbdb", true),
    (
        "LinearAlgebra",
        "37e2e46d-f89d-539d-b4ee-838fcccc9c8e",
        true,
    ),
    ("Random", "9a3f8284-a2c9-5f02-9a11-845980a1fd5c", true),
    ("Test", "8dfed614-e22c-5e08-85e1-65c5234f0b40", true),
    ("Preferences", "21216c6a-2e73-6563-6e65-726566657250", false),
];

/// The packages a Julia source loads with `using`/`import` (not relative `.X` ones).
fn loaded_packages(src: &str) -> Result<BTreeSet<String>, String> {
    let code = julia_code_only(src)?;
    let mut out = BTreeSet::new();
    for line in code.lines() {
        let line = line.trim();
        let Some(rest) = line
            .strip_prefix("using ")
            .or_else(|| line.strip_prefix("import "))
        else {
            continue;
        };
        let names = rest.split(':').next().unwrap();
        for name in names.split(',') {
            let name = name.trim();
            if name.is_empty() || name.starts_with('.') {
                continue;
            }
            let pkg = name.split('.').next().unwrap();
            if !["Base", "Core", "Main"].contains(&pkg) {
                out.insert(pkg.to_string());
            }
        }
    }
    Ok(out)
}

/// Checks julia/NgcCells/Project.toml against the module, the tests and the crate.
fn check_project(project: &str, module: &str, tests: &str, crate_version: &str) -> Vec<String> {
    let t = match parse_toml(project) {
        Ok(t) => t,
        Err(e) => return vec![format!("Project.toml: {e}")],
    };
    let mut errors = Vec::new();
    let mut need = |ok: bool, what: String| {
        if !ok {
            errors.push(what);
        }
    };
    let name = toml_str(&t, "", "name").unwrap_or_default();
    need(
        name == "NgcCells",
        format!("name is `{name}`, not NgcCells"),
    );
    need(
        julia_code_only(module)
            .is_ok_and(|c| c.lines().any(|l| l.trim() == format!("module {name}"))),
        format!("src/NgcCells.jl does not define `module {name}`"),
    );
    let uuid = toml_str(&t, "", "uuid").unwrap_or_default();
    need(
        is_uuid(uuid),
        format!("uuid `{uuid}` is not a UUID (8-4-4-4-12 hex)"),
    );
    need(
        !KNOWN_UUIDS.iter().any(|(_, u, _)| *u == uuid),
        format!("uuid `{uuid}` is another package's"),
    );
    let version = toml_str(&t, "", "version").unwrap_or_default();
    need(
        version == crate_version,
        format!("version is `{version}`, the crate's (Cargo.toml) is {crate_version}"),
    );
    let julia = toml_str(&t, "compat", "julia").unwrap_or_default();
    need(
        julia == "1.9",
        format!("[compat] julia is `{julia}`, not \"1.9\""),
    );

    let table = |s: &str| -> BTreeMap<String, String> {
        t.get(s)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| match v {
                Toml::Str(v) => Some((k.clone(), v.clone())),
                Toml::List(_) => None,
            })
            .collect()
    };
    let (deps, extras, compat) = (table("deps"), table("extras"), table("compat"));
    for (pkg, u) in deps.iter().chain(&extras) {
        match KNOWN_UUIDS.iter().find(|(n, _, _)| n == pkg) {
            Some((_, known, _)) => need(u == known, format!("{pkg}'s uuid is `{u}`, not {known}")),
            None => need(
                false,
                format!("{pkg}: not a package this check knows (add its UUID)"),
            ),
        }
    }
    for pkg in deps.keys() {
        let stdlib = KNOWN_UUIDS.iter().any(|(n, _, s)| n == pkg && *s);
        need(
            stdlib || compat.contains_key(pkg),
            format!("[compat] has no entry for {pkg}"),
        );
    }
    for pkg in compat.keys().filter(|k| *k != "julia") {
        need(
            deps.contains_key(pkg),
            format!("[compat] names {pkg}, which is not in [deps]"),
        );
    }
    match loaded_packages(module) {
        Ok(used) => {
            for pkg in &used {
                need(
                    deps.contains_key(pkg),
                    format!("the module loads {pkg}, which is not in [deps]"),
                );
            }
            for pkg in deps.keys() {
                need(
                    used.contains(pkg),
                    format!("[deps] has {pkg}, which the module does not load"),
                );
            }
        }
        Err(e) => need(false, format!("src/NgcCells.jl: {e}")),
    }
    let target: Vec<String> = match t.get("targets").and_then(|s| s.get("test")) {
        Some(Toml::List(l)) => l.clone(),
        _ => {
            need(false, "[targets] has no test = [...]".into());
            vec![]
        }
    };
    match loaded_packages(tests) {
        Ok(used) => {
            for pkg in used.iter().filter(|p| *p != name) {
                need(
                    extras.contains_key(pkg) && target.contains(pkg),
                    format!(
                        "test/runtests.jl loads {pkg}: it belongs in [extras] and [targets] test"
                    ),
                );
            }
            need(
                used.contains("Test"),
                "test/runtests.jl does not use Test".into(),
            );
            need(
                used.contains(name),
                format!("test/runtests.jl does not use {name}"),
            );
        }
        Err(e) => need(false, format!("test/runtests.jl: {e}")),
    }
    for pkg in &target {
        need(
            extras.contains_key(pkg),
            format!("[targets] test names {pkg}, not in [extras]"),
        );
    }
    errors
}

#[test]
fn project_toml_is_valid_and_matches_the_crate() {
    let project = read("julia/NgcCells/Project.toml");
    let module = read(MODULE);
    let tests = read("julia/NgcCells/test/runtests.jl");
    let version = env!("CARGO_PKG_VERSION");
    let errors = check_project(&project, &module, &tests, version);
    assert!(
        errors.is_empty(),
        "julia/NgcCells/Project.toml:\n{}",
        errors.join("\n")
    );

    // Each rule fails when broken.
    let cases: &[(&str, &str, &str)] = &[
        ("version = \"", "version = \"9", "version is"),
        ("name = \"NgcCells\"", "name = \"NgcCell\"", "name is"),
        ("uuid = \"103e4940", "uuid = \"103e494", "not a UUID"),
        (
            "uuid = \"103e4940-47e9-42f1-93f3-55f3b13926cf\"",
            "uuid = \"8f399da3-3557-5675-b5ff-fb832c97cbdb\"",
            "another package's",
        ),
        ("julia = \"1.9\"", "julia = \"1.6\"", "[compat] julia"),
        ("Preferences = \"1\"\n", "", "no entry for Preferences"),
        (
            "Libdl = \"8f399da3-3557-5675-b5ff-fb832c97cbdb\"\nPref",
            "Pref",
            "not in [deps]",
        ),
        (
            "Libdl = \"8f399da3-3557-5675-b5ff-fb832c97cbdb\"",
            "Libdl = \"8f399da3-3557-5675-b5ff-fb832c97cbdc\"",
            "Libdl's uuid",
        ),
        (
            "test = [\"LinearAlgebra\", ",
            "test = [",
            "belongs in [extras]",
        ),
        ("[targets]", "[targets]\n[targets]", "twice"),
    ];
    for (from, to, want) in cases {
        assert!(project.contains(from), "Project.toml has no `{from}`");
        let errors = check_project(&project.replacen(from, to, 1), &module, &tests, version);
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "`{from}` -> `{to}` should fail with `{want}`: {errors:?}"
        );
    }
    // A dependency the module does not load, and a package it loads without declaring.
    let errors = check_project(
        &project,
        &module.replace("using Preferences:", "using Prefs:"),
        &tests,
        version,
    );
    assert!(
        errors.iter().any(|e| e.contains("does not load")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("loads Prefs")),
        "{errors:?}"
    );
}

/// What the recipe is checked against: facts of the crate and the package.
struct Build {
    version: String,
    rust_version: String,
    lib_name: String,
    crate_types: Vec<String>,
    headers: Vec<String>,
    julia_compat: String,
    julia_default_library: String,
}

fn build_facts() -> Build {
    let cargo = read("Cargo.toml");
    let lib_section = cargo
        .split("\n[lib]\n")
        .nth(1)
        .expect("Cargo.toml has [lib]");
    let lib_section = lib_section.split("\n[").next().unwrap();
    let value = |key: &str| -> String {
        lib_section
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim().strip_prefix('='))
            .unwrap_or_else(|| panic!("[lib] has no {key}"))
            .trim()
            .to_string()
    };
    let lib_name = value("name").trim_matches('"').to_string();
    let crate_types = value("crate-type")
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|t| t.trim().trim_matches('"').to_string())
        .collect();
    let mut headers: Vec<String> = std::fs::read_dir(common::root().join("include"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".h") || n.ends_with(".hpp"))
        .collect();
    headers.sort();
    let project = parse_toml(&read("julia/NgcCells/Project.toml")).unwrap();
    let module = read(MODULE);
    let julia_default_library = module
        .lines()
        .find_map(|l| l.strip_prefix("const LIBRARY_DEFAULT = "))
        .expect("the module defines LIBRARY_DEFAULT")
        .trim()
        .trim_matches('"')
        .to_string();
    Build {
        version: env!("CARGO_PKG_VERSION").to_string(),
        rust_version: env!("CARGO_PKG_RUST_VERSION").to_string(),
        lib_name,
        crate_types,
        headers,
        julia_compat: toml_str(&project, "compat", "julia").unwrap().to_string(),
        julia_default_library,
    }
}

fn version_at_least(have: &str, want: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    let (mut h, mut w) = (parse(have), parse(want));
    h.resize(3, 0);
    w.resize(3, 0);
    h >= w
}

/// The first string literal after `key` in `src`: `key("...")` or `key = "..."`.
fn literal_after<'a>(src: &'a str, key: &str) -> Option<&'a str> {
    let rest = &src[src.find(key)? + key.len()..];
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    Some(&rest[start..end])
}

/// Checks julia/build_tarballs.jl against the build; one message per problem.
fn check_recipe(recipe: &str, b: &Build) -> Vec<String> {
    let mut errors = Vec::new();
    let mut need = |ok: bool, what: String| {
        if !ok {
            errors.push(what);
        }
    };
    need(
        recipe.contains("using BinaryBuilder") && recipe.contains("build_tarballs(ARGS, name, version, sources, script, platforms, products, dependencies"),
        "not in Yggdrasil's format (using BinaryBuilder ... build_tarballs(ARGS, name, version, ...))".into(),
    );
    let name = literal_after(recipe, "\nname = ").unwrap_or_default();
    need(
        name == b.lib_name,
        format!("name is `{name}`, the library is {}", b.lib_name),
    );
    let version = literal_after(recipe, "\nversion = v").unwrap_or_default();
    need(
        version == b.version,
        format!("version is `{version}`, Cargo.toml's is {}", b.version),
    );

    // The source: a git repository at a full commit hash, checked out where the script cds.
    let url = literal_after(recipe, "GitSource(").unwrap_or_default();
    let commit = recipe
        .split("GitSource(")
        .nth(1)
        .and_then(|r| r.split(',').nth(1))
        .map(|c| c.trim().trim_end_matches(')').trim().trim_matches('"'))
        .unwrap_or_default();
    need(
        url.ends_with(".git"),
        format!("the GitSource URL `{url}` is not a git repository"),
    );
    need(
        commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()),
        format!("the GitSource commit `{commit}` is not a full commit hash"),
    );
    let checkout = url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches(".git");

    let script = recipe
        .split("script = raw\"\"\"")
        .nth(1)
        .and_then(|s| s.split("\"\"\"").next())
        .unwrap_or_default();
    need(!script.is_empty(), "no script = raw\"\"\"...\"\"\"".into());
    let lines: Vec<&str> = script.lines().map(str::trim).collect();
    need(
        lines.contains(&format!("cd ${{WORKSPACE}}/srcdir/{checkout}").as_str()),
        format!("the script does not cd into the checkout, ${{WORKSPACE}}/srcdir/{checkout}"),
    );
    // The cargo command: the release library, with the committed Cargo.lock.
    let cargo: Vec<&str> = lines
        .iter()
        .find(|l| l.starts_with("cargo "))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    for arg in ["build", "--release", "--lib", "--locked"] {
        need(
            cargo.contains(&arg),
            format!("the cargo command {cargo:?} lacks {arg}"),
        );
    }
    need(
        common::root().join("Cargo.lock").is_file(),
        "--locked needs the committed Cargo.lock".into(),
    );
    need(
        b.crate_types.iter().any(|t| t == "cdylib"),
        format!(
            "Cargo.toml's crate-type {:?} builds no cdylib",
            b.crate_types
        ),
    );
    let built = format!("target/${{rust_target}}/release/*{}.${{dlext}}", b.lib_name);
    need(
        lines
            .iter()
            .any(|l| l.starts_with("install ") && l.contains(&built) && l.contains("${libdir}")),
        format!("the script does not install {built} into ${{libdir}}"),
    );

    // The products: the library by both of its names, and every header, installed.
    let lib = format!("lib{}", b.lib_name);
    need(
        recipe.contains(&format!(
            "LibraryProduct([\"{lib}\", \"{}\"], :{lib})",
            b.lib_name
        )),
        format!("no LibraryProduct([\"{lib}\", \"{}\"], :{lib})", b.lib_name),
    );
    need(
        b.julia_default_library == lib,
        format!(
            "NgcCells asks the system loader for `{}`, the JLL ships {lib}",
            b.julia_default_library
        ),
    );
    let header_install = lines
        .iter()
        .find(|l| l.starts_with("install ") && l.contains("${includedir}"))
        .copied()
        .unwrap_or_default();
    for h in &b.headers {
        need(
            recipe.contains(&format!("FileProduct(\"include/{h}\", ")),
            format!("no FileProduct(\"include/{h}\", ...)"),
        );
        need(
            header_install
                .split_whitespace()
                .any(|w| w == format!("include/{h}")),
            format!("the script does not install include/{h}"),
        );
    }
    need(
        lines.iter().any(|l| l.starts_with("install_license ")),
        "the script installs no license (install_license)".into(),
    );

    // The toolchain and the Julia versions.
    let rust = literal_after(recipe, "preferred_rust_version = v").unwrap_or_default();
    need(
        version_at_least(rust, &b.rust_version),
        format!(
            "preferred_rust_version `{rust}` is older than Cargo.toml's rust-version {}",
            b.rust_version
        ),
    );
    let compat = literal_after(recipe, "julia_compat = ").unwrap_or_default();
    need(
        compat == b.julia_compat,
        format!(
            "julia_compat is `{compat}`, the package's is {}",
            b.julia_compat
        ),
    );
    errors
}

#[test]
fn recipe_matches_the_build() {
    let recipe = read("julia/build_tarballs.jl");
    let b = build_facts();
    assert_eq!(b.lib_name, "ngc_cells");
    assert!(
        b.headers.contains(&"ngc_cells.h".to_string()),
        "{:?}",
        b.headers
    );
    let errors = check_recipe(&recipe, &b);
    assert!(
        errors.is_empty(),
        "julia/build_tarballs.jl:\n{}",
        errors.join("\n")
    );

    // The license the recipe installs exists, and is the one Cargo.toml names.
    let license = recipe
        .lines()
        .find_map(|l| l.trim().strip_prefix("install_license "))
        .unwrap()
        .trim();
    let text = std::fs::read_to_string(common::root().join(license))
        .unwrap_or_else(|e| panic!("julia/build_tarballs.jl installs {license}: {e}"));
    assert!(
        text.starts_with("BSD 3-Clause License")
            && read("Cargo.toml").contains("license = \"BSD-3-Clause\""),
        "{license} and Cargo.toml's license disagree"
    );

    // Each rule fails when broken.
    let cases: &[(&str, &str, &str)] = &[
        ("version = v\"", "version = v\"9", "version is"),
        ("name = \"ngc_cells\"", "name = \"ngc-cells\"", "name is"),
        ("ngc-cells.git\"", "ngc-cells\"", "not a git repository"),
        (
            "cd ${WORKSPACE}/srcdir/ngc-cells",
            "cd ${WORKSPACE}/srcdir/ngc_cells",
            "does not cd",
        ),
        (
            "\"0000000000000000000000000000000000000000\"",
            "\"00000000\"",
            "full commit hash",
        ),
        (
            "--release --locked --lib",
            "--release --locked",
            "lacks --lib",
        ),
        (
            "--release --locked --lib",
            "--release --lib",
            "lacks --locked",
        ),
        (
            "cargo build --release --locked --lib\n",
            "cargo rustc --release --locked --lib\n",
            "lacks build",
        ),
        (
            "release/*ngc_cells.${dlext}",
            "debug/*ngc_cells.${dlext}",
            "does not install target",
        ),
        (
            "[\"libngc_cells\", \"ngc_cells\"]",
            "[\"libngc_cells\"]",
            "no LibraryProduct",
        ),
        (
            "    FileProduct(\"include/ngc_cells.hpp\", :ngc_cells_hpp),\n",
            "",
            "no FileProduct(\"include/ngc_cells.hpp\"",
        ),
        (
            " include/ngc_cells.hpp -t",
            " -t",
            "does not install include/ngc_cells.hpp",
        ),
        ("install_license LICENSE\n", "", "installs no license"),
        (
            "preferred_rust_version = v\"1.94.0\"",
            "preferred_rust_version = v\"1.80\"",
            "older than",
        ),
        (
            "julia_compat = \"1.9\"",
            "julia_compat = \"1.6\"",
            "julia_compat is",
        ),
    ];
    for (from, to, want) in cases {
        assert!(recipe.contains(from), "the recipe has no `{from}`");
        let errors = check_recipe(&recipe.replacen(from, to, 1), &b);
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "`{from}` -> `{to}` should fail with `{want}`: {errors:?}"
        );
    }
    // A header the recipe does not know, and a library name NgcCells would not find.
    let mut more = build_facts();
    more.headers.push("ngc_extra.h".into());
    more.julia_default_library = "ngc_cells".into();
    let errors = check_recipe(&recipe, &more);
    assert!(
        errors.iter().any(|e| e.contains("include/ngc_extra.h")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("asks the system loader")),
        "{errors:?}"
    );
}

// ---------------------------------------------------------------------------------------
// The layout, the examples and the docs

#[test]
fn package_layout_and_examples_use_the_package() {
    for f in [
        "julia/NgcCells/Project.toml",
        "julia/NgcCells/src/NgcCells.jl",
        "julia/NgcCells/test/runtests.jl",
        "julia/build_tarballs.jl",
    ] {
        assert!(common::root().join(f).is_file(), "{f} is missing");
    }
    // One module: no loose copy of the wrapper elsewhere.
    let copies: Vec<String> = julia_files()
        .iter()
        .map(|p| rel(p))
        .filter(|p| p.ends_with("NgcCells.jl") && p != MODULE)
        .collect();
    assert!(copies.is_empty(), "loose copies of the module: {copies:?}");
    let examples: Vec<PathBuf> = julia_files()
        .into_iter()
        .filter(|p| rel(p).starts_with("examples/"))
        .collect();
    assert!(!examples.is_empty());
    for e in &examples {
        let code = julia_code_only(&std::fs::read_to_string(e).unwrap()).unwrap();
        assert!(
            loaded_packages(&code).unwrap().contains("NgcCells"),
            "{} does not load the package (`using NgcCells`)",
            rel(e)
        );
        assert!(
            !code.contains("include("),
            "{} includes a file instead",
            rel(e)
        );
    }
    // The tests exercise the quick start and the model demo.
    let tests = read("julia/NgcCells/test/runtests.jl");
    for needle in [
        "@testset",
        "DP_REF",
        "BernoulliErrorCell",
        "bind!",
        "advance!",
        "mul!(logits",
    ] {
        assert!(tests.contains(needle), "runtests.jl has no `{needle}`");
    }
}

#[test]
fn docs_say_what_was_run_and_what_was_only_checked() {
    let page = read("docs/bindings/julia.md");
    let words = page.split_whitespace().collect::<Vec<_>>().join(" ");
    for phrase in [
        "checked against the header but not executed",
        "tests/julia_ccall.rs",
        "julia/NgcCells",
        "build_tarballs.jl",
        "NGC_CELLS_LIB",
    ] {
        assert!(
            words.contains(phrase),
            "docs/bindings/julia.md does not say `{phrase}`"
        );
    }
    let code = page
        .split("```julia\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a Julia block");
    assert!(julia_code_only(code).is_ok());
    assert!(
        loaded_packages(code).unwrap().contains("NgcCells"),
        "the page's Julia snippet should load the package"
    );
    assert!(
        !code.contains("include("),
        "the snippet includes a file instead of the package"
    );
    for f in ["BernoulliErrorCell", "bind!", "advance!", "close"] {
        assert!(code.contains(f), "the page's Julia snippet should use {f}");
    }
}
