//! The walk that builds a Go file's [`GoFacts`].
//!
//! A file's facts are built per top-level node (a declaration, the import block, a comment):
//! [`DeclFacts::of`] walks it once and builds its facts directly, with offsets relative to the
//! node's start, function indices local to it, and type qualifiers and import aliases as
//! written. So a declaration's facts depend on its text, and on one bit of the file: whether
//! it mentions a reason (a declaration of a file that does not records no call arguments for
//! the reason flows, which never read it; see `reasons::mentions_reason`). [`assemble`] places each part at
//! its offset and resolves what needs the whole file: import aliases, the types the file
//! declares (for dot imports), and literals reaching a field through a helper of the file.

use crate::facts::go::GoNode;
use std::borrow::Cow;
use std::collections::HashMap;

use tree_sitter::{Node, Tree};

use super::field_literals::{field_assignment, literals_through_calls, FieldAssignment};
use super::rebase::{Rebase, Shift};
use super::syntax::{chain_of, collect_idents, cut, first_string_literal, span, written_type, WrittenType, FIELD_IDS};
use super::*;
use crate::facts::go::flow::{FlowFacts, FlowWalk};
use crate::facts::go::loops::{LoopFacts, LoopWalk};
use crate::facts::suppression::suppression_in;
use crate::syntax::node_text;

/// Extracts the facts of one Go file.
pub fn extract(tree: &Tree, text: &str) -> GoFacts {
    let root = tree.root_node();
    let mentions_reason = crate::facts::go::reasons::mentions_reason(text);
    let parts: Vec<(u32, DeclFacts)> = root
        .children(&mut root.walk())
        .map(|node| {
            (
                node.start_byte() as u32,
                DeclFacts::of(node, Some(root), text, mentions_reason),
            )
        })
        .collect();
    // The parts are this extraction's own: their facts move into the file's, uncopied.
    assemble(
        root.has_error(),
        parts.into_iter().map(|(at, part)| (at, Cow::Owned(part))).collect(),
    )
}

/// The facts of one top-level node: offsets relative to its start, function indices local.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct DeclFacts {
    /// The facts that need nothing from the rest of the file. Left for [`assemble`]: parameter,
    /// literal and constant types, call imports, assignment targets' imports (see the fields
    /// below), and `pkg_refs` (drafts below).
    own: GoFacts,
    /// Per function (as in `own.functions`), per parameter: its type as written.
    param_types: Vec<Vec<Option<WrittenType>>>,
    /// Per call (as in `own.calls`).
    call_notes: Vec<CallNote>,
    /// Per composite literal (as in `own.literals`): its type as written.
    literal_types: Vec<Option<WrittenType>>,
    /// Per constant (as in `own.consts`): its type as written.
    const_types: Vec<Option<WrittenType>>,
    /// Per assignment (as in `own.assignments`), per target: the alias its root may name.
    target_aliases: Vec<Vec<Option<String>>>,
    /// `alias.Name` references, kept when the alias names an import.
    refs: Vec<RefDraft>,
    /// Unqualified type names the file does not necessarily declare (dot-import candidates).
    type_names: Vec<PkgRef>,
    /// Reason facts, relative to the node's start already (see [`crate::facts::go::reasons`]).
    reasons: crate::facts::go::reasons::DeclReasons,
    /// Flow facts, types' import aliases as written (see [`FlowWalk`]).
    flow: FlowFacts,
    /// Loop facts, import aliases as written (see [`LoopWalk`]).
    loops: LoopFacts,
}

/// What a call needs from the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct CallNote {
    /// For `alias.Func(..)` where `alias` is no local name: the alias.
    alias: Option<String>,
    /// Each argument's span.
    arg_spans: Vec<Span>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct RefDraft {
    alias: String,
    /// The reference, `import` unset.
    pkg_ref: PkgRef,
}

