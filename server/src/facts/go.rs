//! Go facts: what a Go file says, in plain values the rules can read without the tree.
//! `grammars-queries/go/facts.scm` specifies what is extracted; `fact_matches` finds the same
//! matches in one walk (several times faster than the query engine on large files, and this runs
//! on every keystroke), and a test checks the two agree on every Go file of the fixtures.

use std::collections::HashMap;

use tree_sitter::{Node, Tree};

use super::{Span, Suppression};
use crate::syntax::{descendants, node_text, GO_FACTS};

/// Long expression texts are cut to this many bytes: rules look at their start only.
const MAX_VALUE_TEXT: usize = 240;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoFacts {
    pub package: Option<String>,
    pub imports: Vec<Import>,
    pub functions: Vec<Function>,
    pub calls: Vec<Call>,
    /// References to members of imported packages: `alias.Name` in type or value position, and
    /// unqualified type names in files with dot imports.
    pub pkg_refs: Vec<PkgRef>,
    pub literals: Vec<CompositeLiteral>,
    pub consts: Vec<Const>,
    /// Package-level variable names declared in this file.
    pub globals: Vec<String>,
    pub assignments: Vec<Assignment>,
    /// Writes to string-ish variables (`x := ..`, `x = append(x, ..)`, `x += ..`,
    /// `x.WriteString(..)`, `fmt.Fprintf(x, ..)`), for how messages are built.
    pub string_writes: Vec<StringWrite>,
    /// Type names declared in this file.
    pub declared_types: Vec<String>,
    pub suppressions: Vec<Suppression>,
    /// Objects of imported types declared as a local variable and read field by field (see
    /// [`ObjectSite`]).
    pub object_sites: Vec<ObjectSite>,
    /// String literals written into a named field other than in a composite literal (see
    /// [`FieldLiteral`]).
    pub field_literals: Vec<FieldLiteral>,
    /// `receiver.Field = <expression>` other than a string literal (see [`FieldExpr`]).
    pub field_exprs: Vec<FieldExpr>,
    /// The tree has ERROR or MISSING nodes (half-typed code): facts are best effort.
    pub has_syntax_errors: bool,
    /// How the parse went (set by the database, which does the parsing).
    pub parse: crate::syntax::ParseOutcome,
    /// Range loops and names bound to calls (see [`super::go_loops`]).
    pub loops: super::go_loops::LoopFacts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// `import "x/y"`: the package name is used.
    Plain,
    /// `import alias "x/y"`.
    Named,
    /// `import . "x/y"`.
    Dot,
    /// `import _ "x/y"`.
    Blank,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub path: String,
    /// The name the file uses for the package (alias, or the guessed package name).
    pub local_name: String,
    pub kind: ImportKind,
    pub span: Span,
}

