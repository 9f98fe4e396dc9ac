//! The walk over a Go file's tree that builds its [`GoFacts`].

use std::collections::HashMap;

use tree_sitter::{Node, Tree};

use super::field_literals::collect_field_literals;
use super::object_sites::collect_object_sites;
use super::syntax::{
    chain_of, collect_idents, cut, first_string_literal, raw_type, span, string_literal, RawType, FIELD_IDS,
};
use super::*;
use crate::facts::Suppression;
use crate::syntax::{node_text, GO_FACTS};

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
    let import_names: Vec<String> = facts.imports.iter().map(|i| i.local_name.clone()).collect();
    facts.reasons = crate::facts::go_reasons::extract(tree, text, &import_names);
    facts.flow = crate::facts::go_flow::extract(tree, text, &facts);
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

/// `for .. := range []T{a, b}`: a loop over a composite literal.
fn ranges_over_literal(for_statement: Node<'_>) -> bool {
    for_statement
        .named_children(&mut for_statement.walk())
        .find(|c| c.kind() == "range_clause")
        .and_then(|c| c.child_by_field_name("right"))
        .is_some_and(|r| r.kind() == "composite_literal")
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
