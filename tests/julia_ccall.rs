//! Julia cannot be installed on these machines, so the Julia bindings
//! (`examples/julia/*.jl`) are checked against the C header instead of run: every
//! `@ccall` must name a function of `include/ngc_cells.h`, with the header's argument
//! count, each argument's Julia type a faithful spelling of the C type, and the
//! return type likewise. The mapping is strict (a `Ptr{Float64}` for a `float *`, an
//! `Int64` for a `size_t`, a `Cstring` for a `char *` output buffer all fail), and
//! `checker_rejects_wrong_ccalls` shows that it does.

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
        let Some(open) = rest.find('(') else {
            errors.push(format!("{file}:{line}: cannot read this @ccall"));
            continue;
        };
        let target = squash(&rest[..open]);
        let Some((_lib, func)) = target.rsplit_once('.') else {
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

fn header() -> BTreeMap<String, Proto> {
    let src = std::fs::read_to_string(common::root().join("include/ngc_cells.h")).unwrap();
    parse_header(&src)
}

fn julia_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["examples/julia", "bindings/julia"] {
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
        files.iter().any(|f| f.ends_with("NgcCells.jl")),
        "no NgcCells.jl among {files:?}"
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
        "ngc_cell_loss",
        "ngc_last_error_message",
        "ngc_status_str",
        "ngc_cell_metadata_json",
    ] {
        assert!(used.contains(f), "the Julia module does not call {f}");
    }
}

#[test]
fn julia_constants_match_the_header() {
    let defines = header_defines(
        &std::fs::read_to_string(common::root().join("include/ngc_cells.h")).unwrap(),
    );
    let src = std::fs::read_to_string(common::root().join("examples/julia/NgcCells.jl")).unwrap();
    let mut n = 0;
    for line in src.lines() {
        let Some(rest) = line.strip_prefix("const NGC_") else {
            continue;
        };
        let (name, value) = rest.split_once('=').expect("const NGC_X = Cint(N)");
        let name = format!("NGC_{}", name.trim());
        let value: i64 = value
            .trim()
            .strip_prefix("Cint(")
            .and_then(|v| v.strip_suffix(')'))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("write `{name}` as Cint(N): {line}"));
        assert_eq!(
            defines.get(&name),
            Some(&value),
            "{name} in NgcCells.jl differs from the header"
        );
        n += 1;
    }
    assert!(n >= 20, "only {n} constants");
}