impl DeclFacts {
    /// The facts of the top-level node `node`, in a file that mentions a reason or not (see
    /// [`crate::facts::go::reasons::mentions_reason`]).
    /// `above` is the node's parent (the file's root for a top-level declaration), passed in:
    /// `Node::parent` descends from the root past every earlier sibling, so asking it for each of
    /// a file's N top-level nodes was quadratic (3 MB of top-level comments: 82 s).
    pub(super) fn of(node: Node<'_>, above: Option<Node<'_>>, text: &str, mentions_reason: bool) -> DeclFacts {
        let mut walker = Walker {
            text,
            decl: DeclFacts::default(),
            calls: Vec::new(),
            assignments: Vec::new(),
            writes: Vec::new(),
            locals: Vec::new(),
            loop_bodies: Vec::new(),
            literal_anchors: Vec::new(),
            expr_anchors: Vec::new(),
        };
        let mut reasons = crate::facts::go::reasons::Gather::new(node, mentions_reason);
        let mut flow = FlowWalk::default();
        let mut loops = LoopWalk::default();
        // Preorder, with the path from `node` kept (the loop facts look up declarations in the
        // enclosing blocks; `Node::parent` costs a descent from the root).
        let mut ancestors: Vec<Node<'_>> = Vec::new();
        let mut cursor = node.walk();
        'walk: loop {
            let current = cursor.node();
            walker.visit(
                current,
                Above {
                    path: &ancestors,
                    top: above,
                },
            );
            reasons.note(current);
            flow.visit(current, ancestors.last().copied(), text, &walker.decl.own);
            loops.visit(current, &ancestors, text, &walker.decl.own);
            if cursor.goto_first_child() {
                ancestors.push(current);
                continue;
            }
            loop {
                if ancestors.is_empty() {
                    break 'walk;
                }
                if cursor.goto_next_sibling() {
                    break;
                }
                cursor.goto_parent();
                ancestors.pop();
            }
        }
        let mut decl = walker.finish();
        decl.flow = flow.finish();
        decl.loops = loops.finish(&decl.own);
        decl.rebase(Shift::to_origin(node.start_byte() as u32));
        decl.reasons = reasons.finish(text);
        decl
    }

    fn rebase(&mut self, by: Shift) {
        let DeclFacts {
            own,
            param_types: _,
            call_notes,
            literal_types: _,
            const_types: _,
            target_aliases: _,
            refs,
            type_names,
            reasons: _,
            flow,
            loops,
        } = self;
        own.rebase(by);
        flow.rebase(by);
        loops.rebase(by);
        for note in call_notes {
            note.arg_spans.rebase(by);
        }
        for r in refs {
            r.pkg_ref.rebase(by);
        }
        type_names.rebase(by);
    }
}

impl Rebase for GoFacts {
    fn rebase(&mut self, by: Shift) {
        let GoFacts {
            package: _,
            imports,
            functions,
            calls,
            pkg_refs,
            literals,
            consts,
            globals: _,
            assignments,
            string_writes,
            declared_types: _,
            suppressions,
            field_literals,
            field_exprs,
            has_syntax_errors: _,
            parse: _,
            // Assembled from the declarations' drafts (`DeclFacts::reasons`, `::flow`, `::loops`).
            reasons: _,
            flow: _,
            loops: _,
        } = self;
        imports.rebase(by);
        functions.rebase(by);
        calls.rebase(by);
        pkg_refs.rebase(by);
        literals.rebase(by);
        consts.rebase(by);
        assignments.rebase(by);
        string_writes.rebase(by);
        suppressions.rebase(by);
        field_literals.rebase(by);
        field_exprs.rebase(by);
    }
}

/// Appends `part`'s facts, moved by `by`, to `facts`.
fn append(facts: &mut GoFacts, part: GoFacts, by: Shift) {
    fn extend<T: Rebase>(into: &mut Vec<T>, from: Vec<T>, by: Shift) {
        into.extend(from.into_iter().map(|mut x| {
            x.rebase(by);
            x
        }));
    }
    let GoFacts {
        package,
        imports,
        functions,
        calls,
        pkg_refs,
        literals,
        consts,
        globals,
        assignments,
        string_writes,
        declared_types,
        suppressions,
        field_literals,
        field_exprs,
        has_syntax_errors: _,
        parse: _,
        // Assembled from the declarations' drafts (see `assemble`).
        reasons: _,
        flow: _,
        loops: _,
    } = part;
    if package.is_some() {
        facts.package = package;
    }
    extend(&mut facts.imports, imports, by);
    extend(&mut facts.functions, functions, by);
    extend(&mut facts.calls, calls, by);
    extend(&mut facts.pkg_refs, pkg_refs, by);
    extend(&mut facts.literals, literals, by);
    extend(&mut facts.consts, consts, by);
    extend(&mut facts.globals, globals, by);
    extend(&mut facts.assignments, assignments, by);
    extend(&mut facts.string_writes, string_writes, by);
    extend(&mut facts.declared_types, declared_types, by);
    extend(&mut facts.suppressions, suppressions, by);
    extend(&mut facts.field_literals, field_literals, by);
    extend(&mut facts.field_exprs, field_exprs, by);
}