/// A type as written: `alias.Name`, `Name`, with pointers stripped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    /// The import path, when the type is qualified by a known import alias.
    pub import: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: Option<String>,
    pub ty: Option<TypeRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// `None` for a function literal.
    pub name: Option<String>,
    /// For methods: the receiver variable and its type name.
    pub receiver: Option<(Option<String>, String)>,
    pub params: Vec<Param>,
    pub span: Span,
    /// The name (or `func` keyword for literals), where findings about the function point.
    pub name_span: Span,
    /// Index of the enclosing function, for literals.
    pub parent: Option<u32>,
    /// Names declared inside (parameters, `:=`, `var`, range variables).
    pub locals: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Ident(String),
    /// A selector chain such as `h.adapt`.
    Selector(Vec<String>),
    /// A function literal: index into `functions`.
    FuncLit(u32),
    /// A string literal's value.
    Str(String),
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The callee as a chain: `cpContext.Client.Get` → `["cpContext", "Client", "Get"]`;
    /// non-identifier parts appear as `()` (call result), `[]` (index) or `?`.
    pub callee: Vec<String>,
    /// For `alias.Func(..)` with a known import: the import path.
    pub import: Option<String>,
    pub args: Vec<Arg>,
    pub span: Span,
    pub callee_span: Span,
    /// The innermost enclosing function.
    pub function: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkgRef {
    /// Import path; for dot-import candidates, `None` (every dot import is a candidate).
    pub import: Option<String>,
    pub name: String,
    pub span: Span,
    pub function: Option<u32>,
    /// In type position (`var x alias.T`, `&alias.T{}`), not a value (`alias.Func`).
    pub is_type: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedField {
    pub key: String,
    pub key_span: Span,
    pub value_span: Span,
    /// The value's source text, cut to a few hundred bytes.
    pub value_text: String,
    /// The value when it is a string literal.
    pub string_value: Option<String>,
    /// Identifiers the value mentions (up to 32; none for nested literals and function
    /// literals, whose own facts describe them).
    pub idents: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositeLiteral {
    pub ty: Option<TypeRef>,
    pub fields: Vec<KeyedField>,
    pub span: Span,
    pub function: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Const {
    pub name: String,
    pub ty: Option<TypeRef>,
    /// The value when it is a single string literal.
    pub value: Option<String>,
    pub name_span: Span,
    pub value_span: Option<Span>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignTarget {
    /// Root identifier of the target (`x` in `x.y[0] = ..`).
    pub root: String,
    /// `true` when the target is written through a selector on an import (`pkg.Var = ..`).
    pub qualified_import: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub targets: Vec<AssignTarget>,
    pub span: Span,
    pub function: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringWrite {
    pub var: String,
    pub span: Span,
    pub function: Option<u32>,
    /// Inside a loop body: the variable grows per item.
    pub in_loop: bool,
    /// The first string literal written (the format of a `Sprintf`/`Fprintf`).
    pub first_literal: Option<String>,
}

impl GoFacts {
    pub fn import_by_name(&self, local: &str) -> Option<&Import> {
        self.imports
            .iter()
            .find(|i| i.local_name == local && matches!(i.kind, ImportKind::Plain | ImportKind::Named))
    }

    pub fn dot_imports(&self) -> impl Iterator<Item = &Import> {
        self.imports.iter().filter(|i| i.kind == ImportKind::Dot)
    }

    /// The function a byte offset lies in, innermost first.
    pub fn function_at(&self, offset: u32) -> Option<u32> {
        innermost(&self.functions, offset)
    }

    /// The enclosing named function (walking out of literals).
    pub fn named_function(&self, mut index: u32) -> u32 {
        while let Some(parent) = self.functions[index as usize].parent {
            if self.functions[index as usize].name.is_some() {
                break;
            }
            index = parent;
        }
        index
    }

    /// Is `name` declared locally in function `index` or in any function enclosing it?
    pub fn is_local(&self, mut index: Option<u32>, name: &str) -> bool {
        while let Some(i) = index {
            let function = &self.functions[i as usize];
            if function.locals.iter().any(|l| l == name) {
                return true;
            }
            index = function.parent;
        }
        false
    }
}

fn innermost(functions: &[Function], offset: u32) -> Option<u32> {
    // Functions are sorted by start; the innermost container is the last one starting at or
    // before the offset whose span contains it (walking back through parents).
    // Spans nest, so a container starting before that last one is one of its ancestors: the
    // walk follows parents (linear in nesting depth; walking every earlier function made a file
    // of 75,000 function literals take 34 s).
    let last = functions.partition_point(|f| f.span.start <= offset).checked_sub(1)?;
    let mut index = Some(last as u32);
    while let Some(i) = index {
        let function = &functions[i as usize];
        if function.span.contains(offset) {
            return Some(i);
        }
        index = function.parent;
    }
    None
}

/// The package name Go gives an import without alias: the last path element, skipping a major
/// version suffix (`/v2`) and a `.vN` gopkg suffix; `go-foo` style prefixes are kept as written.
pub fn default_package_name(path: &str) -> String {
    let mut parts = path.rsplit('/');
    let mut last = parts.next().unwrap_or(path);
    let is_major = |s: &str| s.len() > 1 && s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit());
    if is_major(last) {
        if let Some(prev) = parts.next() {
            last = prev;
        }
    }
    let last = last.split('.').next().unwrap_or(last);
    last.trim_start_matches("go-").replace('-', "_")
}

fn span(node: Node<'_>) -> Span {
    Span {
        start: node.start_byte() as u32,
        end: node.end_byte() as u32,
    }
}

/// The value of a Go string literal (interpreted or raw); escapes are kept as written except
/// `\"`, which is enough for the names and messages the rules read.
pub fn string_literal(node: Node<'_>, text: &str) -> Option<String> {
    match node.kind() {
        "interpreted_string_literal" => {
            let raw = node_text(node, text);
            let inner = raw.strip_prefix('"')?.strip_suffix('"').unwrap_or(raw.get(1..)?);
            Some(inner.replace("\\\"", "\""))
        }
        "raw_string_literal" => {
            let raw = node_text(node, text);
            Some(raw.trim_matches('`').to_string())
        }
        _ => None,
    }
}

/// Flattens a callee or selector into a chain of names.
fn chain(node: Node<'_>, text: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        out.push("?".into());
        return;
    }
    match node.kind() {
        "identifier" | "field_identifier" | "package_identifier" | "type_identifier" => {
            out.push(node_text(node, text).to_string())
        }
        "selector_expression" => {
            if let Some(operand) = node.child_by_field_name("operand") {
                chain(operand, text, out, depth + 1);
            }
            if let Some(field) = node.child_by_field_name("field") {
                out.push(node_text(field, text).to_string());
            }
        }
        "call_expression" => {
            if let Some(function) = node.child_by_field_name("function") {
                chain(function, text, out, depth + 1);
            }
            out.push("()".into());
        }
        "index_expression" => {
            if let Some(operand) = node.child_by_field_name("operand") {
                chain(operand, text, out, depth + 1);
            }
            out.push("[]".into());
        }
        "parenthesized_expression" => match node.named_child(0) {
            Some(inner) => chain(inner, text, out, depth + 1),
            None => out.push("?".into()),
        },
        "unary_expression" => match node.child_by_field_name("operand") {
            Some(operand) => chain(operand, text, out, depth + 1),
            None => out.push("?".into()),
        },
        _ => out.push("?".into()),
    }
}

fn chain_of(node: Node<'_>, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    chain(node, text, &mut out, 0);
    out
}

/// A type node as written, with its qualifier alias (resolved later).
fn raw_type(node: Node<'_>, text: &str) -> Option<RawType> {
    let mut node = node;
    for _ in 0..16 {
        match node.kind() {
            "pointer_type" | "parenthesized_type" => node = node.named_child(0)?,
            "generic_type" => node = node.child_by_field_name("type")?,
            "qualified_type" => {
                let package = node.child_by_field_name("package")?;
                let name = node.child_by_field_name("name")?;
                return Some((
                    Some(node_text(package, text).to_string()),
                    node_text(name, text).to_string(),
                ));
            }
            "type_identifier" => return Some((None, node_text(node, text).to_string())),
            _ => return None,
        }
    }
    None
}

fn collect_idents(node: Node<'_>, text: &str, out: &mut Vec<String>) {
    let idents = descendants(node).filter(|n| n.kind() == "identifier").take(32);
    out.extend(idents.map(|n| node_text(n, text).to_string()));
}

fn cut(s: &str) -> String {
    if s.len() <= MAX_VALUE_TEXT {
        return s.to_string();
    }
    let end = crate::text::clamp_to_char_boundary(s, MAX_VALUE_TEXT);
    s[..end].to_string()
}

/// The contents of the first `"..."` in an expression's text (the format of a `Sprintf`).
pub fn first_string_literal(text: &str) -> Option<&str> {
    let start = text.find('"')? + 1;
    let bytes = text.as_bytes();
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return text.get(start..i),
            _ => i += 1,
        }
    }
    None
}

/// Parses `invariant:ignore <codes> -- <reason>` out of a comment's text.
pub fn parse_suppression(comment: &str) -> Option<(Vec<String>, Option<String>)> {
    // A CRLF file's line comment ends in `\r`: not part of the last code.
    let comment = comment.trim_end_matches('\r');
    let body = comment.trim_start_matches('/').trim_start_matches('#').trim_start();
    let rest = body.strip_prefix("invariant:ignore")?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let (codes, reason) = match rest.split_once("--") {
        Some((codes, reason)) => (codes, Some(reason.trim().to_string()).filter(|r| !r.is_empty())),
        None => (rest, None),
    };
    // Codes are `family` or `family/name`; anything else (a trailing `// note`) ends the list.
    let is_code = |c: &str| {
        c.split('/').count() <= 2
            && c.split('/').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
    };
    let codes = codes
        .split([',', ' ', '\t'])
        .filter(|c| !c.is_empty())
        .take_while(|c| is_code(c))
        .map(str::to_string)
        .collect();
    Some((codes, reason))
}

/// A type as written: (qualifier alias, name).
type RawType = (Option<String>, String);
/// (type, keyed fields, span)
type RawLiteral = (Option<RawType>, Vec<KeyedField>, Span);
/// (name, type, string value, name span, value span)
type RawConst = (String, Option<RawType>, Option<String>, Span, Option<Span>);
/// (targets as chains with spans, span, `append` first argument, operator, first literal on the right)
type RawAssign = (
    Vec<(Vec<String>, Span)>,
    Span,
    Option<Vec<String>>,
    String,
    Option<String>,
);

struct RawCall {
    callee: Vec<String>,
    args: Vec<RawArg>,
    span: Span,
    callee_span: Span,
}

enum RawArg {
    Ready(Arg),
    FuncLitAt(u32),
}

/// Extracts the facts of one Go file.
pub fn extract(tree: &Tree, text: &str) -> GoFacts {
    let mut facts = GoFacts {
        has_syntax_errors: tree.root_node().has_error(),
        ..GoFacts::default()
    };
    let captures = FactCaptures::of(&GO_FACTS);
    let FactCaptures {
        package_name: c_package_name,
        import: c_import,
        import_alias: c_import_alias,
        import_path: c_import_path,
        func: c_func,
        func_name: c_func_name,
        func_params: c_func_params,
        func_receiver: c_func_receiver,
        call: c_call,
        call_callee: c_call_callee,
        call_args: c_call_args,
        qualified: c_qualified,
        qualified_package: c_qualified_package,
        qualified_name: c_qualified_name,
        member: c_member,
        member_package: c_member_package,
        member_name: c_member_name,
        literal: c_literal,
        literal_type: c_literal_type,
        literal_body: c_literal_body,
        constant: c_const,
        const_name: c_const_name,
        const_type: c_const_type,
        const_value: c_const_value,
        global: c_global,
        assign: c_assign,
        assign_left: c_assign_left,
        assign_right: c_assign_right,
        local: c_local,
        local_names: c_local_names,
        local_values: c_local_values,
        loop_: c_loop,
        loop_body: c_loop_body,
        comment: c_comment,
    } = captures;

    let mut raw_calls: Vec<RawCall> = Vec::new();
    let mut raw_refs: Vec<(String, String, Span, bool)> = Vec::new();
    let mut raw_literals: Vec<RawLiteral> = Vec::new();
    let mut raw_consts: Vec<RawConst> = Vec::new();
    let mut raw_params: Vec<Vec<(Option<String>, Option<RawType>)>> = Vec::new();
    let mut raw_assigns: Vec<RawAssign> = Vec::new();
    // (var, span, first literal, grows) for declarations (which never grow a variable) and writer
    // calls (which do when inside a loop); loop membership is decided later.
    let mut raw_writes: Vec<(String, Span, Option<String>, bool)> = Vec::new();
    let mut locals_at: Vec<(u32, String)> = Vec::new();
    let mut loop_bodies: Vec<Span> = Vec::new();

    // The patterns of facts.scm, matched by one walk over the tree: the query engine costs
    // several times a walk on large files, and extraction runs on every keystroke.
    let mut type_idents = Vec::new();
    let all_matches = fact_matches(tree.root_node(), &captures, &mut type_idents);
    for m in &all_matches {
        let m = m.as_slice();
        let get = |index: u32| m.iter().find(|c| c.0 == index).map(|c| c.1);
        let outer = m.iter().map(|c| c.0).find(|i| {
            [
                c_package_name,
                c_import,
                c_func,
                c_call,
                c_qualified,
                c_member,
                c_literal,
                c_const,
                c_global,
                c_assign,
                c_local,
                c_loop,
                c_comment,
            ]
            .contains(i)
        });
        let Some(outer) = outer else { continue };
        if outer == c_package_name {
            if let Some(node) = get(c_package_name) {
                facts.package = Some(node_text(node, text).to_string());
            }
        } else if outer == c_import {
            let (Some(node), Some(path_node)) = (get(c_import), get(c_import_path)) else {
                continue;
            };
            let path = string_literal(path_node, text).unwrap_or_default();
            let (kind, local_name) = match get(c_import_alias) {
                Some(alias) if alias.kind() == "dot" => (ImportKind::Dot, ".".to_string()),
                Some(alias) if alias.kind() == "blank_identifier" => (ImportKind::Blank, "_".to_string()),
                Some(alias) => (ImportKind::Named, node_text(alias, text).to_string()),
                None => (ImportKind::Plain, default_package_name(&path)),
            };
            facts.imports.push(Import {
                path,
                local_name,
                kind,
                span: span(node),
            });
        } else if outer == c_func {
            let Some(node) = get(c_func) else { continue };
            let name = get(c_func_name).map(|n| node_text(n, text).to_string());
            let name_span = match get(c_func_name) {
                Some(n) => span(n),
                None => Span {
                    start: node.start_byte() as u32,
                    end: (node.start_byte() + 4).min(node.end_byte()) as u32,
                },
            };
            let receiver = get(c_func_receiver).and_then(|list| {
                let decl = list
                    .named_children(&mut list.walk())
                    .find(|c| c.kind() == "parameter_declaration")?;
                let var = decl.child_by_field_name("name").map(|n| node_text(n, text).to_string());
                let ty = raw_type(decl.child_by_field_name("type")?, text)?;
                Some((var, ty.1))
            });
            let mut params = Vec::new();
            let mut locals = Vec::new();
            if let Some((Some(var), _)) = &receiver {
                locals.push(var.clone());
            }
            if let Some(list) = get(c_func_params) {
                for decl in list.named_children(&mut list.walk()) {
                    if !matches!(decl.kind(), "parameter_declaration" | "variadic_parameter_declaration") {
                        continue;
                    }
                    let ty = decl.child_by_field_name("type").and_then(|t| raw_type(t, text));
                    let mut named = false;
                    let mut walk = decl.walk();
                    for name in decl.children_by_field_name("name", &mut walk) {
                        named = true;
                        let name = node_text(name, text).to_string();
                        locals.push(name.clone());
                        params.push((Some(name), ty.clone()));
                    }
                    if !named {
                        params.push((None, ty));
                    }
                }
            }
            raw_params.push(params);
            facts.functions.push(Function {
                name,
                receiver,
                params: Vec::new(),
                span: span(node),
                name_span,
                parent: None,
                locals,
            });
        } else if outer == c_call {
            let (Some(node), Some(callee), Some(args)) = (get(c_call), get(c_call_callee), get(c_call_args)) else {
                continue;
            };
            let args = args
                .named_children(&mut args.walk())
                .map(|arg| match arg.kind() {
                    "identifier" => RawArg::Ready(Arg::Ident(node_text(arg, text).to_string())),
                    "selector_expression" => RawArg::Ready(Arg::Selector(chain_of(arg, text))),
                    "func_literal" => RawArg::FuncLitAt(arg.start_byte() as u32),
                    "interpreted_string_literal" | "raw_string_literal" => {
                        RawArg::Ready(string_literal(arg, text).map(Arg::Str).unwrap_or(Arg::Other))
                    }
                    _ => RawArg::Ready(Arg::Other),
                })
                .collect();
            let callee_chain = chain_of(callee, text);
            let args_text = node_text(get(c_call_args).unwrap_or(node), text);
            if callee_chain.len() == 2 && callee_chain[1] == "WriteString" {
                raw_writes.push((
                    callee_chain[0].clone(),
                    span(node),
                    first_string_literal(args_text).map(str::to_string),
                    true,
                ));
            } else if callee_chain == ["fmt", "Fprintf"] {
                // fmt.Fprintf(w, "format", ..): the writer is the first argument (`&b` or `b`).
                let writer = get(c_call_args)
                    .and_then(|a| a.named_child(0))
                    .map(|w| chain_of(w, text));
                if let Some(writer) = writer.filter(|w| w.len() == 1 && w[0] != "?") {
                    let rest = &args_text[args_text.find(',').unwrap_or(0)..];
                    raw_writes.push((
                        writer[0].clone(),
                        span(node),
                        first_string_literal(rest).map(str::to_string),
                        true,
                    ));
                }
            }
            raw_calls.push(RawCall {
                callee: callee_chain,
                args,
                span: span(node),
                callee_span: span(callee),
            });
        } else if outer == c_qualified {
            let (Some(node), Some(package), Some(name)) =
                (get(c_qualified), get(c_qualified_package), get(c_qualified_name))
            else {
                continue;
            };
            raw_refs.push((
                node_text(package, text).to_string(),
                node_text(name, text).to_string(),
                span(node),
                true,
            ));
        } else if outer == c_member {
            let (Some(node), Some(package), Some(name)) = (get(c_member), get(c_member_package), get(c_member_name))
            else {
                continue;
            };
            raw_refs.push((
                node_text(package, text).to_string(),
                node_text(name, text).to_string(),
                span(node),
                false,
            ));
        } else if outer == c_literal {
            let (Some(node), Some(body)) = (get(c_literal), get(c_literal_body)) else {
                continue;
            };
            let ty = get(c_literal_type).and_then(|t| raw_type(t, text));
            let mut fields = Vec::new();
            for element in body.named_children(&mut body.walk()) {
                if element.kind() != "keyed_element" {
                    continue;
                }
                let (Some(key), Some(value)) =
                    (element.child_by_field_name("key"), element.child_by_field_name("value"))
                else {
                    continue;
                };
                let value_expr = value.named_child(0).unwrap_or(value);
                let mut idents = Vec::new();
                // Nested literals and function bodies carry their own facts; walking them again
                // for every enclosing field would make deep literals quadratic.
                if !matches!(
                    value_expr.kind(),
                    "composite_literal" | "literal_value" | "func_literal"
                ) {
                    collect_idents(value_expr, text, &mut idents);
                }
                fields.push(KeyedField {
                    key: node_text(key, text).trim().to_string(),
                    key_span: span(key),
                    value_span: span(value_expr),
                    value_text: cut(node_text(value_expr, text)),
                    string_value: string_literal(value_expr, text),
                    idents,
                });
            }
            raw_literals.push((ty, fields, span(node)));
        } else if outer == c_const {
            let (Some(_), Some(name)) = (get(c_const), get(c_const_name)) else {
                continue;
            };
            let ty = get(c_const_type).and_then(|t| raw_type(t, text));
            let value_node = get(c_const_value)
                .filter(|list| list.named_child_count() == 1)
                .and_then(|list| list.named_child(0));
            let value = value_node.and_then(|v| string_literal(v, text));
            raw_consts.push((
                node_text(name, text).to_string(),
                ty,
                value,
                span(name),
                value_node.map(span),
            ));
        } else if outer == c_global {
            if let Some(name) = get(c_global) {
                facts.globals.push(node_text(name, text).to_string());
            }
        } else if outer == c_assign {
            let (Some(node), Some(left)) = (get(c_assign), get(c_assign_left)) else {
                continue;
            };
            let targets_nodes: Vec<Node<'_>> = if left.kind() == "expression_list" {
                left.named_children(&mut left.walk()).collect()
            } else {
                vec![left]
            };
            let targets = targets_nodes
                .into_iter()
                .map(|t| (chain_of(t, text), span(t)))
                .collect();
            // For `x = append(x, ..)`: the callee and first argument of the right side.
            let append_of = get(c_assign_right).and_then(|right| {
                let call = right.named_child(0)?;
                if call.kind() != "call_expression"
                    || node_text(call.child_by_field_name("function")?, text) != "append"
                {
                    return None;
                }
                let first = call.child_by_field_name("arguments")?.named_child(0)?;
                Some(chain_of(first, text))
            });
            let operator = node
                .child_by_field_name("operator")
                .map(|o| node_text(o, text).to_string())
                .unwrap_or_default();
            let literal = get(c_assign_right)
                .and_then(|r| first_string_literal(node_text(r, text)))
                .map(str::to_string);
            raw_assigns.push((targets, span(node), append_of, operator, literal));
        } else if outer == c_local {
            let (Some(node), Some(names)) = (get(c_local), get(c_local_names)) else {
                continue;
            };
            let start = node.start_byte() as u32;
            if names.kind() == "identifier" {
                locals_at.push((start, node_text(names, text).to_string()));
            } else {
                let values: Vec<Node<'_>> = get(c_local_values)
                    .map(|v| v.named_children(&mut v.walk()).collect())
                    .unwrap_or_default();
                for (i, name) in names.named_children(&mut names.walk()).enumerate() {
                    if name.kind() == "identifier" {
                        let var = node_text(name, text).to_string();
                        if let Some(value) = values.get(i) {
                            let literal = first_string_literal(node_text(*value, text)).map(str::to_string);
                            raw_writes.push((var.clone(), span(node), literal, false));
                        }
                        locals_at.push((start, var));
                    }
                }
            }
        } else if outer == c_loop {
            // A loop over a literal list (`range []string{a, b}`) is bounded: what it grows
            // does not grow with the number of items in the cluster.
            let bounded = get(c_loop).is_some_and(ranges_over_literal);
            if let (Some(body), false) = (get(c_loop_body), bounded) {
                loop_bodies.push(span(body));
            }
        } else if outer == c_comment {
            if let Some(node) = get(c_comment) {
                let comment = node_text(node, text);
                if let Some((codes, reason)) = parse_suppression(comment) {
                    facts.suppressions.push(Suppression {
                        span: crate::facts::trim_cr(span(node), comment),
                        codes,
                        reason,
                    });
                }
            }
        }
    }

    // Functions: sort by start (matches arrive in pattern order, not strictly by position),
    // link parents, resolve parameter types and local declarations.
    let mut order: Vec<usize> = (0..facts.functions.len()).collect();
    order.sort_by_key(|&i| facts.functions[i].span.start);
    let mut functions: Vec<Function> = order.iter().map(|&i| facts.functions[i].clone()).collect();
    let mut params: Vec<_> = order.iter().map(|&i| std::mem::take(&mut raw_params[i])).collect();
    for i in 0..functions.len() {
        let start = functions[i].span.start;
        functions[i].parent = innermost(&functions[..i], start);
    }
    let resolve = |facts: &GoFacts, raw: Option<RawType>| -> Option<TypeRef> {
        let (qualifier, name) = raw?;
        match qualifier {
            Some(alias) => Some(TypeRef {
                import: facts.import_by_name(&alias).map(|i| i.path.clone()),
                name,
            }),
            None => Some(TypeRef { import: None, name }),
        }
    };
    for (function, raw) in functions.iter_mut().zip(params.iter_mut()) {
        function.params = raw
            .drain(..)
            .map(|(name, ty)| Param {
                name,
                ty: resolve(&facts, ty),
            })
            .collect();
    }
    for (start, name) in locals_at {
        if let Some(f) = innermost(&functions, start) {
            functions[f as usize].locals.push(name);
        }
    }
    facts.functions = functions;

    let func_lit_index: HashMap<u32, u32> = facts
        .functions
        .iter()
        .enumerate()
        .filter(|(_, f)| f.name.is_none())
        .map(|(i, f)| (f.span.start, i as u32))
        .collect();
    for raw in raw_calls {
        let function = facts.function_at(raw.span.start);
        // Imports are few and locals many: ask about the import first.
        let import = match raw.callee.as_slice() {
            [qualifier, _] => facts
                .import_by_name(qualifier)
                .filter(|_| !facts.is_local(function, qualifier))
                .map(|i| i.path.clone()),
            _ => None,
        };
        let args = raw
            .args
            .into_iter()
            .map(|a| match a {
                RawArg::Ready(arg) => arg,
                RawArg::FuncLitAt(start) => func_lit_index
                    .get(&start)
                    .map(|&i| Arg::FuncLit(i))
                    .unwrap_or(Arg::Other),
            })
            .collect();
        facts.calls.push(Call {
            callee: raw.callee,
            import,
            args,
            span: raw.span,
            callee_span: raw.callee_span,
            function,
        });
    }
    for (alias, name, ref_span, is_type) in raw_refs {
        let function = facts.function_at(ref_span.start);
        let Some(import) = facts.import_by_name(&alias) else {
            continue;
        };
        if !is_type && facts.is_local(function, &alias) {
            continue;
        }
        {
            facts.pkg_refs.push(PkgRef {
                import: Some(import.path.clone()),
                name,
                span: ref_span,
                function,
                is_type,
            });
        }
    }
    for (ty, fields, lit_span) in raw_literals {
        let function = facts.function_at(lit_span.start);
        facts.literals.push(CompositeLiteral {
            ty: resolve(&facts, ty),
            fields,
            span: lit_span,
            function,
        });
    }
    for (name, ty, value, name_span, value_span) in raw_consts {
        let ty = resolve(&facts, ty);
        facts.consts.push(Const {
            name,
            ty,
            value,
            name_span,
            value_span,
        });
    }
    // Is an offset inside some loop body? With bodies sorted by start, it is when the furthest
    // end among those starting at or before it lies past it (a scan of every body per write was
    // quadratic: seconds for a file of 60,000 loops).
    loop_bodies.sort_by_key(|b| b.start);
    let reach: Vec<u32> = loop_bodies
        .iter()
        .scan(0, |furthest, b| {
            *furthest = (*furthest).max(b.end);
            Some(*furthest)
        })
        .collect();
    let in_loop = |offset: u32| {
        let before = loop_bodies.partition_point(|b| b.start <= offset);
        before > 0 && reach[before - 1] > offset
    };
    for (targets, assign_span, append_of, operator, literal) in raw_assigns {
        let function = facts.function_at(assign_span.start);
        let mut resolved = Vec::new();
        for (chain, target_span) in targets {
            let Some(root) = chain.first().cloned() else {
                continue;
            };
            if root == "?" || root == "_" {
                continue;
            }
            let qualified_import = if chain.len() >= 2 && !facts.is_local(function, &root) {
                facts.import_by_name(&root).map(|i| i.path.clone())
            } else {
                None
            };
            if chain.len() == 1 {
                let grows = operator == "+=" || append_of.as_ref().is_some_and(|a| a.len() == 1 && a[0] == root);
                facts.string_writes.push(StringWrite {
                    var: root.clone(),
                    span: assign_span,
                    function,
                    in_loop: grows && in_loop(assign_span.start),
                    first_literal: literal.clone(),
                });
            }
            resolved.push(AssignTarget {
                root,
                qualified_import,
                span: target_span,
            });
        }
        facts.assignments.push(Assignment {
            targets: resolved,
            span: assign_span,
            function,
        });
    }
    for (var, write_span, first_literal, grows) in raw_writes {
        let function = facts.function_at(write_span.start);
        let grows_in_loop = grows && in_loop(write_span.start);
        facts.string_writes.push(StringWrite {
            var,
            span: write_span,
            function,
            in_loop: grows_in_loop,
            first_literal,
        });
    }
    facts.string_writes.sort_by_key(|w| w.span.start);
    facts.declared_types = collect_declared_types(tree, text);
    if facts.dot_imports().next().is_some() {
        collect_dot_import_types(&type_idents, text, &mut facts);
    }
    facts.object_sites = collect_object_sites(tree, text, &facts);
    (facts.field_literals, facts.field_exprs) = collect_field_literals(tree, text, &facts);
    facts.loops = super::go_loops::extract(tree, text, &facts);
    facts
}