#[test]
fn checker_rejects_wrong_ccalls() {
    let good = r#"
        # a comment with @ccall nonsense(x::Foo)::Bar is ignored, as are strings:
        s = "@ccall libngc.nope()::Cint $(length(x))"
        y = X' * Y'   # transposes are not character literals
        c = 'a'
        @ccall libngc.ngc_cell_bind_f32(cell::Ptr{Cvoid}, "p"::Cstring, a::Ptr{Float32},
                                        length(a)::Csize_t)::Cint
        @ccall libngc.ngc_cell_loss(cell::Ptr{NgcCell}, out::Ref{Cdouble})::Int32
        @ccall libngc.ngc_cell_free(cell.ptr::Ptr{Cvoid})::Cvoid
        @ccall libngc.ngc_cell_compartment_name(c::Ptr{Cvoid}, i::Csize_t, o::Ptr{Cstring})::Cint
        @ccall libngc.ngc_version()::Cstring
    "#;
    let errors = check_source("good.jl", good);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(find_ccalls("good.jl", good).unwrap().len(), 5);

    let bad: &[(&str, &str)] = &[
        // float* given as Float64
        (
            "@ccall libngc.ngc_cell_bind_f32(c::Ptr{Cvoid}, n::Cstring, a::Ptr{Float64}, k::Csize_t)::Cint",
            "argument 3",
        ),
        // float* given as an untyped pointer
        (
            "@ccall libngc.ngc_cell_set_f32(c::Ptr{Cvoid}, n::Cstring, a::Ptr{Cvoid}, k::Csize_t)::Cint",
            "argument 3",
        ),
        // size_t given as Int64
        (
            "@ccall libngc.ngc_cell_batched_reset(c::Ptr{Cvoid}, b::Int64)::Cint",
            "argument 2",
        ),
        // size_t given as UInt32
        (
            "@ccall libngc.ngc_cell_set_threads(c::Ptr{Cvoid}, n::UInt32)::Cint",
            "argument 2",
        ),
        // a missing argument
        (
            "@ccall libngc.ngc_cell_bind_f64(c::Ptr{Cvoid}, n::Cstring, a::Ptr{Float64})::Cint",
            "3 argument(s), but the header's prototype has 4",
        ),
        // one too many
        (
            "@ccall libngc.ngc_cell_reset(c::Ptr{Cvoid}, 0::Cint)::Cint",
            "2 argument(s)",
        ),
        // a function the header does not have
        (
            "@ccall libngc.ngc_cell_step(c::Ptr{Cvoid})::Cint",
            "no such function",
        ),
        // NgcStatus returned as Int64
        ("@ccall libngc.ngc_cell_reset(c::Ptr{Cvoid})::Int64", "returns `Int64`"),
        // const char* returned as Cvoid
        ("@ccall libngc.ngc_version()::Cvoid", "returns `Cvoid`"),
        // a Ref is not a return type
        (
            "@ccall libngc.ngc_cell_loss(c::Ptr{Cvoid}, o::Ptr{Cdouble})::Ref{Cint}",
            "returns",
        ),
        // double* given as Float32
        (
            "@ccall libngc.ngc_cell_loss(c::Ptr{Cvoid}, o::Ref{Float32})::Cint",
            "argument 2",
        ),
        // an output char buffer is not a Cstring
        (
            "@ccall libngc.ngc_cell_name(c::Ptr{Cvoid}, b::Cstring, n::Csize_t, l::Ptr{Csize_t})::Cint",
            "argument 2",
        ),
        // NgcCell** given as a single pointer
        (
            "@ccall libngc.ngc_bernoulli_error_cell_new(n::Cstring, u::Csize_t, b::Csize_t, l::Bool, s::Ptr{Csize_t}, d::Cint, o::Ptr{Cvoid})::Cint",
            "argument 7",
        ),
        // bool given as Cint
        (
            "@ccall libngc.ngc_bernoulli_error_cell_new(n::Cstring, u::Csize_t, b::Csize_t, l::Cint, s::Ptr{Csize_t}, d::Cint, o::Ptr{Ptr{Cvoid}})::Cint",
            "argument 4",
        ),
        // the dtype given as Int64
        (
            "@ccall libngc.ngc_bernoulli_error_cell_new(n::Cstring, u::Csize_t, b::Csize_t, l::Bool, s::Ptr{Csize_t}, d::Int, o::Ptr{Ptr{Cvoid}})::Cint",
            "argument 6",
        ),
        // double given as Float32
        (
            "@ccall libngc.ngc_cell_advance(c::Ptr{Cvoid}, t::Float32, dt::Cdouble)::Cint",
            "argument 2",
        ),
        // an argument without a type
        ("@ccall libngc.ngc_cell_reset(c)::Cint", "has no `::Type`"),
        // no return type
        ("@ccall libngc.ngc_cell_reset(c::Ptr{Cvoid})", "no return type"),
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

#[test]
fn readme_says_julia_is_checked_not_run() {
    let readme = std::fs::read_to_string(common::root().join("docs/bindings/julia.md")).unwrap();
    let section = readme
        .split("# Julia\n")
        .nth(1)
        .expect("README has a Julia section");
    let section = section.split("\n## ").next().unwrap();
    let words = section.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("checked against the header but not executed"),
        "the README's Julia section must say the code is checked against the header but not executed"
    );
    let code = section
        .split("```julia\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a Julia block");
    assert!(julia_code_only(code).is_ok());
    for f in ["BernoulliErrorCell", "bind!", "advance!", "close"] {
        assert!(
            code.contains(f),
            "the README's Julia snippet should use {f}"
        );
    }
}