/// The facts of a file from the facts of its top-level nodes (each with its start offset, in
/// document order).
///
/// A part that is borrowed (kept by the declaration cache for the next keystroke) is copied; an
/// owned one gives its facts up.
pub(super) fn assemble(has_syntax_errors: bool, mut parts: Vec<(u32, Cow<'_, DeclFacts>)>) -> GoFacts {
    let mut facts = GoFacts {
        has_syntax_errors,
        ..GoFacts::default()
    };
    // Everything complete but for its place; the per-file lookups (imports, declared types)
    // are then whole.
    let mut bases = Vec::new();
    let mut flows_and_loops = Vec::with_capacity(parts.len());
    for (at, part) in &mut parts {
        let at = *at;
        let by = Shift {
            bytes: at,
            functions: facts.functions.len() as u32,
        };
        bases.push(Bases {
            by,
            calls: facts.calls.len(),
            literals: facts.literals.len(),
            consts: facts.consts.len(),
            assignments: facts.assignments.len(),
        });
        let (own, flow, loops) = match part {
            Cow::Owned(part) => (
                std::mem::take(&mut part.own),
                std::mem::take(&mut part.flow),
                std::mem::take(&mut part.loops),
            ),
            Cow::Borrowed(part) => (part.own.clone(), part.flow.clone(), part.loops.clone()),
        };
        append(&mut facts, own, by);
        flows_and_loops.push((flow, loops));
    }
    let imports = std::mem::take(&mut facts.imports);
    let type_ref = |ty: &WrittenType| TypeRef {
        import: ty.qualifier.as_deref().and_then(|q| import_path(&imports, q)),
        name: ty.name.clone(),
    };
    let resolve = |ty: &Option<WrittenType>| ty.as_ref().map(type_ref);
    let is_import = |name: &str| imports.iter().any(|i| i.local_name == name);
    let mut arg_spans: Vec<Vec<Span>> = Vec::with_capacity(facts.calls.len());
    for (((_, part), base), (mut flow, mut loops)) in parts.iter().zip(&bases).zip(flows_and_loops) {
        part.reasons.place(base.by.bytes, &is_import, &mut facts.reasons);
        for (i, types) in part.param_types.iter().enumerate() {
            let function = &mut facts.functions[base.by.functions as usize + i];
            for (param, ty) in function.params.iter_mut().zip(types) {
                param.ty = resolve(ty);
            }
        }
        for (i, note) in part.call_notes.iter().enumerate() {
            facts.calls[base.calls + i].import = note.alias.as_deref().and_then(|a| import_path(&imports, a));
            let mut spans = note.arg_spans.clone();
            spans.rebase(base.by);
            arg_spans.push(spans);
        }
        for (i, ty) in part.literal_types.iter().enumerate() {
            facts.literals[base.literals + i].ty = resolve(ty);
        }
        for (i, ty) in part.const_types.iter().enumerate() {
            facts.consts[base.consts + i].ty = resolve(ty);
        }
        for (i, aliases) in part.target_aliases.iter().enumerate() {
            let targets = &mut facts.assignments[base.assignments + i].targets;
            for (target, alias) in targets.iter_mut().zip(aliases) {
                target.qualified_import = alias.as_deref().and_then(|a| import_path(&imports, a));
            }
        }
        for draft in &part.refs {
            if let Some(import) = import_path(&imports, &draft.alias) {
                let mut pkg_ref = draft.pkg_ref.clone();
                pkg_ref.rebase(base.by);
                pkg_ref.import = Some(import);
                facts.pkg_refs.push(pkg_ref);
            }
        }
        let path_of = |alias: &str| import_path(&imports, alias);
        flow.rebase(base.by);
        flow.resolve_imports(&path_of);
        facts.flow.append(flow);
        loops.rebase(base.by);
        loops.resolve_imports(&path_of);
        facts.loops.append(loops);
    }
    // In files with dot imports, unqualified type names not declared in the file may come from
    // the dot-imported packages: record them as candidates.
    if imports.iter().any(|i| i.kind == ImportKind::Dot) {
        for ((_, part), base) in parts.iter().zip(&bases) {
            for name in &part.type_names {
                if facts.declared_types.contains(&name.name) {
                    continue;
                }
                let mut name = name.clone();
                name.rebase(base.by);
                facts.pkg_refs.push(name);
            }
        }
    }
    facts.imports = imports;
    let through_calls = literals_through_calls(&facts, &arg_spans);
    facts.field_literals.extend(through_calls);
    facts
}

/// Where one part's facts start in the file's lists.
struct Bases {
    by: Shift,
    calls: usize,
    literals: usize,
    consts: usize,
    assignments: usize,
}

/// One walk over a top-level node. Each arm of [`Walker::visit`] builds the facts of one kind
/// of node; [`Walker::finish`] places them in their functions once all functions are known.
struct Walker<'s> {
    text: &'s str,
    decl: DeclFacts,
    calls: Vec<CallDraft>,
    assignments: Vec<AssignDraft>,
    writes: Vec<WriteDraft>,
    locals: Vec<LocalDraft>,
    loop_bodies: Vec<Span>,
    /// Per field literal (as in `own.field_literals`): where its assignment starts.
    literal_anchors: Vec<u32>,
    /// Per field expression (as in `own.field_exprs`): where its assignment starts.
    expr_anchors: Vec<u32>,
}