/// Capture indices of facts.scm, for [`fact_matches`].
#[derive(Clone, Copy)]
struct FactCaptures {
    package_name: u32,
    import: u32,
    import_alias: u32,
    import_path: u32,
    func: u32,
    func_name: u32,
    func_params: u32,
    func_receiver: u32,
    call: u32,
    call_callee: u32,
    call_args: u32,
    qualified: u32,
    qualified_package: u32,
    qualified_name: u32,
    member: u32,
    member_package: u32,
    member_name: u32,
    literal: u32,
    literal_type: u32,
    literal_body: u32,
    constant: u32,
    const_name: u32,
    const_type: u32,
    const_value: u32,
    global: u32,
    assign: u32,
    assign_left: u32,
    assign_right: u32,
    local: u32,
    local_names: u32,
    local_values: u32,
    loop_: u32,
    loop_body: u32,
    comment: u32,
}

impl FactCaptures {
    /// The capture indices of facts.scm, by capture name.
    fn of(query: &tree_sitter::Query) -> FactCaptures {
        let names = query.capture_names();
        let cap = |name: &str| {
            names
                .iter()
                .position(|n| *n == name)
                .map(|i| i as u32)
                .unwrap_or_else(|| panic!("facts.scm has no @{name}"))
        };
        FactCaptures {
            package_name: cap("package.name"),
            import: cap("import"),
            import_alias: cap("import.alias"),
            import_path: cap("import.path"),
            func: cap("func"),
            func_name: cap("func.name"),
            func_params: cap("func.params"),
            func_receiver: cap("func.receiver"),
            call: cap("call"),
            call_callee: cap("call.callee"),
            call_args: cap("call.args"),
            qualified: cap("qualified"),
            qualified_package: cap("qualified.package"),
            qualified_name: cap("qualified.name"),
            member: cap("member"),
            member_package: cap("member.package"),
            member_name: cap("member.name"),
            literal: cap("literal"),
            literal_type: cap("literal.type"),
            literal_body: cap("literal.body"),
            constant: cap("const"),
            const_name: cap("const.name"),
            const_type: cap("const.type"),
            const_value: cap("const.value"),
            global: cap("global.name"),
            assign: cap("assign"),
            assign_left: cap("assign.left"),
            assign_right: cap("assign.right"),
            local: cap("local"),
            local_names: cap("local.names"),
            local_values: cap("local.values"),
            loop_: cap("loop"),
            loop_body: cap("loop.body"),
            comment: cap("comment"),
        }
    }
}

/// Field ids of the Go grammar the facts walk reads (tree-sitter compares names as strings on
/// every lookup by name).
struct FieldIds {
    name: u16,
    path: u16,
    parameters: u16,
    receiver: u16,
    function: u16,
    arguments: u16,
    package: u16,
    operand: u16,
    field: u16,
    type_: u16,
    body: u16,
    value: u16,
    left: u16,
    right: u16,
}

static FIELD_IDS: std::sync::LazyLock<FieldIds> = std::sync::LazyLock::new(|| {
    let language = crate::syntax::Lang::Go.language();
    let id = |name: &str| {
        language
            .field_id_for_name(name)
            .map(|id| id.get())
            .unwrap_or_else(|| panic!("the Go grammar has a `{name}` field"))
    };
    FieldIds {
        name: id("name"),
        path: id("path"),
        parameters: id("parameters"),
        receiver: id("receiver"),
        function: id("function"),
        arguments: id("arguments"),
        package: id("package"),
        operand: id("operand"),
        field: id("field"),
        type_: id("type"),
        body: id("body"),
        value: id("value"),
        left: id("left"),
        right: id("right"),
    }
});

/// One match: (capture index, node), the pattern's outermost capture first.
type FactMatch<'t> = Vec<(u32, Node<'t>)>;