struct CallDraft {
    callee: Vec<String>,
    args: Vec<ArgDraft>,
    arg_spans: Vec<Span>,
    span: Span,
    callee_span: Span,
}

enum ArgDraft {
    Ready(Arg),
    /// A function literal starting at this offset.
    FuncLitAt(u32),
}

struct AssignDraft {
    /// Each target as a chain, with its span.
    targets: Vec<(Vec<String>, Span)>,
    span: Span,
    /// For `x = append(y, ..)`: `y`'s chain.
    append_of: Option<Vec<String>>,
    operator: String,
    /// The first string literal on the right.
    literal: Option<String>,
}

/// A write to a string-ish variable other than by assignment: a declaration with a value (never
/// grows it) or a writer call (grows it inside a loop).
struct WriteDraft {
    var: String,
    span: Span,
    first_literal: Option<String>,
    grows: bool,
}

/// A name declared at `at` (in the function around it).
struct LocalDraft {
    at: u32,
    name: String,
}

/// The nodes above the one being visited: the path down from the top-level node, and what is
/// above that (the source file).
#[derive(Clone, Copy)]
struct Above<'a, 't> {
    path: &'a [Node<'t>],
    top: Option<Node<'t>>,
}

impl<'t> Above<'_, 't> {
    /// The `k`-th node up (1: the parent).
    fn up(&self, k: usize) -> Option<Node<'t>> {
        match self.path.len().checked_sub(k) {
            Some(i) => Some(self.path[i]),
            None if k == self.path.len() + 1 => self.top,
            None => None,
        }
    }
}

impl<'s> Walker<'s> {
    fn visit<'t>(&mut self, node: Node<'t>, above: Above<'_, 't>) {
        let f = &*FIELD_IDS;
        let text = self.text;
        let named_field = |field: u16| node.child_by_field_id(field).filter(|n| n.is_named());
        let field_of_kind = |field: u16, kind: &str| node.child_by_field_id(field).filter(|n| n.go_kind() == kind);
        let names = |walk: &mut tree_sitter::TreeCursor<'t>| -> Vec<Node<'t>> {
            node.children_by_field_id(std::num::NonZeroU16::new(f.name).expect("field ids are non-zero"), walk)
                .filter(|n| n.go_kind() == "identifier")
                .collect()
        };
        let own = &mut self.decl.own;
        match node.go_kind() {
            "type_identifier" => self.type_name(node, above.up(1)),
            "package_clause" => {
                for child in node.named_children(&mut node.walk()) {
                    if child.go_kind() == "package_identifier" {
                        own.package = Some(node_text(child, text).to_string());
                    }
                }
            }
            "import_spec" => {
                if let Some(path) = named_field(f.path) {
                    let path = string_literal(path, text).unwrap_or_default();
                    let (kind, local_name) = match named_field(f.name) {
                        Some(alias) if alias.go_kind() == "dot" => (ImportKind::Dot, ".".to_string()),
                        Some(alias) if alias.go_kind() == "blank_identifier" => (ImportKind::Blank, "_".to_string()),
                        Some(alias) => (ImportKind::Named, node_text(alias, text).to_string()),
                        None => (ImportKind::Plain, default_package_name(&path)),
                    };
                    own.imports.push(Import {
                        path,
                        local_name,
                        kind,
                        span: span(node),
                    });
                }
            }
            "function_declaration" => {
                if let (Some(name), Some(params)) = (
                    field_of_kind(f.name, "identifier"),
                    field_of_kind(f.parameters, "parameter_list"),
                ) {
                    self.function(node, Some(name), None, params);
                }
            }
            "method_declaration" => {
                if let (Some(receiver), Some(name), Some(params)) = (
                    field_of_kind(f.receiver, "parameter_list"),
                    field_of_kind(f.name, "field_identifier"),
                    field_of_kind(f.parameters, "parameter_list"),
                ) {
                    self.function(node, Some(name), Some(receiver), params);
                }
            }
            "func_literal" => {
                if let Some(params) = field_of_kind(f.parameters, "parameter_list") {
                    self.function(node, None, None, params);
                }
            }
            "call_expression" => {
                if let (Some(callee), Some(args)) =
                    (named_field(f.function), field_of_kind(f.arguments, "argument_list"))
                {
                    self.call(node, callee, args);
                }
            }
            "qualified_type" => {
                if let (Some(package), Some(name)) = (
                    field_of_kind(f.package, "package_identifier"),
                    field_of_kind(f.name, "type_identifier"),
                ) {
                    let alias = node_text(package, text).to_string();
                    self.decl.refs.push(RefDraft {
                        alias: alias.clone(),
                        pkg_ref: PkgRef {
                            import: None,
                            name: node_text(name, text).to_string(),
                            span: span(node),
                            function: None,
                            is_type: true,
                        },
                    });
                }
            }
            "selector_expression" => {
                if let (Some(package), Some(name)) = (
                    field_of_kind(f.operand, "identifier"),
                    field_of_kind(f.field, "field_identifier"),
                ) {
                    self.decl.refs.push(RefDraft {
                        alias: node_text(package, text).to_string(),
                        pkg_ref: PkgRef {
                            import: None,
                            name: node_text(name, text).to_string(),
                            span: span(node),
                            function: None,
                            is_type: false,
                        },
                    });
                }
            }
            "composite_literal" => {
                if let (Some(ty), Some(body)) = (named_field(f.type_), field_of_kind(f.body, "literal_value")) {
                    self.literal(node, ty, body);
                }
            }
            "const_spec" => {
                let ty = named_field(f.type_).and_then(|t| written_type(t, text));
                let value_node = field_of_kind(f.value, "expression_list")
                    .filter(|list| list.named_child_count() == 1)
                    .and_then(|list| list.named_child(0));
                let value = value_node.and_then(|v| string_literal(v, text));
                for name in names(&mut node.walk()) {
                    own.consts.push(Const {
                        name: node_text(name, text).to_string(),
                        ty: None,
                        value: value.clone(),
                        name_span: span(name),
                        value_span: value_node.map(span),
                    });
                    self.decl.const_types.push(ty.clone());
                }
            }
            "var_spec" => {
                let top_level = above.up(1).is_some_and(|p| {
                    let (declaration, its_parent) = if p.go_kind() == "var_spec_list" {
                        (above.up(2), above.up(3))
                    } else {
                        (Some(p), above.up(2))
                    };
                    declaration.is_some_and(|d| {
                        d.go_kind() == "var_declaration" && its_parent.is_some_and(|f| f.go_kind() == "source_file")
                    })
                });
                for name in names(&mut node.walk()) {
                    let name = node_text(name, text).to_string();
                    if top_level {
                        own.globals.push(name.clone());
                    }
                    self.locals.push(LocalDraft {
                        at: node.start_byte() as u32,
                        name,
                    });
                }
            }
            "assignment_statement" => {
                if let (Some(left), Some(right)) = (
                    field_of_kind(f.left, "expression_list"),
                    field_of_kind(f.right, "expression_list"),
                ) {
                    let at = node.start_byte() as u32;
                    match field_assignment(node, text) {
                        Some(FieldAssignment::Literal(l)) => {
                            own.field_literals.push(l);
                            self.literal_anchors.push(at);
                        }
                        Some(FieldAssignment::Expr(e)) => {
                            own.field_exprs.push(e);
                            self.expr_anchors.push(at);
                        }
                        None => {}
                    }
                    self.assignment(node, left, Some(right));
                }
            }
            "inc_statement" | "dec_statement" => {
                for child in node.named_children(&mut node.walk()) {
                    if child.go_kind() != "comment" {
                        self.assignment(node, child, None);
                    }
                }
            }
            "short_var_declaration" => {
                if let (Some(left), Some(right)) = (
                    field_of_kind(f.left, "expression_list"),
                    field_of_kind(f.right, "expression_list"),
                ) {
                    let values: Vec<Node<'_>> = right.named_children(&mut right.walk()).collect();
                    for (i, name) in left.named_children(&mut left.walk()).enumerate() {
                        if name.go_kind() != "identifier" {
                            continue;
                        }
                        let var = node_text(name, text).to_string();
                        if let Some(value) = values.get(i) {
                            self.writes.push(WriteDraft {
                                var: var.clone(),
                                span: span(node),
                                first_literal: first_string_literal(node_text(*value, text)).map(str::to_string),
                                grows: false,
                            });
                        }
                        self.locals.push(LocalDraft {
                            at: node.start_byte() as u32,
                            name: var,
                        });
                    }
                }
            }
            "range_clause" => {
                if let Some(left) = field_of_kind(f.left, "expression_list") {
                    for name in left.named_children(&mut left.walk()) {
                        if name.go_kind() == "identifier" {
                            self.locals.push(LocalDraft {
                                at: node.start_byte() as u32,
                                name: node_text(name, text).to_string(),
                            });
                        }
                    }
                }
            }
            "for_statement" => {
                // A loop over a literal list (`range []string{a, b}`) is bounded: what it grows
                // does not grow with the number of items in the cluster.
                if let (Some(body), false) = (field_of_kind(f.body, "block"), ranges_over_literal(node)) {
                    self.loop_bodies.push(span(body));
                }
            }
            "type_declaration" if above.up(1).is_some_and(|p| p.go_kind() == "source_file") => {
                for spec in node.named_children(&mut node.walk()) {
                    if let Some(name) = spec.go_field("name") {
                        own.declared_types.push(node_text(name, text).to_string());
                    }
                }
            }
            "comment" => {
                own.suppressions
                    .extend(suppression_in(node_text(node, text), span(node)));
            }
            _ => {}
        }
    }

    /// `func name(params)`, `func (receiver) name(params)` or `func(params)`.
    fn function(&mut self, node: Node<'_>, name: Option<Node<'_>>, receiver: Option<Node<'_>>, params: Node<'_>) {
        let text = self.text;
        let name_span = match name {
            Some(n) => span(n),
            None => Span {
                start: node.start_byte() as u32,
                end: (node.start_byte() + 4).min(node.end_byte()) as u32,
            },
        };
        let receiver = receiver.and_then(|list| {
            let decl = list
                .named_children(&mut list.walk())
                .find(|c| c.go_kind() == "parameter_declaration")?;
            let var = decl.go_field("name").map(|n| node_text(n, text).to_string());
            let ty = written_type(decl.go_field("type")?, text)?;
            Some((var, ty.name))
        });
        let mut param_facts = Vec::new();
        let mut types = Vec::new();
        let mut locals = Vec::new();
        if let Some((Some(var), _)) = &receiver {
            locals.push(var.clone());
        }
        for decl in params.named_children(&mut params.walk()) {
            if !matches!(
                decl.go_kind(),
                "parameter_declaration" | "variadic_parameter_declaration"
            ) {
                continue;
            }
            let ty = decl.go_field("type").and_then(|t| written_type(t, text));
            let mut named = false;
            for name in decl.children_by_field_name("name", &mut decl.walk()) {
                named = true;
                let name = node_text(name, text).to_string();
                locals.push(name.clone());
                param_facts.push(Param {
                    name: Some(name),
                    ty: None,
                });
                types.push(ty.clone());
            }
            if !named {
                param_facts.push(Param { name: None, ty: None });
                types.push(ty);
            }
        }
        let functions = &mut self.decl.own.functions;
        // Functions arrive in document order; the ones around this one came first.
        let parent = innermost(functions, node.start_byte() as u32);
        functions.push(Function {
            name: name.map(|n| node_text(n, text).to_string()),
            receiver,
            params: param_facts,
            span: span(node),
            name_span,
            parent,
            locals,
        });
        self.decl.param_types.push(types);
    }

    fn call(&mut self, node: Node<'_>, callee: Node<'_>, args: Node<'_>) {
        let text = self.text;
        let arg_nodes: Vec<Node<'_>> = args.named_children(&mut args.walk()).collect();
        let arg_drafts = arg_nodes
            .iter()
            .map(|&arg| match arg.go_kind() {
                "identifier" => ArgDraft::Ready(Arg::Ident(node_text(arg, text).to_string())),
                "selector_expression" => ArgDraft::Ready(Arg::Selector(chain_of(arg, text))),
                "func_literal" => ArgDraft::FuncLitAt(arg.start_byte() as u32),
                "interpreted_string_literal" | "raw_string_literal" => {
                    ArgDraft::Ready(string_literal(arg, text).map(Arg::Str).unwrap_or(Arg::Other))
                }
                _ => ArgDraft::Ready(Arg::Other),
            })
            .collect();
        let callee_chain = chain_of(callee, text);
        let args_text = node_text(args, text);
        if callee_chain.len() == 2 && callee_chain[1] == "WriteString" {
            self.writes.push(WriteDraft {
                var: callee_chain[0].clone(),
                span: span(node),
                first_literal: first_string_literal(args_text).map(str::to_string),
                grows: true,
            });
        } else if callee_chain == ["fmt", "Fprintf"] {
            // fmt.Fprintf(w, "format", ..): the writer is the first argument (`&b` or `b`).
            let writer = args.named_child(0).map(|w| chain_of(w, text));
            if let Some(writer) = writer.filter(|w| w.len() == 1 && w[0] != "?") {
                let rest = &args_text[args_text.find(',').unwrap_or(0)..];
                self.writes.push(WriteDraft {
                    var: writer[0].clone(),
                    span: span(node),
                    first_literal: first_string_literal(rest).map(str::to_string),
                    grows: true,
                });
            }
        }
        self.calls.push(CallDraft {
            callee: callee_chain,
            args: arg_drafts,
            arg_spans: arg_nodes.iter().map(|&a| span(a)).collect(),
            span: span(node),
            callee_span: span(callee),
        });
    }

    fn literal(&mut self, node: Node<'_>, ty: Node<'_>, body: Node<'_>) {
        let text = self.text;
        let mut fields = Vec::new();
        for element in body.named_children(&mut body.walk()) {
            if element.go_kind() != "keyed_element" {
                continue;
            }
            let (Some(key), Some(value)) = (element.go_field("key"), element.go_field("value")) else {
                continue;
            };
            let value_expr = value.named_child(0).unwrap_or(value);
            let mut idents = Vec::new();
            // Nested literals and function bodies carry their own facts; walking them again
            // for every enclosing field would make deep literals quadratic.
            if !matches!(
                value_expr.go_kind(),
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
        self.decl.own.literals.push(CompositeLiteral {
            ty: None,
            fields,
            span: span(node),
            function: None,
        });
        self.decl.literal_types.push(written_type(ty, text));
    }

    /// An assignment (`left = right`, `left op= right`) or `left++` (no right side).
    fn assignment(&mut self, node: Node<'_>, left: Node<'_>, right: Option<Node<'_>>) {
        let text = self.text;
        let targets: Vec<Node<'_>> = if left.go_kind() == "expression_list" {
            left.named_children(&mut left.walk()).collect()
        } else {
            vec![left]
        };
        // For `x = append(x, ..)`: the first argument of `append`.
        let append_of = right.and_then(|right| {
            let call = right.named_child(0)?;
            if call.go_kind() != "call_expression" || node_text(call.go_field("function")?, text) != "append" {
                return None;
            }
            let first = call.go_field("arguments")?.named_child(0)?;
            Some(chain_of(first, text))
        });
        self.assignments.push(AssignDraft {
            targets: targets.into_iter().map(|t| (chain_of(t, text), span(t))).collect(),
            span: span(node),
            append_of,
            operator: node
                .go_field("operator")
                .map(|o| node_text(o, text).to_string())
                .unwrap_or_default(),
            literal: right
                .and_then(|r| first_string_literal(node_text(r, text)))
                .map(str::to_string),
        });
    }

    /// An unqualified type name, a candidate for a dot import unless builtin, declared or a
    /// declaration's own name.
    fn type_name(&mut self, node: Node<'_>, parent: Option<Node<'_>>) {
        let parent_kind = parent.map(|p| p.go_kind());
        if matches!(
            parent_kind,
            Some("qualified_type") | Some("type_spec") | Some("type_parameter_declaration")
        ) {
            return;
        }
        let name = node_text(node, self.text);
        if super::GO_BUILTIN_TYPES.contains(&name) {
            return;
        }
        self.decl.type_names.push(PkgRef {
            import: None,
            name: name.to_string(),
            span: span(node),
            function: None,
            is_type: true,
        });
    }

    /// Places every fact in its function, now that all functions are known.
    fn finish(mut self) -> DeclFacts {
        let own = &mut self.decl.own;
        for local in self.locals {
            if let Some(f) = innermost(&own.functions, local.at) {
                own.functions[f as usize].locals.push(local.name);
            }
        }
        let functions = &own.functions;
        let function_at = |offset: u32| innermost(functions, offset);
        let is_local = |mut index: Option<u32>, name: &str| {
            while let Some(i) = index {
                let function = &functions[i as usize];
                if function.locals.iter().any(|l| l == name) {
                    return true;
                }
                index = function.parent;
            }
            false
        };
        let func_lits: HashMap<u32, u32> = functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name.is_none())
            .map(|(i, f)| (f.span.start, i as u32))
            .collect();
        for draft in self.calls {
            let function = function_at(draft.span.start);
            let alias = match draft.callee.as_slice() {
                [qualifier, _] if !is_local(function, qualifier) => Some(qualifier.clone()),
                _ => None,
            };
            let args = draft
                .args
                .into_iter()
                .map(|a| match a {
                    ArgDraft::Ready(arg) => arg,
                    ArgDraft::FuncLitAt(start) => func_lits.get(&start).map(|&i| Arg::FuncLit(i)).unwrap_or(Arg::Other),
                })
                .collect();
            own.calls.push(Call {
                callee: draft.callee,
                import: None,
                args,
                span: draft.span,
                callee_span: draft.callee_span,
                function,
            });
            self.decl.call_notes.push(CallNote {
                alias,
                arg_spans: draft.arg_spans,
            });
        }
        self.decl.refs.retain_mut(|r| {
            r.pkg_ref.function = function_at(r.pkg_ref.span.start);
            r.pkg_ref.is_type || !is_local(r.pkg_ref.function, &r.alias)
        });
        for name in &mut self.decl.type_names {
            name.function = function_at(name.span.start);
        }
        for literal in &mut own.literals {
            literal.function = function_at(literal.span.start);
        }
        for (literal, &at) in own.field_literals.iter_mut().zip(&self.literal_anchors) {
            literal.function = function_at(at);
        }
        for (expr, &at) in own.field_exprs.iter_mut().zip(&self.expr_anchors) {
            expr.function = function_at(at);
        }
        // Is an offset inside some loop body? With bodies sorted by start, it is when the
        // furthest end among those starting at or before it lies past it (a scan of every body
        // per write was quadratic: seconds for a file of 60,000 loops).
        let mut loop_bodies = self.loop_bodies;
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
        let mut writes = Vec::new();
        for draft in self.assignments {
            let function = function_at(draft.span.start);
            let mut targets = Vec::new();
            let mut aliases = Vec::new();
            for (chain, target_span) in draft.targets {
                let Some(root) = chain.first().cloned() else {
                    continue;
                };
                if root == "?" || root == "_" {
                    continue;
                }
                aliases.push((chain.len() >= 2 && !is_local(function, &root)).then(|| root.clone()));
                if chain.len() == 1 {
                    let grows = draft.operator == "+="
                        || draft.append_of.as_ref().is_some_and(|a| a.len() == 1 && a[0] == root);
                    writes.push(StringWrite {
                        var: root.clone(),
                        span: draft.span,
                        function,
                        in_loop: grows && in_loop(draft.span.start),
                        first_literal: draft.literal.clone(),
                    });
                }
                targets.push(AssignTarget {
                    root,
                    qualified_import: None,
                    span: target_span,
                });
            }
            own.assignments.push(Assignment {
                targets,
                span: draft.span,
                function,
            });
            self.decl.target_aliases.push(aliases);
        }
        for draft in self.writes {
            writes.push(StringWrite {
                var: draft.var,
                span: draft.span,
                function: function_at(draft.span.start),
                in_loop: draft.grows && in_loop(draft.span.start),
                first_literal: draft.first_literal,
            });
        }
        writes.sort_by_key(|w| w.span.start);
        own.string_writes = writes;
        self.decl
    }
}

/// `for .. := range []T{a, b}`: a loop over a composite literal.
fn ranges_over_literal(for_statement: Node<'_>) -> bool {
    for_statement
        .named_children(&mut for_statement.walk())
        .find(|c| c.go_kind() == "range_clause")
        .and_then(|c| c.go_field("right"))
        .is_some_and(|r| r.go_kind() == "composite_literal")
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
}