/// The matches of facts.scm's patterns, found by one walk in document order (a node's own
/// matches before those of its descendants). Each arm mirrors one pattern of the query, which
/// stays the specification (and is still compiled, for its capture names).
fn fact_matches<'t>(root: Node<'t>, c: &FactCaptures, type_idents: &mut Vec<Node<'t>>) -> Vec<FactMatch<'t>> {
    let f = &*FIELD_IDS;
    let named_field = |node: Node<'t>, field: u16| node.child_by_field_id(field).filter(|n| n.is_named());
    let field_of_kind =
        |node: Node<'t>, field: u16, kind: &str| node.child_by_field_id(field).filter(|n| n.kind() == kind);
    let mut out: Vec<FactMatch<'t>> = Vec::new();
    for node in crate::syntax::descendants(root) {
        match node.kind() {
            "type_identifier" => type_idents.push(node),
            "package_clause" => {
                let mut walk = node.walk();
                for child in node.named_children(&mut walk) {
                    if child.kind() == "package_identifier" {
                        out.push(vec![(c.package_name, child)]);
                    }
                }
            }
            "import_spec" => {
                if let Some(path) = named_field(node, f.path) {
                    let mut m = vec![(c.import, node)];
                    if let Some(alias) = named_field(node, f.name) {
                        m.push((c.import_alias, alias));
                    }
                    m.push((c.import_path, path));
                    out.push(m);
                }
            }
            "function_declaration" => {
                if let (Some(name), Some(params)) = (
                    field_of_kind(node, f.name, "identifier"),
                    field_of_kind(node, f.parameters, "parameter_list"),
                ) {
                    out.push(vec![(c.func, node), (c.func_name, name), (c.func_params, params)]);
                }
            }
            "method_declaration" => {
                if let (Some(receiver), Some(name), Some(params)) = (
                    field_of_kind(node, f.receiver, "parameter_list"),
                    field_of_kind(node, f.name, "field_identifier"),
                    field_of_kind(node, f.parameters, "parameter_list"),
                ) {
                    out.push(vec![
                        (c.func, node),
                        (c.func_receiver, receiver),
                        (c.func_name, name),
                        (c.func_params, params),
                    ]);
                }
            }
            "func_literal" => {
                if let Some(params) = field_of_kind(node, f.parameters, "parameter_list") {
                    out.push(vec![(c.func, node), (c.func_params, params)]);
                }
            }
            "call_expression" => {
                if let (Some(callee), Some(args)) = (
                    named_field(node, f.function),
                    field_of_kind(node, f.arguments, "argument_list"),
                ) {
                    out.push(vec![(c.call, node), (c.call_callee, callee), (c.call_args, args)]);
                }
            }
            "qualified_type" => {
                if let (Some(package), Some(name)) = (
                    field_of_kind(node, f.package, "package_identifier"),
                    field_of_kind(node, f.name, "type_identifier"),
                ) {
                    out.push(vec![
                        (c.qualified, node),
                        (c.qualified_package, package),
                        (c.qualified_name, name),
                    ]);
                }
            }
            "selector_expression" => {
                if let (Some(package), Some(name)) = (
                    field_of_kind(node, f.operand, "identifier"),
                    field_of_kind(node, f.field, "field_identifier"),
                ) {
                    out.push(vec![
                        (c.member, node),
                        (c.member_package, package),
                        (c.member_name, name),
                    ]);
                }
            }
            "composite_literal" => {
                if let (Some(ty), Some(body)) =
                    (named_field(node, f.type_), field_of_kind(node, f.body, "literal_value"))
                {
                    out.push(vec![(c.literal, node), (c.literal_type, ty), (c.literal_body, body)]);
                }
            }
            "const_spec" => {
                let ty = named_field(node, f.type_);
                let value = field_of_kind(node, f.value, "expression_list");
                let mut walk = node.walk();
                for name in node.children_by_field_id(
                    std::num::NonZeroU16::new(f.name).expect("field ids are non-zero"),
                    &mut walk,
                ) {
                    if name.kind() != "identifier" {
                        continue;
                    }
                    let mut m = vec![(c.constant, node), (c.const_name, name)];
                    if let Some(ty) = ty {
                        m.push((c.const_type, ty));
                    }
                    if let Some(value) = value {
                        m.push((c.const_value, value));
                    }
                    out.push(m);
                }
            }
            "var_spec" => {
                let top_level = node.parent().is_some_and(|p| {
                    let declaration = if p.kind() == "var_spec_list" {
                        p.parent()
                    } else {
                        Some(p)
                    };
                    declaration.is_some_and(|d| {
                        d.kind() == "var_declaration" && d.parent().is_some_and(|f| f.kind() == "source_file")
                    })
                });
                let mut walk = node.walk();
                for name in node.children_by_field_id(
                    std::num::NonZeroU16::new(f.name).expect("field ids are non-zero"),
                    &mut walk,
                ) {
                    if name.kind() != "identifier" {
                        continue;
                    }
                    if top_level {
                        out.push(vec![(c.global, name)]);
                    }
                    out.push(vec![(c.local, node), (c.local_names, name)]);
                }
            }
            "assignment_statement" => {
                if let (Some(left), Some(right)) = (
                    field_of_kind(node, f.left, "expression_list"),
                    field_of_kind(node, f.right, "expression_list"),
                ) {
                    out.push(vec![(c.assign, node), (c.assign_left, left), (c.assign_right, right)]);
                }
            }
            "inc_statement" | "dec_statement" => {
                let mut walk = node.walk();
                for child in node.named_children(&mut walk) {
                    if child.kind() != "comment" {
                        out.push(vec![(c.assign, node), (c.assign_left, child)]);
                    }
                }
            }
            "short_var_declaration" => {
                if let (Some(left), Some(right)) = (
                    field_of_kind(node, f.left, "expression_list"),
                    field_of_kind(node, f.right, "expression_list"),
                ) {
                    out.push(vec![(c.local, node), (c.local_names, left), (c.local_values, right)]);
                }
            }
            "range_clause" => {
                if let Some(left) = field_of_kind(node, f.left, "expression_list") {
                    out.push(vec![(c.local, node), (c.local_names, left)]);
                }
            }
            "for_statement" => {
                if let Some(body) = field_of_kind(node, f.body, "block") {
                    out.push(vec![(c.loop_, node), (c.loop_body, body)]);
                }
            }
            "comment" => out.push(vec![(c.comment, node)]),
            _ => {}
        }
    }
    out
}

fn collect_declared_types(tree: &Tree, text: &str) -> Vec<String> {
    let root = tree.root_node();
    let mut out = Vec::new();
    for decl in root.named_children(&mut root.walk()) {
        if decl.kind() != "type_declaration" {
            continue;
        }
        for spec in decl.named_children(&mut decl.walk()) {
            if let Some(name) = spec.child_by_field_name("name") {
                out.push(node_text(name, text).to_string());
            }
        }
    }
    out
}

/// In files with dot imports, unqualified type names not declared in the file may come from the
/// dot-imported packages: record them as candidates.
/// `type_idents`: the matches of `dot-import-types.scm` (every `type_identifier`, in document
/// order), collected by the facts walk.
fn collect_dot_import_types(type_idents: &[Node<'_>], text: &str, facts: &mut GoFacts) {
    const BUILTIN: &[&str] = &[
        "bool",
        "byte",
        "complex64",
        "complex128",
        "error",
        "float32",
        "float64",
        "int",
        "int8",
        "int16",
        "int32",
        "int64",
        "rune",
        "string",
        "uint",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "uintptr",
        "any",
        "comparable",
    ];
    let mut found = Vec::new();
    for &node in type_idents {
        let parent_kind = node.parent().map(|p| p.kind());
        if matches!(
            parent_kind,
            Some("qualified_type") | Some("type_spec") | Some("type_parameter_declaration")
        ) {
            continue;
        }
        let name = node_text(node, text);
        if BUILTIN.contains(&name) || facts.declared_types.iter().any(|t| t == name) {
            continue;
        }
        found.push((name.to_string(), span(node)));
    }
    for (name, ref_span) in found {
        let function = facts.function_at(ref_span.start);
        facts.pkg_refs.push(PkgRef {
            import: None,
            name,
            span: ref_span,
            function,
            is_type: true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse, Lang};

    fn facts(src: &str) -> GoFacts {
        let parsed = parse(Lang::Go, src, None);
        extract(parsed.tree.as_ref().unwrap(), src)
    }

    #[test]
    fn default_package_names() {
        assert_eq!(
            default_package_name("sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2"),
            "v1beta2"
        );
        assert_eq!(default_package_name("github.com/foo/bar/v3"), "bar");
        assert_eq!(default_package_name("gopkg.in/yaml.v2"), "yaml");
        assert_eq!(default_package_name("net/http"), "http");
    }

    #[test]
    fn extracts_imports_calls_refs_and_functions() {
        let src = r#"package nodepool

import (
	capiaws "sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2"
	. "example.com/dot"
	"time"
)

var counter int

func (r *Reconciler) reconcile(ctx context.Context, c client.Client) error {
	m := &capiaws.AWSMachine{}
	if err := r.Client.Get(ctx, key, m); err != nil {
		return err
	}
	_ = time.Now()
	counter++
	var local AWSMachineList
	f := func(x int) { counter = x }
	WithAdaptFunction(func(ctx Ctx) error { return nil })
	return nil
}
"#;
        let f = facts(src);
        assert_eq!(f.package.as_deref(), Some("nodepool"));
        assert_eq!(f.imports.len(), 3);
        assert_eq!(f.imports[0].local_name, "capiaws");
        assert_eq!(f.imports[1].kind, ImportKind::Dot);
        assert_eq!(f.imports[2].local_name, "time");
        assert_eq!(f.functions.len(), 3, "{:?}", f.functions);
        assert_eq!(f.functions[0].receiver, Some((Some("r".into()), "Reconciler".into())));
        assert_eq!(f.functions[1].parent, Some(0));
        assert!(f.functions[0].locals.contains(&"m".to_string()));
        assert!(f.functions[0].locals.contains(&"c".to_string()));
        let get = f
            .calls
            .iter()
            .find(|c| c.callee.last().map(String::as_str) == Some("Get"))
            .unwrap();
        assert_eq!(get.callee, vec!["r", "Client", "Get"]);
        assert_eq!(get.args.len(), 3);
        let now = f.calls.iter().find(|c| c.callee == vec!["time", "Now"]).unwrap();
        assert_eq!(now.import.as_deref(), Some("time"));
        assert!(f.pkg_refs.iter().any(|r| r.name == "AWSMachine"
            && r.import.as_deref() == Some("sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2")));
        assert!(f
            .pkg_refs
            .iter()
            .any(|r| r.name == "AWSMachineList" && r.import.is_none()));
        assert_eq!(f.globals, vec!["counter"]);
        assert!(f
            .assignments
            .iter()
            .any(|a| a.targets.first().is_some_and(|t| t.root == "counter") && a.function == Some(1)));
        let adapt = f.calls.iter().find(|c| c.callee == vec!["WithAdaptFunction"]).unwrap();
        assert!(matches!(adapt.args[0], Arg::FuncLit(2)));
    }

    #[test]
    fn loop_appends_and_literals() {
        let src = r#"package x
func f(machines []M) metav1.Condition {
	var msgs []string
	msg := ""
	for _, m := range machines {
		msgs = append(msgs, m.Name)
		msg += m.Name
	}
	return metav1.Condition{Type: "Ready", Reason: "not_ready", Message: strings.Join(msgs, ",")}
}
const (
	FooConditionType ConditionType = "Foo"
	BarReason = "bar reason"
)
//invariant:ignore capi-boundary -- generated code
"#;
        let f = facts(src);
        let grown: Vec<_> = f
            .string_writes
            .iter()
            .filter(|w| w.in_loop)
            .map(|w| w.var.as_str())
            .collect();
        assert_eq!(grown, vec!["msgs", "msg"]);
        let initial: Vec<_> = f
            .string_writes
            .iter()
            .filter(|w| !w.in_loop)
            .map(|w| w.var.as_str())
            .collect();
        assert_eq!(initial, vec!["msg"]);
        let lit = &f.literals[0];
        assert_eq!(lit.ty.as_ref().unwrap().name, "Condition");
        assert_eq!(lit.fields[1].string_value.as_deref(), Some("not_ready"));
        assert!(lit.fields[2].idents.contains(&"msgs".to_string()));
        assert_eq!(f.consts.len(), 2);
        assert_eq!(f.consts[0].ty.as_ref().unwrap().name, "ConditionType");
        assert_eq!(f.consts[1].value.as_deref(), Some("bar reason"));
        assert_eq!(f.suppressions[0].codes, vec!["capi-boundary"]);
        assert_eq!(f.suppressions[0].reason.as_deref(), Some("generated code"));
    }

    #[test]
    fn suppression_parsing() {
        assert_eq!(
            parse_suppression("//invariant:ignore a/b -- why"),
            Some((vec!["a/b".into()], Some("why".into())))
        );
        assert_eq!(
            parse_suppression("# invariant:ignore kustomize"),
            Some((vec!["kustomize".into()], None))
        );
        assert_eq!(parse_suppression("// invariant:ignored x"), None);
        assert_eq!(parse_suppression("// unrelated"), None);
        assert_eq!(
            parse_suppression("//invariant:ignore a/b // note"),
            Some((vec!["a/b".into()], None))
        );
    }

    /// The walk is a fast path for facts.scm: on every Go file of the fixtures, the sample
    /// and the fuzz seeds it finds exactly the query engine's matches, so the query stays
    /// the specification.
    #[test]
    fn the_walk_finds_exactly_the_query_matches() {
        use streaming_iterator::StreamingIterator;
        let captures = FactCaptures::of(&GO_FACTS);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in ["tests/fixtures", "tests/sample-workspace", "fuzz/corpus/go"] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "go") {
                        files.push(path);
                    }
                }
            }
        }
        assert!(files.len() > 10, "{files:?}");
        type Normal = Vec<Vec<(u32, usize, usize)>>;
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let tree = parse(Lang::Go, &text, None).tree.unwrap();
            let mut by_query: Normal = Vec::new();
            let mut cursor = tree_sitter::QueryCursor::new();
            let mut matches = cursor.matches(&GO_FACTS, tree.root_node(), text.as_bytes());
            while let Some(m) = matches.next() {
                let mut one: Vec<_> = m
                    .captures()
                    .iter()
                    .map(|c| (c.index, c.node.start_byte(), c.node.end_byte()))
                    .collect();
                one.sort();
                by_query.push(one);
            }
            let mut by_walk: Normal = fact_matches(tree.root_node(), &captures, &mut Vec::new())
                .into_iter()
                .map(|m| {
                    let mut one: Vec<_> = m.into_iter().map(|(i, n)| (i, n.start_byte(), n.end_byte())).collect();
                    one.sort();
                    one
                })
                .collect();
            by_query.sort();
            by_walk.sort();
            assert_eq!(by_walk, by_query, "{}", path.display());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Object sites: `v := &alias.T{}` (or `var v alias.T`) filled by a call and read field by field,
// with the typed variables in scope. The annotation bridge is offered only where this pattern
// holds, and edits exactly these places.
// ---------------------------------------------------------------------------------------------

/// How a field read of an object site is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadUse {
    /// `v.F != nil` / `v.F == nil`.
    NilCheck,
    /// `*v.F` or `v.F` as an argument of a formatting call (`fmt.Sprintf`, `Errorf`, ...).
    Formatted { deref: bool },
    /// Anything else (its type matters: a string annotation cannot stand in for it).
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRead {
    /// The selector path after the variable: `Status.FailureReason`.
    pub path: String,
    pub span: Span,
    pub usage: ReadUse,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSite {
    /// The type reference (`alias.T`), as in [`PkgRef::span`].
    pub type_span: Span,
    pub var: String,
    /// The declaring statement.
    pub declaration: Span,
    /// Statements whose call fills the variable (`if err := c.Get(ctx, key, v); err != nil {..}`
    /// or a bare call statement); `None` when a filling call sits in a statement that cannot be
    /// removed on its own (`err := c.Get(..)`).
    pub fills: Option<Vec<Span>>,
    pub reads: Vec<SiteRead>,
    /// The variable is used otherwise (returned, assigned, passed on after filling...).
    pub other_uses: bool,
    /// Variables in scope at the declaration with a known type: parameters of the enclosing
    /// functions, range variables over typed slices or `.Items` of a typed list, `var x T`.
    pub typed_vars: Vec<(String, TypeRef)>,
}

const FORMAT_CALLS: &[&str] = &[
    "Sprintf", "Sprint", "Sprintln", "Errorf", "Printf", "Fprintf", "Infof", "Info", "Warnf", "Error",
];

fn type_ref_of(node: Node<'_>, text: &str, facts: &GoFacts) -> Option<TypeRef> {
    let mut node = node;
    while matches!(node.kind(), "pointer_type" | "parenthesized_type") {
        node = node.named_child(0)?;
    }
    match node.kind() {
        "qualified_type" => {
            let alias = node_text(node.child_by_field_name("package")?, text);
            let name = node_text(node.child_by_field_name("name")?, text).to_string();
            let import = facts.import_by_name(alias).map(|i| i.path.clone());
            Some(TypeRef { import, name })
        }
        "type_identifier" => Some(TypeRef {
            import: None,
            name: node_text(node, text).to_string(),
        }),
        _ => None,
    }
}

/// The element type of a slice type node (`[]T`, `[]*T`).
fn slice_elem(node: Node<'_>, text: &str, facts: &GoFacts) -> Option<TypeRef> {
    (node.kind() == "slice_type")
        .then(|| node.child_by_field_name("element"))
        .flatten()
        .and_then(|e| type_ref_of(e, text, facts))
}

/// The object a composite literal or `&literal` builds, or the type of `var x T`.
fn declared_object_type(value: Node<'_>) -> Option<Node<'_>> {
    let value = if value.kind() == "unary_expression" {
        value.child_by_field_name("operand")?
    } else {
        value
    };
    (value.kind() == "composite_literal")
        .then(|| value.child_by_field_name("type"))
        .flatten()
}

/// Typed names visible at `at`: parameters of enclosing functions, `var x T` and
/// `x := &T{}` declarations before it in enclosing blocks, and range variables.
fn typed_vars_at(at: Node<'_>, text: &str, facts: &GoFacts) -> Vec<(String, TypeRef)> {
    // Slice-typed and list-typed names, to resolve range variables.
    let mut slices: Vec<(String, TypeRef)> = Vec::new();
    let mut out: Vec<(String, TypeRef)> = Vec::new();
    let mut ranges: Vec<Node<'_>> = Vec::new();
    let mut node = at;
    while let Some(parent) = node.parent() {
        match parent.kind() {
            "function_declaration" | "method_declaration" | "func_literal" => {
                for field in ["receiver", "parameters"] {
                    let Some(list) = parent.child_by_field_name(field) else {
                        continue;
                    };
                    for decl in list.named_children(&mut list.walk()) {
                        let Some(ty) = decl.child_by_field_name("type") else {
                            continue;
                        };
                        let mut cursor = decl.walk();
                        for name in decl.children_by_field_name("name", &mut cursor) {
                            let name = node_text(name, text).to_string();
                            if let Some(elem) = slice_elem(ty, text, facts) {
                                slices.push((name.clone(), elem));
                            }
                            if let Some(t) = type_ref_of(ty, text, facts) {
                                out.push((name, t));
                            }
                        }
                    }
                }
            }
            "block" | "statement_list" => {
                for statement in parent.named_children(&mut parent.walk()) {
                    if statement.start_byte() >= node.start_byte() {
                        break;
                    }
                    let spec = match statement.kind() {
                        "var_declaration" => statement.named_child(0),
                        "short_var_declaration" => Some(statement),
                        _ => None,
                    };
                    let Some(spec) = spec else { continue };
                    let (names, ty) = if spec.kind() == "short_var_declaration" {
                        let left = spec.child_by_field_name("left");
                        let right = spec.child_by_field_name("right").and_then(|r| r.named_child(0));
                        (left, right.and_then(declared_object_type))
                    } else {
                        (Some(spec), spec.child_by_field_name("type"))
                    };
                    let (Some(names), Some(ty)) = (names, ty) else { continue };
                    let name_nodes: Vec<Node<'_>> = if names.kind() == "var_spec" {
                        let mut cursor = names.walk();
                        names.children_by_field_name("name", &mut cursor).collect()
                    } else {
                        names.named_children(&mut names.walk()).collect()
                    };
                    for name in name_nodes {
                        let name = node_text(name, text).to_string();
                        if let Some(elem) = slice_elem(ty, text, facts) {
                            slices.push((name.clone(), elem));
                        }
                        if let Some(t) = type_ref_of(ty, text, facts) {
                            out.push((name, t));
                        }
                    }
                }
            }
            "for_statement" => ranges.push(parent),
            _ => {}
        }
        node = parent;
    }
    for statement in ranges {
        let Some(clause) = statement
            .named_children(&mut statement.walk())
            .find(|c| c.kind() == "range_clause")
        else {
            continue;
        };
        let (Some(left), Some(right)) = (clause.child_by_field_name("left"), clause.child_by_field_name("right"))
        else {
            continue;
        };
        let Some(value_var) = left.named_child(1) else { continue };
        let elem = match right.kind() {
            "identifier" => {
                let name = node_text(right, text);
                slices.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone())
            }
            // `list.Items` where `list` is a `TList`: the element is `T`.
            "selector_expression"
                if right
                    .child_by_field_name("field")
                    .is_some_and(|f| node_text(f, text) == "Items") =>
            {
                right.child_by_field_name("operand").and_then(|o| {
                    let name = node_text(o, text);
                    out.iter().find(|(n, _)| n == name).and_then(|(_, t)| {
                        t.name.strip_suffix("List").map(|elem| TypeRef {
                            import: t.import.clone(),
                            name: elem.to_string(),
                        })
                    })
                })
            }
            _ => None,
        };
        if let Some(elem) = elem {
            out.push((node_text(value_var, text).to_string(), elem));
        }
    }
    out
}

/// The statement (a direct child of a block) containing `node`.
fn statement_around(node: Node<'_>) -> Option<Node<'_>> {
    let mut node = node;
    loop {
        let parent = node.parent()?;
        if matches!(
            parent.kind(),
            "block" | "statement_list" | "expression_case" | "default_case" | "type_case" | "communication_case"
        ) {
            return Some(node);
        }
        node = parent;
    }
}

fn object_site(type_node: Node<'_>, text: &str, facts: &GoFacts) -> Option<ObjectSite> {
    // `v := &T{}` / `v := T{}` / `var v T`.
    let mut up = type_node.parent()?;
    let (var_node, declaration) = if up.kind() == "var_spec" {
        if up.child_by_field_name("value").is_some() {
            return None;
        }
        (up.child_by_field_name("name")?, statement_around(up)?)
    } else {
        if up.kind() != "composite_literal" {
            return None;
        }
        if up.parent()?.kind() == "unary_expression" {
            up = up.parent()?;
        }
        let list = up.parent()?;
        let decl = list.parent()?;
        if list.kind() != "expression_list" || decl.kind() != "short_var_declaration" || list.named_child_count() != 1 {
            return None;
        }
        let left = decl.child_by_field_name("left")?;
        if left.named_child_count() != 1 {
            return None;
        }
        (left.named_child(0)?, statement_around(decl)?)
    };
    if var_node.kind() != "identifier" {
        return None;
    }
    let var = node_text(var_node, text).to_string();
    let scope = declaration.parent()?;
    let mut fills = Some(Vec::new());
    let mut reads = Vec::new();
    let mut other_uses = false;
    for node in descendants(scope) {
        if node.kind() != "identifier" || node_text(node, text) != var || node.start_byte() < declaration.end_byte() {
            continue;
        }
        let parent = node.parent();
        // A field read: the outermost selector chain rooted at the variable.
        if parent.is_some_and(|p| p.kind() == "selector_expression" && p.child_by_field_name("operand") == Some(node)) {
            let mut outer = parent.unwrap();
            while let Some(p) = outer
                .parent()
                .filter(|p| p.kind() == "selector_expression" && p.child_by_field_name("operand") == Some(outer))
            {
                outer = p;
            }
            let path = node_text(outer, text)[var.len()..].trim_start_matches('.').to_string();
            let mut used = outer;
            let mut deref = false;
            if let Some(p) = outer.parent().filter(|p| {
                p.kind() == "unary_expression"
                    && p.child_by_field_name("operator")
                        .is_some_and(|o| node_text(o, text) == "*")
            }) {
                used = p;
                deref = true;
            }
            let usage = match used.parent() {
                Some(p)
                    if !deref
                        && p.kind() == "binary_expression"
                        && [p.child_by_field_name("left"), p.child_by_field_name("right")]
                            .iter()
                            .flatten()
                            .any(|side| side.kind() == "nil")
                        && p.child_by_field_name("operator")
                            .is_some_and(|o| matches!(node_text(o, text), "!=" | "==")) =>
                {
                    ReadUse::NilCheck
                }
                Some(p)
                    if p.kind() == "argument_list"
                        && p.parent()
                            .and_then(|c| c.child_by_field_name("function"))
                            .is_some_and(|f| {
                                let callee = node_text(f, text);
                                FORMAT_CALLS.contains(&callee.rsplit('.').next().unwrap_or(callee))
                            }) =>
                {
                    ReadUse::Formatted { deref }
                }
                _ => ReadUse::Other,
            };
            reads.push(SiteRead {
                path,
                span: span(outer),
                usage,
            });
            continue;
        }
        // Passed to a call (`c.Get(ctx, key, v)`): the call fills it.
        let arg = match parent {
            Some(p) if p.kind() == "unary_expression" => p,
            _ => node,
        };
        let call = arg
            .parent()
            .filter(|p| p.kind() == "argument_list")
            .and_then(|p| p.parent())
            .filter(|c| c.kind() == "call_expression");
        match call {
            Some(call) => {
                let statement = statement_around(call);
                let removable = statement.filter(|s| match s.kind() {
                    "expression_statement" => s.named_child(0) == Some(call),
                    // `if err := c.Get(..); err != nil { .. }` with no else.
                    "if_statement" => {
                        s.child_by_field_name("alternative").is_none()
                            && s.child_by_field_name("initializer")
                                .is_some_and(|i| i.start_byte() <= call.start_byte() && call.end_byte() <= i.end_byte())
                    }
                    _ => false,
                });
                match (removable, fills.as_mut()) {
                    (Some(s), Some(list)) => list.push(span(s)),
                    _ => fills = None,
                }
            }
            None => other_uses = true,
        }
    }
    Some(ObjectSite {
        type_span: span(type_node),
        var,
        declaration: span(declaration),
        fills,
        reads,
        other_uses,
        typed_vars: typed_vars_at(declaration, text, facts),
    })
}

fn collect_object_sites(tree: &Tree, text: &str, facts: &GoFacts) -> Vec<ObjectSite> {
    let root = tree.root_node();
    facts
        .pkg_refs
        .iter()
        .filter(|r| r.is_type && r.import.is_some() && r.function.is_some())
        .filter_map(|r| {
            let node = root.descendant_for_byte_range(r.span.start as usize, r.span.end as usize)?;
            let node = if node.kind() == "qualified_type" {
                node
            } else {
                node.parent().filter(|p| p.kind() == "qualified_type")?
            };
            object_site(node, text, facts)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Field literals: a string literal reaching a named field by assignment (`cond.Reason = ".."`),
// by a builder (`.WithReason("..")`), or through a same-file helper's parameter named like the
// field (`handleError(ctx, obj, "SomeReason", err)` where the helper writes `Reason: reason`).
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldWrite {
    /// `receiver.Field = "..."`; the receiver's text.
    Assignment { receiver: String },
    /// `.WithField("...")`; the method name.
    Builder { method: String },
    /// A literal argument of a helper whose parameter (named like the field, lower-case)
    /// flows into the field.
    Parameter { function: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLiteral {
    pub field: String,
    pub value: String,
    pub value_span: Span,
    pub how: FieldWrite,
    pub function: Option<u32>,
}

fn string_node_value(node: Node<'_>, text: &str) -> Option<String> {
    matches!(node.kind(), "interpreted_string_literal" | "raw_string_literal")
        .then(|| string_literal(node, text))
        .flatten()
}

/// `receiver.Field = expr` with a non-literal value: how a condition message is set by
/// assignment (`condition.Message = fmt.Sprintf(.., strings.Join(notReady, ", "))`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldExpr {
    pub field: String,
    pub receiver: String,
    pub value_text: String,
    pub value_span: Span,
    /// Identifiers the value mentions (up to 32).
    pub idents: Vec<String>,
    pub function: Option<u32>,
}

fn collect_field_literals(tree: &Tree, text: &str, facts: &GoFacts) -> (Vec<FieldLiteral>, Vec<FieldExpr>) {
    let root = tree.root_node();
    let mut out = Vec::new();
    let mut exprs = Vec::new();
    for assignment in &facts.assignments {
        let Some(node) = root.descendant_for_byte_range(assignment.span.start as usize, assignment.span.end as usize)
        else {
            continue;
        };
        let Some(statement) = std::iter::successors(Some(node), |n| n.parent())
            .take(3)
            .find(|n| n.kind() == "assignment_statement")
        else {
            continue;
        };
        let (Some(left), Some(right)) = (
            statement.child_by_field_name("left"),
            statement.child_by_field_name("right"),
        ) else {
            continue;
        };
        if left.named_child_count() != 1 || right.named_child_count() != 1 {
            continue;
        }
        let (Some(target), Some(value)) = (left.named_child(0), right.named_child(0)) else {
            continue;
        };
        if target.kind() != "selector_expression" {
            continue;
        }
        let (Some(operand), Some(field)) = (
            target.child_by_field_name("operand"),
            target.child_by_field_name("field"),
        ) else {
            continue;
        };
        if let Some(v) = string_node_value(value, text) {
            out.push(FieldLiteral {
                field: node_text(field, text).to_string(),
                value: v,
                value_span: span(value),
                how: FieldWrite::Assignment {
                    receiver: node_text(operand, text).to_string(),
                },
                function: assignment.function,
            });
        } else {
            let mut idents = Vec::new();
            collect_idents(value, text, &mut idents);
            exprs.push(FieldExpr {
                field: node_text(field, text).to_string(),
                receiver: node_text(operand, text).to_string(),
                value_text: cut(node_text(value, text)),
                value_span: span(value),
                idents,
                function: assignment.function,
            });
        }
    }
    // Helpers of this file with a parameter named like a field (`reason`) that they write into
    // that field (`Reason: reason` in a literal, `.WithReason(reason)`, `x.Reason = reason`).
    let mut helpers: Vec<(String, usize, String)> = Vec::new();
    for (index, function) in facts.functions.iter().enumerate() {
        let Some(name) = &function.name else { continue };
        for (position, param) in function.params.iter().enumerate() {
            let Some(param_name) = &param.name else { continue };
            let mut chars = param_name.chars();
            let Some(first) = chars.next() else { continue };
            let field: String = first.to_uppercase().chain(chars).collect();
            let inside = |f: Option<u32>| f.is_some_and(|f| facts.named_function(f) == index as u32);
            let flows = facts.literals.iter().any(|l| {
                inside(l.function)
                    && l.fields
                        .iter()
                        .any(|k| k.key == field && k.idents.len() == 1 && &k.idents[0] == param_name)
            }) || facts.calls.iter().any(|c| {
                inside(c.function)
                    && c.callee.last().is_some_and(|m| *m == format!("With{field}"))
                    && matches!(c.args.first(), Some(Arg::Ident(a)) if a == param_name)
            });
            if flows && field == "Reason" {
                helpers.push((name.clone(), position, field));
            }
        }
    }
    for call in &facts.calls {
        let Some(method) = call.callee.last() else { continue };
        let builder = method
            .strip_prefix("With")
            .filter(|f| f.starts_with(char::is_uppercase));
        let helper = helpers.iter().find(|(name, _, _)| name == method);
        if builder.is_none() && helper.is_none() {
            continue;
        }
        let Some(node) = root.descendant_for_byte_range(call.span.start as usize, call.span.end as usize) else {
            continue;
        };
        let Some(call_node) = std::iter::successors(Some(node), |n| n.parent())
            .take(2)
            .find(|n| n.kind() == "call_expression")
        else {
            continue;
        };
        let Some(args) = call_node.child_by_field_name("arguments") else {
            continue;
        };
        let (field, position, how) = match (builder, helper) {
            (_, Some((name, position, field))) => (
                field.clone(),
                *position,
                FieldWrite::Parameter { function: name.clone() },
            ),
            (Some(field), None) => (field.to_string(), 0, FieldWrite::Builder { method: method.clone() }),
            (None, None) => continue,
        };
        if matches!(how, FieldWrite::Builder { .. }) && args.named_child_count() != 1 {
            continue;
        }
        let Some(arg) = args.named_child(position as u32) else {
            continue;
        };
        if let Some(v) = string_node_value(arg, text) {
            out.push(FieldLiteral {
                field,
                value: v,
                value_span: span(arg),
                how,
                function: call.function,
            });
        }
    }
    (out, exprs)
}

/// `for .. := range []T{a, b}`: a loop over a composite literal.
fn ranges_over_literal(for_statement: Node<'_>) -> bool {
    for_statement
        .named_children(&mut for_statement.walk())
        .find(|c| c.kind() == "range_clause")
        .and_then(|c| c.child_by_field_name("right"))
        .is_some_and(|r| r.kind() == "composite_literal")
}
